//! `fork` and `waitpid`, with the parent/child split made explicit.
//!
//! [`fork`] runs the child's part as a closure that ends in `_exit`: the child can
//! never return into the parent's code, so it never runs the parent's cleanup, its
//! destructors, or `atexit` work, and never flushes a copy of the parent's output a
//! second time. Values the child needs are passed in by value: the child consumes
//! its copy, and the parent gets its own back.
//!
//! # References
//! fork(2), waitpid(2), prctl(2) (`PR_SET_PDEATHSIG`), signal-safety(7).

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};

use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{ForkResult, Pid};

use crate::cleanup;
use crate::error::{Error, Refusal, Result};
use crate::explain::{explain, explain_resumed, explain_start};

/// Forks this process (and, in a child, its ancestors up to it) has made with
/// [`fork`]. A mapping remembers the count it was made at: if it has changed, the
/// mapping may be shared with another process (see [`crate::Refusal::SharedByFork`]).
static FORKS: AtomicU64 = AtomicU64::new(0);

/// The count of [`fork`]s so far, in this process and, in a child, its ancestors.
pub(crate) fn forks() -> u64 {
    FORKS.load(Ordering::Relaxed)
}

/// A forked child not yet waited for.
///
/// Call [`Child::wait`]: a child never waited for stays a zombie until the parent
/// exits. While it is registered, a termination signal in the parent stops it.
#[derive(Debug)]
#[must_use = "a child must be waited for"]
pub struct Child {
    pid: Pid,
    /// How it ended, once [`Child::try_wait`] has reaped it.
    reaped: Option<ExitStatus>,
}

/// How a child ended: one of the two ways a process ends, so not `#[non_exhaustive]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// It called `_exit(code)` (or returned `code` from its closure).
    Exited(i32),
    /// A signal killed it.
    Signaled(Signal),
}

impl ExitStatus {
    /// Whether it exited with status 0.
    pub fn success(self) -> bool {
        self == ExitStatus::Exited(0)
    }
}

/// Forks; the child runs `child(shared)` and exits with the code it returns (101
/// if it panics); the parent gets the [`Child`] and its own copy of `shared`.
///
/// Before forking, stdout is flushed (so no line is printed twice) and the
/// termination signals are blocked, so the child is recorded with the cleanup
/// before any signal can look for it. The child asks the kernel for SIGTERM if the
/// parent dies (`PR_SET_PDEATHSIG`), so it is not left blocked if the parent is
/// killed with SIGKILL.
///
/// # Errors
/// A refusal if this process is multi-threaded (the child of a threaded process may
/// only make async-signal-safe calls, which a closure cannot promise), if it uses
/// [`cleanup::Strategy::HelperThread`], or if the cleanup registry has no room for
/// the child; `fork` failing (`EAGAIN`, `ENOMEM`).
pub fn fork<S>(shared: S, child: impl FnOnce(S) -> i32) -> Result<(Child, S)> {
    // The helper thread is a thread too: name the more useful reason first.
    if cleanup::uses_helper_thread() {
        return Err(refuse(Refusal::ForkWithHelperThread));
    }
    match thread_count() {
        Some(1) => {}
        threads => {
            return Err(refuse(Refusal::Threaded {
                threads: threads.unwrap_or(0),
            }))
        }
    }
    std::io::stdout().flush().map_err(|e| {
        Error::os(
            "fflush",
            None,
            Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
        )
    })?;
    let parent = nix::unistd::getpid();
    let forked = cleanup::critical(|registry| {
        if !registry.has_room_for_child() {
            return Err(refuse(Refusal::TooManyChildren {
                max: crate::cleanup::MAX_CHILDREN,
            }));
        }
        // Narrated before the child exists, so its lines come after this one.
        explain_start!("fork", "");
        // SAFETY: the process has one thread (checked above; nothing since started
        // another, and the registry's critical section runs on this thread), so the
        // child inherits no lock held by a thread it lacks and may make any call.
        let forked = unsafe { nix::unistd::fork() }.map_err(|errno| {
            explain_resumed!("fork", Err::<Pid, _>(errno), "");
            Error::os("fork", None, errno)
        })?;
        // In both processes: every mapping made before now is shared.
        FORKS.fetch_add(1, Ordering::Relaxed);
        if let ForkResult::Parent { child } = forked {
            registry.add_child(parent.as_raw(), child.as_raw());
        }
        Ok(forked)
    })?;
    match forked {
        ForkResult::Parent { child: pid } => {
            explain_resumed!("fork", Ok::<_, Errno>(pid), "");
            Ok((Child { pid, reaped: None }, shared))
        }
        ForkResult::Child => {
            // Die with the parent: SIGTERM runs the inherited handler, which exits.
            let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGTERM);
            if nix::unistd::getppid() != parent {
                // The parent died before the request took effect.
                exit_now(128 + Signal::SIGTERM as i32);
            }
            let code = catch_unwind(AssertUnwindSafe(|| child(shared))).unwrap_or(101);
            let _ = std::io::stdout().flush();
            exit_now(code)
        }
    }
}

/// `_exit(code)`: ends the process at once, without running `atexit` handlers,
/// destructors, or flushing stdio buffers. How a forked child should end.
pub fn exit_now(code: i32) -> ! {
    crate::explain::exit(code);
    // SAFETY: `_exit` is always safe to call; it does not return.
    unsafe { libc::_exit(code) }
}

impl Child {
    /// The child's process id.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// `kill(pid, signal)`: sends the child a signal (it must still be waited for).
    ///
    /// # Errors
    /// `ESRCH` if it is gone; `EPERM`.
    pub fn signal(&self, signal: Signal) -> Result<()> {
        let result = nix::sys::signal::kill(self.pid, signal).map(|()| 0);
        explain!("kill", result, "{}, {signal}", self.pid);
        result
            .map(drop)
            .map_err(|errno| Error::os("kill", None, errno))
    }

    /// `waitpid(pid, &status, 0)`: waits for the child to end, reaps it and forgets
    /// it in the cleanup registry. Retries on `EINTR`.
    ///
    /// # Errors
    /// `ECHILD` if it is not our child (or was reaped elsewhere).
    pub fn wait(mut self) -> Result<ExitStatus> {
        loop {
            if let Some(status) = self.reap(0)? {
                return Ok(status);
            }
        }
    }

    /// `waitpid(pid, &status, WNOHANG)`: how the child ended if it has, reaping it
    /// (a later [`wait`](Self::wait) returns the same status at once); `None` while
    /// it runs.
    ///
    /// # Errors
    /// As [`wait`](Self::wait).
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>> {
        self.reap(libc::WNOHANG)
    }

    /// Waits up to `timeout` for the child to end (polling every few
    /// milliseconds); `None` if it still runs then.
    ///
    /// # Errors
    /// As [`wait`](Self::wait).
    pub fn wait_timeout(&mut self, timeout: std::time::Duration) -> Result<Option<ExitStatus>> {
        let start = std::time::Instant::now();
        loop {
            if let Some(status) = self.try_wait()? {
                return Ok(Some(status));
            }
            if start.elapsed() >= timeout {
                return Ok(None);
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    /// One `waitpid` with `flags`: the status if the child ended (and is now
    /// reaped and forgotten), `None` if it runs (WNOHANG) or the call was
    /// interrupted.
    fn reap(&mut self, flags: libc::c_int) -> Result<Option<ExitStatus>> {
        if let Some(status) = self.reaped {
            return Ok(Some(status));
        }
        let flags = nix::sys::wait::WaitPidFlag::from_bits_truncate(flags);
        let blocks = flags.is_empty();
        if blocks {
            explain_start!("waitpid", "{}, ", self.pid);
        }
        let result = waitpid(self.pid, Some(flags));
        let shown = match result {
            Ok(WaitStatus::Exited(_, code)) => format!("[exited {code}]"),
            Ok(WaitStatus::Signaled(_, signal, _)) => format!("[killed by {signal}]"),
            _ => "[...]".into(),
        };
        if blocks {
            explain_resumed!("waitpid", result.map(|_| self.pid), "{shown}, 0");
        } else if !matches!(result, Ok(WaitStatus::StillAlive)) {
            explain!(
                "waitpid",
                result.map(|_| self.pid),
                "{}, {shown}, WNOHANG",
                self.pid
            );
        }
        let status = match result {
            Err(Errno::EINTR) | Ok(WaitStatus::StillAlive) => return Ok(None),
            Err(errno) => Err(Error::os("waitpid", None, errno)),
            Ok(WaitStatus::Exited(_, code)) => Ok(ExitStatus::Exited(code)),
            Ok(WaitStatus::Signaled(_, signal, _)) => Ok(ExitStatus::Signaled(signal)),
            // Stopped or continued: without WUNTRACED/WCONTINUED these are not
            // reported, but keep waiting if they are.
            Ok(_) => return Ok(None),
        };
        let parent = nix::unistd::getpid().as_raw();
        cleanup::critical(|registry| registry.remove_child(parent, self.pid.as_raw()));
        let status = status?;
        self.reaped = Some(status);
        Ok(Some(status))
    }
}

fn refuse(why: Refusal) -> Error {
    let errno = match why {
        Refusal::TooManyChildren { .. } => Errno::EAGAIN,
        _ => Errno::EPERM,
    };
    Error::refused("fork", None, errno, why)
}

/// Threads in this process, from the `Threads:` line of `/proc/self/status`.
pub(crate) fn thread_count() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
}
