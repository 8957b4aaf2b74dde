//! Soak: many runs of excl_demo, each interrupted at a random moment (or not); nothing
//! may leak. `SOAK_SECONDS=60 cargo test -p excl_demo --test soak` for a longer run.

use std::time::Duration;

use demo_harness::{Demo, Objects};
use ipc_core::ObjectKind;

const DEMO: Demo = Demo {
    name: "excl_demo",
    bin: env!("CARGO_BIN_EXE_excl_demo"),
    objects: Objects(&[(ObjectKind::SharedMemory, "/ep_exclusive")]),
};

#[test]
fn random_interrupts_leak_nothing() {
    let _lock = DEMO.lock();
    let runs = DEMO.soak(2, Duration::from_millis(5));
    assert!(runs > 0);
}
