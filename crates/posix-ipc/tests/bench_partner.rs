//! `posix-ipc bench` when a process of the measurement dies, and when the whole
//! group is told to stop: for every mechanism it ends within a bound, with an
//! error (or 128 + N), every process reaped and every object unlinked.

use std::os::unix::process::CommandExt;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;

const BIN: &str = env!("CARGO_BIN_EXE_posix-ipc");

const MECHANISMS: [&str; 7] = [
    "mq",
    "sem",
    "pshared-sem",
    "pshared-mutex",
    "pipe",
    "uds",
    "spin",
];

/// Longest the bench may take to end once its partner is gone or it is told to.
const BOUND: Duration = Duration::from_secs(10);

/// One bench at a time (see tests/bench.rs).
fn serial() -> demo_harness::NamesLock {
    demo_harness::NamesLock::take("posix-ipc-bench")
}

/// A bench of `mechanism` that would run for a minute, in a process group of its
/// own.
fn start(mechanism: &str) -> Child {
    demo_harness::command(BIN)
        .args([
            "bench",
            "--mechanism",
            mechanism,
            "--placement",
            "unpinned",
            "--iterations",
            "100000000",
            "--messages",
            "100000000",
            "--max-seconds",
            "60",
            "--json",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("spawn posix-ipc bench")
}

fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// The process named `name` among the bench's children once the measurement runs
/// (a bench that forks a single child has only the partner: that one).
fn worker(bench: u32, name: &str) -> u32 {
    let start = Instant::now();
    loop {
        let kids = children(bench);
        if let Some(&pid) = kids.iter().find(|&&p| comm(p) == name) {
            // Let it get into the measurement proper.
            std::thread::sleep(Duration::from_millis(300));
            return pid;
        }
        if kids.len() == 1 && start.elapsed() > Duration::from_secs(2) {
            return kids[0];
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no {name} among the children of the bench"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (at most [`BOUND`]) for the bench to end; its status code and stderr.
fn ends(mut bench: Child, what: &str) -> (Option<i32>, String) {
    let start = Instant::now();
    let status = loop {
        if let Some(status) = bench.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > BOUND {
            let _ = killpg(Pid::from_raw(bench.id() as i32), Signal::SIGKILL);
            let _ = bench.wait();
            panic!("{what}: the bench still ran {BOUND:?} later");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stderr = String::new();
    let _ = std::io::Read::read_to_string(&mut bench.stderr.take().unwrap(), &mut stderr);
    (status.code(), stderr)
}

/// No process of the group `pgid` and no object named after it are left.
fn nothing_left(pgid: u32, what: &str) {
    let members = demo_harness::live_members(Pid::from_raw(pgid as i32));
    assert!(members.is_empty(), "{what}: processes left: {members:?}");
    let prefix = format!("pipc_bench_{pgid}_");
    let left: Vec<String> = std::fs::read_dir("/dev/shm")
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(&prefix))
        .collect();
    assert!(left.is_empty(), "{what}: left in /dev/shm: {left:?}");
    for tag in ["ab", "ba"] {
        let name = ipc_core::Name::new(&format!("/{prefix}{tag}")).unwrap();
        let open = ipc_core::MessageQueue::open(&name, &ipc_core::MqOptions::default());
        assert_eq!(
            open.unwrap_err().errno(),
            ipc_core::Errno::ENOENT,
            "{what}: queue {name} left"
        );
    }
}

#[test]
fn a_partner_killed_with_sigkill_ends_the_bench_with_an_error() {
    let _serial = serial();
    for mechanism in MECHANISMS {
        let bench = start(mechanism);
        let pid = bench.id();
        let partner = worker(pid, "pipc-partner");
        kill(Pid::from_raw(partner as i32), Signal::SIGKILL).unwrap();
        let (code, stderr) = ends(bench, mechanism);
        assert_eq!(code, Some(1), "{mechanism}: {stderr}");
        assert!(
            stderr.contains("partner") && stderr.contains("SIGKILL"),
            "{mechanism}: {stderr}"
        );
        nothing_left(pid, mechanism);
    }
}

#[test]
fn a_measuring_process_killed_with_sigkill_ends_the_bench_with_an_error() {
    let _serial = serial();
    for mechanism in ["mq", "pshared-mutex", "pipe"] {
        let bench = start(mechanism);
        let pid = bench.id();
        let measurer = worker(pid, "pipc-measure");
        kill(Pid::from_raw(measurer as i32), Signal::SIGKILL).unwrap();
        let (code, stderr) = ends(bench, mechanism);
        assert_eq!(code, Some(1), "{mechanism}: {stderr}");
        assert!(stderr.contains("SIGKILL"), "{mechanism}: {stderr}");
        nothing_left(pid, mechanism);
    }
}

#[test]
fn sigterm_or_sigint_to_the_group_ends_every_mechanism_and_leaves_nothing() {
    let _serial = serial();
    for signal in [Signal::SIGTERM, Signal::SIGINT] {
        for mechanism in MECHANISMS {
            let what = format!("{mechanism}, {signal} to the group");
            let bench = start(mechanism);
            let pid = bench.id();
            worker(pid, "pipc-partner");
            killpg(Pid::from_raw(pid as i32), signal).unwrap();
            let (code, stderr) = ends(bench, &what);
            assert_eq!(code, Some(128 + signal as i32), "{what}: {stderr}");
            nothing_left(pid, &what);
        }
    }
}
