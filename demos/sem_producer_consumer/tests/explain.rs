//! `--explain` under `strace -f` agrees in order: each line is written by the
//! process it names, around the system call it narrates, and a wake-up is
//! narrated before the return of the wait it ends (see
//! `demo_harness::strace`). Without strace, the test says so and passes.

mod common;

use common::DEMO;

use demo_harness::strace::assert_explain_order;

/// Both processes: the consumer waits on `/ep_sem_full` while the producer
/// sleeps between items, so its waits end by the producer's posts.
#[test]
fn explain_agrees_with_strace_in_order() {
    let _lock = DEMO.lock();
    let Some(checked) = assert_explain_order(DEMO.bin(), &[]) else {
        return;
    };
    assert_eq!(checked.forks, 1, "{checked:?}");
    // The producer sleeps 100 ms after each post: the consumer waits in the
    // kernel for at least one item, woken by the producer's post.
    assert!(checked.futex_wakes >= 1, "{checked:?}");
    DEMO.objects().assert_none_left();
}
