//! EAGAIN at mq_maxmsg, ETIMEDOUT at the deadline, priority order: from the verdict.

use demo_harness::{numbers, Lab};
use ipc_core::ObjectKind;

#[test]
fn limits_deadlines_and_order() {
    let lab = Lab::new(
        "nb_queue",
        env!("CARGO_BIN_EXE_nb_queue"),
        &[(ObjectKind::MessageQueue, "q")],
    )
    .run(&["--max-messages", "6", "--timeout-ms", "50"]);
    let v = &lab.verdict;
    // "send hit EAGAIN after 6 messages (mq_maxmsg 6) and receive hit EAGAIN after 6;
    // timed send and receive ended in ETIMEDOUT after S and R ms (deadline 50 ms);
    // priorities came out [5, 5, 3, 1, 1], first in first out within each"
    let n = numbers(v);
    assert_eq!(&n[..3], [6, 6, 6], "{v}");
    assert!(
        v.contains("hit EAGAIN after 6 messages") && v.contains("receive hit EAGAIN after 6"),
        "{v}"
    );
    assert!(v.contains("ended in ETIMEDOUT"), "{v}");
    assert!(
        n[3] >= 45 && n[4] >= 45,
        "neither timed call may end much before its deadline: {v}"
    );
    assert_eq!(n[5], 50, "{v}");
    assert!(
        v.ends_with("priorities came out [5, 5, 3, 1, 1], first in first out within each"),
        "{v}"
    );
}
