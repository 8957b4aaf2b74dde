//! A dead holder never gives the semaphore back: checked from the verdict.

use std::process::{Command, Stdio};

use demo_harness::{assert_lab_left_nothing, numbers, run_lab};
use ipc_core::ObjectKind;

#[test]
fn a_semaphore_held_by_a_dead_process_stays_taken() {
    let lab = run_lab(
        env!("CARGO_BIN_EXE_sem_no_undo"),
        &["--wait-ms", "200"],
        "sem_no_undo",
        &[(ObjectKind::Semaphore, "lock")],
    );
    // "the value stayed 0 and the wait ended in ETIMEDOUT after W ms: no undo"
    let n = numbers(&lab.verdict);
    assert_eq!(n[0], 0, "{}", lab.verdict);
    assert!(
        lab.verdict.contains("ended in ETIMEDOUT"),
        "{}",
        lab.verdict
    );
    assert!(n[1] >= 190, "waited the whole deadline: {}", lab.verdict);
}

/// stdout to `/dev/full` or into a closed pipe: exit 1 with the reason, no panic,
/// nothing left, no child left running.
#[test]
fn an_unwritable_stdout_is_a_clean_failure() {
    let tags: &[(ObjectKind, &str)] = &[(ObjectKind::Semaphore, "lock")];
    for full in [true, false] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sem_no_undo"));
        command
            .args(&["--wait-ms", "1"] as &[&str])
            .stderr(Stdio::piped());
        if full {
            command.stdout(std::fs::File::create("/dev/full").unwrap());
        } else {
            command.stdout(Stdio::piped());
        }
        let mut child = command.spawn().unwrap();
        drop(child.stdout.take()); // the reader is gone: a broken pipe
        let pid = child.id();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("write to stdout failed"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_lab_left_nothing(pid, "sem_no_undo", tags);
    }
}
