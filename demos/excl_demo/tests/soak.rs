//! Soak: many runs of excl_demo, each interrupted at a random moment (or not); nothing
//! may leak. `SOAK_SECONDS=60 cargo test -p excl_demo --test soak` for a longer run.

mod common;

use std::time::Duration;

use common::DEMO;

#[test]
fn random_interrupts_leak_nothing() {
    let _lock = DEMO.lock();
    let runs = DEMO.soak(2, Duration::from_millis(5));
    assert!(runs > 0);
}
