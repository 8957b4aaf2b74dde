//! Writing the transcript to stdout without ever panicking.
//!
//! `println!` panics when stdout is closed, a broken pipe or a full device, and a
//! panic skips the cleanup. [`outln!`](crate::outln) writes the same bytes and
//! turns a failed write into a [`Failure`], which unlinks what the demo owns,
//! says so on stderr and exits 1, like any other failure.

use std::fmt;
use std::io::Write;

use crate::failure::Failure;

/// Writes `args` and a newline to stdout and flushes, so a write error is seen at
/// the line that caused it, not later.
///
/// # Errors
/// A [`Failure`] naming stdout and the error (`EPIPE`, `EBADF`, `ENOSPC`, ...).
pub fn line(args: fmt::Arguments<'_>) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
        .map_err(Failure::output)
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
