//! Soak: many runs of shm_with_sem, each interrupted at a random moment (or not); nothing
//! may leak. `SOAK_SECONDS=60 cargo test -p shm_with_sem --test soak` for a longer run.

use std::time::Duration;

use demo_harness::{Demo, Objects};
use ipc_core::ObjectKind;

const DEMO: Demo = Demo {
    name: "shm_with_sem",
    bin: env!("CARGO_BIN_EXE_shm_with_sem"),
    objects: Objects(&[
        (ObjectKind::SharedMemory, "/ep_safe_shm"),
        (ObjectKind::Semaphore, "/ep_shm_lock"),
    ]),
};

#[test]
fn random_interrupts_leak_nothing() {
    let _lock = DEMO.lock();
    let runs = DEMO.soak(2, Duration::from_millis(1100));
    assert!(runs > 0);
}
