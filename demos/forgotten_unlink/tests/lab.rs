//! What SIGKILL leaves behind, and the recovery: checked from the verdict.

use demo_harness::{numbers, Lab};
use ipc_core::ObjectKind;

#[test]
fn objects_outlive_a_killed_creator_and_unlink_retry_recovers() {
    let lab = Lab::new(
        "forgotten_unlink",
        env!("CARGO_BIN_EXE_forgotten_unlink"),
        &[
            (ObjectKind::SharedMemory, "shm"),
            (ObjectKind::Semaphore, "sem"),
            (ObjectKind::MessageQueue, "mq"),
        ],
    )
    .run(&[]);
    // "S/3 objects outlived ...; EEXIST E/3; recovered R/3; L left at the end"
    assert_eq!(
        numbers(&lab.verdict),
        [3, 3, 3, 3, 3, 3, 0],
        "{}",
        lab.verdict
    );
}
