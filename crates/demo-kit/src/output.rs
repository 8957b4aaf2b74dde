//! Writing the transcript to stdout, and notes to stderr, without ever panicking.
//!
//! `println!` panics when stdout is a broken pipe or a full device, and a panic
//! skips the cleanup. [`outln!`](crate::outln) writes the same bytes and turns a
//! failed write into a [`Failure`], which unlinks what the demo owns, says so on
//! stderr and exits 1, like any other failure. [`errln!`](crate::errln) is
//! `eprintln!` that gives up quietly when stderr itself cannot be written.
//!
//! # A stdout closed at start
//! A program started with stdout closed (`demo >&-`) never sees it closed: before
//! `main`, Rust's runtime opens `/dev/null` on any of descriptors 0, 1 and 2 that
//! is closed (so no object ever lands on descriptor 1), and every write then
//! succeeds into nothing. [`ipc_core::inherited::stdout_closed_at_start`] looked
//! at descriptor 1 before the runtime did, and [`line`] then fails with `EBADF`, as a write to a closed
//! descriptor does: the transcript has nowhere to go, and the demo says so.

use std::fmt;
use std::io::Write;

use crate::failure::Failure;

/// Writes `args` and a newline to stdout and flushes, so a write error is seen at
/// the line that caused it, not later.
///
/// # Errors
/// A [`Failure`] naming stdout and the error: `EPIPE`, `ENOSPC`, `EIO`, ..., or
/// `EBADF` when stdout was closed at start.
pub fn line(args: fmt::Arguments<'_>) -> Result<(), Failure> {
    write_out(|out| {
        out.write_fmt(args)?;
        out.write_all(b"\n")
    })
}

/// Writes `text` to stdout as it is, and flushes (for `--help`, `--version`).
///
/// # Errors
/// As [`line`].
pub fn text(text: &str) -> Result<(), Failure> {
    write_out(|out| out.write_all(text.as_bytes()))
}

fn write_out(
    write: impl FnOnce(&mut std::io::StdoutLock<'static>) -> std::io::Result<()>,
) -> Result<(), Failure> {
    if ipc_core::inherited::stdout_closed_at_start() {
        return Err(Failure::stdout_closed());
    }
    let mut out = std::io::stdout().lock();
    write(&mut out)
        .and_then(|()| out.flush())
        .map_err(Failure::output)
}

/// Writes `args` and a newline to stderr; if stderr cannot take it (full, broken),
/// there is nowhere left to complain, so the error is dropped, never a panic.
pub fn note(args: fmt::Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = err
        .write_fmt(args)
        .and_then(|()| err.write_all(b"\n"))
        .and_then(|()| err.flush());
}

/// `println!` that returns `Result<(), Failure>` instead of panicking:
/// `outln!("Queue created: {MQ_NAME}")?;`.
#[macro_export]
macro_rules! outln {
    () => {
        $crate::output::line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::output::line(format_args!($($arg)*))
    };
}

/// `eprintln!` that never panics (see [`note`](crate::output::note)).
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::output::note(format_args!($($arg)*))
    };
}
