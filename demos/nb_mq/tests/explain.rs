//! `--explain` under `strace -f` agrees in order: each line is written by the
//! process it names, around the system call it narrates, and a wake-up is
//! narrated before the return of the wait it ends (see
//! `demo_harness::strace`). Without strace, the test says so and passes.

mod common;

use common::DEMO;

use demo_harness::strace::assert_explain_order;

/// One process: every queue call is narrated right after strace sees it, the
/// failed receive with its EAGAIN.
#[test]
fn explain_agrees_with_strace_in_order() {
    let _lock = DEMO.lock();
    let Some(checked) = assert_explain_order(DEMO.bin(), &[]) else {
        return;
    };
    // mq_open, mq_receive (EAGAIN), mq_send, mq_receive, mq_close, mq_unlink.
    assert_eq!(checked.placed, 6, "{checked:?}");
    DEMO.objects().assert_none_left();
}
