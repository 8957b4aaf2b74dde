//! The race lab's verdict, its limits, and its cleanup when interrupted.

use std::time::Duration;

use demo_harness::{numbers, Io, Lab, Process, Target, PATIENCE};
use ipc_core::ObjectKind;
use ipc_core::Signal;

const BIN: &str = env!("CARGO_BIN_EXE_excl_race");
const LAB: Lab = Lab::new(
    "excl_race",
    BIN,
    &[
        (ObjectKind::SharedMemory, "shm"),
        (ObjectKind::Semaphore, "sem"),
        (ObjectKind::MessageQueue, "mq"),
    ],
);

#[test]
fn exclusive_create_has_one_winner_and_check_then_create_does_not() {
    let _serial = LAB.lock();
    let lab = LAB.run(&["--procs", "6", "--rounds", "60"]);
    // "O_CREAT|O_EXCL had exactly one creator in E of T rounds; check-then-create had
    // several processes believing they created the object in S of T rounds, while the
    // kernel made one object in K of T (P processes)"
    let n = numbers(&lab.verdict);
    let (exact, total, several, one_object, procs) = (n[0], n[1], n[2], n[4], n[6]);
    assert_eq!((total, procs), (180, 6), "{}", lab.verdict);
    assert_eq!(
        exact, total,
        "O_EXCL must have one creator in every round: {}",
        lab.verdict
    );
    // With the 1 ms gap between check and create, every worker checks before any
    // creates, on one CPU or several: the naive way races in most rounds.
    assert!(
        several > 0,
        "the naive way should race at least once: {}",
        lab.verdict
    );
    assert_eq!(
        one_object, total,
        "however many believed it, the kernel made one object per round: {}",
        lab.verdict
    );
    // The conditions it ran under: the CPUs, and in how many rounds the attempts
    // overlapped in time. Several believers in a round means one's check came
    // before another's create: their attempts overlapped.
    let (_, conditions) = lab
        .verdict
        .split_once("6 processes, on CPU")
        .unwrap_or_else(|| panic!("no CPUs in the verdict: {}", lab.verdict));
    let (_, overlaps) = conditions
        .split_once("overlapped in time in ")
        .unwrap_or_else(|| panic!("no overlap in the verdict: {}", lab.verdict));
    let o = numbers(overlaps);
    let (exclusive_overlapped, naive_overlapped) = (o[0], o[2]);
    assert_eq!((o[1], o[3]), (total, total), "{}", lab.verdict);
    assert!(exclusive_overlapped <= total, "{}", lab.verdict);
    assert!(
        naive_overlapped >= several,
        "a round with several believers had overlapping attempts: {}",
        lab.verdict
    );
    for kind in ["shared memory", "semaphore", "message queue"] {
        let line = format!(
            "O_CREAT|O_EXCL    {kind:<14} rounds with 1 creator and 5 EEXIST: 60/60; one inode \
             among all: 60/60"
        );
        assert!(lab.stdout.contains(&line), "{line}\n{}", lab.stdout);
    }
}

#[test]
fn sixteen_workers_run_and_seventeen_are_refused() {
    let _serial = LAB.lock();
    let lab = LAB.run(&["--procs", "16", "--rounds", "3"]);
    assert!(
        lab.verdict.contains("(16 processes, on CPU"),
        "{}",
        lab.verdict
    );
    let out = Process::start(BIN, &["--procs", "17"], Io::Captured, PATIENCE).output();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--procs is at most 16"), "{stderr}");
    assert!(out.stdout.is_empty());
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

/// glibc's temporary `sem.XXXXXX` files in /dev/shm (6 random characters).
fn temporaries() -> Vec<String> {
    std::fs::read_dir("/dev/shm")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.len() == 10 && n.starts_with("sem.") && !n.contains('_'))
        .collect()
}

/// SIGTERM to the whole group at random moments, 30 times: no worker dies between
/// glibc's temporary semaphore file and its link (without the deferral, 7 of 30
/// runs left one).
#[test]
fn interrupts_never_leave_glibc_temporaries() {
    let _serial = LAB.lock();
    let before = temporaries();
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    for run in 0..30 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_millis(30 + seed % 770);
        let mut lab = Process::start(
            BIN,
            &["--rounds", "1000", "--gap-us", "0"],
            Io::Discarded,
            PATIENCE,
        );
        std::thread::sleep(delay);
        // Its first process is reaped only by `wait`: the group is never empty
        // before, so the signal always has a receiver.
        lab.signal(Signal::SIGTERM, Target::Group);
        lab.wait();
        LAB.assert_left_nothing(lab.pid());
        let new: Vec<String> = temporaries()
            .into_iter()
            .filter(|t| !before.contains(t))
            .collect();
        assert!(
            new.is_empty(),
            "run {run}, SIGTERM after {delay:?}: left {new:?}"
        );
    }
}

/// stdout to `/dev/full` or into a closed pipe: exit 1 with the reason, no panic,
/// nothing left, no worker left running.
#[test]
fn an_unwritable_stdout_is_a_clean_failure() {
    let _serial = LAB.lock();
    LAB.assert_unwritable_stdout_fails_cleanly(&["--rounds", "3"]);
}

/// A worker killed mid-run never reports: the parent gives up on the round after its
/// bounded wait, says how many reported and which worker ended how, stops the others
/// and leaves nothing (it waited on `sem_wait` for ever).
#[test]
fn a_worker_killed_mid_run_is_a_clear_failure_not_a_hang() {
    let _serial = LAB.lock();
    let (worker, status, stderr) = LAB.kill_a_worker(
        &["--procs", "3", "--rounds", "100000000"],
        Duration::from_millis(500),
    );
    assert_eq!(status.code(), Some(1), "{status:?}: {stderr}");
    assert!(
        stderr.contains("excl_race: sem_timedwait: Connection timed out: ")
            && stderr.contains("of 3 workers reported within 10 s")
            && stderr.contains(&format!("{worker}: Signaled(SIGKILL)")),
        "{stderr}"
    );
}
