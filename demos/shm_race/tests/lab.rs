//! Lost updates without synchronisation, none with it: checked from the verdict.

use std::time::Duration;

use demo_harness::{interrupt_lab, numbers, run_lab, Target};
use ipc_core::cleanup::ObjectKind;
use ipc_core::Signal;

const TAGS: &[(ObjectKind, &str)] = &[
    (ObjectKind::SharedMemory, "counter"),
    (ObjectKind::Semaphore, "lock"),
];

#[test]
fn only_the_unsynchronised_variant_loses_updates() {
    let lab = run_lab(
        env!("CARGO_BIN_EXE_shm_race"),
        &["--increments", "300000"],
        "shm_race",
        TAGS,
    );
    // "without synchronisation P processes lost L of E increments; with a named
    // semaphore, a process-shared mutex and an atomic they lost A, B and C"
    let n = numbers(&lab.verdict);
    assert_eq!((n[0], n[2]), (2, 600_000), "{}", lab.verdict);
    assert!(
        n[1] > 0,
        "two processes racing on two cores must lose updates: {}",
        lab.verdict
    );
    assert_eq!(&n[3..], [0, 0, 0], "{}", lab.verdict);
}

#[test]
fn ctrl_c_mid_race_stops_the_workers_and_leaves_nothing() {
    interrupt_lab(
        env!("CARGO_BIN_EXE_shm_race"),
        &["--increments", "100000000"],
        Duration::from_millis(300),
        Signal::SIGINT,
        Target::Group,
        "shm_race",
        TAGS,
    );
}
