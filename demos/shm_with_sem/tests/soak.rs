//! Soak: many runs of shm_with_sem, each interrupted at a random moment (or not); nothing
//! may leak. `SOAK_SECONDS=60 cargo test -p shm_with_sem --test soak` for a longer run.

mod common;

use std::time::Duration;

use common::DEMO;

#[test]
fn random_interrupts_leak_nothing() {
    let _lock = DEMO.lock();
    let runs = DEMO.soak(2, Duration::from_millis(1100));
    assert!(runs > 0);
}
