//! Locks between tests that share object names, in a directory only this user
//! can write: another user's files (root's, a classmate's) never get in the way.

use std::fs::File;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::PathBuf;

use nix::fcntl::{Flock, FlockArg};

/// The directory for this user's lock and scratch files:
/// `$TMPDIR/posix-ipc-lab-UID` (or `/tmp/...`), created mode 0700.
///
/// Panics, saying whose it is, if it exists and is not a directory that belongs to
/// this user alone: a symbolic link or another user's directory is never used.
pub fn private_dir() -> PathBuf {
    let uid = nix::unistd::geteuid().as_raw();
    let dir = std::env::temp_dir().join(format!("posix-ipc-lab-{uid}"));
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => panic!("create {}: {e}", dir.display()),
    }
    let meta =
        std::fs::symlink_metadata(&dir).unwrap_or_else(|e| panic!("stat {}: {e}", dir.display()));
    assert!(
        meta.file_type().is_dir() && meta.uid() == uid && meta.mode() & 0o022 == 0,
        "{} is not a directory of uid {uid} that only it can write (it is {:?}, uid {}, \
         mode {:o}): remove it, or set TMPDIR to a directory of your own",
        dir.display(),
        meta.file_type(),
        meta.uid(),
        meta.mode() & 0o7777
    );
    dir
}

/// An exclusive lock on one set of object names (or another shared resource),
/// held until dropped.
#[derive(Debug)]
pub struct NamesLock {
    _lock: Flock<File>,
}

impl NamesLock {
    /// Takes the lock called `name`, waiting for whoever holds it: tests that use
    /// the same names run one at a time, whatever the test runner (threads under
    /// `cargo test`, processes under `cargo nextest`). The lock is this user's:
    /// tests of two users never wait for each other.
    pub fn take(name: &str) -> NamesLock {
        let path = private_dir().join(format!("{name}.lock"));
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
        let lock = Flock::lock(file, FlockArg::LockExclusive)
            .unwrap_or_else(|(_, e)| panic!("flock {}: {e}", path.display()));
        NamesLock { _lock: lock }
    }
}
