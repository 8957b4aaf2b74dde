//! EAGAIN at mq_maxmsg, ETIMEDOUT at the deadline, priority order: from the verdict.
//! A capacity above msg_max fails naming the limit.

use std::process::{Command, Stdio};

use demo_harness::{assert_lab_left_nothing, numbers, run_lab};
use ipc_core::ObjectKind;

const BIN: &str = env!("CARGO_BIN_EXE_nb_queue");
const TAGS: &[(ObjectKind, &str)] = &[(ObjectKind::MessageQueue, "q")];

#[test]
fn limits_deadlines_and_order() {
    let lab = run_lab(
        BIN,
        &["--max-messages", "6", "--timeout-ms", "50"],
        "nb_queue",
        TAGS,
    );
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
        println!("skipped: /proc/sys/fs/mqueue/msg_max cannot be read here");
        return;
    };
    let over = (msg_max + 1).to_string();
    let out = Command::new(BIN)
        .args(["--max-messages", &over, "--timeout-ms", "1"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(1) {
        assert_eq!(
            stderr.trim_end(),
            format!(
                "nb_queue: --max-messages {over} refused: mq_open: Invalid argument (msg_max is \
                 {msg_max}; set in /proc/sys/fs/mqueue/msg_max (sysctl fs.mqueue.msg_max))"
            )
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
    for full in [true, false] {
        let mut command = Command::new(BIN);
        command.args(["--timeout-ms", "1"]).stderr(Stdio::piped());
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
        assert_lab_left_nothing(pid, "nb_queue", TAGS);
    }
}
