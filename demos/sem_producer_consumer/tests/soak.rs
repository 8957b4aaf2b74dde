//! Soak: many runs of sem_producer_consumer, each interrupted at a random moment (or not); nothing
//! may leak. `SOAK_SECONDS=60 cargo test -p sem_producer_consumer --test soak` for a longer run.

use std::time::Duration;

use demo_harness::{Demo, Objects};
use ipc_core::ObjectKind;

const DEMO: Demo = Demo {
    name: "sem_producer_consumer",
    bin: env!("CARGO_BIN_EXE_sem_producer_consumer"),
    objects: Objects(&[
        (ObjectKind::Semaphore, "/ep_sem_empty"),
        (ObjectKind::Semaphore, "/ep_sem_full"),
    ]),
};

#[test]
fn random_interrupts_leak_nothing() {
    let _lock = DEMO.lock();
    let runs = DEMO.soak(2, Duration::from_millis(450));
    assert!(runs > 0);
}
