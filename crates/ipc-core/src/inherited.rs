//! What a program inherited when it started: signals ignored (which stay ignored),
//! and a closed stdout.
//!
//! A shell without job control starts `cmd &` with SIGINT and SIGQUIT ignored, and
//! `nohup` starts its command with SIGHUP ignored. The program is expected to stay
//! deaf to them. Blocking such a signal changes that: the kernel discards an ignored
//! signal only while it is *not* blocked (a blocked signal stays pending, since its
//! handler could change before it is unblocked), so a program that blocks SIGHUP and
//! then looks for pending termination signals would take the SIGHUP that `nohup`
//! meant to keep away as a request to stop. Likewise, installing a handler replaces
//! the `SIG_IGN` the caller chose.
//!
//! [`capture`] records the dispositions once (a query, `sigaction(sig, NULL, &old)`;
//! nothing is changed); [`was_ignored`] answers from that record. A program calls
//! [`capture`] first thing in `main`, before it installs any handler; blocking a
//! signal does not change its disposition, so a capture after blocking still sees
//! the inherited one. [`unblock_ignored`] lets the kernel keep discarding the
//! ignored ones after a blanket block.
//!
//! # References
//! sigaction(2), signal(7) ("A child created via fork(2) inherits a copy of its
//! parent's signal dispositions. During an execve(2), the dispositions of handled
//! signals are reset to the default; the dispositions of ignored signals are left
//! unchanged."), nohup(1).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use nix::sys::signal::{SigSet, SigmaskHow, Signal};

/// The signals that ask a program to stop, which the cleanup, the `EINTR` policy
/// and the interruptible waits answer (those of them not ignored at start).
pub const TERMINATION: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

/// The termination signals this program answers: those not ignored at start.
pub fn answered() -> Vec<Signal> {
    TERMINATION
        .into_iter()
        .filter(|&signal| !was_ignored(signal))
        .collect()
}

/// [`answered`] as a signal set.
pub fn answered_set() -> SigSet {
    let mut set = SigSet::empty();
    for signal in answered() {
        set.add(signal);
    }
    set
}

/// Bit `n` set: signal `n` was ignored (`SIG_IGN`) when first asked.
static IGNORED: OnceLock<u64> = OnceLock::new();

fn query(signal: Signal) -> bool {
    // SAFETY: an all-zero `sigaction` is valid storage for the kernel to fill in.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: a null `act` makes this a pure query: no disposition changes, so no
    // handler is installed and nothing else in the process is affected; `old` is
    // valid, writable storage.
    let rc = unsafe { libc::sigaction(signal as libc::c_int, std::ptr::null(), &mut old) };
    rc == 0 && old.sa_sigaction == libc::SIG_IGN
}

fn record() -> u64 {
    *IGNORED.get_or_init(|| {
        Signal::iterator()
            .filter(|&signal| query(signal))
            .fold(0u64, |bits, signal| bits | 1 << (signal as u32))
    })
}

/// Records every signal's inherited disposition, if not done yet. Call it first
/// thing in `main`, before any handler is installed.
pub fn capture() {
    record();
}

/// Whether `signal` was ignored when the dispositions were recorded (at the first
/// call of [`capture`], [`was_ignored`] or [`unblock_ignored`]).
pub fn was_ignored(signal: Signal) -> bool {
    record() & (1 << (signal as u32)) != 0
}

/// Unblocks (in the calling thread) those of `signals` that were ignored at start,
/// so that the kernel goes on discarding them instead of keeping them pending. Call
/// it right after blocking a set of termination signals, for example after
/// [`crate::interruptible::block_termination_signals`]. The others stay blocked.
pub fn unblock_ignored(signals: &[Signal]) {
    let mut set = SigSet::empty();
    for &signal in signals.iter().filter(|&&s| was_ignored(s)) {
        set.add(signal);
    }
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&set), None);
}

/// Whether descriptor 1 was closed when the process started (set before `main`).
static STDOUT_CLOSED_AT_START: AtomicBool = AtomicBool::new(false);

/// Runs before `main` (the loader calls every function of `.init_array`), so before
/// Rust's runtime reopens a closed descriptor 1 on `/dev/null`.
extern "C" fn note_closed_stdout() {
    // SAFETY: `fcntl(1, F_GETFD)` only reads the descriptor table: it touches no
    // memory of ours and needs nothing of the runtime that has not started yet.
    // It fails only with EBADF, for a descriptor that is not open.
    let closed = unsafe { libc::fcntl(libc::STDOUT_FILENO, libc::F_GETFD) } == -1;
    STDOUT_CLOSED_AT_START.store(closed, Ordering::Relaxed);
}

// `.init_array` holds plain function pointers the ELF loader calls before `main`;
// `#[used]` keeps the entry although nothing refers to it. `note_closed_stdout`
// takes no arguments and cannot unwind (an atomic store after one system call), so
// calling it there is sound.
#[used]
#[link_section = ".init_array"]
static NOTE_CLOSED_STDOUT: extern "C" fn() = note_closed_stdout;

/// Whether stdout was closed when the program started (`prog >&-`). Rust's
/// runtime opens `/dev/null` on a closed descriptor 1 before `main`, so every write
/// would then succeed into nothing; a program whose output matters asks this first.
pub fn stdout_closed_at_start() -> bool {
    STDOUT_CLOSED_AT_START.load(Ordering::Relaxed)
}
