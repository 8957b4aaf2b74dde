//! Finding the message queues: the mqueue filesystem lists them.
//!
//! Linux shows each IPC namespace's queues as files of an `mqueue` filesystem,
//! usually mounted at `/dev/mqueue`, but many machines do not mount it. Then, if we
//! may mount, we move this process (and only it) into a mount namespace of its own
//! and mount one there: the queues are the same (the IPC namespace is unchanged),
//! and nothing changes for any other process. Otherwise we say how to mount it.
//!
//! The private mount goes over a directory that already exists (`/dev/mqueue` if
//! there is one, else the temporary directory), hiding it from this process only:
//! no directory is ever created, so a signal at any moment leaves nothing behind,
//! and the mount vanishes with the process's mount namespace when it exits.

use std::path::{Path, PathBuf};

use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};

/// Where the queues can be read.
pub struct MqueueDir {
    path: PathBuf,
}

/// Why the queues cannot be listed.
#[derive(Debug)]
pub struct Unavailable(pub String);

/// The text that tells a user how to make the queues visible.
pub const HOW_TO_MOUNT: &str =
    "mount it with: sudo mkdir -p /dev/mqueue && sudo mount -t mqueue none /dev/mqueue";

impl MqueueDir {
    /// An mqueue filesystem already mounted in this mount namespace, else a private one.
    pub fn find_or_mount() -> Result<MqueueDir, Unavailable> {
        if let Some(path) = mounted() {
            return Ok(MqueueDir { path });
        }
        mount_privately()
    }

    /// The directory: one file per queue, named without the leading '/'.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The mount point of an mqueue filesystem, from `/proc/self/mountinfo`.
fn mounted() -> Option<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines().find_map(|line| {
        // ... mount-point ... - fstype source options
        let (before, after) = line.split_once(" - ")?;
        let fstype = after.split_whitespace().next()?;
        let point = before.split_whitespace().nth(4)?;
        (fstype == "mqueue").then(|| PathBuf::from(point.replace("\\040", " ")))
    })
}

fn mount_privately() -> Result<MqueueDir, Unavailable> {
    let refused = |why: String| {
        Unavailable(format!(
            "no mqueue filesystem is mounted, and this process cannot mount one privately ({why}); {HOW_TO_MOUNT}"
        ))
    };
    // A mount namespace of our own; make every mount in it private, so the mount
    // below cannot propagate back to the namespace we came from.
    unshare(CloneFlags::CLONE_NEWNS).map_err(|e| refused(format!("unshare: {}", e.desc())))?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| refused(format!("mount --make-rprivate /: {}", e.desc())))?;
    // Over an existing directory, seen by this process only: nothing to create,
    // nothing to remove, nothing a signal could leave behind.
    let path = [PathBuf::from("/dev/mqueue"), std::env::temp_dir()]
        .into_iter()
        .find(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir()))
        .ok_or_else(|| refused("neither /dev/mqueue nor the temporary directory exists".into()))?;
    mount(
        Some("mqueue"),
        &path,
        Some("mqueue"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    )
    .map_err(|e| {
        refused(format!(
            "mount -t mqueue on {}: {}",
            path.display(),
            e.desc()
        ))
    })?;
    Ok(MqueueDir { path })
}
