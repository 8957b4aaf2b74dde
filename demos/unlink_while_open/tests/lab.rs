//! Unlink removes names, not objects in use: checked from the verdict.

use demo_harness::{numbers, Lab};
use ipc_core::ObjectKind;

#[test]
fn held_objects_outlive_their_names() {
    let lab = Lab::new(
        "unlink_while_open",
        env!("CARGO_BIN_EXE_unlink_while_open"),
        &[
            (ObjectKind::SharedMemory, "shm"),
            (ObjectKind::Semaphore, "sem"),
            (ObjectKind::MessageQueue, "mq"),
        ],
    )
    .run(&[]);
    // "W/3 held objects kept working; ... ENOENT E/3; O_CREAT made D/3 new, distinct objects"
    assert_eq!(numbers(&lab.verdict), [3, 3, 3, 3, 3, 3], "{}", lab.verdict);
}
