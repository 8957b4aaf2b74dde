//! Failing like the C programs: one `perror` line on stderr and exit status 1,
//! after unlinking whatever this process still owns.

use ipc_core::strerror;
use ipc_core::{Errno, Error};

use crate::errln;

/// A failed step: the `perror` prefix the C program uses and the error, or a
/// plain message for a failure that is not a call's.
#[derive(Debug)]
pub struct Failure(What);

#[derive(Debug)]
enum What {
    Call { prefix: &'static str, error: Error },
    Message(String),
    Output(std::io::Error),
    StdoutClosed,
}

impl Failure {
    /// A failure that is not an IPC call's, printed as it is.
    pub fn message(text: impl Into<String>) -> Failure {
        Failure(What::Message(text.into()))
    }

    /// A write to stdout that failed: the transcript could not be written.
    pub fn output(error: std::io::Error) -> Failure {
        Failure(What::Output(error))
    }

    /// stdout was closed when the program started (see [`crate::output`]).
    pub fn stdout_closed() -> Failure {
        Failure(What::StdoutClosed)
    }

    /// Whether this is a failed write to stdout (closed, broken pipe, full, ...).
    pub fn is_output(&self) -> bool {
        matches!(self.0, What::Output(_) | What::StdoutClosed)
    }

    /// The line to print: what C's `perror(prefix)` prints, `mq_open failed: File
    /// exists`, or the message; for stdout (which C never reports), the program's
    /// name first: `nb_mq: write to stdout failed: Broken pipe`.
    pub fn line(&self) -> String {
        match &self.0 {
            What::Call { prefix, error } => error.perror_line(prefix),
            What::Message(text) => text.clone(),
            What::Output(error) => match error.raw_os_error() {
                Some(code) => format!(
                    "{}: write to stdout failed: {}",
                    program(),
                    strerror(Errno::from_raw(code))
                ),
                None => format!("{}: write to stdout failed: {error}", program()),
            },
            What::StdoutClosed => format!(
                "{}: write to stdout failed: {} (stdout was closed when the program started)",
                program(),
                strerror(Errno::EBADF)
            ),
        }
    }

    /// The underlying error, if a call failed.
    pub fn error(&self) -> Option<&Error> {
        match &self.0 {
            What::Call { error, .. } => Some(error),
            What::Message(_) | What::Output(_) | What::StdoutClosed => None,
        }
    }

    /// Prints the line on stderr, unlinks the objects this process still owns (so a
    /// failed run leaves nothing behind) and exits with status 1. Never panics, even
    /// with stderr full or broken.
    pub fn exit(self) -> ! {
        errln!("{}", self.line());
        for leftover in ipc_core::cleanup::unlink_owned() {
            errln!("cleanup: {leftover}");
        }
        ipc_core::explain::exit(1);
        if let Some(lost) = ipc_core::explain::trace_lost() {
            errln!("{}: --trace: {lost}", program());
        }
        std::process::exit(1)
    }
}

/// The program's name, as it was started (`argv[0]` without its directory).
fn program() -> String {
    std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|path| Some(path.file_name()?.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "demo".into())
}

/// Attaches a `perror` prefix to an `ipc-core` result: `.perror("mq_open failed")?`.
pub trait Perror<T> {
    /// Turns an error into a [`Failure`] that prints as `perror(prefix)` would.
    fn perror(self, prefix: &'static str) -> Result<T, Failure>;
}

impl<T> Perror<T> for Result<T, Error> {
    fn perror(self, prefix: &'static str) -> Result<T, Failure> {
        self.map_err(|error| Failure(What::Call { prefix, error }))
    }
}
