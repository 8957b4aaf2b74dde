//! Runs of a demo whose stdout cannot take its transcript: full (`> /dev/full`),
//! closed (`>&-`), a broken pipe (a reader that is already gone), and a reader that
//! leaves after the first line (`| head -1`).
//!
//! Such a run must end like any failed run: exit status 1 with a line on stderr
//! naming stdout (or 0 when every line still reached the reader), never a panic
//! (status 101) or a death by signal, no process left, none of its objects left,
//! within [`PATIENCE`](crate::PATIENCE). The same holds when a signal interrupts it
//! at any step, or at a random moment, as the other interrupt and soak tests do.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, ChildStdout, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;

use crate::{live_members, Demo, Target, PATIENCE};

/// Where a run's stdout goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sink {
    /// `/dev/full`: every write fails with `ENOSPC`.
    Full,
    /// Descriptor 1 closed when the demo starts (`>&-`).
    Closed,
    /// A pipe whose reader closed before the demo started: every write fails
    /// with `EPIPE`.
    BrokenPipe,
    /// A pipe whose reader closes after the first line (`| head -1`): later writes
    /// fail with `EPIPE`, unless they were all made before it left.
    FirstLineOnly,
}

impl Sink {
    /// Every kind of sink.
    pub const ALL: [Sink; 4] = [
        Sink::Full,
        Sink::Closed,
        Sink::BrokenPipe,
        Sink::FirstLineOnly,
    ];
}

/// How a run ended.
#[derive(Debug)]
pub struct Ended {
    /// Its exit status.
    pub status: ExitStatus,
    /// Everything it wrote to stderr.
    pub stderr: String,
    /// Its process (and process group) id.
    pub pid: Pid,
}

/// A demo started with its stdout into `sink`, stderr piped, in a process group of
/// its own.
struct Started {
    child: Child,
    stderr: Receiver<String>,
    first_line: Option<ChildStdout>,
}

fn spawn(bin: &str, args: &[&str], sink: Sink, stdin: Stdio) -> Started {
    let mut command = crate::command(bin);
    command
        .args(args)
        .stdin(stdin)
        .stderr(Stdio::piped())
        .process_group(0);
    match sink {
        Sink::Full => {
            let full = File::options()
                .write(true)
                .open("/dev/full")
                .expect("open /dev/full");
            command.stdout(full);
        }
        Sink::Closed => {
            command.stdout(Stdio::null());
            // SAFETY: `close` is async-signal-safe, allocates nothing and touches
            // no lock, so it may run between fork and exec.
            unsafe {
                command.pre_exec(|| {
                    nix::unistd::close(1)?;
                    Ok(())
                });
            }
        }
        Sink::BrokenPipe => {
            let (reader, writer): (OwnedFd, OwnedFd) = nix::unistd::pipe().expect("pipe");
            drop(reader);
            command.stdout(writer);
        }
        Sink::FirstLineOnly => {
            command.stdout(Stdio::piped());
        }
    }
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
    let (tx, rx) = channel();
    let err = child.stderr.take().expect("stderr is piped");
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first_line = child.stdout.take();
    Started {
        child,
        stderr: rx,
        first_line,
    }
}

impl Started {
    fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    /// For [`Sink::FirstLineOnly`]: reads up to the first newline (bounded by
    /// `PATIENCE`), then closes the reading end, as `head -1` does.
    fn take_first_line(&mut self) {
        let Some(out) = self.first_line.take() else {
            return;
        };
        let (done_tx, done_rx) = channel();
        std::thread::spawn(move || {
            let mut out = out;
            let mut byte = [0u8; 1];
            while let Ok(1) = out.read(&mut byte) {
                if byte[0] == b'\n' {
                    break;
                }
            }
            drop(out);
            let _ = done_tx.send(());
        });
        // A demo that prints nothing ends, which closes the pipe and ends the read.
        if done_rx.recv_timeout(PATIENCE).is_err() {
            self.kill_and_panic("no first line and no end");
        }
    }

    fn kill_and_panic(&mut self, what: &str) -> ! {
        let _ = killpg(self.pid(), Signal::SIGKILL);
        let _ = self.child.wait();
        panic!("{what} within {PATIENCE:?}: the demo's group was killed");
    }

    /// Waits, bounded, for the demo to end; collects its stderr.
    fn wait(mut self) -> Ended {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if start.elapsed() > PATIENCE {
                self.kill_and_panic("the demo did not end");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let pid = self.pid();
        let mut stderr = String::new();
        // The reader ends when the last process holding stderr (a child, maybe)
        // is gone; bounded, so a lingering child fails the test instead of hanging it.
        loop {
            match self.stderr.recv_timeout(PATIENCE) {
                Ok(line) => {
                    stderr.push_str(&line);
                    stderr.push('\n');
                }
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    let _ = killpg(pid, Signal::SIGKILL);
                    panic!("stderr still open {PATIENCE:?} after the demo ended: {stderr}");
                }
            }
        }
        Ended {
            status,
            stderr,
            pid,
        }
    }
}

/// Runs `bin args` with stdout into `sink`, stdin empty, and waits (bounded).
pub fn run(bin: &str, args: &[&str], sink: Sink) -> Ended {
    let mut started = spawn(bin, args, sink, Stdio::null());
    started.take_first_line();
    started.wait()
}

/// Asserts that `ended`, a run into `sink`, failed cleanly: status 1 with a line
/// naming stdout on stderr (or 0, for [`Sink::FirstLineOnly`] when every line got
/// through), no panic, no process of its group left, none of `demo`'s objects
/// left. `kept_on_success` are the objects a successful run leaves on purpose
/// (`excl_demo`'s); they are removed.
pub fn assert_failed_cleanly(demo: &Demo, sink: Sink, ended: &Ended, kept_on_success: bool) {
    let context = format!("{} with stdout {sink:?}", demo.name());
    assert_no_panic_no_process(&context, ended);
    let code = ended.status.code();
    let succeeded = code == Some(0) && sink == Sink::FirstLineOnly;
    if !succeeded {
        assert_eq!(
            code,
            Some(1),
            "{context}: status; stderr:\n{}",
            ended.stderr
        );
        assert!(
            ended.stderr.contains("write to stdout failed"),
            "{context}: stderr does not say stdout failed:\n{}",
            ended.stderr
        );
    }
    if succeeded && kept_on_success {
        demo.objects().remove_all();
    }
    let left = demo.objects().existing();
    demo.objects().remove_all();
    assert!(left.is_empty(), "{context}: left {left:?}");
}

fn assert_no_panic_no_process(context: &str, ended: &Ended) {
    assert!(
        !ended.stderr.contains("panicked"),
        "{context}: panicked:\n{}",
        ended.stderr
    );
    assert_ne!(
        ended.status.code(),
        Some(101),
        "{context}: status 101 (a panic):\n{}",
        ended.stderr
    );
    let start = Instant::now();
    loop {
        let live = live_members(ended.pid);
        if live.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{context}: processes left running: {live:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `demo` into every [`Sink`] and asserts each run failed cleanly (see
/// [`assert_failed_cleanly`]).
pub fn assert_every_sink_fails_cleanly(demo: &Demo, kept_on_success: bool) {
    for sink in Sink::ALL {
        let ended = run(demo.bin(), &[], sink);
        assert_failed_cleanly(demo, sink, &ended, kept_on_success);
    }
}

/// Runs `demo --step` with stdout into `sink`, pressing Enter at each pause until
/// step `step`, then sends `signal` to `target`. The run ends either by the signal
/// (exit status 128 + N, the cleanup ran) or, if it failed to write before getting
/// there, by that failure (status 1). Either way: no panic, no process, no object.
/// Returns whether the signal reached it at that step.
pub fn interrupt_at_step(
    demo: &Demo,
    sink: Sink,
    step: usize,
    signal: Signal,
    target: Target,
) -> bool {
    assert_ne!(sink, Sink::FirstLineOnly, "use a sink without a reader");
    let mut started = spawn(demo.bin(), &["--step"], sink, Stdio::piped());
    let mut stdin = started.child.stdin.take().expect("stdin is piped");
    let context = format!(
        "{} --step, stdout {sink:?}, {signal} at step {step}",
        demo.name()
    );
    let start = Instant::now();
    let mut seen = String::new();
    let mut at_step = 0;
    let reached = loop {
        let left = PATIENCE.saturating_sub(start.elapsed());
        match started.stderr.recv_timeout(left) {
            Ok(line) => {
                seen.push_str(&line);
                seen.push('\n');
                if let Some(n) = line
                    .strip_prefix("[step ")
                    .and_then(|rest| rest.split(']').next())
                    .and_then(|n| n.parse().ok())
                {
                    at_step = n;
                }
                if line.contains("press Enter") {
                    if at_step == step {
                        break true;
                    }
                    let _ = stdin.write_all(b"\n").and_then(|()| stdin.flush());
                }
            }
            // stderr closed: the demo ended (it failed to write) before the step.
            Err(RecvTimeoutError::Disconnected) => break false,
            Err(RecvTimeoutError::Timeout) => {
                started.kill_and_panic(&format!("{context}: no step {step}; saw\n{seen}"))
            }
        }
    };
    if reached {
        let pid = started.pid();
        match target {
            Target::Group => killpg(pid, signal).expect("killpg"),
            Target::Parent => kill(pid, signal).expect("kill"),
        }
    }
    let ended = started.wait();
    drop(stdin);
    seen.push_str(&ended.stderr);
    let ended = Ended {
        stderr: seen,
        ..ended
    };
    assert_no_panic_no_process(&context, &ended);
    if reached {
        assert_eq!(
            ended.status.code(),
            Some(128 + signal as i32),
            "{context}: status; stderr:\n{}",
            ended.stderr
        );
    } else {
        assert_eq!(ended.status.code(), Some(1), "{context}: {}", ended.stderr);
        assert!(
            ended.stderr.contains("write to stdout failed"),
            "{context}: {}",
            ended.stderr
        );
    }
    let left = demo.objects().existing();
    demo.objects().remove_all();
    assert!(left.is_empty(), "{context}: left {left:?}");
    reached
}

/// Interrupts `demo --step` at each step in turn, stdout into `sink`, until a step
/// is no longer reached (the demo failed to write before it); see
/// [`interrupt_at_step`]. Returns how many steps were reached.
pub fn interrupt_every_step(demo: &Demo, sink: Sink, signal: Signal, target: Target) -> usize {
    let mut step = 1;
    while interrupt_at_step(demo, sink, step, signal, target) {
        step += 1;
    }
    step - 1
}

/// Runs `demo` again and again with stdout into `sink` for `seconds`
/// (`SOAK_SECONDS` overrides), each run sent, after a random delay within `window`,
/// one of SIGINT to the group, SIGTERM or SIGHUP to the parent, or nothing. Every
/// run must end with status 1 (the failed write), 0 (everything got through:
/// [`Sink::FirstLineOnly`] only), 128 + N (the cleanup ran), or death by the very
/// signal sent before `main` installed the cleanup; no panic, no process and no
/// object may be left. Returns the runs made.
pub fn soak(demo: &Demo, sink: Sink, seconds: u64, window: Duration) -> usize {
    let budget = std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(seconds);
    let mut random = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64 | 1);
    let seed = random;
    let mut next = move || {
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        random
    };
    let start = Instant::now();
    let mut runs = 0;
    while start.elapsed() < Duration::from_secs(budget) {
        runs += 1;
        let mut started = spawn(demo.bin(), &[], sink, Stdio::null());
        let pid = started.pid();
        let delay = next() % (window.as_micros() as u64).max(1);
        let action = next() % 4;
        let sent = [
            Signal::SIGINT,
            Signal::SIGTERM,
            Signal::SIGHUP,
            Signal::SIGINT,
        ][action as usize];
        std::thread::sleep(Duration::from_micros(delay));
        match action {
            0 => drop(killpg(pid, sent)),
            1 | 2 => drop(kill(pid, sent)),
            _ => {}
        }
        started.take_first_line();
        let ended = started.wait();
        let context = format!(
            "{} stdout {sink:?} run {runs}, action {action} after {delay} us (seed {seed})",
            demo.name()
        );
        assert_no_panic_no_process(&context, &ended);
        let fine = match ended.status.code() {
            Some(1) => ended.stderr.contains("write to stdout failed"),
            Some(0) => sink == Sink::FirstLineOnly,
            Some(code) => action < 3 && code == 128 + sent as i32,
            None => action < 3 && ended.status.signal() == Some(sent as i32),
        };
        assert!(
            fine,
            "{context}: ended with {:?}:\n{}",
            ended.status, ended.stderr
        );
        if demo.name() == "excl_demo" && ended.status.code() == Some(0) {
            // Left on purpose after a finished run.
            demo.objects().remove_all();
        }
        let left = demo.objects().existing();
        demo.objects().remove_all();
        assert!(left.is_empty(), "{context}: left {left:?}");
    }
    runs
}
