//! Unlink removes names, not objects in use: checked from the verdict.

use demo_harness::{numbers, Lab};
use ipc_core::ObjectKind;

const LAB: Lab = Lab::new(
    "unlink_while_open",
    env!("CARGO_BIN_EXE_unlink_while_open"),
    &[
        (ObjectKind::SharedMemory, "shm"),
        (ObjectKind::Semaphore, "sem"),
        (ObjectKind::MessageQueue, "mq"),
    ],
);

#[test]
fn held_objects_outlive_their_names() {
    let lab = LAB.run(&[]);
    // "W/3 held objects kept working; ... ENOENT E/3; O_CREAT made D/3 new, distinct objects"
    assert_eq!(numbers(&lab.verdict), [3, 3, 3, 3, 3, 3], "{}", lab.verdict);
}

/// stdout to `/dev/full` or into a closed pipe: exit 1 with the reason, no panic,
/// nothing left, no child left running.
#[test]
fn an_unwritable_stdout_is_a_clean_failure() {
    LAB.assert_unwritable_stdout_fails_cleanly(&[]);
}
