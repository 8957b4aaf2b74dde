//! Lost updates without synchronisation, none with it: checked from the table and
//! the verdict, whatever the machine (one CPU or several, idle or loaded).

use std::time::Duration;

use demo_harness::{numbers, Io, Lab, Process, Target, PATIENCE};
use ipc_core::ObjectKind;
use ipc_core::Signal;

const BIN: &str = env!("CARGO_BIN_EXE_shm_race");
const LAB: Lab = Lab::new(
    "shm_race",
    BIN,
    &[
        (ObjectKind::SharedMemory, "counter"),
        (ObjectKind::Semaphore, "lock"),
    ],
);

/// Turns (the increments changing hands between workers) from which a lost update
/// is certain in practice: each turn on one CPU is a switch of time slice, which
/// lands inside the load-to-store window most of the time.
const ENOUGH_TURNS: u64 = 20;

/// A row of the table: `variant counter lost time ns overlap turns CPUs`.
fn row(stdout: &str, variant: &str) -> (u64, u64) {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(variant) && l[variant.len()..].starts_with("  "))
        .unwrap_or_else(|| panic!("no row {variant}:\n{stdout}"));
    let n = numbers(&line[variant.len()..]);
    // counter, lost, time (2 numbers), ns (2), overlap (2), turns, CPUs...
    (n[1], n[8])
}

/// The lab as shipped: without synchronisation it loses updates whenever the
/// workers took turns often enough, and says why not otherwise; with any of the
/// three kinds of synchronisation it never loses one.
#[test]
fn only_the_unsynchronised_variant_loses_updates() {
    let _cores = LAB.lock();
    let lab = LAB.run(&[]);
    let v = &lab.verdict;
    for variant in ["named semaphore", "pshared mutex", "atomic"] {
        assert_eq!(
            row(&lab.stdout, variant).0,
            0,
            "{variant} lost updates:\n{}",
            lab.stdout
        );
    }
    assert!(v.ends_with("an atomic they lost 0, 0 and 0"), "{v}");
    let (lost, turns) = row(&lab.stdout, "none");
    if lost > 0 {
        assert!(
            v.starts_with(&format!(
                "without synchronisation 2 processes lost {lost} of 2000000 increments"
            )),
            "{v}"
        );
    } else {
        assert!(
            turns < ENOUGH_TURNS,
            "the workers took turns {turns} times, yet nothing was lost: the unsynchronised \
             increment is not a separate load and store:\n{}",
            lab.stdout
        );
        assert!(
            v.contains("lost 0 of 2000000 increments: could not show it here, because"),
            "{v}"
        );
        println!("no lost update shown on this machine; the lab said why: {v}");
    }
}

#[test]
fn more_workers_than_the_cleanup_can_stop_are_refused() {
    let out = Process::start(BIN, &["--procs", "17"], Io::Captured, PATIENCE).output();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--procs is at most 16"), "{stderr}");
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

/// stdout to `/dev/full` or into a closed pipe: exit 1 with the reason, no panic,
/// nothing left.
#[test]
fn an_unwritable_stdout_is_a_clean_failure() {
    let _cores = LAB.lock();
    LAB.assert_unwritable_stdout_fails_cleanly(&["--increments", "1000"]);
}

/// A total past the 64-bit counter is refused, naming the limit, before anything
/// is made (it overflowed: a debug build panicked leaving the counter and the
/// semaphore, a release build promised a wrapped total).
#[test]
fn a_total_past_the_counter_is_refused_before_anything_is_made() {
    let mut process = Process::start(
        BIN,
        &["--procs", "3", "--increments", &u64::MAX.to_string()],
        Io::Captured,
        PATIENCE,
    );
    let status = process.wait();
    let stderr = String::from_utf8_lossy(&process.stderr()).into_owned();
    assert_eq!(status.code(), Some(1), "{status:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "--increments is at most {} for 3 processes",
            u64::MAX / 3
        )),
        "{stderr}"
    );
    LAB.assert_left_nothing(process.pid());
}

/// With one increment each the workers cannot take turns: the increments change
/// hands at most once between two of them, and the verdict never says they took
/// turns twice (the first increment of all was counted as a turn, so two workers one
/// after the other "took turns 2 times"). The two single unsynchronised increments
/// may still collide (both load 0, both store 1: about 1 run in 10 here), and then
/// the verdict reports that one lost increment; otherwise it says nothing could be
/// shown.
#[test]
fn workers_that_never_interleaved_are_not_said_to_take_turns() {
    let _cores = LAB.lock();
    let lab = LAB.run(&["--procs", "2", "--increments", "1"]);
    for variant in ["none", "named semaphore", "pshared mutex", "atomic"] {
        let (lost, turns) = row(&lab.stdout, variant);
        let most_lost = if variant == "none" { 1 } else { 0 };
        assert!(lost <= most_lost, "{variant}: lost {lost}:\n{}", lab.stdout);
        assert!(
            turns <= 1,
            "{variant}: {turns} turns from 2 increments:\n{}",
            lab.stdout
        );
    }
    let v = &lab.verdict;
    let (unsynchronised_lost, _) = row(&lab.stdout, "none");
    let said = if unsynchronised_lost == 0 {
        "lost 0 of 2 increments: could not show it here, because"
    } else {
        "lost 1 of 2 increments ("
    };
    assert!(v.contains(said), "{v}");
    assert!(!v.contains("took turns 2 times"), "{v}");
}

/// A worker killed mid-race (SIGKILL: no cleanup of its own): the others, which
/// would wait for it for ever (at the start line, or on the lock it held), are
/// stopped, and the lab fails naming it, leaving nothing.
#[test]
fn a_worker_killed_mid_race_is_a_clear_failure_not_a_hang() {
    let _cores = LAB.lock();
    let (worker, status, stderr) =
        LAB.kill_a_worker(&["--increments", "100000000"], Duration::from_millis(300));
    assert_eq!(status.code(), Some(1), "{status:?}: {stderr}");
    assert!(
        stderr.contains(&format!("(pid {worker}) was killed by SIGKILL")),
        "{stderr}"
    );
}
