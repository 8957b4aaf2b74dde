//! A termination signal ignored when the program started stays ignored.
//!
//! `nohup` starts a program with SIGHUP ignored, and a shell without job control
//! (a script's `cmd &`) with SIGINT and SIGQUIT ignored: the caller asked that these
//! signals not stop it. [`ipc_core::cleanup::install`] takes SIGINT, SIGTERM and
//! SIGHUP whatever their disposition, so [`after_install`] gives each signal that
//! was ignored its ignoring back:
//!
//! - in-handler strategy: the disposition is set back to `SIG_IGN`;
//! - helper-thread strategy (signals blocked, taken by `sigwait`): the signal is
//!   unblocked again in the calling thread, where its disposition is still
//!   `SIG_IGN`, so the kernel discards it when it is sent (a blocked signal is
//!   never discarded, and `sigwait` would take it).
//!
//! Two windows remain that only `ipc-core` can close (by leaving ignored signals
//! out when it installs): the instant between the install and this call, and, for
//! the helper thread, a signal sent while `cleanup` briefly blocks the signals
//! around a registry change.

use nix::sys::signal::{SigHandler, SigSet, Signal};

use ipc_core::cleanup::Strategy;
use ipc_core::Error;

/// The signals the cleanup answers.
const TERMINATION: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

/// The termination signals whose disposition is `SIG_IGN` now (call before
/// installing the cleanup).
pub fn at_start() -> Vec<Signal> {
    TERMINATION
        .into_iter()
        .filter(|&signal| is_ignored(signal))
        .collect()
}

/// Whether `signal`'s disposition is `SIG_IGN`.
pub fn is_ignored(signal: Signal) -> bool {
    // SAFETY: `sigaction` with a null new action only reads the current one into
    // `old`, a zeroed `sigaction` struct (plain integers and pointers, for which all
    // zero bytes is a valid value) that lives for the call.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal as libc::c_int, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
    }
}

/// Gives each of `ignored` back its ignoring, after the cleanup `strategy` was
/// installed.
///
/// # Errors
/// `sigaction` or `pthread_sigmask` failing (they do not, for these signals).
pub fn after_install(strategy: Strategy, ignored: &[Signal]) -> Result<(), Error> {
    for &signal in ignored {
        match strategy {
            Strategy::InHandler => {
                // SAFETY: setting SIG_IGN installs no code to run; it replaces the
                // cleanup's handler for a signal the caller asked to ignore.
                unsafe { nix::sys::signal::signal(signal, SigHandler::SigIgn) }
                    .map_err(|errno| Error::os("sigaction", None, errno))?;
            }
            Strategy::HelperThread => SigSet::from(signal)
                .thread_unblock()
                .map_err(|errno| Error::os("pthread_sigmask", None, errno))?,
        }
    }
    Ok(())
}
