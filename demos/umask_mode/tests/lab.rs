//! The umask masks every kind of object's mode: checked from the verdict, against a
//! umask 000 control row, with the mode each create call passed read from
//! `--explain`.

use demo_harness::{Io, Lab, Process, PATIENCE};
use ipc_core::ObjectKind;

const BIN: &str = env!("CARGO_BIN_EXE_umask_mode");
/// One object of each kind per umask: `/umask_mode_PID_KIND_UMASK`.
const LAB: Lab = Lab::new(
    "umask_mode",
    BIN,
    &[
        (ObjectKind::SharedMemory, "shm_000"),
        (ObjectKind::Semaphore, "sem_000"),
        (ObjectKind::MessageQueue, "mq_000"),
        (ObjectKind::SharedMemory, "shm_022"),
        (ObjectKind::Semaphore, "sem_022"),
        (ObjectKind::MessageQueue, "mq_022"),
        (ObjectKind::SharedMemory, "shm_077"),
        (ObjectKind::Semaphore, "sem_077"),
        (ObjectKind::MessageQueue, "mq_077"),
        (ObjectKind::SharedMemory, "shm_007"),
        (ObjectKind::Semaphore, "sem_007"),
        (ObjectKind::MessageQueue, "mq_007"),
    ],
);

#[test]
fn mode_is_masked_by_the_umask() {
    let lab = Process::start(BIN, &["--explain"], Io::Captured, PATIENCE);
    let pid = lab.pid();
    let out = lab.output();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    LAB.assert_left_nothing(pid);
    assert_eq!(
        stdout.lines().last().unwrap_or_default(),
        "verdict: mode 0666 became 0666 under umask 000, 0644 under umask 022, 0600 under \
         umask 077, 0660 under umask 007 (12/12 objects got 0666 & ~umask, the umask read \
         from /proc/self/status at each call)"
    );
    // Every create asked for 0666 itself: the masking is the umask's, not the
    // program's.
    let creates: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("_open(\"/umask_mode_") && l.contains("O_CREAT"))
        .collect();
    assert_eq!(creates.len(), 12, "{stderr}");
    for call in creates {
        assert!(
            call.contains(", 0666"),
            "a create did not ask for 0666: {call}"
        );
    }
}

/// stdout to `/dev/full` or into a closed pipe: exit 1 with the reason, no panic,
/// nothing left.
#[test]
fn an_unwritable_stdout_is_a_clean_failure() {
    LAB.assert_unwritable_stdout_fails_cleanly(&[]);
}
