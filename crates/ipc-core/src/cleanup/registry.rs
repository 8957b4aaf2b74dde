//! The record of what a process owns: named objects to unlink and children to stop.
//!
//! It lives in a static so a signal handler can read it, with fixed-size arrays so
//! that neither side allocates. Every change goes through [`critical`], which blocks
//! the termination signals in the calling thread, takes a mutex (against other
//! threads changing it and the helper thread reading it) and then a spin flag
//! (against the in-handler cleanup, which may run in any other thread and cannot
//! take a mutex). Whoever reads it therefore sees a whole record, never one
//! half-written, however many threads the process has.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use nix::sys::signal::{SigSet, SigmaskHow};

use crate::kind::ObjectKind;
use crate::name::{Name, NAME_MAX};

pub(crate) use crate::inherited::{answered, TERMINATION};

/// Most objects one process can have registered at once.
pub const MAX_OBJECTS: usize = 16;
/// Most children one process can have registered at once (and so fork while the
/// earlier ones run).
pub const MAX_CHILDREN: usize = 64;

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

// SAFETY: every access holds `BUSY`: `critical` takes it (after the mutex, with the
// termination signals blocked in its thread, so the handler cannot run in that
// thread and spin on a flag its own thread holds), and the in-handler cleanup takes
// it before reading (see `in_handler`). Acquire/release on the flag orders each
// access after the previous one, so no two ever overlap.
unsafe impl Sync for RegistryCell {}

static REGISTRY: RegistryCell = RegistryCell(UnsafeCell::new(Registry {
    installed: Installed::None,
    installer: 0,
    farewell: None,
    objects: [ObjectSlot::EMPTY; MAX_OBJECTS],
    children: [ChildSlot::EMPTY; MAX_CHILDREN],
}));

static LOCK: Mutex<()> = Mutex::new(());

/// Held by whoever touches the registry: `critical` (under `LOCK`) or the
/// in-handler cleanup (which never gives it back: it ends the process).
static BUSY: AtomicBool = AtomicBool::new(false);

/// Gives `BUSY` back when dropped, even if the closure under it panics.
struct GiveBack;

impl Drop for GiveBack {
    fn drop(&mut self) {
        BUSY.store(false, Ordering::Release);
    }
}

/// Takes `BUSY`, spinning while another thread holds it. Async-signal-safe.
fn take_busy() {
    while BUSY
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        std::hint::spin_loop();
    }
}

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
        take_busy();
        let _busy = GiveBack;
        // SAFETY: `BUSY` is held, so this is the only access (see `RegistryCell`).
        f(unsafe { &mut *REGISTRY.0.get() })
    };
    let _ = nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
    result
}

/// The registry for the in-handler cleanup, which ends the process: takes `BUSY`
/// (waiting for a change under way in another thread to finish) and never gives
/// it back, so nothing changes it again.
///
/// # Safety
/// Only from a handler for one of [`TERMINATION`], which the thread running it
/// does not block, so that thread is not inside [`critical`] (it would spin on a
/// flag it holds itself), and only once per process (see `in_handler::RUNNING`).
pub(crate) unsafe fn take_for_exit() -> &'static Registry {
    take_busy();
    // SAFETY: `BUSY` is held from now until the process exits.
    unsafe { &*REGISTRY.0.get() }
}
