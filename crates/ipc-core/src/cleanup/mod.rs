//! Unlinking a process's objects when it is told to stop (SIGINT, SIGTERM, SIGHUP).
//!
//! Kernel persistence means an object outlives a process that forgets to unlink
//! it, and a Ctrl+C is the usual way to forget. This module keeps a record of the
//! objects a process owns ([`own`]) and of its children (`process::fork` adds
//! them), and on a termination signal it stops the children, unlinks each object
//! exactly once, prints an optional farewell and exits with status 128 + the
//! signal number. Objects are only ever unlinked by the process that registered
//! them, so a forked child never removes its parent's objects.
//!
//! # Two strategies, and why
//! A signal handler may only make async-signal-safe calls (signal-safety(7)):
//! `write`, `unlink`, `kill`, `waitpid`, `_exit` are allowed; `printf`, `exit`,
//! `malloc`, `mq_unlink`, `sem_unlink` and `shm_unlink` are not. So the cleanup
//! either stays inside that list or leaves the handler:
//!
//! - [`Strategy::InHandler`] (built on `signal-hook`'s `low_level::register`): the
//!   handler does the cleanup with listed calls only. Needs no thread, so it also
//!   works after `fork`: a child inherits the handler and, owning nothing, just
//!   exits. Cannot unlink message queues.
//! - [`Strategy::HelperThread`] (a `sigwait` thread, no handler at all): the
//!   signals are blocked in every thread and a thread takes them and cleans up in
//!   plain code. Handles every kind of object and may print, but a forked child
//!   would have no such thread, so a process using it cannot fork. Installing it
//!   blocks the signals in the calling thread, which every thread started later
//!   inherits; so it refuses ([`Refusal::Threaded`]) in a process that already has
//!   other threads, where a signal could land in a thread that does not block it.
//!
//! Neither strategy uses `ctrlc`: it runs its closure on a thread fed by a pipe
//! (two descriptors that shift the `fd = 3` the demos print), it does not say which
//! signal arrived (so no exit status 128 + N), and its thread is missing in a
//! forked child. `signal-hook`'s iterator has the same pipe and thread; a `sigwait`
//! thread has neither.
//!
//! Objects are registered and removed inside one critical section with the
//! termination signals blocked (and the registry held), so a signal never finds an
//! object created but not yet recorded, or unlinked but still recorded. [`own`],
//! [`unlink`] and [`release`] may be called from any thread: the in-handler cleanup,
//! which may run in any thread that does not block the signals, waits for a change
//! under way in another thread before it reads the record.
//!
//! A signal that was ignored when the process started (a script's `cmd &` ignores
//! SIGINT, `nohup` ignores SIGHUP) stays ignored: neither strategy answers it.

mod helper_thread;
mod in_handler;
mod registry;

pub(crate) use registry::critical;
use registry::Installed;
pub use registry::{MAX_CHILDREN, MAX_OBJECTS};

use nix::errno::Errno;

use crate::error::{Error, Refusal, Result};
use crate::kind::ObjectKind;
use crate::name::Name;

/// Where the cleanup runs when a termination signal arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Strategy {
    /// In the signal handler, with async-signal-safe calls only. For processes
    /// that fork; shared memory and semaphores only.
    InHandler,
    /// On a helper thread that takes the signals with `sigwait`. For processes that
    /// do not fork; every kind of object.
    HelperThread,
}

/// Installs the cleanup for this process: call it once, first thing in `main`,
/// before creating any object.
///
/// `farewell` is written to stdout after the cleanup, before exiting (the
/// `mq_lifecycle` demo says `Cleaned up. Exiting.` as its C original does).
///
/// # Errors
/// A refusal if a cleanup is already installed, or for [`Strategy::HelperThread`]
/// in a process that already has other threads; `sigaction` or thread creation
/// failing.
pub fn install(strategy: Strategy, farewell: Option<&'static str>) -> Result<()> {
    if strategy == Strategy::HelperThread {
        match crate::process::thread_count() {
            Some(1) => {}
            threads => {
                return Err(Error::refused(
                    "pthread_sigmask",
                    None,
                    Errno::EINVAL,
                    Refusal::Threaded {
                        threads: threads.unwrap_or(0),
                    },
                ))
            }
        }
    }
    let me = nix::unistd::getpid().as_raw();
    let already = critical(|registry| {
        if registry.installed != Installed::None {
            return true;
        }
        registry.installer = me;
        registry.farewell = farewell;
        registry.installed = match strategy {
            Strategy::InHandler => Installed::InHandler,
            Strategy::HelperThread => Installed::HelperThread,
        };
        false
    });
    if already {
        return Err(Error::refused(
            "sigaction",
            None,
            Errno::EBUSY,
            Refusal::AlreadyInstalled,
        ));
    }
    match strategy {
        Strategy::InHandler => in_handler::install(),
        Strategy::HelperThread => helper_thread::install(),
    }
}

/// Whether this process runs the helper-thread strategy (and so must not fork).
pub(crate) fn uses_helper_thread() -> bool {
    critical(|registry| registry.installed == Installed::HelperThread)
}

/// Runs `open` and, if it succeeds, records that this process owns `name`, as one
/// step no termination signal can split. From then on a termination signal unlinks
/// it, until [`unlink`] or [`release`].
///
/// Use it for objects this process created, or otherwise answers for. `open` runs
/// with the termination signals blocked, so it must not block itself.
///
/// # Errors
/// A refusal when the registry is full, or for a message queue under
/// [`Strategy::InHandler`] (checked before `open` runs); otherwise `open`'s error.
pub fn own<T>(kind: ObjectKind, name: &Name, open: impl FnOnce() -> Result<T>) -> Result<T> {
    let me = nix::unistd::getpid().as_raw();
    critical(|registry| {
        if kind == ObjectKind::MessageQueue && registry.installed == Installed::InHandler {
            return Err(refusal(name, Refusal::QueueNeedsHelperThread));
        }
        if !registry.has_room_for_object() {
            return Err(refusal(name, Refusal::RegistryFull));
        }
        let object = open()?;
        registry.add_object(kind, name, me);
        Ok(object)
    })
}

/// Records that this process answers for `name`, an object it did not open itself
/// (a forked child creates it, say): a termination signal then unlinks it too.
///
/// # Errors
/// As [`own`]: a refusal when the registry is full, or for a message queue under
/// [`Strategy::InHandler`].
pub fn answer_for(kind: ObjectKind, name: &Name) -> Result<()> {
    own(kind, name, || Ok(()))
}

fn refusal(name: &Name, why: Refusal) -> Error {
    Error::refused("register", Some(name), Errno::ENOSPC, why)
}

/// Unlinks `name` (with `shm_unlink`, `sem_unlink` or `mq_unlink`) and forgets it,
/// as one step no termination signal can split.
///
/// # Errors
/// The unlink call's error; the name is forgotten either way.
pub fn unlink(kind: ObjectKind, name: &Name) -> Result<()> {
    let me = nix::unistd::getpid().as_raw();
    critical(|registry| {
        let result = kind.unlink(name);
        registry.remove_object(kind, name, me);
        result
    })
}

/// Forgets `name` without unlinking it: the object is meant to outlive the process.
/// Returns whether it was registered.
pub fn release(kind: ObjectKind, name: &Name) -> bool {
    let me = nix::unistd::getpid().as_raw();
    critical(|registry| registry.remove_object(kind, name, me))
}

/// Unlinks every object this process still owns and forgets them, in ordinary code
/// (for a failed run that ends without a signal). Returns the unlink errors, apart
/// from `ENOENT` (already gone).
pub fn unlink_owned() -> Vec<Error> {
    let me = nix::unistd::getpid().as_raw();
    critical(|registry| {
        let mut errors = Vec::new();
        for slot in registry
            .objects
            .iter_mut()
            .filter(|slot| slot.used && slot.owner == me)
        {
            if let Ok(name) = Name::from_bytes(slot.name_bytes()) {
                match slot.kind.unlink(&name) {
                    Err(e) if e.errno() != Errno::ENOENT => errors.push(e),
                    _ => {}
                }
            }
            slot.used = false;
        }
        errors
    })
}
