//! A program under test, in a process group of its own, its whole run bounded in
//! time: from its start until it has exited and closed its stdout and stderr.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;

/// What a [`Process`] gets as stdin, and what becomes of its stdout and stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Io {
    /// stdin empty (`/dev/null`); stdout and stderr captured, as in `cmd | cat`.
    Captured,
    /// As [`Io::Captured`], with stdin a pipe the test writes to (Enter for `--step`).
    Interactive,
    /// stdin, stdout and stderr all `/dev/null`.
    Discarded,
}

/// Who receives a test's signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The whole process group, as Ctrl+C (SIGINT) or a terminal hang-up does.
    Group,
    /// Only the program's first process, as `kill PID` does.
    Parent,
}

/// One of stdout and stderr, read by a thread of its own into a buffer.
struct Pipe {
    bytes: Arc<Mutex<Vec<u8>>>,
    reader: JoinHandle<()>,
}

impl Pipe {
    /// Reads `source` to its end; each complete line also goes to `lines`.
    fn read(mut source: impl Read + Send + 'static, lines: Option<Sender<String>>) -> Pipe {
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&bytes);
        let reader = std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            let mut line = Vec::new();
            loop {
                let n = match source.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                };
                sink.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .extend_from_slice(&chunk[..n]);
                let Some(lines) = &lines else { continue };
                for &byte in &chunk[..n] {
                    if byte == b'\n' {
                        let _ = lines.send(String::from_utf8_lossy(&line).into_owned());
                        line.clear();
                    } else {
                        line.push(byte);
                    }
                }
            }
            if let (Some(lines), false) = (&lines, line.is_empty()) {
                let _ = lines.send(String::from_utf8_lossy(&line).into_owned());
            }
        });
        Pipe { bytes, reader }
    }

    fn done(&self) -> bool {
        self.reader.is_finished()
    }

    fn bytes(&self) -> Vec<u8> {
        self.bytes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A program under test, started in a process group of its own.
///
/// Its whole run is bounded by the timeout given to [`start`](Self::start): every
/// wait on it (for a line of stderr, for its exit, for the end of its output)
/// ends at that deadline at the latest. A program still running then, or whose
/// stdout or stderr is still held open by a process it left behind, is killed
/// with its whole process group, and the test panics saying which of the two and
/// what it had printed so far. Dropping a `Process` kills whatever is left of its
/// group.
pub struct Process {
    child: Child,
    what: String,
    timeout: Duration,
    deadline: Instant,
    stdin: Option<ChildStdin>,
    stdout: Option<Pipe>,
    stderr: Option<Pipe>,
    stderr_lines: Option<Receiver<String>>,
    status: Option<ExitStatus>,
}

/// The variable that gives the demos' objects a prefix: `demo_kit::names::PREFIX_VARIABLE`
/// (demo-kit's tests check the two agree; demo-kit is no dependency of the harness).
pub const LAB_PREFIX_VARIABLE: &str = "POSIX_IPC_LAB_PREFIX";

/// `Command::new(program)` whose child starts with SIGINT, SIGTERM, SIGHUP and
/// SIGQUIT at their default action, whatever this test process inherited: a test
/// run from a script's `cargo test &`, or under `nohup`, would otherwise start every
/// program it tests with those signals ignored, and the programs (rightly) keep them
/// ignored, so a test that interrupts them would wait in vain. A test that wants
/// a signal ignored sets that up in its own `pre_exec`, which runs after this one.
///
/// The child also starts without [`LAB_PREFIX_VARIABLE`]: the tests check the C
/// names and transcripts, and a student who exported a prefix (as the README
/// advises on a shared machine) would otherwise see every demo test fail and leave
/// objects under the prefixed names, which no test looks for or removes.
pub fn command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(program);
    command.env_remove(LAB_PREFIX_VARIABLE);
    // SAFETY: the closure runs in the forked child before exec and only calls
    // `signal`, which is async-signal-safe; it allocates nothing and takes no lock.
    unsafe {
        command.pre_exec(|| {
            for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
                libc::signal(signal, libc::SIG_DFL);
            }
            Ok(())
        });
    }
    command
}

impl Process {
    /// Starts `program` with `args` in a new process group; `timeout` bounds its
    /// whole run from now.
    pub fn start(program: &str, args: &[&str], io: Io, timeout: Duration) -> Process {
        let what = std::iter::once(program)
            .chain(args.iter().copied())
            .collect::<Vec<_>>()
            .join(" ");
        let (stdin, output) = match io {
            Io::Captured => (Stdio::null(), true),
            Io::Interactive => (Stdio::piped(), true),
            Io::Discarded => (Stdio::null(), false),
        };
        let out = || {
            if output {
                Stdio::piped()
            } else {
                Stdio::null()
            }
        };
        let mut child = command(program)
            .args(args)
            .stdin(stdin)
            .stdout(out())
            .stderr(out())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {what}: {e}"));
        let stdout = child.stdout.take().map(|out| Pipe::read(out, None));
        let (lines, stderr_lines) = channel();
        let stderr = child.stderr.take().map(|err| Pipe::read(err, Some(lines)));
        Process {
            stdin: child.stdin.take(),
            child,
            what,
            timeout,
            deadline: Instant::now() + timeout,
            stdout,
            stderr_lines: stderr.is_some().then_some(stderr_lines),
            stderr,
            status: None,
        }
    }

    /// Its process id, which is also its process group id.
    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    /// Sends `signal` to `target`.
    pub fn signal(&self, signal: Signal, target: Target) {
        let sent = match target {
            Target::Group => killpg(self.pid(), signal),
            Target::Parent => kill(self.pid(), signal),
        };
        sent.unwrap_or_else(|e| panic!("{signal} to {}: {e}", self.what));
    }

    /// Writes `bytes` to its stdin ([`Io::Interactive`] only).
    pub fn write_stdin(&mut self, bytes: &[u8]) {
        let stdin = self
            .stdin
            .as_mut()
            .expect("stdin is a pipe (Io::Interactive)");
        stdin
            .write_all(bytes)
            .and_then(|()| stdin.flush())
            .unwrap_or_else(|e| panic!("write to the stdin of {}: {e}", self.what));
    }

    /// The next line it writes to stderr, `None` once stderr is closed. `waiting_for`
    /// says what the test expects, for the message if the deadline passes first.
    pub fn stderr_line(&mut self, waiting_for: &str) -> Option<String> {
        let lines = self.stderr_lines.as_ref().expect("stderr is captured");
        let left = self.deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => Some(line),
            Err(RecvTimeoutError::Disconnected) => None,
            Err(RecvTimeoutError::Timeout) => self.expire(waiting_for),
        }
    }

    /// Its exit status if it has exited, without waiting.
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self
                .child
                .try_wait()
                .unwrap_or_else(|e| panic!("waitpid {}: {e}", self.what));
        }
        self.status
    }

    /// Waits until it has exited and its stdout and stderr are closed; returns its
    /// status. A program that exited with code N has `code() == Some(N)`; one killed
    /// by signal N has `signal() == Some(N)` (a demo that cleaned up after a signal
    /// *exits* with 128 + N).
    pub fn wait(&mut self) -> ExitStatus {
        loop {
            if let Some(status) = self.try_status() {
                let open = [&self.stdout, &self.stderr]
                    .into_iter()
                    .flatten()
                    .any(|pipe| !pipe.done());
                if !open {
                    self.stdin = None;
                    return status;
                }
            }
            if Instant::now() >= self.deadline {
                self.expire("its exit and the end of its output");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Everything it wrote to stdout so far (all of it after [`wait`](Self::wait)).
    pub fn stdout(&self) -> Vec<u8> {
        self.stdout.as_ref().map(Pipe::bytes).unwrap_or_default()
    }

    /// Everything it wrote to stderr so far (all of it after [`wait`](Self::wait)).
    pub fn stderr(&self) -> Vec<u8> {
        self.stderr.as_ref().map(Pipe::bytes).unwrap_or_default()
    }

    /// Waits as [`wait`](Self::wait) does and returns its status and output.
    pub fn output(mut self) -> Output {
        let status = self.wait();
        Output {
            status,
            stdout: self.stdout(),
            stderr: self.stderr(),
        }
    }

    /// Waits, at most 5 seconds, until no process of its group is left running;
    /// panics naming the ones left.
    pub fn assert_group_gone(&self) {
        let start = Instant::now();
        loop {
            let live = live_members(self.pid());
            if live.is_empty() {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "processes of {} left running in its group: {live:?}",
                self.what
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills what is left of its group (SIGKILL) and reaps it, if it has not been
    /// reaped yet.
    pub fn kill(&mut self) {
        if self.status.is_none() || !live_members(self.pid()).is_empty() {
            let _ = killpg(self.pid(), Signal::SIGKILL);
        }
        if self.status.is_none() {
            self.status = self.child.wait().ok();
        }
    }

    /// The deadline has passed: kills the group, reaps the child, and fails the
    /// test saying what it was waiting for and what the program had printed.
    fn expire(&mut self, waiting_for: &str) -> ! {
        let exited = self.try_status();
        let _ = killpg(self.pid(), Signal::SIGKILL);
        if exited.is_none() {
            self.status = self.child.wait().ok();
        }
        // Killing the group closes the pipes its members held: let the readers
        // collect the last bytes (a process outside the group may still hold them).
        let collected = Instant::now();
        while [&self.stdout, &self.stderr]
            .into_iter()
            .flatten()
            .any(|pipe| !pipe.done())
            && collected.elapsed() < Duration::from_secs(1)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        let what_happened = match exited {
            None => "did not finish".to_owned(),
            Some(status) => format!(
                "exited ({status}) but its stdout or stderr stayed open (held by a process \
                 it left running)"
            ),
        };
        panic!(
            "{} {what_happened} within {:?} (waiting for {waiting_for}): killed its process \
             group\nstdout so far: {:?}\nstderr so far: {:?}",
            self.what,
            self.timeout,
            String::from_utf8_lossy(&self.stdout()),
            String::from_utf8_lossy(&self.stderr()),
        );
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // Whatever the test asserted, leave no process behind.
        self.kill();
    }
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
            let Some((_, rest)) = stat.rsplit_once(')') else {
                return false;
            };
            let fields: Vec<&str> = rest.split_whitespace().collect();
            fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.as_raw().to_string()
        })
        .collect()
}
