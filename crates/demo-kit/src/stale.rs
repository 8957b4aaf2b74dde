//! Recovering from a crashed run: an exclusive create that meets `EEXIST` removes
//! the object a crashed run left, and only that. An object a live process holds
//! (a second terminal running the same demo, another student) is never touched:
//! the demo says who holds it and stops.
//!
//! Whether anyone holds it is decided by [`ipc_core::holders::remove_unheld`], the
//! same check `posix-ipc clean --orphans` makes: a fresh `/proc` scan for holders
//! to name, and a kernel lease, granted only if no process anywhere has the object
//! open or mapped, held while unlinking.

use ipc_core::cleanup;
use ipc_core::holders::{self, remove_unheld, Lease, Removal, Scan, ScanOptions};
use ipc_core::ObjectKind;
use std::os::unix::ffi::OsStrExt;

use ipc_core::{Errno, Error, Name, Result};

use crate::names::PREFIX_VARIABLE;

/// Runs `create` (an `O_CREAT | O_EXCL` open) with the object registered for
/// cleanup. On `EEXIST`, and only then: if no process holds the object, prints one
/// note on stderr, unlinks it and runs `create` once more; if a process holds it
/// (or that cannot be told), prints who and why on stderr and returns the
/// `EEXIST` error, leaving the object alone. On `EACCES`, says whose object it is.
/// A normal run makes exactly `create`'s calls.
pub fn create_replacing_stale<T>(
    demo: &str,
    kind: ObjectKind,
    name: &Name,
    create: impl Fn() -> Result<T>,
) -> Result<T> {
    match cleanup::own(kind, name, &create) {
        Err(e) if e.errno() == Errno::EEXIST => {
            match remove_unheld(kind, name, None, ScanOptions::default()) {
                Removal::Removed { .. } => crate::errln!(
                    "{demo}: {name} is left from an earlier run (no process holds it): unlinked it, creating it again"
                ),
                Removal::Gone => {}
                kept => {
                    crate::errln!("{demo}: {name} exists and was left alone: {}", why(&kept));
                    crate::errln!("{demo}: {}", advice(demo, name));
                    return Err(e);
                }
            }
            cleanup::own(kind, name, &create)
        }
        Err(e) => {
            note_if_denied(demo, kind, name, &e);
            Err(e)
        }
        other => other,
    }
}

/// Runs `open` (an `O_CREAT` open without `O_EXCL`, as the C program makes it)
/// with the object registered for cleanup, unless `name` already exists and a live
/// process holds it (a second terminal running the same demo, another student):
/// then prints who on stderr and returns an `EBUSY` error without opening it, for
/// the run would take that object for its own, write into it and unlink it under
/// its holder. An existing object no process holds (a crashed run's) is opened as
/// the C program opens it. A message queue is looked for in the mqueue filesystem
/// at `/dev/mqueue` (no extra IPC call); where none is mounted it is not checked.
/// On `EACCES`, says whose object it is ([`note_if_denied`]).
pub fn open_unless_held<T>(
    demo: &str,
    kind: ObjectKind,
    name: &Name,
    open: impl FnOnce() -> Result<T>,
) -> Result<T> {
    if let Some(held) = held_elsewhere(kind, name) {
        crate::errln!("{demo}: {name} exists and was left alone: {}", why(&held));
        crate::errln!("{demo}: {}", advice(demo, name));
        let call = match kind {
            ObjectKind::SharedMemory => "shm_open",
            ObjectKind::Semaphore => "sem_open",
            _ => "mq_open",
        };
        return Err(Error::os(call, Some(name), Errno::EBUSY));
    }
    cleanup::own(kind, name, open).inspect_err(|e| note_if_denied(demo, kind, name, e))
}

/// `Held` or `HeldUnseen` if `name` exists and another process holds it: seen in
/// `/proc`, or denied a lease by the kernel. `None` if it does not exist, no
/// process holds it, or that cannot be told.
fn held_elsewhere(kind: ObjectKind, name: &Name) -> Option<Removal> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let path = object_file(kind, name);
    // Only an existing regular file is looked at further (never followed, never
    // waited on: a named pipe opened for reading would block).
    let meta = std::fs::symlink_metadata(&path).ok()?;
    if !meta.file_type().is_file() {
        return None;
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(&path)
        .ok()?;
    let id = file.metadata().ok().map(|m| (m.dev(), m.ino()))?;
    let holders = Scan::take(ScanOptions::default()).holders(id).to_vec();
    if !holders.is_empty() {
        return Some(Removal::Held(holders));
    }
    let lease = Lease::take(file.as_fd());
    match lease {
        Err(Errno::EAGAIN | Errno::EBUSY) => Some(Removal::HeldUnseen),
        _ => None,
    }
}

/// The other processes that hold `name` now, seen in `/proc` (this process left
/// out), as `pid 42 (alice: excl_demo --step)` each; empty if none is seen (or
/// `name` does not exist). A look, not a guarantee: a process the scan cannot
/// see is not named.
pub fn other_holders(kind: ObjectKind, name: &Name) -> Vec<String> {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::symlink_metadata(object_file(kind, name)) else {
        return Vec::new();
    };
    let me = std::process::id() as i32;
    Scan::take(ScanOptions::default())
        .holders((meta.dev(), meta.ino()))
        .iter()
        .filter(|holder| holder.pid != me)
        .map(ToString::to_string)
        .collect()
}

/// The file that shows `name`: under `/dev/shm`, or a queue's in the mqueue
/// filesystem at `/dev/mqueue` (where one is mounted).
fn object_file(kind: ObjectKind, name: &Name) -> std::path::PathBuf {
    kind.file(name).unwrap_or_else(|| {
        let mut path = std::path::PathBuf::from("/dev/mqueue");
        path.push(std::ffi::OsStr::from_bytes(name.without_slash()));
        path
    })
}

/// On `EACCES`, prints on stderr whose object `name` is (owner and mode, for shared
/// memory and semaphores, and for a queue where `/dev/mqueue` is mounted) and how
/// to give this user's runs names of their own. Prints nothing for any other error.
pub fn note_if_denied(demo: &str, kind: ObjectKind, name: &Name, error: &Error) {
    if error.errno() != Errno::EACCES {
        return;
    }
    let whose = std::fs::symlink_metadata(object_file(kind, name))
        .ok()
        .map(|meta| {
            use std::os::unix::fs::MetadataExt;
            format!(
                "it belongs to {} (uid {}, mode {:04o})",
                holders::user_name(meta.uid()),
                meta.uid(),
                meta.mode() & 0o7777
            )
        })
        .unwrap_or_else(|| "it belongs to another user".into());
    crate::errln!("{demo}: {name}: {whose}, and this user may not open it");
    crate::errln!("{demo}: {}", advice(demo, name));
}

fn why(kept: &Removal) -> String {
    match kept {
        Removal::Held(holders) => {
            let who: Vec<String> = holders.iter().map(ToString::to_string).collect();
            format!("it is in use by {}", who.join(", "))
        }
        Removal::HeldUnseen => {
            "the kernel says another process has it open or mapped (one not visible from here)"
                .into()
        }
        Removal::Unsure(why) => format!("cannot tell whether another process holds it: {why}"),
        Removal::Removed { .. } | Removal::Gone => String::new(),
    }
}

fn advice(demo: &str, name: &Name) -> String {
    format!(
        "wait for the other run to end, or give your runs names of their own: \
         {PREFIX_VARIABLE}=${{USER}}_ {demo}; if no process uses it, remove it with: posix-ipc rm {name}"
    )
}
