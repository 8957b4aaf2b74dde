//! The three kinds of objects: [`ObjectKind`].

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::Result;
use crate::mq::MessageQueue;
use crate::name::Name;
use crate::sem::Semaphore;
use crate::shm::SharedMemory;

/// The three kinds of POSIX IPC objects, with what differs between them: the
/// label tools show, the call that unlinks one, and where glibc keeps its file.
///
/// A kind of named POSIX IPC object.
///
/// Not `#[non_exhaustive]`: POSIX defines exactly these three, and a `match` over
/// them should stay exhaustive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectKind {
    /// A shared memory object: `/dev/shm/NAME`, removed with `shm_unlink`.
    SharedMemory,
    /// A named semaphore: `/dev/shm/sem.NAME`, removed with `sem_unlink`.
    Semaphore,
    /// A message queue, removed with `mq_unlink` (a file only where an mqueue
    /// filesystem is mounted).
    MessageQueue,
}

impl ObjectKind {
    /// Every kind, in the order tools list them.
    pub const ALL: [ObjectKind; 3] = [
        ObjectKind::SharedMemory,
        ObjectKind::Semaphore,
        ObjectKind::MessageQueue,
    ];

    /// The short label tools show and take: `shm`, `sem`, `mq`.
    pub fn label(self) -> &'static str {
        match self {
            ObjectKind::SharedMemory => "shm",
            ObjectKind::Semaphore => "sem",
            ObjectKind::MessageQueue => "mq",
        }
    }

    /// The kind in words: `shared memory`, `semaphore`, `message queue`.
    pub fn noun(self) -> &'static str {
        match self {
            ObjectKind::SharedMemory => "shared memory",
            ObjectKind::Semaphore => "semaphore",
            ObjectKind::MessageQueue => "message queue",
        }
    }

    /// The C call that removes a name of this kind.
    pub fn unlink_call(self) -> &'static str {
        match self {
            ObjectKind::SharedMemory => "shm_unlink",
            ObjectKind::Semaphore => "sem_unlink",
            ObjectKind::MessageQueue => "mq_unlink",
        }
    }

    /// `shm_unlink`, `sem_unlink` or `mq_unlink` of `name`.
    ///
    /// # Errors
    /// `ENOENT`, `EACCES`, as the call reports them.
    pub fn unlink(self, name: &Name) -> Result<()> {
        match self {
            ObjectKind::SharedMemory => SharedMemory::unlink(name),
            ObjectKind::Semaphore => Semaphore::unlink(name),
            ObjectKind::MessageQueue => MessageQueue::unlink(name),
        }
    }

    /// What glibc puts before a name's bytes (without its `/`) to make the file's
    /// path: `/dev/shm/` or `/dev/shm/sem.`; `None` for a message queue, which has
    /// a file only where an mqueue filesystem is mounted.
    pub fn file_prefix(self) -> Option<&'static str> {
        match self {
            ObjectKind::SharedMemory => Some("/dev/shm/"),
            ObjectKind::Semaphore => Some("/dev/shm/sem."),
            ObjectKind::MessageQueue => None,
        }
    }

    /// The file behind `name`: `/dev/shm/NAME` or `/dev/shm/sem.NAME`; `None` for
    /// a message queue.
    pub fn file(self, name: &Name) -> Option<PathBuf> {
        use std::os::unix::ffi::OsStrExt;
        let prefix = self.file_prefix()?;
        let mut path = prefix.as_bytes().to_vec();
        path.extend_from_slice(&name.as_bytes()[1..]);
        Some(PathBuf::from(std::ffi::OsStr::from_bytes(&path)))
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A label that is none of `shm`, `sem`, `mq`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownKind(pub String);

impl fmt::Display for UnknownKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown kind {:?}: expected shm, sem or mq", self.0)
    }
}

impl std::error::Error for UnknownKind {}

impl FromStr for ObjectKind {
    type Err = UnknownKind;

    fn from_str(label: &str) -> std::result::Result<ObjectKind, UnknownKind> {
        ObjectKind::ALL
            .into_iter()
            .find(|kind| kind.label() == label)
            .ok_or_else(|| UnknownKind(label.to_owned()))
    }
}
