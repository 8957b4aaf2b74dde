//! Test support for the demos: run a demo binary as a class would (piped, or
//! paused with `--step` and interrupted), and check what it left behind.
//!
//! - [`exclusive`] serialises the tests that use one demo's object names, across
//!   threads (`cargo test`) and processes (`cargo nextest`), with `flock`.
//! - [`Objects`] names a demo's objects, says which still exist, and removes them.
//! - [`Stepped`] runs a demo with `--step` in its own process group, walks it to a
//!   given step, signals it, and on drop kills whatever is left and unlinks the
//!   demo's objects, so a failing test leaves nothing behind.

#![deny(missing_docs)]

pub mod broken_stdout;
pub mod command_line;

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use ipc_core::ObjectKind;
use ipc_core::{Errno, MessageQueue, MqOptions, Name};
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;

/// How long any single wait in a test may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// An exclusive lock on one demo's object names, held until dropped.
pub type NamesLock = nix::fcntl::Flock<File>;

/// Takes the lock for the demo `demo`: tests of one demo run one at a time, whatever
/// the test runner, because they share its fixed object names.
pub fn exclusive(demo: &str) -> NamesLock {
    let path = std::env::temp_dir().join(format!("posix-ipc-lab-{demo}.lock"));
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
        .unwrap_or_else(|(_, e)| panic!("flock {}: {e}", path.display()))
}

/// The named objects a demo creates.
#[derive(Clone, Copy, Debug)]
pub struct Objects(pub &'static [(ObjectKind, &'static str)]);

impl Objects {
    /// Those of them that exist now. Shared memory and semaphores are looked up in
    /// `/dev/shm`; a queue is opened without `O_CREAT` (works with no mqueue
    /// filesystem mounted).
    pub fn existing(&self) -> Vec<&'static str> {
        self.0
            .iter()
            .filter(|(kind, name)| exists(*kind, name))
            .map(|(_, name)| *name)
            .collect()
    }

    /// Removes every one of them that exists.
    pub fn remove_all(&self) {
        for (kind, name) in self.0 {
            let _ = (*kind).unlink(&Name::new(name).unwrap());
        }
    }

    /// Panics, naming them, if any of them exists.
    pub fn assert_none_left(&self) {
        let left = self.existing();
        assert!(left.is_empty(), "objects left behind: {left:?}");
    }
}

/// Whether the object `name` of `kind` exists.
pub fn exists(kind: ObjectKind, name: &str) -> bool {
    let file = &name[1..];
    match kind {
        ObjectKind::SharedMemory => Path::new("/dev/shm").join(file).exists(),
        ObjectKind::Semaphore => Path::new("/dev/shm").join(format!("sem.{file}")).exists(),
        ObjectKind::MessageQueue => {
            let name = Name::new(name).unwrap();
            match MessageQueue::open(&name, &MqOptions::default()) {
                Ok(_) => true,
                Err(e) => {
                    assert_eq!(e.errno(), Errno::ENOENT, "probing {name}: {e}");
                    false
                }
            }
        }
    }
}

/// Runs `bin` with `args`, stdin empty, stdout and stderr piped, and waits for it.
pub fn run_piped(bin: &str, args: &[&str]) -> Output {
    run_piped_pid(bin, args).1
}

/// As [`run_piped`], also returning the process id it ran with (labs put it in
/// their object names).
pub fn run_piped_pid(bin: &str, args: &[&str]) -> (u32, Output) {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
    let pgid = Pid::from_raw(child.id() as i32);
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut err = err;
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let mut out = out;
    let _ = out.read_to_end(&mut stdout);
    let status = wait_bounded(&mut child, pgid);
    stderr.extend(reader.join().unwrap());
    (
        pgid.as_raw() as u32,
        Output {
            status,
            stdout,
            stderr,
        },
    )
}

/// Waits for `child` for at most [`PATIENCE`]; kills its group and panics after that.
fn wait_bounded(child: &mut Child, pgid: Pid) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > PATIENCE {
            let _ = killpg(pgid, Signal::SIGKILL);
            let _ = child.wait();
            panic!("the demo did not finish within {PATIENCE:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The exit code of a process that exited, or 128 + N for one killed by signal N
/// (as a shell shows it).
pub fn shell_status(status: ExitStatus) -> i32 {
    status
        .code()
        .or_else(|| status.signal().map(|n| 128 + n))
        .unwrap_or(-1)
}

/// Processes of the group `pgid` that are still running (zombies excluded).
pub fn live_members(pgid: Pid) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            // Fields after the command (which is in parentheses): state ppid pgrp ...
            let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
                return false;
            };
            let fields: Vec<&str> = rest.split_whitespace().collect();
            fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.as_raw().to_string()
        })
        .collect()
}

/// A demo run with `--step` in a process group of its own.
pub struct Stepped {
    child: Child,
    stdin: Option<ChildStdin>,
    stderr: Receiver<String>,
    stdout: Option<std::thread::JoinHandle<Vec<u8>>>,
    objects: Objects,
    at_step: usize,
    /// Whether it waits at `at_step`'s prompt (left there by `advance_to`).
    waiting: bool,
    status: Option<ExitStatus>,
}

impl Stepped {
    /// Starts `bin --step` with `extra` arguments.
    pub fn spawn(bin: &str, extra: &[&str], objects: Objects) -> Stepped {
        let mut child = Command::new(bin)
            .arg("--step")
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
        let (tx, rx) = channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut out = child.stdout.take().unwrap();
        let stdout = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = out.read_to_end(&mut buf);
            buf
        });
        Stepped {
            stdin: child.stdin.take(),
            child,
            stderr: rx,
            stdout: Some(stdout),
            objects,
            at_step: 0,
            waiting: false,
            status: None,
        }
    }

    /// The demo's process id (and process group id).
    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    /// Lets the demo run until it waits at step `n`, pressing Enter at each earlier
    /// step (including the one it waits at, if an earlier call left it there).
    /// Returns the stderr lines read on the way.
    pub fn advance_to(&mut self, n: usize) -> Vec<String> {
        assert!(n > self.at_step, "already at step {}", self.at_step);
        if std::mem::take(&mut self.waiting) {
            self.enter();
        }
        let mut seen = Vec::new();
        let start = Instant::now();
        loop {
            let left = PATIENCE.saturating_sub(start.elapsed());
            let line = self
                .stderr
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no step {n} on stderr; saw {seen:#?}"));
            if line.contains("press Enter") {
                if self.at_step == n {
                    seen.push(line);
                    self.waiting = true;
                    return seen;
                }
                self.enter();
            } else if let Some(step) = step_number(&line) {
                self.at_step = step;
            }
            seen.push(line);
        }
    }

    /// Presses Enter at every remaining step until the demo closes stderr, then
    /// waits for it. Returns the number of steps it paused at in all.
    pub fn finish(&mut self) -> (usize, ExitStatus) {
        if std::mem::take(&mut self.waiting) {
            self.enter();
        }
        let start = Instant::now();
        loop {
            let left = PATIENCE.saturating_sub(start.elapsed());
            match self.stderr.recv_timeout(left) {
                Ok(line) if line.contains("press Enter") => self.enter(),
                Ok(line) => {
                    if let Some(step) = step_number(&line) {
                        self.at_step = step;
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    panic!("the demo did not finish within {PATIENCE:?}")
                }
            }
        }
        (self.at_step, self.wait())
    }

    fn enter(&mut self) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    /// Sends `signal` to the whole process group, as Ctrl+C in a terminal does.
    pub fn signal_group(&self, signal: Signal) {
        killpg(self.pid(), signal).unwrap();
    }

    /// Sends `signal` to the demo's first process only.
    pub fn signal_parent(&self, signal: Signal) {
        kill(self.pid(), signal).unwrap();
    }

    /// Waits (bounded) for the demo to end and returns its status.
    ///
    /// A demo that cleaned up after a signal *exits* with 128 + N (`code()`), where
    /// one without cleanup would be *killed* by the signal (`signal()`).
    pub fn wait(&mut self) -> ExitStatus {
        let pgid = self.pid();
        let status = wait_bounded(&mut self.child, pgid);
        self.status = Some(status);
        self.stdin = None;
        status
    }

    /// Everything the demo wrote to stdout (call after [`wait`](Self::wait)).
    pub fn stdout(&mut self) -> Vec<u8> {
        self.stdout
            .take()
            .map(|t| t.join().unwrap())
            .unwrap_or_default()
    }

    /// Waits, bounded, until no process of the demo's group is left running; panics
    /// naming the ones left.
    pub fn assert_group_gone(&self) {
        let start = Instant::now();
        loop {
            let live = live_members(self.pid());
            if live.is_empty() {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "processes left running in the demo's group: {live:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The demo's objects, as given to [`spawn`](Self::spawn).
    pub fn objects(&self) -> &Objects {
        &self.objects
    }
}

impl Drop for Stepped {
    fn drop(&mut self) {
        // Whatever the test asserted, leave nothing behind: no process, no object.
        if self.status.is_none() || !live_members(self.pid()).is_empty() {
            let _ = killpg(self.pid(), Signal::SIGKILL);
        }
        if self.status.is_none() {
            let _ = self.child.wait();
        }
        self.objects.remove_all();
    }
}

/// The `N` of a `[step N]` line.
fn step_number(line: &str) -> Option<usize> {
    line.strip_prefix("[step ")?.split(']').next()?.parse().ok()
}

/// Runs `bin --step`, pressing Enter at each of its `steps` pauses, and asserts
/// stdout is still `transcript` byte for byte and the exit status 0.
pub fn assert_stepped_transcript(bin: &str, objects: Objects, steps: usize, transcript: &[u8]) {
    let mut demo = Stepped::spawn(bin, &[], objects);
    let (paused, status) = demo.finish();
    assert_eq!(status.code(), Some(0), "exit status with --step");
    assert_eq!(paused, steps, "number of --step pauses");
    assert_eq!(
        String::from_utf8_lossy(&demo.stdout()),
        String::from_utf8_lossy(transcript),
        "--step changed stdout"
    );
    demo.objects().assert_none_left();
}

/// Who receives a test's signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The whole process group, as Ctrl+C (SIGINT) or a terminal hang-up does.
    Group,
    /// Only the demo's first process, as `kill PID` does.
    Parent,
}

/// Runs `bin --step`, waits at step `step`, sends `signal` to `target`, and checks
/// the cleanup: the demo exits (not killed) with 128 + N, no process of its group
/// is left, none of `objects` is left. Returns what it wrote to stdout.
pub fn interrupt_at_step(
    bin: &str,
    objects: Objects,
    step: usize,
    signal: Signal,
    target: Target,
) -> Vec<u8> {
    let mut demo = Stepped::spawn(bin, &[], objects);
    demo.advance_to(step);
    match target {
        Target::Group => demo.signal_group(signal),
        Target::Parent => demo.signal_parent(signal),
    }
    let status = demo.wait();
    assert_eq!(
        status.code(),
        Some(128 + signal as i32),
        "{signal} at step {step}: expected exit status {}, got {status:?}",
        128 + signal as i32
    );
    demo.assert_group_gone();
    demo.objects().assert_none_left();
    demo.stdout()
}

/// SIGKILLs the whole group of `bin --step` at step `step` (no cleanup can run),
/// waits until none of its processes is left running, and returns the objects it
/// left behind.
pub fn kill_at_step(bin: &str, objects: Objects, step: usize) -> Vec<&'static str> {
    let mut demo = Stepped::spawn(bin, &[], objects);
    demo.advance_to(step);
    demo.signal_group(Signal::SIGKILL);
    assert_eq!(demo.wait().signal(), Some(Signal::SIGKILL as i32));
    demo.assert_group_gone();
    let left = objects.existing();
    // Keep them for the caller, whose next run is to recover them.
    demo.objects = Objects(&[]);
    left
}

/// Runs `bin args` piped and asserts its stdout is `transcript` byte for byte and
/// its exit status 0. Returns the run's output for further checks.
pub fn assert_transcript(bin: &str, args: &[&str], transcript: &[u8]) -> Output {
    let out = run_piped(bin, args);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(transcript),
        "stdout differs from the transcript (stderr: {})",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "exit status");
    out
}

/// Asserts `bin --help` prints usage naming `--step` and exits 0, and that an
/// unknown argument is refused with status 2.
pub fn assert_help(bin: &str) {
    let out = run_piped(bin, &["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("--step"));
    let bad = run_piped(bin, &["--bogus"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown argument '--bogus'"));
}

/// The lock of one demo's tests; removes the demo's objects when dropped.
pub struct DemoLock {
    _lock: NamesLock,
    objects: Objects,
}

impl Drop for DemoLock {
    fn drop(&mut self) {
        self.objects.remove_all();
    }
}

/// One demo under test: its package name, binary and objects.
#[derive(Clone, Copy, Debug)]
pub struct Demo {
    /// The package (and binary) name, also the name of its lock.
    pub name: &'static str,
    /// Path of the built binary (`env!("CARGO_BIN_EXE_<name>")`).
    pub bin: &'static str,
    /// The objects it creates.
    pub objects: Objects,
}

impl Demo {
    /// Takes this demo's [`exclusive`] lock; hold it for the whole test. The demo's
    /// objects are removed when it is taken (a killed earlier run may have left
    /// some) and again when it is dropped, so a test leaves nothing behind even
    /// when it fails.
    pub fn lock(&self) -> DemoLock {
        let lock = exclusive(self.name);
        self.objects.remove_all();
        DemoLock {
            _lock: lock,
            objects: self.objects,
        }
    }

    /// A plain piped run: stdout is `transcript`, status 0, stderr empty, nothing left.
    pub fn assert_clean_run(&self, transcript: &[u8]) {
        let out = assert_transcript(self.bin, &[], transcript);
        assert!(
            out.stderr.is_empty(),
            "stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.objects.assert_none_left();
    }

    /// See [`assert_stepped_transcript`].
    pub fn assert_stepped_run(&self, steps: usize, transcript: &[u8]) {
        assert_stepped_transcript(self.bin, self.objects, steps, transcript);
    }

    /// See [`interrupt_at_step`].
    pub fn interrupt_at_step(&self, step: usize, signal: Signal, target: Target) -> Vec<u8> {
        interrupt_at_step(self.bin, self.objects, step, signal, target)
    }

    /// SIGKILL at `step` leaves exactly `left`; the next plain run then prints
    /// `transcript`, exits 0, says on stderr that it found `notes` leftovers, and
    /// leaves nothing.
    pub fn assert_recovers_after_sigkill(
        &self,
        step: usize,
        left: &[&str],
        transcript: &[u8],
        notes: usize,
    ) {
        assert_eq!(
            kill_at_step(self.bin, self.objects, step),
            left,
            "left by SIGKILL"
        );
        let out = assert_transcript(self.bin, &[], transcript);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), notes, "notes on stderr: {stderr}");
        assert_eq!(
            stderr.matches("left from an earlier run").count(),
            notes,
            "{stderr}"
        );
        self.objects.assert_none_left();
    }
}

/// A lab run: its pid, stdout, and its `verdict:` line.
pub struct LabRun {
    /// The lab's process id (in its object names).
    pub pid: u32,
    /// Everything it printed.
    pub stdout: String,
    /// Its last line, without `verdict: `.
    pub verdict: String,
}

/// Runs a lab piped with `args`, asserts it exits 0 with a last line `verdict: ...`
/// and that it left none of the objects `/PREFIX_PID_TAG` for `tags`, nor any
/// process of its group.
pub fn run_lab(bin: &str, args: &[&str], prefix: &str, tags: &[(ObjectKind, &str)]) -> LabRun {
    let (pid, out) = run_piped_pid(bin, args);
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{bin} {args:?}: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdict = stdout
        .lines()
        .last()
        .and_then(|line| line.strip_prefix("verdict: "))
        .unwrap_or_else(|| panic!("no verdict line last:\n{stdout}"))
        .to_owned();
    assert_lab_left_nothing(pid, prefix, tags);
    LabRun {
        pid,
        stdout,
        verdict,
    }
}

/// Asserts no object `/PREFIX_PID_TAG` of `tags` exists and no process of the
/// group `pid` runs.
pub fn assert_lab_left_nothing(pid: u32, prefix: &str, tags: &[(ObjectKind, &str)]) {
    let left: Vec<String> = tags
        .iter()
        .map(|(kind, tag)| (*kind, format!("/{prefix}_{pid}_{tag}")))
        .filter(|(kind, name)| exists(*kind, name))
        .map(|(_, name)| name)
        .collect();
    for (kind, name) in tags
        .iter()
        .map(|(k, t)| (*k, format!("/{prefix}_{pid}_{t}")))
    {
        let _ = kind.unlink(&Name::new(&name).unwrap());
    }
    assert!(left.is_empty(), "left behind: {left:?}");
    let start = Instant::now();
    while !live_members(Pid::from_raw(pid as i32)).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "processes of the lab still run"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The numbers in `text`, in order (`"lost 5 of 10"` gives `[5, 10]`).
pub fn numbers(text: &str) -> Vec<u64> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// Starts a lab in its own process group, lets it run for `after`, sends `signal`
/// to `target`, and checks it exits (not killed) with 128 + N leaving nothing.
pub fn interrupt_lab(
    bin: &str,
    args: &[&str],
    after: Duration,
    signal: Signal,
    target: Target,
    prefix: &str,
    tags: &[(ObjectKind, &str)],
) {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
    let pid = Pid::from_raw(child.id() as i32);
    std::thread::sleep(after);
    assert!(
        child.try_wait().unwrap().is_none(),
        "{bin} finished before the signal: give it more work"
    );
    match target {
        Target::Group => killpg(pid, signal).unwrap(),
        Target::Parent => kill(pid, signal).unwrap(),
    }
    let status = wait_bounded(&mut child, pid);
    assert_eq!(
        status.code(),
        Some(128 + signal as i32),
        "{signal}: {status:?}"
    );
    assert_lab_left_nothing(pid.as_raw() as u32, prefix, tags);
}

/// A small xorshift generator: enough randomness to vary a soak test, and a seed
/// to print so a failing run can be repeated (`SOAK_SEED`).
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

impl Demo {
    /// Runs the demo again and again for `SOAK_SECONDS` (default `seconds`),
    /// interrupting each run at a random moment within `window` with a random one of
    /// SIGINT to the group, SIGTERM or SIGHUP to the parent, SIGKILL to the group, or
    /// nothing. After every run: no process of it left; after a clean exit or a
    /// caught signal (or one that landed before `main` could install the cleanup,
    /// when there is nothing yet to leak), none of its objects left; after SIGKILL (when objects may
    /// stay), a normal run that succeeds and leaves nothing. Returns the runs made.
    pub fn soak(&self, seconds: u64, window: Duration) -> usize {
        let budget = std::env::var("SOAK_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(seconds);
        let seed = std::env::var("SOAK_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64 | 1)
            });
        let mut random = Xorshift(seed);
        let start = Instant::now();
        let mut runs = 0;
        while start.elapsed() < Duration::from_secs(budget) {
            runs += 1;
            let mut child = Command::new(self.bin)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("spawn {}: {e}", self.bin));
            let pid = Pid::from_raw(child.id() as i32);
            let delay = random.next() % (window.as_micros() as u64).max(1);
            std::thread::sleep(Duration::from_micros(delay));
            let action = random.next() % 5;
            match action {
                0 => drop(killpg(pid, Signal::SIGINT)),
                1 => drop(kill(pid, Signal::SIGTERM)),
                2 => drop(kill(pid, Signal::SIGHUP)),
                3 => drop(killpg(pid, Signal::SIGKILL)),
                _ => {}
            }
            let status = wait_bounded(&mut child, pid);
            let context = format!(
                "{} run {runs}, action {action} after {delay} us (SOAK_SEED={seed})",
                self.name
            );
            let gone = Instant::now();
            while !live_members(pid).is_empty() {
                assert!(
                    gone.elapsed() < Duration::from_secs(5),
                    "{context}: processes left"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
            if status.signal() == Some(Signal::SIGKILL as i32) {
                // Nothing could clean up; the next run must recover.
                let out = run_piped(self.bin, &[]);
                assert_eq!(
                    out.status.code(),
                    Some(0),
                    "{context}: the run after SIGKILL failed"
                );
            } else {
                // Exited: 0, or 128 + N from the cleanup. Killed by the very signal
                // sent: it landed before `main` installed the cleanup (the first
                // fraction of a millisecond), when nothing exists yet to leak.
                let sent = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP][action.min(2) as usize]
                    as i32;
                let expected = match status.code() {
                    Some(code) => code == 0 || (action < 3 && code == 128 + sent),
                    None => action < 3 && status.signal() == Some(sent),
                };
                assert!(expected, "{context}: ended with {status:?}");
            }
            if self.name == "excl_demo" {
                // It leaves its object on purpose after a finished run.
                self.objects.remove_all();
            }
            let left = self.objects.existing();
            assert!(left.is_empty(), "{context}: left {left:?}");
        }
        runs
    }
}
