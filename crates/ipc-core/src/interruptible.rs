//! Blocking calls that Ctrl+C ends cleanly, with nothing changed: for
//! single-process tools such as `posix-ipc` (the demos use [`crate::cleanup`]).
//!
//! A signal handler cannot make this promise: a signal that lands just as
//! `mq_receive` returns would end the process after a message was taken and
//! before it was printed. So no handler runs at all. SIGINT, SIGTERM and SIGHUP
//! are blocked, and a blocking call runs as a series of timed calls of at most
//! [`SLICE`]; between two of them, a pending termination signal ends the wait. A
//! call that succeeded is never undone: a signal that arrives after it is seen
//! only by the next wait, if any. A message that arrives, or a post, wakes the
//! timed call at once; only a Ctrl+C waits for the end of the slice.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::sys::signal::{SigSet, SigmaskHow, Signal};

use crate::deadline::Deadline;
use crate::error::Error;

/// Longest a termination request waits to be noticed.
pub const SLICE: Duration = Duration::from_millis(100);

/// How a blocking call ended: one or the other, so not `#[non_exhaustive]`.
#[derive(Debug)]
pub enum Outcome<T> {
    /// The call succeeded.
    Done(T),
    /// A termination signal arrived first; the call changed nothing.
    Interrupted(Signal),
}

/// The termination signals this program answers (not those ignored at start,
/// which stay ignored: blocked, they would be kept pending instead of discarded).
fn termination() -> SigSet {
    crate::inherited::answered_set()
}

/// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (the whole process, for
/// a single-threaded tool), so that they stay pending until [`wait`] looks for them.
/// A signal ignored when the program started (`nohup`, a script's `cmd &`) is left
/// alone, so it stays ignored.
pub fn block_termination_signals() {
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&termination()), None);
}

/// The first termination signal pending for this thread or process, if any
/// (`sigpending`).
pub fn pending_termination() -> Option<Signal> {
    // SAFETY: an all-zero sigset_t is a valid (empty) set, and `sigpending` only
    // writes the set it is given.
    let mut raw: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `raw` is a valid, writable sigset_t.
    if unsafe { libc::sigpending(&mut raw) } == -1 {
        return None;
    }
    termination()
        .iter()
        // SAFETY: `raw` was filled in by sigpending; sigismember only reads it.
        .find(|signal| unsafe { libc::sigismember(&raw, *signal as libc::c_int) } == 1)
}

fn now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Runs `attempt(slice_deadline)` (a `*_timedwait`/`*_timedreceive`/`*_timedsend`)
/// until it succeeds, fails with something other than `ETIMEDOUT`, reaches
/// `timeout` (then `ETIMEDOUT`), or a termination signal is pending. A timeout of
/// `None`, or one too long to reach (`Duration::MAX`), waits until one of the others.
///
/// Call [`block_termination_signals`] first.
pub fn wait<T>(
    timeout: Option<Duration>,
    mut attempt: impl FnMut(&Deadline) -> Result<T, Error>,
) -> Result<Outcome<T>, Error> {
    // A timeout too long to add to the clock (`Duration::MAX`) is no end at all.
    let end = timeout.and_then(|t| now().checked_add(t));
    loop {
        if let Some(signal) = pending_termination() {
            return Ok(Outcome::Interrupted(signal));
        }
        let slice_end = match end {
            Some(end) => end.min(now() + SLICE),
            None => now() + SLICE,
        };
        match attempt(&Deadline::at(slice_end)) {
            Ok(value) => return Ok(Outcome::Done(value)),
            Err(e) if e.errno() == Errno::ETIMEDOUT => {
                if end.is_some_and(|end| now() >= end) {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
    }
}
