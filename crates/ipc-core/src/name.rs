//! Validated object names: [`Name`].

use std::ffi::{CStr, CString};
use std::fmt;

/// Longest name, without its leading `/`, for shared memory and message queues.
pub const NAME_MAX: usize = 255;

/// Longest name, without its leading `/`, for a named semaphore: glibc stores
/// the semaphore as `/dev/shm/sem.NAME`, and the whole file name must fit in
/// [`NAME_MAX`].
pub const SEM_NAME_MAX: usize = NAME_MAX - "sem.".len();

/// Why a string is not a valid IPC object name.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameError {
    /// The string is empty or is only `/`.
    Empty,
    /// The string does not start with `/`.
    NoLeadingSlash,
    /// A `/` appears after the first character.
    InnerSlash,
    /// The string holds a NUL byte, which cannot pass through a C string.
    InteriorNul,
    /// The name is `/.` or `/..`, which name directories, not objects.
    DotName,
    /// The name, without its leading `/`, is longer than `max` bytes.
    TooLong {
        /// Length of the name without its leading `/`.
        len: usize,
        /// The limit that applies ([`NAME_MAX`] or [`SEM_NAME_MAX`]).
        max: usize,
    },
}

impl NameError {
    /// The errno a kernel or glibc would have returned for the same name.
    pub fn errno(&self) -> nix::errno::Errno {
        match self {
            NameError::TooLong { .. } => nix::errno::Errno::ENAMETOOLONG,
            _ => nix::errno::Errno::EINVAL,
        }
    }
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Empty => f.write_str("the name is empty (write it as /NAME)"),
            NameError::NoLeadingSlash => f.write_str("the name must start with '/'"),
            NameError::InnerSlash => f.write_str("the name may hold no '/' after the first"),
            NameError::InteriorNul => f.write_str("the name holds a NUL byte"),
            NameError::DotName => f.write_str("'/.' and '/..' are not object names"),
            NameError::TooLong { len, max } => {
                write!(
                    f,
                    "the name is {len} bytes long after its '/'; the limit is {max}"
                )
            }
        }
    }
}

impl std::error::Error for NameError {}

/// Validated names for POSIX IPC objects.
///
/// POSIX says a portable name is one `/` followed by characters that are not `/`.
/// Linux turns the name into a file: `/dev/shm/NAME` for shared memory,
/// `/dev/shm/sem.NAME` for a glibc named semaphore, and an entry of the mqueue
/// filesystem for a message queue. Each of these is one path component, so it is
/// limited to `NAME_MAX` (255) bytes, and the semaphore's `sem.` prefix leaves it
/// 251. [`Name`] checks all of this up front, so a bad name is a clear
/// [`NameError`] instead of a kernel `EINVAL` or `ENAMETOOLONG`.
///
/// A checked POSIX IPC object name such as `/ep_mq_lifecycle`.
///
/// Holds the name as a C string, ready for the `*_open` and `*_unlink` calls.
/// [`Name::new`] applies the limit for shared memory and message queues;
/// semaphore calls also check the shorter [`SEM_NAME_MAX`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Name(CString);

impl Name {
    /// Checks `name` and keeps it.
    ///
    /// # Errors
    /// A [`NameError`] saying what is wrong with the name; no system call is made.
    pub fn new(name: &str) -> Result<Name, NameError> {
        Name::from_bytes(name.as_bytes())
    }

    /// Checks a name given as bytes (it need not be UTF-8).
    ///
    /// # Errors
    /// As [`Name::new`].
    pub fn from_bytes(name: &[u8]) -> Result<Name, NameError> {
        let rest = match name.split_first() {
            None => return Err(NameError::Empty),
            Some((b'/', rest)) => rest,
            Some(_) => return Err(NameError::NoLeadingSlash),
        };
        if rest.is_empty() {
            return Err(NameError::Empty);
        }
        if rest.contains(&b'/') {
            return Err(NameError::InnerSlash);
        }
        if rest == b"." || rest == b".." {
            return Err(NameError::DotName);
        }
        if rest.len() > NAME_MAX {
            return Err(NameError::TooLong {
                len: rest.len(),
                max: NAME_MAX,
            });
        }
        CString::new(name)
            .map(Name)
            .map_err(|_| NameError::InteriorNul)
    }

    /// Checks the semaphore limit: a name valid for shared memory may still be too
    /// long for `sem_open`.
    ///
    /// # Errors
    /// [`NameError::TooLong`] with `max` [`SEM_NAME_MAX`].
    pub fn check_semaphore(&self) -> Result<(), NameError> {
        let len = self.without_slash().len();
        if len > SEM_NAME_MAX {
            return Err(NameError::TooLong {
                len,
                max: SEM_NAME_MAX,
            });
        }
        Ok(())
    }

    /// The name with its leading `/`, as a C string.
    pub fn as_c_str(&self) -> &CStr {
        &self.0
    }

    /// The name with its leading `/`.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The name without its leading `/`: the file name in `/dev/shm` or `/dev/mqueue`.
    pub fn without_slash(&self) -> &[u8] {
        &self.as_bytes()[1..]
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(self.as_bytes()))
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}

impl std::str::FromStr for Name {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Name, NameError> {
        Name::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_names() {
        let name = Name::new("/ep_mq_lifecycle").unwrap();
        assert_eq!(name.as_bytes(), b"/ep_mq_lifecycle");
        assert_eq!(name.without_slash(), b"ep_mq_lifecycle");
        assert_eq!(name.to_string(), "/ep_mq_lifecycle");
    }

    #[test]
    fn refuses_each_bad_shape() {
        assert_eq!(Name::new(""), Err(NameError::Empty));
        assert_eq!(Name::new("/"), Err(NameError::Empty));
        assert_eq!(Name::new("queue"), Err(NameError::NoLeadingSlash));
        assert_eq!(Name::new("/a/b"), Err(NameError::InnerSlash));
        assert_eq!(Name::new("//a"), Err(NameError::InnerSlash));
        assert_eq!(Name::new("/a\0b"), Err(NameError::InteriorNul));
        assert_eq!(Name::new("/."), Err(NameError::DotName));
        assert_eq!(Name::new("/.."), Err(NameError::DotName));
    }

    #[test]
    fn length_limits_differ_for_semaphores() {
        let longest = format!("/{}", "x".repeat(NAME_MAX));
        let name = Name::new(&longest).unwrap();
        assert_eq!(
            name.check_semaphore(),
            Err(NameError::TooLong {
                len: NAME_MAX,
                max: SEM_NAME_MAX
            })
        );
        let sem = Name::new(&format!("/{}", "x".repeat(SEM_NAME_MAX))).unwrap();
        assert_eq!(sem.check_semaphore(), Ok(()));
        let too_long = format!("/{}", "x".repeat(NAME_MAX + 1));
        let err = Name::new(&too_long).unwrap_err();
        assert_eq!(err.errno(), nix::errno::Errno::ENAMETOOLONG);
    }

    #[test]
    fn non_utf8_bytes_are_names_too() {
        let name = Name::from_bytes(b"/caf\xe9").unwrap();
        assert_eq!(name.without_slash(), b"caf\xe9");
    }
}
