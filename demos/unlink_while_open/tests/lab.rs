//! Unlink removes names, not objects in use: checked from the verdict.

use std::process::{Command, Stdio};

use demo_harness::{assert_lab_left_nothing, numbers, run_lab};
use ipc_core::ObjectKind;

#[test]
fn held_objects_outlive_their_names() {
    let lab = run_lab(
        env!("CARGO_BIN_EXE_unlink_while_open"),
        &[],
        "unlink_while_open",
        &[
            (ObjectKind::SharedMemory, "shm"),
            (ObjectKind::Semaphore, "sem"),
            (ObjectKind::MessageQueue, "mq"),
        ],
    );
    // "W/3 held objects kept working; ... ENOENT E/3; O_CREAT made D/3 new, distinct objects"
    assert_eq!(numbers(&lab.verdict), [3, 3, 3, 3, 3, 3], "{}", lab.verdict);
}

/// stdout to `/dev/full` or into a closed pipe: exit 1 with the reason, no panic,
/// nothing left, no child left running.
#[test]
fn an_unwritable_stdout_is_a_clean_failure() {
    let tags: &[(ObjectKind, &str)] = &[
        (ObjectKind::SharedMemory, "shm"),
        (ObjectKind::Semaphore, "sem"),
        (ObjectKind::MessageQueue, "mq"),
    ];
    for full in [true, false] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_unlink_while_open"));
        command.args(&[] as &[&str]).stderr(Stdio::piped());
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
        assert_lab_left_nothing(pid, "unlink_while_open", tags);
    }
}
