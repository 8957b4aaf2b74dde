//! How the command fails: one line naming the call, the object and the errno text,
//! a hint where one helps, and an exit status (1 failed operation, 128 + N
//! interrupted by signal N).

use ipc_core::{Errno, Error};
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
}

impl Failure {
    /// A failed call with a hint.
    pub fn hinted(error: Error, hint: impl Into<String>) -> Failure {
        Failure::Call {
            error,
            hint: Some(hint.into()),
        }
    }

    /// Prints the line and returns the exit status.
    pub fn report(&self) -> i32 {
        match self {
            Failure::Call { error, hint } => {
                match hint {
                    Some(hint) => eprintln!("posix-ipc: {error} ({hint})"),
                    None => eprintln!("posix-ipc: {error}"),
                }
                1
            }
            Failure::Other(message) => {
                eprintln!("posix-ipc: {message}");
                1
            }
            Failure::Interrupted(signal) => {
                eprintln!("posix-ipc: interrupted by {signal}; nothing was changed");
                128 + *signal as i32
            }
        }
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
