//! A dead holder never gives the semaphore back: checked from the verdict.

use demo_harness::{numbers, Lab};
use ipc_core::ObjectKind;

const LAB: Lab = Lab::new(
    "sem_no_undo",
    env!("CARGO_BIN_EXE_sem_no_undo"),
    &[(ObjectKind::Semaphore, "lock")],
);

#[test]
fn a_semaphore_held_by_a_dead_process_stays_taken() {
    let lab = LAB.run(&["--wait-ms", "200"]);
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
    LAB.assert_unwritable_stdout_fails_cleanly(&["--wait-ms", "1"]);
}
