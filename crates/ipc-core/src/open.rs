//! The `oflag` parts the three open calls share: [`Creation`], [`Access`].

use nix::fcntl::OFlag;

/// The parts of an `oflag` that all three open calls share: create or not, and access.
///
/// Whether an open call may create the object (`O_CREAT`, `O_EXCL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Creation {
    /// No `O_CREAT`: open an existing object, `ENOENT` if there is none.
    #[default]
    OpenExisting,
    /// `O_CREAT`: open the object, creating it if it is missing.
    OpenOrCreate,
    /// `O_CREAT | O_EXCL`: create the object, `EEXIST` if it is already there.
    /// The check and the creation are one atomic step in the kernel.
    CreateExclusive,
}

impl Creation {
    /// The `O_CREAT`/`O_EXCL` bits for this choice.
    pub fn oflag(self) -> OFlag {
        match self {
            Creation::OpenExisting => OFlag::empty(),
            Creation::OpenOrCreate => OFlag::O_CREAT,
            Creation::CreateExclusive => OFlag::O_CREAT | OFlag::O_EXCL,
        }
    }

    /// Whether the call may create the object, so a mode (and attributes) apply.
    pub fn creates(self) -> bool {
        self != Creation::OpenExisting
    }
}

/// How the handle may be used (`O_RDONLY`, `O_WRONLY`, `O_RDWR`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Access {
    /// `O_RDONLY`.
    ReadOnly,
    /// `O_WRONLY` (message queues only; `shm_open` has no write-only mode).
    WriteOnly,
    /// `O_RDWR`.
    #[default]
    ReadWrite,
}

impl Access {
    /// The access bits for this choice.
    pub fn oflag(self) -> OFlag {
        match self {
            Access::ReadOnly => OFlag::O_RDONLY,
            Access::WriteOnly => OFlag::O_WRONLY,
            Access::ReadWrite => OFlag::O_RDWR,
        }
    }
}

/// `umask(mask)`: sets the bits removed from the mode of every object (and file)
/// this process creates from now on; returns the previous mask.
pub fn set_umask(mask: nix::sys::stat::Mode) -> nix::sys::stat::Mode {
    nix::sys::stat::umask(mask)
}
