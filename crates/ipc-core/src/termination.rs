//! Termination requests, and what a blocking call does when a signal interrupts it
//! (the `EINTR` policy).
//!
//! For programs that handle SIGINT, SIGTERM and SIGHUP themselves (instead of
//! [`crate::cleanup`], which exits at once): [`install`] puts in handlers that only
//! record the request, installed *without* `SA_RESTART`, so a blocked call returns
//! `EINTR`. The calls that can block (`sem_wait`, `sem_timedwait`, `mq_send`,
//! `mq_receive` and their timed forms, and waits on process-shared semaphores) then:
//!
//! - **retry** after any other signal (a `SIGCHLD`, a `SIGUSR1` the program handles),
//!   a timed call keeping its absolute deadline, so it waits only the time that was
//!   left;
//! - **end** with an error whose [`Error::termination`] names the signal, once a
//!   termination was requested, so the caller can clean up and exit. A request that
//!   arrived before the call is seen too.
//!
//! One window remains: a request landing after the check and before the call
//! blocks is only seen when the call returns. Where that matters (a command-line
//! tool waiting forever), [`crate::interruptible`] has none: it blocks the signals
//! and waits in slices.

use std::sync::atomic::{AtomicI32, Ordering};

use nix::errno::Errno;
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

use crate::error::{Error, Refusal, Result};
use crate::name::Name;

/// The signal of the first termination request, or 0.
static REQUESTED: AtomicI32 = AtomicI32::new(0);

extern "C" fn record(signal: libc::c_int) {
    // Only an atomic store: async-signal-safe, and it cannot panic.
    let _ = REQUESTED.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
}

/// Installs the recording handlers for SIGINT, SIGTERM and SIGHUP (no
/// `SA_RESTART`), except for a signal ignored at start, which stays ignored. Do not combine with [`crate::cleanup::install`], which takes the
/// same signals.
///
/// # Errors
/// `sigaction` failing (it does not, for these signals).
pub fn install() -> Result<()> {
    let action = SigAction::new(
        SigHandler::Handler(record),
        SaFlags::empty(),
        SigSet::empty(),
    );
    for signal in crate::inherited::answered() {
        // SAFETY: `record` only stores to an atomic, which is async-signal-safe,
        // and replacing these handlers is what the caller asked for.
        unsafe { sigaction(signal, &action) }
            .map_err(|errno| Error::os("sigaction", None, errno))?;
    }
    Ok(())
}

/// The termination request received so far, if any.
#[inline]
pub fn requested() -> Option<Signal> {
    match REQUESTED.load(Ordering::Relaxed) {
        0 => None,
        signal => Signal::try_from(signal).ok(),
    }
}

/// Forgets the request (for a program that handled it and goes on).
pub fn clear() {
    REQUESTED.store(0, Ordering::SeqCst);
}

/// Runs the blocking `attempt` under the policy: ends at once with a termination
/// error if one was requested, retries on `EINTR` otherwise.
#[inline]
pub(crate) fn blocking<T>(
    call: &'static str,
    object: Option<&Name>,
    mut attempt: impl FnMut() -> Result<T>,
) -> Result<T> {
    loop {
        if let Some(signal) = requested() {
            return Err(Error::refused(
                call,
                object,
                Errno::EINTR,
                Refusal::Terminated(signal),
            ));
        }
        match attempt() {
            Err(e) if e.errno() == Errno::EINTR => continue,
            other => return other,
        }
    }
}

/// Runs `f` with the termination signals (SIGINT, SIGTERM, SIGHUP) blocked in this
/// thread, then restores the mask, which delivers any that arrived meanwhile: a
/// signal then ends the program before or after `f`, never in its middle (glibc's
/// `sem_open(O_CREAT)`, say, which leaves a temporary `/dev/shm/sem.XXXXXX` if the
/// process dies between creating and linking it).
pub fn deferred<T>(f: impl FnOnce() -> T) -> T {
    use nix::sys::signal::{pthread_sigmask, SigSet, SigmaskHow};

    /// Restores the mask when dropped, even if `f` panics.
    struct Restore(Option<SigSet>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(old) = self.0.take() {
                let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
            }
        }
    }

    let mut old = SigSet::empty();
    let answered = crate::inherited::answered_set();
    let blocked = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&answered), Some(&mut old));
    let _restore = Restore(blocked.is_ok().then_some(old));
    f()
}
