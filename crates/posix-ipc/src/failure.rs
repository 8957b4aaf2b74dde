//! How the command fails: one line naming the call, the object and the errno text,
//! a hint where one helps, and an exit status (1 failed operation, 128 + N
//! interrupted by signal N).

use ipc_core::{Errno, Error};
use std::io::Write;
use std::time::Duration;

use nix::sys::signal::Signal;

/// A failed command.
#[derive(Debug)]
pub enum Failure {
    /// An IPC call failed; exit status 1.
    Call {
        /// The error from `ipc-core`.
        error: Error,
        /// What to do about it, if there is something to say.
        hint: Option<String>,
    },
    /// Some other failure (with its message); exit status 1.
    Other(String),
    /// A termination signal ended a blocking call that had changed nothing.
    Interrupted(Signal),
    /// A `--timeout` ran out (`ETIMEDOUT`); exit status 1. Said as "timed out after
    /// N s", not as the errno's text ("Connection timed out" is about sockets).
    TimedOut {
        /// The call that gave up.
        call: &'static str,
        /// Its object.
        object: String,
        /// The timeout that ran out.
        after: Duration,
    },
}

impl Failure {
    /// A failed call with a hint.
    pub fn hinted(error: Error, hint: impl Into<String>) -> Failure {
        Failure::Call {
            error,
            hint: Some(hint.into()),
        }
    }

    /// The failure for `error`, a call given up after `timeout`: a timed-out wait
    /// becomes [`Failure::TimedOut`]; any other error as [`From`] makes it.
    pub fn after_timeout(error: Error, timeout: Option<Duration>) -> Failure {
        match timeout {
            Some(after) if error.errno() == Errno::ETIMEDOUT => Failure::TimedOut {
                call: error.call(),
                object: error.object().map(ToString::to_string).unwrap_or_default(),
                after,
            },
            _ => error.into(),
        }
    }

    /// Prints the line and returns the exit status. stderr may be closed or full
    /// too: the line is then lost, the status still tells.
    pub fn report(&self) -> i32 {
        let (line, status) = match self {
            Failure::Call {
                error,
                hint: Some(hint),
            } => (format!("{error} ({hint})"), 1),
            Failure::Call { error, hint: None } => (error.to_string(), 1),
            Failure::Other(message) => (message.clone(), 1),
            Failure::Interrupted(signal) => (
                format!("interrupted by {signal}; nothing was changed"),
                128 + *signal as i32,
            ),
            Failure::TimedOut {
                call,
                object,
                after,
            } => (
                format!("{call} {object}: timed out after {} s", after.as_secs_f64()),
                1,
            ),
        };
        let _ = writeln!(std::io::stderr(), "posix-ipc: {line}");
        status
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        let hint = generic_hint(&error);
        Failure::Call { error, hint }
    }
}

/// Hints that hold whatever the command.
fn generic_hint(error: &Error) -> Option<String> {
    let name = error.object().map(ToString::to_string).unwrap_or_default();
    let kind = match error.call() {
        c if c.starts_with("mq_") => "mq",
        c if c.starts_with("sem_") => "sem",
        _ => "shm",
    };
    match error.errno() {
        Errno::ENOENT if error.call().ends_with("_open") => {
            Some(format!("create it with: posix-ipc {kind} create {name}"))
        }
        Errno::EEXIST => Some(format!(
            "it exists; open it without --exclusive, or remove it with: posix-ipc {kind} unlink {name}"
        )),
        Errno::EACCES => Some(format!("see its owner and mode with: posix-ipc stat {name}")),
        Errno::EMFILE => Some("too many open descriptors or queues for this user: see posix-ipc limits".into()),
        Errno::ENOSPC if kind == "mq" => Some("too many queues (queues_max): see posix-ipc limits".into()),
        _ => None,
    }
}
