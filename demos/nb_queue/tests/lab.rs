//! EAGAIN at mq_maxmsg, ETIMEDOUT at the deadline, priority order: from the verdict.
//! A capacity above msg_max fails naming the limit.

use demo_harness::{needs, numbers, Io, Lab, Process, PATIENCE};
use ipc_core::ObjectKind;

const BIN: &str = env!("CARGO_BIN_EXE_nb_queue");
const LAB: Lab = Lab::new("nb_queue", BIN, &[(ObjectKind::MessageQueue, "q")]);

#[test]
fn limits_deadlines_and_order() {
    let lab = LAB.run(&["--max-messages", "6", "--timeout-ms", "50"]);
    let v = &lab.verdict;
    // "send hit EAGAIN after 6 messages (mq_getattr: mq_maxmsg 6) and receive hit
    // EAGAIN after 6; timed send and receive ended in ETIMEDOUT after S and R ms
    // (deadline 50 ms); priorities came out [5, 5, 3, 1, 1], first in first out
    // within each"
    let n = numbers(v);
    assert_eq!(&n[..3], [6, 6, 6], "{v}");
    assert!(
        v.contains("hit EAGAIN after 6 messages (mq_getattr: mq_maxmsg 6)")
            && v.contains("receive hit EAGAIN after 6"),
        "{v}"
    );
    assert!(
        lab.stdout
            .starts_with("mq_open asked for mq_maxmsg 6, mq_msgsize 64; mq_getattr says mq_maxmsg 6, mq_msgsize 64"),
        "{}",
        lab.stdout
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

/// One message more than msg_max: refused naming msg_max and its value, or (for a
/// privileged process, which the kernel lets past msg_max) made and reported as
/// such by mq_getattr.
#[test]
fn above_msg_max_names_the_limit() {
    let Some(msg_max) = ipc_core::limits::mqueue_sysctl("msg_max") else {
        needs::skip(
            "above_msg_max_names_the_limit",
            "needs /proc/sys/fs/mqueue/msg_max, which cannot be read here",
        );
        return;
    };
    let over = (msg_max + 1).to_string();
    let out = Process::start(
        BIN,
        &["--max-messages", &over, "--timeout-ms", "1"],
        Io::Captured,
        PATIENCE,
    )
    .output();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(1) {
        // The limit as ipc-core describes it (name, value, where it is set, how to
        // change it), which must name msg_max and its value.
        let limit = ipc_core::limits::msg_max().to_string();
        assert!(
            limit.starts_with(&format!(
                "msg_max is {msg_max}; set in /proc/sys/fs/mqueue/msg_max"
            )),
            "{limit}"
        );
        assert_eq!(
            stderr.trim_end(),
            format!("nb_queue: --max-messages {over} refused: mq_open: Invalid argument ({limit})")
        );
        assert!(stdout.is_empty(), "{stdout}");
    } else {
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(
            stdout.starts_with(&format!(
                "mq_open asked for mq_maxmsg {over}, mq_msgsize 64; mq_getattr says mq_maxmsg \
                 {over}, mq_msgsize 64 (above msg_max {msg_max}: allowed to a privileged process)"
            )),
            "{stdout}"
        );
    }
}

/// stdout to `/dev/full` or into a closed pipe: exit 1 with the reason, no panic,
/// the queue removed.
#[test]
fn an_unwritable_stdout_is_a_clean_failure() {
    LAB.assert_unwritable_stdout_fails_cleanly(&["--timeout-ms", "1"]);
}

/// A capacity past a `long` is refused naming the limits, not sent to `mq_open`
/// negative (which answered a bare "mq_open: Invalid argument").
#[test]
fn a_capacity_past_a_long_is_refused_naming_the_limits() {
    let mut process = Process::start(
        BIN,
        &["--max-messages", "9223372036854775808"],
        Io::Captured,
        PATIENCE,
    );
    let status = process.wait();
    let stderr = String::from_utf8_lossy(&process.stderr()).into_owned();
    assert_eq!(status.code(), Some(1), "{status:?}: {stderr}");
    assert!(
        stderr.starts_with(
            "nb_queue: --max-messages 9223372036854775808 refused before mq_open: mq_maxmsg \
             is a long, at most 9223372036854775807 (and the kernel allows at most msg_max, "
        ),
        "{stderr}"
    );
    LAB.assert_left_nothing(process.pid());
}
