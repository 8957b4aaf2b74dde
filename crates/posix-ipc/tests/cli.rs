//! `posix-ipc` run as a class runs it: every call its own process.

mod common;

use common::{bin, run, Scratch};

use std::io::Read;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use demo_harness::needs;
use ipc_core::{Access, Creation, Name, SharedMemory, ShmOptions};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;

/// Runs and asserts success; returns stdout.
fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "posix-ipc {args:?}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs and asserts the exit status; returns stderr.
fn fails(args: &[&str], status: i32) -> String {
    let out = run(args);
    assert_eq!(
        out.status.code(),
        Some(status),
        "posix-ipc {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stderr).unwrap()
}

fn spawn(args: &[&str]) -> Child {
    demo_harness::command(bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn posix-ipc")
}

/// Waits (bounded) for `child`; returns status code and stdout.
fn finish(mut child: Child) -> (Option<i32>, String) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut out = String::new();
            child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            return (status.code(), out);
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("posix-ipc did not finish");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until `pid` is asleep (state S in /proc), that is, blocked in its wait.
fn settle(pid: u32) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('S'))
        {
            // Give it time to be inside the timed wait, not just starting up.
            std::thread::sleep(Duration::from_millis(150));
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_queue_driven_by_many_processes() {
    if !needs::as_root(
        "a_queue_driven_by_many_processes",
        "an mqueue filesystem for `ls` to list queues",
    ) {
        return;
    }
    let q = Scratch::new("jobs");
    ok(&[
        "mq",
        "create",
        q.name(),
        "--exclusive",
        "--max-messages",
        "5",
        "--message-size",
        "64",
    ]);
    ok(&["mq", "send", q.name(), "low", "--priority", "1"]);
    ok(&["mq", "send", q.name(), "high", "--priority", "9"]);
    ok(&["mq", "send", q.name(), "middle", "--priority", "5"]);

    // `ls` finds it in the mqueue filesystem (mounted privately when not mounted).
    let listed: Value = serde_json::from_str(&ok(&[
        "ls",
        "--type",
        "mq",
        "--prefix",
        q.name(),
        "--json",
        "--trust-pid-namespace",
    ]))
    .unwrap();
    assert_eq!(listed[0]["name"], q.name());
    assert_eq!(listed[0]["messages"], 3);
    assert_eq!(listed[0]["queued_bytes"], 13);
    assert_eq!(listed[0]["orphan"], true);

    let attr: Value = serde_json::from_str(&ok(&["mq", "attr", q.name(), "--json"])).unwrap();
    assert_eq!(attr["messages"], 3);
    assert_eq!(attr["max_messages"], 5);
    assert_eq!(attr["message_size"], 64);

    let mut got = Vec::new();
    for _ in 0..3 {
        let message: Value =
            serde_json::from_str(&ok(&["mq", "receive", q.name(), "--json"])).unwrap();
        got.push((
            message["priority"].as_u64().unwrap(),
            message["message"].as_str().unwrap().to_owned(),
        ));
    }
    assert_eq!(
        got,
        [(9, "high".into()), (5, "middle".into()), (1, "low".into())]
    );

    ok(&["mq", "unlink", q.name()]);
    let stderr = fails(&["stat", q.name()], 1);
    assert!(stderr.contains("No such file or directory"), "{stderr}");
}

#[test]
fn a_blocking_receive_is_woken_by_a_send() {
    let q = Scratch::new("wake");
    ok(&["mq", "create", q.name()]);
    let receiver = spawn(&["mq", "receive", q.name()]);
    settle(receiver.id());
    ok(&["mq", "send", q.name(), "wake up"]);
    assert_eq!(
        finish(receiver),
        (Some(0), "priority 0: wake up\n".to_owned())
    );
}

#[test]
fn a_semaphore_wait_is_woken_by_a_post() {
    let s = Scratch::new("sem");
    ok(&["sem", "create", s.name(), "--value", "0"]);
    let waiter = spawn(&["sem", "wait", s.name()]);
    settle(waiter.id());
    ok(&["sem", "post", s.name()]);
    assert_eq!(finish(waiter).0, Some(0));
    assert_eq!(ok(&["sem", "value", s.name()]), "0\n");
    let stderr = fails(&["sem", "trywait", s.name()], 1);
    assert!(
        stderr.contains("sem_trywait") && stderr.contains("Resource temporarily unavailable"),
        "{stderr}"
    );
    fails(&["sem", "wait", s.name(), "--timeout", "0.1"], 1);
}

#[test]
fn ctrl_c_ends_a_blocking_receive_with_nothing_changed() {
    let q = Scratch::new("intr");
    ok(&["mq", "create", q.name()]);
    let receiver = spawn(&["mq", "receive", q.name()]);
    settle(receiver.id());
    kill(Pid::from_raw(receiver.id() as i32), Signal::SIGINT).unwrap();
    assert_eq!(finish(receiver).0, Some(130));
    // The queue is as it was, and the next message goes to the next receiver.
    ok(&["mq", "send", q.name(), "kept"]);
    assert_eq!(ok(&["mq", "receive", q.name()]), "priority 0: kept\n");

    let s = Scratch::new("intr_sem");
    ok(&["sem", "create", s.name()]);
    let waiter = spawn(&["sem", "wait", s.name()]);
    settle(waiter.id());
    kill(Pid::from_raw(waiter.id() as i32), Signal::SIGTERM).unwrap();
    assert_eq!(finish(waiter).0, Some(143));
    assert_eq!(ok(&["sem", "value", s.name()]), "0\n");
}

#[test]
fn shared_memory_written_by_one_process_is_read_by_another() {
    let m = Scratch::new("shm");
    ok(&["shm", "create", m.name(), "--size", "64"]);
    ok(&["shm", "write", m.name(), "hello"]);
    ok(&["shm", "write", m.name(), "world", "--offset", "8"]);
    assert_eq!(ok(&["shm", "read", m.name(), "--length", "5"]), "hello");
    assert_eq!(
        ok(&["shm", "read", m.name(), "--offset", "8", "--length", "5"]),
        "world"
    );
    let stderr = fails(&["shm", "write", m.name(), "too far", "--offset", "60"], 1);
    assert!(stderr.contains("do not fit"), "{stderr}");
}

#[test]
fn holders_are_listed_and_clean_spares_held_objects() {
    if !needs::as_root(
        "holders_are_listed_and_clean_spares_held_objects",
        "every process readable, to tell orphans",
    ) {
        return;
    }
    let held = Scratch::new("clean_held");
    let loose = Scratch::new("clean_loose");
    ok(&["shm", "create", held.name(), "--size", "16"]);
    ok(&["shm", "create", loose.name(), "--size", "16"]);
    // This test process maps one of them: it is its holder.
    let name = Name::new(held.name()).unwrap();
    let shm = SharedMemory::open(
        &name,
        &ShmOptions::new()
            .creation(Creation::OpenExisting)
            .access(Access::ReadWrite),
    )
    .unwrap();
    let map = shm.map(16).unwrap();
    drop(shm); // only the mapping holds it now

    let prefix = format!("/pipc_{}_clean_", std::process::id());
    let listed: Value = serde_json::from_str(&ok(&[
        "ls",
        "--type",
        "shm",
        "--prefix",
        &prefix,
        "--json",
        "--trust-pid-namespace",
    ]))
    .unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    let by_name = |n: &str| listed.iter().find(|o| o["name"] == n).unwrap().clone();
    let held_entry = by_name(held.name());
    assert_eq!(held_entry["type"], "shm");
    assert_eq!(held_entry["size"], 16);
    assert_eq!(held_entry["mode"], "0600");
    assert_eq!(held_entry["orphan"], false);
    assert_eq!(held_entry["holders"][0]["pid"], std::process::id());
    assert_eq!(held_entry["holders"][0]["mapped"], true);
    assert_eq!(by_name(loose.name())["orphan"], true);

    let dry = ok(&[
        "clean",
        "--orphans",
        "--prefix",
        &prefix,
        "--dry-run",
        "--trust-pid-namespace",
    ]);
    assert_eq!(
        dry,
        format!("would remove shared memory {}\n", loose.name())
    );
    let done = ok(&[
        "clean",
        "--orphans",
        "--prefix",
        &prefix,
        "--trust-pid-namespace",
    ]);
    assert_eq!(done, format!("removed shared memory {}\n", loose.name()));
    assert!(ok(&["stat", held.name()]).contains(&format!("pid {}", std::process::id())));
    fails(&["stat", loose.name()], 1);
    drop(map);
}

#[test]
fn each_error_has_its_line_and_status() {
    let q = Scratch::new("errors");
    // Missing object: the call, the object, the errno text, and a hint.
    let stderr = fails(&["mq", "send", q.name(), "x"], 1);
    assert_eq!(
        stderr,
        format!(
            "posix-ipc: mq_open {0}: No such file or directory (create it with: posix-ipc mq create {0})\n",
            q.name()
        )
    );
    ok(&[
        "mq",
        "create",
        q.name(),
        "--max-messages",
        "1",
        "--message-size",
        "8",
    ]);
    assert!(fails(&["mq", "create", q.name(), "--exclusive"], 1).contains("File exists"));
    assert!(fails(&["mq", "send", q.name(), "longer than eight"], 1).contains("at most 8 bytes"));
    ok(&["mq", "send", q.name(), "one"]);
    assert!(fails(&["mq", "send", q.name(), "two", "--nonblock"], 1).contains("the queue is full"));
    assert!(
        fails(&["mq", "send", q.name(), "two", "--timeout", "0.1"], 1)
            .contains("timed out after 0.1 s")
    );
    ok(&["mq", "receive", q.name()]);
    assert!(fails(&["mq", "receive", q.name(), "-n"], 1).contains("the queue is empty"));

    // Bad usage is refused before any call, with status 2.
    assert!(fails(&["mq", "create", "jobs"], 2).contains("did you mean /jobs?"));
    assert!(fails(&["mq", "create", "/a/b"], 2).contains("no '/' after the first"));
    fails(&["mq", "create", q.name(), "--mode", "999"], 2);
    fails(&["mq", "send", q.name(), "x", "--priority", "32768"], 2);
    fails(&["sem", "create", "/s", "--value", "-1"], 2);
    fails(&["shm", "create", "/m", "--size", "lots"], 2);
    fails(&["mq", "receive", q.name(), "--timeout", "soon"], 2);
    fails(&["clean"], 2);
}

#[test]
fn limits_name_their_source() {
    let limits: Value = serde_json::from_str(&ok(&["limits", "--json"])).unwrap();
    let limits = limits.as_array().unwrap();
    let msg_max = limits
        .iter()
        .find(|l| l["source"] == "set in /proc/sys/fs/mqueue/msg_max")
        .unwrap();
    let expected = std::fs::read_to_string("/proc/sys/fs/mqueue/msg_max").unwrap();
    assert_eq!(msg_max["name"], "msg_max");
    // A number, not a string.
    assert_eq!(msg_max["value"].as_u64(), expected.trim().parse().ok());
    assert!(limits
        .iter()
        .any(|l| l["name"].as_str().unwrap().contains("RLIMIT_MSGQUEUE")));
    assert!(ok(&["limits"]).contains("SEM_VALUE_MAX"));
}

#[test]
fn bad_arguments_are_refused_never_a_panic() {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;

    let long = format!("/{}", "x".repeat(300));
    let cases: Vec<Vec<OsString>> = vec![
        vec![
            "mq".into(),
            "create".into(),
            OsString::from_vec(b"/\xff\xfe".to_vec()),
        ],
        vec!["mq".into(), "create".into(), "".into()],
        vec!["stat".into(), long.into()],
        vec![
            "shm".into(),
            "create".into(),
            "/x".into(),
            "--size".into(),
            "-5".into(),
        ],
        vec![
            "shm".into(),
            "create".into(),
            "/x".into(),
            "--size".into(),
            "99999999999999999999".into(),
        ],
        vec![
            "mq".into(),
            "send".into(),
            "/x".into(),
            "m".into(),
            "--priority".into(),
            "-1".into(),
        ],
        vec![
            "sem".into(),
            "create".into(),
            "/s".into(),
            "--value".into(),
            "4294967296".into(),
        ],
        vec![
            "mq".into(),
            "receive".into(),
            "/x".into(),
            "--timeout".into(),
            "-1".into(),
        ],
        vec![
            "mq".into(),
            "receive".into(),
            "/x".into(),
            "--timeout".into(),
            "inf".into(),
        ],
        vec![
            "mq".into(),
            "create".into(),
            "/x".into(),
            "--max-messages".into(),
            "0".into(),
        ],
        vec!["ls".into(), "--type".into(), "bogus".into()],
        vec!["rm".into()],
    ];
    for args in cases {
        let out = demo_harness::command(bin())
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    // A length as large as it can be, on a missing object: an error, not an
    // attempt to allocate it.
    let q = Scratch::new("huge");
    let stderr = fails(
        &["shm", "read", q.name(), "--length", "9223372036854775807"],
        1,
    );
    assert!(stderr.contains("No such file or directory"), "{stderr}");
}
