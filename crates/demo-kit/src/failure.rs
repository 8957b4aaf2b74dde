//! Failing like the C programs: one `perror` line on stderr and exit status 1,
//! after unlinking whatever this process still owns.

use ipc_core::Error;

/// A failed step: the `perror` prefix the C program uses, and the error.
#[derive(Debug)]
pub struct Failure {
    prefix: &'static str,
    error: Error,
}

impl Failure {
    /// The line C's `perror(prefix)` prints: `mq_open failed: File exists`.
    pub fn line(&self) -> String {
        self.error.perror_line(self.prefix)
    }

    /// The underlying error.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// Prints the `perror` line, unlinks the objects this process still owns (so a
    /// failed run leaves nothing behind) and exits with status 1.
    pub fn exit(self) -> ! {
        eprintln!("{}", self.line());
        for leftover in ipc_core::cleanup::unlink_owned() {
            eprintln!("cleanup: {leftover}");
        }
        std::process::exit(1)
    }
}

/// Attaches a `perror` prefix to an `ipc-core` result: `.perror("mq_open failed")?`.
pub trait Perror<T> {
    /// Turns an error into a [`Failure`] that prints as `perror(prefix)` would.
    fn perror(self, prefix: &'static str) -> Result<T, Failure>;
}

impl<T> Perror<T> for Result<T, Error> {
    fn perror(self, prefix: &'static str) -> Result<T, Failure> {
        self.map_err(|error| Failure { prefix, error })
    }
}
