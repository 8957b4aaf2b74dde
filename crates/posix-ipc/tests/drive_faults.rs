//! `posix-ipc mq`, `sem` and `shm` in hostile conditions: a stdout that is closed,
//! a broken pipe, full or past `ulimit -f`; bytes that are not UTF-8; an object
//! another process truncates meanwhile; a full `/dev/shm`; an object larger than
//! the address space allows; signals the caller ignores.
//!
//! Each case checks that nothing is lost or silently changed, and that the
//! program neither dies of a signal nor hangs (every wait is bounded).

mod common;

use common::Scratch;

use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ipc_core::{Creation, MessageQueue, MqOptions, SharedMemory, ShmOptions};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_posix-ipc");

fn command(args: &[&str]) -> Command {
    let mut command = demo_harness::command(BIN);
    command.args(args).stdin(Stdio::null());
    command
}

/// Runs to the end (reading its output meanwhile), at most 20 s.
fn finish(child: Child) -> Output {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            // Not reaped yet (the thread is still waiting), so the pid is still its.
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
            panic!("posix-ipc did not finish within 20 s");
        }
    }
}

fn run(mut command: Command) -> Output {
    finish(
        command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn posix-ipc"),
    )
}

/// `sh -c SCRIPT BIN ARGS...`: the script finds the tool in `$0`.
fn shell(script: &str, args: &[&str]) -> Command {
    let mut command = demo_harness::command("sh");
    command
        .args(["-c", script, BIN])
        .args(args)
        .stdin(Stdio::null());
    command
}

fn ok(args: &[&str]) -> String {
    let out = run(command(args));
    assert!(
        out.status.success(),
        "posix-ipc {args:?}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The queue's messages, taken in order with their priorities (through ipc-core,
/// not the tool under test).
fn drain(q: &Scratch) -> Vec<(u32, Vec<u8>)> {
    let options = MqOptions::new()
        .creation(Creation::OpenExisting)
        .nonblocking(true);
    let queue = MessageQueue::open(&q.ipc_name(), &options).unwrap();
    let mut buf = vec![0u8; queue.attributes().unwrap().message_size as usize];
    let mut got = Vec::new();
    while let Ok(r) = queue.receive(&mut buf) {
        got.push((r.priority, buf[..r.len].to_vec()));
    }
    got
}

fn send(q: &Scratch, message: &[u8], priority: u32) {
    let options = MqOptions::new().creation(Creation::OpenExisting);
    MessageQueue::open(&q.ipc_name(), &options)
        .unwrap()
        .send(message, priority)
        .unwrap();
}

/// A receive into a stdout that cannot take the message: refused before anything
/// is taken, status 1, the queue as it was.
#[test]
fn a_receive_whose_stdout_cannot_take_the_message_leaves_it_queued() {
    let q = Scratch::new("nostdout");
    ok(&["mq", "create", q.name()]);
    send(&q, b"keep me", 4);

    // Closed (`>&-`): std puts /dev/null there, read-write.
    let mut closed = shell("exec \"$0\" mq receive \"$1\" >&-", &[q.name()]);
    let out = finish(closed.stderr(Stdio::piped()).spawn().unwrap());
    assert_eq!(out.status.code(), Some(1), "closed: {}", stderr(&out));
    assert!(stderr(&out).contains("stdout"), "{}", stderr(&out));
    assert_eq!(drain(&q), [(4, b"keep me".to_vec())], "closed stdout");

    // A pipe whose reader is gone.
    send(&q, b"keep me", 4);
    let (reader, writer) = nix::unistd::pipe().unwrap();
    drop(reader);
    let out = finish(
        command(&["mq", "receive", q.name()])
            .stdout(Stdio::from(writer))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    assert_eq!(out.status.code(), Some(1), "broken pipe: {}", stderr(&out));
    assert_eq!(drain(&q), [(4, b"keep me".to_vec())], "broken pipe");

    // /dev/full.
    send(&q, b"keep me", 4);
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = finish(
        command(&["mq", "receive", q.name(), "--json"])
            .stdout(Stdio::from(full))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    assert_eq!(out.status.code(), Some(1), "/dev/full: {}", stderr(&out));
    assert!(
        stderr(&out).contains("No space left on device"),
        "{}",
        stderr(&out)
    );
    assert_eq!(drain(&q), [(4, b"keep me".to_vec())], "/dev/full");
}

/// A write that fails after the message was taken (here: a file at `ulimit -f 0`,
/// which an empty write does not reveal): the message is sent back with its
/// priority, the status is 1 and stderr says so; never SIGXFSZ.
#[test]
fn a_message_that_cannot_be_printed_is_given_back_with_its_priority() {
    let q = Scratch::new("giveback");
    ok(&["mq", "create", q.name()]);
    send(&q, b"first", 7);
    send(&q, b"second", 2);
    let dir = std::env::temp_dir().join(format!("pipc_drive_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = std::fs::File::create(dir.join("out")).unwrap();
    let mut receive = shell("ulimit -f 0 && exec \"$0\" mq receive \"$1\"", &[q.name()]);
    let out = finish(
        receive
            .stdout(Stdio::from(file))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        out.status.signal(),
        None,
        "killed by a signal: {}",
        stderr(&out)
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("sent back") && stderr(&out).contains("priority 7"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        drain(&q),
        [(7, b"first".to_vec()), (2, b"second".to_vec())],
        "the message is back, in priority order"
    );
}

/// `--json` keeps every byte (hex), the text form shows the priority, `--raw` is
/// the bytes alone, and a timeout says how long it waited.
#[test]
fn received_messages_keep_every_byte_and_show_their_priority() {
    let q = Scratch::new("bytes");
    ok(&["mq", "create", q.name()]);
    send(&q, b"a\xffb\n\x1b[31m", 9);
    let json: Value = serde_json::from_str(&ok(&["mq", "receive", q.name(), "--json"])).unwrap();
    assert_eq!(json["priority"], 9);
    assert_eq!(json["length"], 9);
    assert_eq!(json["hex"], "61ff620a1b5b33316d");
    assert!(json["message"].is_null(), "not UTF-8: {json}");
    send(&q, "héllo".as_bytes(), 3);
    let json: Value = serde_json::from_str(&ok(&["mq", "receive", q.name(), "--json"])).unwrap();
    assert_eq!(json["message"], "héllo");

    send(&q, b"hello", 5);
    assert_eq!(ok(&["mq", "receive", q.name()]), "priority 5: hello\n");
    send(&q, b"a\xffb", 1);
    let out = run(command(&["mq", "receive", q.name(), "--raw"]));
    assert_eq!(out.stdout, b"a\xffb");

    let out = run(command(&["mq", "receive", q.name(), "--timeout", "0.2"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("timed out after 0.2 s") && !stderr(&out).contains("Connection"),
        "{}",
        stderr(&out)
    );
    ok(&["sem", "create", q.name()]);
    let out = run(command(&["sem", "wait", q.name(), "--timeout", "0.1"]));
    assert!(
        stderr(&out).contains("timed out after 0.1 s"),
        "{}",
        stderr(&out)
    );
}

/// Whether `pid` is asleep (blocked in its wait).
fn asleep(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(')')
        .is_some_and(|(_, rest)| rest.trim_start().starts_with('S'))
}

/// `nohup` and a shell's `trap '' INT` leave SIGHUP and SIGINT ignored: a
/// waiting receive stays deaf to them, and still receives the next message.
#[test]
fn signals_ignored_by_the_caller_stay_ignored() {
    for (how, signal) in [
        (
            format!("exec nohup {BIN} mq receive \"$0\""),
            Signal::SIGHUP,
        ),
        (
            format!("trap '' INT; exec {BIN} mq receive \"$0\""),
            Signal::SIGINT,
        ),
    ] {
        let q = Scratch::new("ignored");
        ok(&["mq", "create", q.name()]);
        let child = demo_harness::command("sh")
            .args(["-c", &how, q.name()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let start = Instant::now();
        while !asleep(pid) && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(150));
        kill(Pid::from_raw(pid as i32), signal).unwrap();
        // Several of the tool's 100 ms slices.
        std::thread::sleep(Duration::from_millis(400));
        send(&q, b"still here", 1);
        let out = finish(child);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{signal} ended it: {:?} {}",
            out.status,
            stderr(&out)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "priority 1: still here\n"
        );
    }
}

/// `shm create` on an existing object never truncates or ignores a size: another
/// size is refused and the bytes stay; `--resize` is explicit; 0 bytes is bad usage.
#[test]
fn creating_an_existing_object_never_changes_it_silently() {
    let m = Scratch::new("exists");
    ok(&["shm", "create", m.name(), "--size", "4096", "--no-reserve"]);
    ok(&["shm", "write", m.name(), "hello"]);
    for args in [
        &["--size", "10", "--no-reserve"][..],
        &["--size", "10"],
        &["--size", "8192"],
    ] {
        let mut all = vec!["shm", "create", m.name()];
        all.extend_from_slice(args);
        let out = run(command(&all));
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("is 4096 bytes") && stderr(&out).contains("--resize"),
            "{}",
            stderr(&out)
        );
        assert_eq!(ok(&["shm", "read", m.name(), "--length", "5"]), "hello");
        let size = SharedMemory::open(&m.ipc_name(), &ShmOptions::default())
            .unwrap()
            .size()
            .unwrap();
        assert_eq!(size, 4096, "{args:?}");
    }
    // The same size: opened, left as it is.
    ok(&["shm", "create", m.name(), "--size", "4096"]);
    assert_eq!(ok(&["shm", "read", m.name(), "--length", "5"]), "hello");
    // Asked for: grows, keeping the bytes.
    ok(&["shm", "create", m.name(), "--size", "8192", "--resize"]);
    assert_eq!(ok(&["shm", "read", m.name(), "--length", "5"]), "hello");
    assert_eq!(ok(&["shm", "read", m.name()]).len(), 8192);

    let zero = Scratch::new("zero");
    let out = run(command(&["shm", "create", zero.name(), "--size", "0"]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        !std::path::Path::new(&format!("/dev/shm{}", zero.name())).exists(),
        "a 0-byte create made an object"
    );
}

/// Another process truncating the object (to 0, then back) while `shm read` and
/// `shm write` run: short counts are reported, never SIGBUS.
#[test]
fn reads_and_writes_survive_an_object_truncated_meanwhile() {
    const SIZE: u64 = 1 << 20;
    let m = Scratch::new("truncated");
    ok(&["shm", "create", m.name(), "--size", &SIZE.to_string()]);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let truncator = scope.spawn(|| {
            let shm = SharedMemory::open(&m.ipc_name(), &ShmOptions::default()).unwrap();
            while !stop.load(Ordering::Relaxed) {
                shm.set_len(0).unwrap();
                std::thread::sleep(Duration::from_micros(200));
                shm.set_len(SIZE).unwrap();
                std::thread::sleep(Duration::from_micros(200));
            }
        });
        let input = vec![b'x'; SIZE as usize];
        let mut statuses = Vec::new();
        for _ in 0..20 {
            statuses.push(run(command(&["shm", "read", m.name()])).status);
            let mut write = command(&["shm", "write", m.name(), "-"])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            // The tool may stop reading early (cut short): a broken pipe here is fine.
            let _ = std::io::Write::write_all(&mut write.stdin.take().unwrap(), &input);
            statuses.push(finish(write).status);
        }
        stop.store(true, Ordering::Relaxed);
        truncator.join().unwrap();
        let signalled: Vec<&ExitStatus> =
            statuses.iter().filter(|s| s.signal().is_some()).collect();
        assert!(signalled.is_empty(), "died of a signal: {signalled:?}");
        assert!(statuses.iter().all(|s| s.code().is_some_and(|c| c <= 1)));
    });
}

/// A 3 GiB sparse object read under a 256 MiB address-space limit: streamed, not
/// copied into memory (nor mapped).
#[test]
fn a_large_object_is_streamed_not_held_in_memory() {
    const SIZE: u64 = 3 << 30;
    let m = Scratch::new("sparse");
    ok(&[
        "shm",
        "create",
        m.name(),
        "--size",
        &SIZE.to_string(),
        "--no-reserve",
    ]);
    // The tool's status on stderr, the byte count (from wc) on stdout.
    let out = run(shell(
        "ulimit -v 262144 && { \"$0\" shm read \"$1\"; echo \"status $?\" >&2; } | wc -c",
        &[m.name()],
    ));
    assert!(stderr(&out).ends_with("status 0\n"), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        SIZE.to_string()
    );
}

/// A `--no-reserve` object larger than a full `/dev/shm`: `shm write` meets ENOSPC
/// and says so, instead of dying of SIGBUS. Needs root (a private tmpfs of 256 KiB
/// over `/dev/shm`, in a mount namespace of its own).
#[test]
fn a_write_into_a_full_dev_shm_is_enospc_not_sigbus() {
    if !nix::unistd::geteuid().is_root() {
        println!(
            "skipped: needs root to mount a small tmpfs over /dev/shm in a private mount namespace"
        );
        return;
    }
    let script = "mount --make-rprivate / && mount -t tmpfs -o size=256k tmpfs /dev/shm && \
                  \"$0\" shm create /full --size 1048576 --no-reserve && \
                  head -c 1048576 /dev/zero | tr '\\0' x | \"$0\" shm write /full -";
    let out = run({
        let mut c = demo_harness::command("unshare");
        c.args(["-m", "sh", "-c", script, BIN]);
        c
    });
    assert_eq!(out.status.signal(), None, "{:?}", out.status);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("pwrite /full: No space left on device"),
        "{}",
        stderr(&out)
    );
}
