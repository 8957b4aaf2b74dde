//! Lost updates without synchronisation, none with it: checked from the verdict.

use std::time::{Duration, Instant};

use demo_harness::{numbers, Lab, Target};
use ipc_core::ObjectKind;
use ipc_core::Signal;

const LAB: Lab = Lab::new(
    "shm_race",
    env!("CARGO_BIN_EXE_shm_race"),
    &[
        (ObjectKind::SharedMemory, "counter"),
        (ObjectKind::Semaphore, "lock"),
    ],
);

/// The race needs both cores: this lab's tests never overlap (and under nextest the
/// verdict test runs alone: see .config/nextest.toml).
#[test]
fn only_the_unsynchronised_variant_loses_updates() {
    let _cores = LAB.lock();
    // The default size: the lab's claim is that it loses updates as shipped. The
    // two workers must run at the same time: while other processes keep the CPUs
    // busy a run may lose nothing, so runs are repeated, for up to 15 seconds, to
    // see a loss. No run may lose an update with synchronisation.
    let start = Instant::now();
    let mut verdicts = Vec::new();
    while start.elapsed() < Duration::from_secs(15) {
        let lab = LAB.run(&[]);
        // "without synchronisation P processes lost L of E increments; with a named
        // semaphore, a process-shared mutex and an atomic they lost A, B and C"
        let n = numbers(&lab.verdict);
        assert_eq!((n[0], n[2]), (2, 2_000_000), "{}", lab.verdict);
        assert_eq!(&n[3..], [0, 0, 0], "{}", lab.verdict);
        if n[1] > 0 {
            return;
        }
        verdicts.push(lab.verdict);
    }
    panic!(
        "two processes racing on two cores must lose updates, in one of {} runs: {verdicts:#?}",
        verdicts.len()
    );
}

#[test]
fn ctrl_c_mid_race_stops_the_workers_and_leaves_nothing() {
    let _cores = LAB.lock();
    LAB.interrupt(
        &["--increments", "100000000"],
        Duration::from_millis(300),
        Signal::SIGINT,
        Target::Group,
    );
}
