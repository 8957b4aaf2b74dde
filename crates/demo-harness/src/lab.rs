//! One lab under test: its `verdict:` line, its cleanup when interrupted, and its
//! clean failure when stdout cannot be written.

use std::process::ExitStatus;
use std::time::{Duration, Instant};

use ipc_core::ObjectKind;
use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::broken_stdout::{self, Sink};
use crate::lock::NamesLock;
use crate::objects::{exists, remove};
use crate::process::{live_members, Io, Process, Target};
use crate::PATIENCE;

/// One lab under test. Its objects are named `/NAME_PID_TAG`, one per tag.
#[derive(Clone, Copy, Debug)]
pub struct Lab<'a> {
    name: &'a str,
    bin: &'a str,
    tags: &'a [(ObjectKind, &'a str)],
}

/// A lab run: its stdout, and its `verdict:` line.
pub struct LabRun {
    /// Everything it printed.
    pub stdout: String,
    /// Its last line, without `verdict: `.
    pub verdict: String,
}

impl<'a> Lab<'a> {
    /// The lab `name` (its package, the prefix of its object names and the name of
    /// its lock), built at `bin`, with objects of these kinds and tags.
    pub const fn new(name: &'a str, bin: &'a str, tags: &'a [(ObjectKind, &'a str)]) -> Lab<'a> {
        Lab { name, bin, tags }
    }

    /// Takes this lab's [`NamesLock`], for labs whose tests must not overlap (they
    /// race on every CPU).
    pub fn lock(&self) -> NamesLock {
        NamesLock::take(self.name)
    }

    /// Runs it piped with `args` (bounded by [`PATIENCE`]), asserts it exits 0 with
    /// a last line `verdict: ...` and that it left none of its objects nor any
    /// process of its group.
    pub fn run(&self, args: &[&str]) -> LabRun {
        let mut process = Process::start(self.bin, args, Io::Captured, PATIENCE);
        let pid = process.pid();
        let status = process.wait();
        let stdout = String::from_utf8(process.stdout()).expect("UTF-8 output");
        assert_eq!(
            status.code(),
            Some(0),
            "{} {args:?}: {}\n{stdout}",
            self.name,
            String::from_utf8_lossy(&process.stderr())
        );
        let verdict = stdout
            .lines()
            .last()
            .and_then(|line| line.strip_prefix("verdict: "))
            .unwrap_or_else(|| panic!("no verdict line last:\n{stdout}"))
            .to_owned();
        self.assert_left_nothing(pid);
        LabRun { stdout, verdict }
    }

    /// Starts it with `args`, lets it run for `after`, sends `signal` to `target`,
    /// and checks it exits (not killed) with 128 + N leaving nothing.
    pub fn interrupt(&self, args: &[&str], after: Duration, signal: Signal, target: Target) {
        let mut process = Process::start(self.bin, args, Io::Discarded, PATIENCE);
        std::thread::sleep(after);
        assert!(
            process.try_status().is_none(),
            "{} finished before the signal: give it more work",
            self.name
        );
        process.signal(signal, target);
        let status = process.wait();
        assert_eq!(
            status.code(),
            Some(128 + signal as i32),
            "{signal}: {status:?}"
        );
        self.assert_left_nothing(process.pid());
    }

    /// Starts it with `args`, lets it run for `after`, kills its first child (a
    /// worker) with SIGKILL, and waits for it to end. Returns the worker's pid, how
    /// the lab ended and its stderr; asserts nothing was left behind (see
    /// [`assert_left_nothing`](Self::assert_left_nothing)).
    pub fn kill_a_worker(&self, args: &[&str], after: Duration) -> (i32, ExitStatus, String) {
        let mut process = Process::start(self.bin, args, Io::Captured, PATIENCE);
        let pid = process.pid();
        std::thread::sleep(after);
        let children =
            std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        let worker: i32 = children
            .split_whitespace()
            .next()
            .and_then(|w| w.parse().ok())
            .unwrap_or_else(|| panic!("{} has no worker after {after:?}", self.name));
        nix::sys::signal::kill(Pid::from_raw(worker), Signal::SIGKILL).expect("kill the worker");
        let status = process.wait();
        let stderr = String::from_utf8_lossy(&process.stderr()).into_owned();
        self.assert_left_nothing(pid);
        (worker, status, stderr)
    }

    /// Runs it with `args`, stdin empty, first with stdout at `/dev/full`, then
    /// into a pipe whose reader is gone; asserts each run fails cleanly: exit status
    /// 1 (not a panic, not a death by signal) with a line on stderr saying the write
    /// to stdout failed, and nothing left (see
    /// [`assert_left_nothing`](Self::assert_left_nothing)).
    pub fn assert_unwritable_stdout_fails_cleanly(&self, args: &[&str]) {
        for sink in [Sink::Full, Sink::BrokenPipe] {
            let ended = broken_stdout::run(self.bin, args, sink);
            let context = format!("{} {args:?} with stdout {sink:?}", self.name);
            assert!(
                !ended.stderr.contains("panicked"),
                "{context}: panicked:\n{}",
                ended.stderr
            );
            assert_eq!(
                ended.status.code(),
                Some(1),
                "{context}: status ({:?}); stderr:\n{}",
                ended.status,
                ended.stderr
            );
            assert!(
                ended.stderr.contains("write to stdout failed"),
                "{context}: stderr does not say stdout failed:\n{}",
                ended.stderr
            );
            self.assert_left_nothing(ended.pid);
        }
    }

    /// Asserts no object of the run `pid` exists (removing any found) and, within
    /// 5 seconds, no process of its group runs: for a test that runs the lab
    /// itself (as [`run`](Self::run) and [`interrupt`](Self::interrupt) check).
    pub fn assert_left_nothing(&self, pid: Pid) {
        let names: Vec<(ObjectKind, String)> = self
            .tags
            .iter()
            .map(|(kind, tag)| (*kind, format!("/{}_{pid}_{tag}", self.name)))
            .collect();
        let left: Vec<&str> = names
            .iter()
            .filter(|(kind, name)| exists(*kind, name))
            .map(|(_, name)| name.as_str())
            .collect();
        for (kind, name) in &names {
            remove(*kind, name);
        }
        assert!(left.is_empty(), "{} left behind: {left:?}", self.name);
        let start = Instant::now();
        loop {
            let live = live_members(pid);
            if live.is_empty() {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "processes of {} (group {pid}) still run: {live:?}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The numbers in `text`, in order (`"lost 5 of 10"` gives `[5, 10]`).
pub fn numbers(text: &str) -> Vec<u64> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect()
}
