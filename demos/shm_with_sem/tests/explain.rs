//! `--explain` under `strace -f` agrees in order: each line is written by the
//! process it names, around the system call it narrates, and a wake-up is
//! narrated before the return of the wait it ends (see
//! `demo_harness::strace`). Without strace, the test says so and passes.

mod common;

use common::DEMO;

use demo_harness::strace::assert_explain_order;

/// The parent waits in `waitpid` while the child (which sleeps first) works,
/// so the child's lines must all come before the wait's return.
#[test]
fn explain_agrees_with_strace_in_order() {
    let _lock = DEMO.lock();
    let Some(checked) = assert_explain_order(DEMO.bin(), &[]) else {
        return;
    };
    assert_eq!(checked.forks, 1, "{checked:?}");
    assert_eq!(checked.child_exits, 1, "{checked:?}");
    // shm_open, ftruncate, mmap, close, fork, munmap twice, the unlinks, ...
    assert!(checked.placed >= 8, "{checked:?}");
    DEMO.objects().assert_none_left();
}
