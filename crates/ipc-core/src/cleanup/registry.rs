//! The record of what a process owns: named objects to unlink and children to stop.
//!
//! It lives in a static so a signal handler can read it, with fixed-size arrays so
//! that neither side allocates. Every change goes through [`critical`], which blocks
//! the termination signals in the calling thread and takes a mutex: the handler
//! (which runs in that thread) and the helper thread (which takes the mutex) then
//! always see a whole record, never one half-written.

use std::cell::UnsafeCell;
use std::sync::{Mutex, PoisonError};

use nix::sys::signal::{SigSet, SigmaskHow, Signal};

use crate::name::{Name, NAME_MAX};

/// Signals that ask a demo to stop: the ones the cleanup answers.
pub(crate) const TERMINATION: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

/// Kinds of named objects the registry can unlink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectKind {
    /// A shared memory object: `/dev/shm/NAME`, removed with `shm_unlink`.
    SharedMemory,
    /// A named semaphore: `/dev/shm/sem.NAME`, removed with `sem_unlink`.
    Semaphore,
    /// A message queue, removed with `mq_unlink` (no file path without a mounted
    /// mqueue filesystem).
    MessageQueue,
}

/// Most objects one process can have registered at once.
pub(crate) const MAX_OBJECTS: usize = 16;
/// Most children one process can have registered at once.
pub(crate) const MAX_CHILDREN: usize = 16;

#[derive(Clone, Copy)]
pub(crate) struct ObjectSlot {
    pub(crate) used: bool,
    pub(crate) kind: ObjectKind,
    pub(crate) owner: libc::pid_t,
    /// The name with its leading `/`, not NUL-terminated.
    pub(crate) name: [u8; NAME_MAX + 1],
    pub(crate) len: usize,
}

impl ObjectSlot {
    const EMPTY: ObjectSlot = ObjectSlot {
        used: false,
        kind: ObjectKind::SharedMemory,
        owner: 0,
        name: [0; NAME_MAX + 1],
        len: 0,
    };

    pub(crate) fn name_bytes(&self) -> &[u8] {
        &self.name[..self.len]
    }

    fn is(&self, kind: ObjectKind, name: &Name, owner: libc::pid_t) -> bool {
        self.used
            && self.kind == kind
            && self.owner == owner
            && self.name_bytes() == name.as_bytes()
    }
}

#[derive(Clone, Copy)]
pub(crate) struct ChildSlot {
    pub(crate) owner: libc::pid_t,
    pub(crate) pid: libc::pid_t,
}

impl ChildSlot {
    const EMPTY: ChildSlot = ChildSlot { owner: 0, pid: 0 };
}

/// How the registry is drained on a termination signal; `None` until installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Installed {
    None,
    InHandler,
    HelperThread,
}

pub(crate) struct Registry {
    pub(crate) installed: Installed,
    /// The process that installed the cleanup: only it prints the farewell.
    pub(crate) installer: libc::pid_t,
    pub(crate) farewell: Option<&'static str>,
    pub(crate) objects: [ObjectSlot; MAX_OBJECTS],
    pub(crate) children: [ChildSlot; MAX_CHILDREN],
}

impl Registry {
    pub(crate) fn has_room_for_object(&self) -> bool {
        self.objects.iter().any(|slot| !slot.used)
    }

    /// Records `name` as owned by `owner` (once, however often it is added); the
    /// caller checked [`has_room_for_object`](Self::has_room_for_object).
    pub(crate) fn add_object(&mut self, kind: ObjectKind, name: &Name, owner: libc::pid_t) {
        if self.objects.iter().any(|slot| slot.is(kind, name, owner)) {
            return;
        }
        let Some(slot) = self.objects.iter_mut().find(|slot| !slot.used) else {
            return;
        };
        let bytes = name.as_bytes();
        slot.name[..bytes.len()].copy_from_slice(bytes);
        slot.len = bytes.len();
        slot.kind = kind;
        slot.owner = owner;
        slot.used = true;
    }

    /// Forgets `name`; true if it was recorded for `owner`.
    pub(crate) fn remove_object(
        &mut self,
        kind: ObjectKind,
        name: &Name,
        owner: libc::pid_t,
    ) -> bool {
        match self
            .objects
            .iter_mut()
            .find(|slot| slot.is(kind, name, owner))
        {
            Some(slot) => {
                *slot = ObjectSlot::EMPTY;
                true
            }
            None => false,
        }
    }

    pub(crate) fn has_room_for_child(&self) -> bool {
        self.children.iter().any(|slot| slot.pid == 0)
    }

    /// Records a child; the caller checked [`has_room_for_child`](Self::has_room_for_child).
    pub(crate) fn add_child(&mut self, owner: libc::pid_t, pid: libc::pid_t) {
        if let Some(slot) = self.children.iter_mut().find(|slot| slot.pid == 0) {
            *slot = ChildSlot { owner, pid };
        }
    }

    pub(crate) fn remove_child(&mut self, owner: libc::pid_t, pid: libc::pid_t) {
        for slot in self.children.iter_mut() {
            if slot.owner == owner && slot.pid == pid {
                *slot = ChildSlot::EMPTY;
            }
        }
    }
}

struct RegistryCell(UnsafeCell<Registry>);

// SAFETY: the registry is only changed inside `critical` (mutex held, termination
// signals blocked in the changing thread), and only read outside it by the in-handler
// cleanup, which runs in the single thread that makes the changes and only while
// those signals are unblocked, that is, never in the middle of a change.
unsafe impl Sync for RegistryCell {}

static REGISTRY: RegistryCell = RegistryCell(UnsafeCell::new(Registry {
    installed: Installed::None,
    installer: 0,
    farewell: None,
    objects: [ObjectSlot::EMPTY; MAX_OBJECTS],
    children: [ChildSlot::EMPTY; MAX_CHILDREN],
}));

static LOCK: Mutex<()> = Mutex::new(());

/// The termination signals as a set.
pub(crate) fn termination_set() -> SigSet {
    let mut set = SigSet::empty();
    for signal in TERMINATION {
        set.add(signal);
    }
    set
}

/// Runs `f` with the registry to itself: termination signals blocked in this
/// thread, the registry mutex held. Restores the signal mask afterwards.
pub(crate) fn critical<R>(f: impl FnOnce(&mut Registry) -> R) -> R {
    let mut old = SigSet::empty();
    // Blocking signals in our own thread cannot fail with valid arguments.
    let _ = nix::sys::signal::pthread_sigmask(
        SigmaskHow::SIG_BLOCK,
        Some(&termination_set()),
        Some(&mut old),
    );
    let result = {
        let _guard = LOCK.lock().unwrap_or_else(PoisonError::into_inner);
        // SAFETY: the mutex is held and this thread cannot run the in-handler cleanup
        // until the mask is restored, so this is the only access (see `RegistryCell`).
        f(unsafe { &mut *REGISTRY.0.get() })
    };
    let _ = nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
    result
}

/// The registry as the in-handler cleanup sees it.
///
/// # Safety
/// Only from a signal handler for one of [`TERMINATION`], in a process whose
/// registry is changed from the thread that receives those signals (see
/// `RegistryCell`).
pub(crate) unsafe fn in_handler() -> &'static Registry {
    // SAFETY: per the contract, no change is in progress while the handler runs.
    unsafe { &*REGISTRY.0.get() }
}
