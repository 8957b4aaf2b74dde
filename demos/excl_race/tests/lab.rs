//! The race lab's verdict, at a small size, and its cleanup when interrupted.

use std::time::{Duration, Instant};

use demo_harness::{numbers, Lab, Target};
use ipc_core::ObjectKind;
use ipc_core::Signal;

const LAB: Lab = Lab::new(
    "excl_race",
    env!("CARGO_BIN_EXE_excl_race"),
    &[
        (ObjectKind::SharedMemory, "shm"),
        (ObjectKind::Semaphore, "sem"),
        (ObjectKind::MessageQueue, "mq"),
    ],
);

#[test]
fn exclusive_create_has_one_winner_and_check_then_create_does_not() {
    let _serial = LAB.lock();
    // A race needs the workers to overlap in time: while other processes keep both
    // CPUs busy a run may see none, so runs are repeated, for up to 10 seconds, to
    // see one. Every run must have exactly one O_EXCL creator per round.
    let start = Instant::now();
    let mut verdicts = Vec::new();
    while start.elapsed() < Duration::from_secs(10) {
        let lab = LAB.run(&["--procs", "6", "--rounds", "60"]);
        // "O_CREAT|O_EXCL had exactly one creator in E of T rounds; check-then-create
        // had several creators in S of T rounds (P processes)"
        let n = numbers(&lab.verdict);
        let (exact, total, several, procs) = (n[0], n[1], n[2], n[4]);
        assert_eq!((total, procs), (180, 6), "{}", lab.verdict);
        assert_eq!(
            exact, total,
            "O_EXCL must have one creator in every round: {}",
            lab.verdict
        );
        assert!(
            lab.stdout
                .contains("rounds with 1 creator and 5 EEXIST: 60/60"),
            "{}",
            lab.stdout
        );
        if several > 0 {
            return;
        }
        verdicts.push(lab.verdict);
    }
    panic!(
        "the naive way should race at least once in {} runs: {verdicts:#?}",
        verdicts.len()
    );
}

#[test]
fn ctrl_c_mid_race_stops_every_worker_and_leaves_nothing() {
    let _serial = LAB.lock();
    LAB.interrupt(
        &["--rounds", "100000"],
        Duration::from_millis(300),
        Signal::SIGINT,
        Target::Group,
    );
}

#[test]
fn sigterm_to_the_parent_alone_stops_the_workers() {
    let _serial = LAB.lock();
    LAB.interrupt(
        &["--rounds", "100000"],
        Duration::from_millis(300),
        Signal::SIGTERM,
        Target::Parent,
    );
}
