//! The one error type: [`Error`], [`Refusal`], [`Limit`].

use std::ffi::CStr;
use std::fmt;

use nix::errno::Errno;

use crate::limits::Limit;
use crate::name::{Name, NameError};

/// Shorthand for `Result<T, ipc_core::Error>`.
pub type Result<T> = std::result::Result<T, Error>;

/// The one error type of `ipc-core`: which call failed, on which object, and the errno.
///
/// A failed IPC operation.
///
/// It keeps the C call that failed (`"mq_open"`, `"ftruncate"`, ...), the object's
/// name where there is one, and the errno. Problems `ipc-core` finds before making
/// any call (a bad name, an offset outside a mapping, an object the cleanup
/// registry cannot take) carry a [`Refusal`] and the errno the call would have met.
///
/// Two renderings:
/// - `Display`: `mq_open /ep_mq_lifecycle: File exists`, for tools and logs;
/// - [`Error::perror_line`]: `PREFIX: File exists`, byte for byte what C's
///   `perror(PREFIX)` prints, for demos that mirror a C program.
///
/// It is one pointer wide (the details are boxed), so a `Result<(), Error>` costs
/// nothing on the path that succeeds.
#[derive(Debug)]
pub struct Error(Box<Details>);

#[derive(Debug)]
struct Details {
    call: &'static str,
    object: Option<Name>,
    errno: Errno,
    refusal: Option<Refusal>,
    limit: Option<Limit>,
}

/// Why `ipc-core` refused an operation before making any system call.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The name is not a valid IPC object name.
    Name(NameError),
    /// `offset + len` lies outside a mapping of `mapped` bytes.
    OutOfBounds {
        /// Start of the access.
        offset: usize,
        /// Length of the access.
        len: usize,
        /// Length of the mapping.
        mapped: usize,
    },
    /// A length of zero was asked for where the call needs at least one byte.
    ZeroLength,
    /// The offset is not aligned for the value placed there.
    Misaligned {
        /// The offset asked for.
        offset: usize,
    },
    /// The mapping (or handle) is read-only and the operation would store.
    ReadOnly,
    /// The bytes hold a placed process-shared object, reached only through its
    /// handle (see [`crate::Placed`]).
    Occupied {
        /// Where that object starts.
        offset: usize,
        /// Its length.
        len: usize,
        /// What it is: `a mutex`, `a semaphore`, `a condition variable`.
        what: &'static str,
    },
    /// A [`crate::Placed`] token of another mapping, or of another kind of object.
    ForeignPlacement,
    /// The anonymous mapping is shared with another process through `fork`: each
    /// holds its own copy of the list of placed objects, so an object placed now
    /// would be unknown to the other, whose writes could overwrite it. Place every
    /// object before forking.
    SharedByFork,
    /// The file behind a semaphore's name is no semaphore (not a regular file of
    /// `sizeof(sem_t)` bytes): mapping it would fault.
    NotASemaphore {
        /// Its length.
        size: u64,
    },
    /// Process-shared objects are placed in anonymous mappings only: a mapping of a
    /// named object can be reached through another mapping or its descriptor,
    /// which no placement check would see.
    FileBacked,
    /// A mapping longer than the object: touching the pages past its end would
    /// raise `SIGBUS`.
    PastEnd {
        /// The length asked for.
        len: usize,
        /// The object's length.
        size: u64,
    },
    /// The object would become shorter than a live mapping of it in this process,
    /// whose next touch past the new end would raise `SIGBUS`.
    StillMapped {
        /// The longest live mapping.
        mapped: usize,
    },
    /// A condition variable waited on with another mutex than the one it was
    /// placed with.
    WrongMutex,
    /// The cleanup registry has no room for another object.
    RegistryFull,
    /// The cleanup registry has no room for another child.
    TooManyChildren {
        /// How many children it holds.
        max: usize,
    },
    /// A message queue cannot be unlinked from a signal handler (`mq_unlink` is
    /// not async-signal-safe): it needs the helper-thread cleanup.
    QueueNeedsHelperThread,
    /// A cleanup strategy is already installed in this process.
    AlreadyInstalled,
    /// The process has other threads, which the operation's assumptions exclude
    /// (`fork` of a threaded process, a `sigwait` cleanup that other threads would
    /// not block for).
    Threaded {
        /// Threads in the process, as `/proc/self/status` counted them (0 if
        /// unknown).
        threads: usize,
    },
    /// This process cleans up on a helper thread, which a forked child would not have.
    ForkWithHelperThread,
    /// A value is beyond a limit (named in the error's [`Error::limit`]).
    OverLimit,
    /// A termination signal was requested (see [`crate::termination`]): the
    /// blocking call stopped waiting, having changed nothing.
    Terminated(nix::sys::signal::Signal),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Name(e) => write!(f, "invalid name: {e}"),
            Refusal::OutOfBounds {
                offset,
                len,
                mapped,
            } => write!(
                f,
                "{len} bytes at offset {offset} lie outside the {mapped}-byte mapping"
            ),
            Refusal::ZeroLength => f.write_str("a length of 0 is not allowed here"),
            Refusal::Misaligned { offset } => {
                write!(f, "offset {offset} is not aligned for this value")
            }
            Refusal::ReadOnly => f.write_str("the mapping is read-only"),
            Refusal::Occupied { offset, len, what } => write!(
                f,
                "bytes {offset}..{} hold {what}: use it through its handle",
                offset + len
            ),
            Refusal::NotASemaphore { size } => write!(
                f,
                "its file is no semaphore ({size} bytes, or not a regular file): not opened"
            ),
            Refusal::FileBacked => f.write_str(
                "process-shared objects are placed in an anonymous mapping only \
                 (Mapping::anonymous, shared with forked children)",
            ),
            Refusal::PastEnd { len, size } => write!(
                f,
                "a {len}-byte mapping of a {size}-byte object: set its length first"
            ),
            Refusal::StillMapped { mapped } => write!(
                f,
                "a {mapped}-byte mapping of it is alive in this process: unmap it first"
            ),
            Refusal::ForeignPlacement => {
                f.write_str("that object was placed in another mapping, or is of another kind")
            }
            Refusal::SharedByFork => f.write_str(
                "the mapping is shared with a forked process, which would not know of an \
                 object placed now: place every object before forking",
            ),
            Refusal::WrongMutex => f.write_str(
                "the condition variable was placed with another mutex than the one held",
            ),
            Refusal::RegistryFull => f.write_str("the cleanup registry is full"),
            Refusal::TooManyChildren { max } => write!(
                f,
                "the cleanup registry already holds {max} children, its most"
            ),
            Refusal::QueueNeedsHelperThread => f.write_str(
                "a message queue cannot be unlinked from a signal handler (mq_unlink is not \
                 async-signal-safe): use Strategy::HelperThread",
            ),
            Refusal::AlreadyInstalled => {
                f.write_str("a cleanup strategy is already installed in this process")
            }
            Refusal::Threaded { threads } => write!(
                f,
                "the process has {threads} threads; this needs a single-threaded process"
            ),
            Refusal::ForkWithHelperThread => f.write_str(
                "this process cleans up on a helper thread, which a forked child would not \
                 have: install cleanup::Strategy::InHandler to fork",
            ),
            Refusal::OverLimit => f.write_str("the value is out of range"),
            Refusal::Terminated(signal) => {
                write!(f, "stopped waiting: {signal} asked to terminate")
            }
        }
    }
}

impl Error {
    /// An error returned by the system call `call`, read from `errno`.
    #[cold]
    pub fn os(call: &'static str, object: Option<&Name>, errno: Errno) -> Error {
        Error(Box::new(Details {
            call,
            object: object.cloned(),
            errno,
            refusal: None,
            limit: None,
        }))
    }

    /// The same error, saying which limit the call met.
    pub fn with_limit(mut self, limit: Limit) -> Error {
        self.0.limit = Some(limit);
        self
    }

    /// The limit the call met, if it is known.
    pub fn limit(&self) -> Option<&Limit> {
        self.0.limit.as_ref()
    }

    /// An operation refused by `ipc-core` before `call` was made.
    pub fn refused(
        call: &'static str,
        object: Option<&Name>,
        errno: Errno,
        refusal: Refusal,
    ) -> Error {
        Error(Box::new(Details {
            call,
            object: object.cloned(),
            errno,
            refusal: Some(refusal),
            limit: None,
        }))
    }

    /// A bad name given to `call`; the errno is the one the kernel would have set.
    pub fn bad_name(call: &'static str, error: NameError) -> Error {
        Error(Box::new(Details {
            call,
            object: None,
            errno: error.errno(),
            refusal: Some(Refusal::Name(error)),
            limit: None,
        }))
    }

    /// The C function that failed (or that was not called because of a refusal).
    pub fn call(&self) -> &'static str {
        self.0.call
    }

    /// The object the call was about, if any.
    pub fn object(&self) -> Option<&Name> {
        self.0.object.as_ref()
    }

    /// The errno: from the kernel, or the one it would have given for a refusal.
    pub fn errno(&self) -> Errno {
        self.0.errno
    }

    /// The termination signal that ended a blocking call, if that is what happened.
    pub fn termination(&self) -> Option<nix::sys::signal::Signal> {
        match self.0.refusal {
            Some(Refusal::Terminated(signal)) => Some(signal),
            _ => None,
        }
    }

    /// What `ipc-core` refused before any call, if that is what happened.
    pub fn refusal(&self) -> Option<&Refusal> {
        self.0.refusal.as_ref()
    }

    /// The errno's text exactly as the C library words it (`strerror`).
    pub fn errno_text(&self) -> String {
        strerror(self.0.errno)
    }

    /// The line C's `perror(prefix)` would print for this errno, without the newline:
    /// `mq_open failed: File exists`.
    pub fn perror_line(&self, prefix: &str) -> String {
        format!("{prefix}: {}", self.errno_text())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.call)?;
        if let Some(object) = &self.0.object {
            write!(f, " {object}")?;
        }
        match &self.0.refusal {
            Some(refusal) => write!(f, ": {refusal}")?,
            None => write!(f, ": {}", self.errno_text())?,
        }
        match &self.0.limit {
            Some(limit) => write!(f, " ({limit})"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for Error {}

/// The C library's text for `errno`, as `strerror(3)` gives it.
pub fn strerror(errno: Errno) -> String {
    let mut buf = [0u8; 128];
    // SAFETY: `buf` is writable for `buf.len()` bytes; the XSI `strerror_r` (which
    // the libc crate binds on glibc) writes at most that many bytes, NUL included.
    let rc = unsafe { libc::strerror_r(errno as i32, buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return format!("Unknown error {}", errno as i32);
    }
    CStr::from_bytes_until_nul(&buf)
        .map(|text| text.to_string_lossy().into_owned())
        .unwrap_or_else(|_| format!("Unknown error {}", errno as i32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perror_line_matches_the_c_library() {
        let name = Name::new("/q").unwrap();
        let err = Error::os("mq_open", Some(&name), Errno::EEXIST);
        assert_eq!(
            err.perror_line("mq_open failed"),
            "mq_open failed: File exists"
        );
        assert_eq!(err.to_string(), "mq_open /q: File exists");
        assert_eq!(strerror(Errno::EAGAIN), "Resource temporarily unavailable");
    }

    #[test]
    fn refusals_name_the_reason_and_keep_the_errno() {
        let err = Error::bad_name("shm_open", NameError::InnerSlash);
        assert_eq!(err.errno(), Errno::EINVAL);
        assert_eq!(
            err.to_string(),
            "shm_open: invalid name: the name may hold no '/' after the first"
        );
        assert_eq!(err.perror_line("shm_open"), "shm_open: Invalid argument");
    }
}
