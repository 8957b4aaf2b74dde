//! Failing like the C programs: one `perror` line on stderr and exit status 1,
//! after unlinking whatever this process still owns.

use ipc_core::Error;

/// A failed step: the `perror` prefix the C program uses and the error, or a
/// plain message for a failure that is not a call's.
#[derive(Debug)]
pub struct Failure(What);

#[derive(Debug)]
enum What {
    Call { prefix: &'static str, error: Error },
    Message(String),
    Output(std::io::Error),
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

    /// The line to print: what C's `perror(prefix)` prints, `mq_open failed: File
    /// exists`, or the message.
    pub fn line(&self) -> String {
        match &self.0 {
            What::Call { prefix, error } => error.perror_line(prefix),
            What::Message(text) => text.clone(),
            What::Output(error) => format!("write to stdout failed: {error}"),
        }
    }

    /// The underlying error, if a call failed.
    pub fn error(&self) -> Option<&Error> {
        match &self.0 {
            What::Call { error, .. } => Some(error),
            What::Message(_) | What::Output(_) => None,
        }
    }

    /// Prints the line, unlinks the objects this process still owns (so a failed
    /// run leaves nothing behind) and exits with status 1.
    pub fn exit(self) -> ! {
        eprintln!("{}", self.line());
        for leftover in ipc_core::cleanup::unlink_owned() {
            eprintln!("cleanup: {leftover}");
        }
        ipc_core::explain::exit(1);
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
        self.map_err(|error| Failure(What::Call { prefix, error }))
    }
}
