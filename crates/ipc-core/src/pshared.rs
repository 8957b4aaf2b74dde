//! Process-shared mutexes, condition variables and semaphores inside a [`Mapping`]: [`Placed`].

use std::marker::PhantomData;

use nix::errno::Errno;

use crate::deadline::Deadline;
use crate::error::{Error, Refusal, Result};
use crate::explain::{explain, explain_resumed, explain_start};
use crate::shm::Mapping;

/// Bytes a [`SharedMutex`] takes in a mapping.
pub const SHARED_MUTEX_SIZE: usize = std::mem::size_of::<libc::pthread_mutex_t>();
/// Bytes a [`SharedCondvar`] takes in a mapping.
pub const SHARED_CONDVAR_SIZE: usize = std::mem::size_of::<libc::pthread_cond_t>();
/// Bytes a [`SharedSemaphore`] takes in a mapping.
pub const SHARED_SEMAPHORE_SIZE: usize = std::mem::size_of::<libc::sem_t>();

/// What was placed at an offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PlacedKind {
    Semaphore,
    Mutex,
    /// A condition variable and the offset of the mutex it is used with.
    Condvar {
        mutex: usize,
    },
}

impl PlacedKind {
    fn size(self) -> usize {
        match self {
            PlacedKind::Semaphore => SHARED_SEMAPHORE_SIZE,
            PlacedKind::Mutex => SHARED_MUTEX_SIZE,
            PlacedKind::Condvar { .. } => SHARED_CONDVAR_SIZE,
        }
    }

    fn label(self) -> &'static str {
        match self {
            PlacedKind::Semaphore => "a semaphore",
            PlacedKind::Mutex => "a mutex",
            PlacedKind::Condvar { .. } => "a condition variable",
        }
    }
}

/// One object placed in a mapping: its range and kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Placement {
    offset: usize,
    kind: PlacedKind,
}

impl Placement {
    pub(crate) fn offset(&self) -> usize {
        self.offset
    }

    fn end(&self) -> usize {
        self.offset + self.kind.size()
    }
}

/// The refusal for an access of `len` bytes at `offset` that overlaps a placed
/// object, if one does.
pub(crate) fn overlap(placements: &[Placement], offset: usize, len: usize) -> Option<Refusal> {
    let end = offset.saturating_add(len);
    placements
        .iter()
        .find(|p| p.offset < end && offset < p.end())
        .map(|p| Refusal::Occupied {
            offset: p.offset,
            len: p.kind.size(),
            what: p.kind.label(),
        })
}

/// Process-shared synchronisation inside a shared memory [`Mapping`]: a robust,
/// error-checking pthread mutex, a condition variable bound to it, and an unnamed
/// semaphore (`sem_init` with `pshared` = 1). The document's other answer to "how
/// do processes synchronise shared memory?".
///
/// # Placing, then using
/// An object is *placed* once, with `&mut Mapping`, and then used through handles
/// borrowed from `&Mapping`:
///
/// ```
/// use ipc_core::{Mapping, SHARED_MUTEX_SIZE};
///
/// let mut map = Mapping::anonymous(4096)?;
/// let lock = map.place_shared_mutex(0)?;
/// let counter = map.place_shared_semaphore(64, 1)?;
///
/// let mutex = map.mutex(lock)?;
/// {
///     let _held = mutex.lock()?; // unlocked when `_held` goes
///     map.write(128, b"inside the lock")?;
/// }
/// map.semaphore(counter)?.wait()?;
/// assert!(map.place_shared_mutex(0).is_err(), "already placed there");
/// assert!(map.write(0, &[0; SHARED_MUTEX_SIZE]).is_err(), "those bytes are the mutex's");
/// # Ok::<(), ipc_core::Error>(())
/// ```
///
/// The two steps make the misuses of the C API impossible or refused:
/// - placing needs `&mut Mapping`, so it cannot happen while a handle or a guard
///   of that mapping is alive (initialising a held mutex again is undefined
///   behaviour in C), and it refuses bytes where an object is already placed;
/// - a [`Placed`] token names its mapping (a unique id, kept by a forked child's
///   copy) and the whole object's range, so a token from another mapping, even one
///   at the same address, is refused;
/// - [`Mapping::read`] and [`Mapping::write`] refuse bytes that belong to a placed
///   object, so a program cannot scribble over a mutex it uses;
/// - the mutex is `PTHREAD_MUTEX_ERRORCHECK` (locking it twice from one thread is an
///   `EDEADLK` error, not a deadlock) and `PTHREAD_MUTEX_ROBUST` (a holder that dies
///   does not leave it locked forever: the next locker is told, see
///   [`MutexGuard::previous_owner_died`]); it is only unlocked by dropping the
///   [`MutexGuard`] that [`SharedMutex::lock`] returns, so an early `?` never
///   leaves it held.
///
/// Placing while a handle or a guard of the mapping is alive does not compile:
///
/// ```compile_fail
/// let mut map = ipc_core::Mapping::anonymous(4096)?;
/// let lock = map.place_shared_mutex(0)?;
/// let mutex = map.mutex(lock)?;
/// let held = mutex.lock()?;
/// map.place_shared_mutex(0)?; // error: `map` is borrowed by `mutex`
/// drop(held);
/// # Ok::<(), ipc_core::Error>(())
/// ```
///
/// and a guard cannot move to another thread, which could not unlock it:
///
/// ```compile_fail
/// let mut map = ipc_core::Mapping::anonymous(4096)?;
/// let lock = map.place_shared_mutex(0)?;
/// let held = map.mutex(lock)?.lock()?;
/// std::thread::scope(|s| {
///     s.spawn(move || drop(held)); // error: `MutexGuard` is not `Send`
/// });
/// # Ok::<(), ipc_core::Error>(())
/// ```
///
/// # Anonymous mappings only
/// Objects are placed only in a [`Mapping::anonymous`] ([`Refusal::FileBacked`]
/// otherwise), and shared through `fork`: a child inherits the mapping, its
/// placements and its tokens. A mapping of a named object could be reached in
/// this very process through a second mapping or its descriptor (`pwrite`), where
/// no placement check would see the write, and a rewritten mutex makes glibc
/// write through whatever pointers it then holds. An anonymous mapping has no
/// name, no descriptor and no second mapping.
///
/// Objects are placed **before** forking: after a [`crate::process::fork`], every
/// mapping made earlier is shared, and each process checks its accesses against
/// its own copy of the placements, so an object placed then would be unknown to
/// the others, whose `write` could overwrite a mutex another process holds (its
/// robust-list pointers, which glibc follows on unlock). Placing in such a mapping
/// is refused ([`Refusal::SharedByFork`]), in the parent and the child alike.
///
/// # What stays outside Rust's reach
/// Since every placement is made before the mapping is shared, each process that
/// shares it refuses `write`s to the same placed bytes. Code outside this crate in
/// one of them (`unsafe` code, `/proc/PID/mem`) can still overwrite them: nothing
/// in one process can stop another from writing its own memory.
///
/// # References
/// pthread_mutexattr_setpshared(3), pthread_mutexattr_setrobust(3),
/// pthread_mutex_lock(3), pthread_mutex_consistent(3), pthread_cond_wait(3),
/// sem_init(3), sem_overview(7).
///
/// A token for a process-shared object placed in one mapping: which mapping (a
/// unique id), where, and what. A plain value, so it can be kept beside the mapping
/// and across `fork` (a forked child's copy of the mapping has the same id), and
/// turned into a handle with [`Mapping::mutex`], [`Mapping::condvar`] or
/// [`Mapping::semaphore`], which refuse a token of another mapping or kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placed {
    mapping: u64,
    placement: Placement,
}

/// A pthread call's return value (0, or the error number itself) as a result.
fn errno_of(rc: libc::c_int) -> std::result::Result<libc::c_int, Errno> {
    if rc == 0 {
        Ok(0)
    } else {
        Err(Errno::from_raw(rc))
    }
}

/// Narrates a pthread call made on `ptr` and turns its return value into a result.
fn pthread<T>(call: &'static str, ptr: *mut T, rc: libc::c_int) -> Result<()> {
    let result = errno_of(rc);
    explain!(call, result, "{ptr:p}");
    result
        .map(drop)
        .map_err(|errno| Error::os(call, None, errno))
}

impl Mapping {
    /// Checks that an object of `kind` fits at `offset` (inside, aligned, writable,
    /// on no other placed object) and returns its address.
    fn free_slot(&self, call: &'static str, offset: usize, kind: PlacedKind) -> Result<*mut u8> {
        let len = kind.size();
        let ptr = self.range_ptr(call, offset, len)?;
        // Every placed object starts on an 8-byte boundary (and is a multiple of 8
        // long), so the 8-byte words `read` and `write` use never straddle one.
        if !offset.is_multiple_of(8) || ptr.align_offset(8) != 0 {
            return Err(Error::refused(
                call,
                None,
                Errno::EINVAL,
                Refusal::Misaligned { offset },
            ));
        }
        if !self.is_anonymous() {
            return Err(Error::refused(
                call,
                None,
                Errno::EINVAL,
                Refusal::FileBacked,
            ));
        }
        if !self.is_writable() {
            return Err(Error::refused(call, None, Errno::EACCES, Refusal::ReadOnly));
        }
        // Each process sharing the mapping checks its accesses against its own copy
        // of the placements; one placed now would be missing from the others'.
        if self.shared_by_fork() {
            return Err(Error::refused(
                call,
                None,
                Errno::EBUSY,
                Refusal::SharedByFork,
            ));
        }
        if let Some(refusal) = overlap(self.placements(), offset, len) {
            return Err(Error::refused(call, None, Errno::EBUSY, refusal));
        }
        Ok(ptr)
    }

    fn record(&mut self, offset: usize, kind: PlacedKind) -> Placed {
        let placement = Placement { offset, kind };
        self.placements_mut().push(placement);
        Placed {
            mapping: self.id(),
            placement,
        }
    }

    /// The address of the object `placed` names, if it is one of this mapping's
    /// and of the kind asked for.
    fn placed_ptr(&self, placed: Placed, call: &'static str, kind: PlacedKind) -> Result<*mut u8> {
        let ours = placed.mapping == self.id() && self.placements().contains(&placed.placement);
        let same_kind =
            std::mem::discriminant(&placed.placement.kind) == std::mem::discriminant(&kind);
        if !ours || !same_kind {
            return Err(Error::refused(
                call,
                None,
                Errno::EINVAL,
                Refusal::ForeignPlacement,
            ));
        }
        self.range_ptr(call, placed.placement.offset, placed.placement.kind.size())
    }

    /// `pthread_mutex_init` at `offset` (a multiple of 8) with the attributes
    /// `PTHREAD_PROCESS_SHARED`, `PTHREAD_MUTEX_ERRORCHECK` and
    /// `PTHREAD_MUTEX_ROBUST`.
    ///
    /// # Errors
    /// A refusal for a range outside the mapping, a misaligned offset, a read-only
    /// mapping or bytes where an object is already placed; `EAGAIN`, `ENOMEM` from
    /// the call.
    pub fn place_shared_mutex(&mut self, offset: usize) -> Result<Placed> {
        let ptr = self.free_slot("pthread_mutex_init", offset, PlacedKind::Mutex)?;
        // SAFETY: an all-zero attribute object is valid storage for
        // pthread_mutexattr_init to initialise.
        let mut attr: libc::pthread_mutexattr_t = unsafe { std::mem::zeroed() };
        // SAFETY: `attr` is valid storage; init and destroy are paired below.
        pthread("pthread_mutexattr_init", &mut attr, unsafe {
            libc::pthread_mutexattr_init(&mut attr)
        })?;
        // SAFETY: `attr` was initialised just above; the setters only write it.
        let set = unsafe {
            [
                libc::pthread_mutexattr_setpshared(&mut attr, libc::PTHREAD_PROCESS_SHARED),
                libc::pthread_mutexattr_settype(&mut attr, libc::PTHREAD_MUTEX_ERRORCHECK),
                libc::pthread_mutexattr_setrobust(&mut attr, libc::PTHREAD_MUTEX_ROBUST),
            ]
        };
        let init = if let Some(&rc) = set.iter().find(|&&rc| rc != 0) {
            rc
        } else {
            // SAFETY: `ptr` is `SHARED_MUTEX_SIZE` bytes inside the mapping, aligned
            // (checked by `free_slot`); no handle of this mapping is alive (we hold
            // `&mut self`) and no object is placed on these bytes (checked), so no
            // thread of this process can be using a mutex here; `attr` is initialised.
            unsafe { libc::pthread_mutex_init(ptr.cast(), &attr) }
        };
        // SAFETY: `attr` is initialised and no longer needed.
        unsafe { libc::pthread_mutexattr_destroy(&mut attr) };
        pthread("pthread_mutex_init", ptr, init)?;
        Ok(self.record(offset, PlacedKind::Mutex))
    }

    /// `pthread_cond_init` at `offset` (a multiple of 8) with
    /// `PTHREAD_PROCESS_SHARED`, bound to the mutex `mutex` of this mapping: waiting
    /// on it with any other mutex is refused (POSIX leaves that undefined).
    ///
    /// # Errors
    /// As [`place_shared_mutex`](Self::place_shared_mutex); a refusal if `mutex` is
    /// not a mutex placed in this mapping.
    pub fn place_shared_condvar(&mut self, offset: usize, mutex: Placed) -> Result<Placed> {
        self.placed_ptr(mutex, "pthread_cond_init", PlacedKind::Mutex)?;
        let kind = PlacedKind::Condvar {
            mutex: mutex.placement.offset,
        };
        let ptr = self.free_slot("pthread_cond_init", offset, kind)?;
        // SAFETY: an all-zero attribute object is valid storage for init.
        let mut attr: libc::pthread_condattr_t = unsafe { std::mem::zeroed() };
        // SAFETY: `attr` is valid storage; init and destroy are paired below.
        pthread("pthread_condattr_init", &mut attr, unsafe {
            libc::pthread_condattr_init(&mut attr)
        })?;
        // SAFETY: `attr` was initialised just above.
        let shared =
            unsafe { libc::pthread_condattr_setpshared(&mut attr, libc::PTHREAD_PROCESS_SHARED) };
        let init = if shared != 0 {
            shared
        } else {
            // SAFETY: as for the mutex in `place_shared_mutex`: inside, aligned, no
            // handle alive (`&mut self`), no object placed on these bytes.
            unsafe { libc::pthread_cond_init(ptr.cast(), &attr) }
        };
        // SAFETY: `attr` is initialised and no longer needed.
        unsafe { libc::pthread_condattr_destroy(&mut attr) };
        pthread("pthread_cond_init", ptr, init)?;
        Ok(self.record(offset, kind))
    }

    /// `sem_init(ptr, 1, value)` at `offset` (a multiple of 8): an unnamed semaphore
    /// with no name to unlink, gone with the last mapping.
    ///
    /// # Errors
    /// As [`place_shared_mutex`](Self::place_shared_mutex); `EINVAL` for a value
    /// above `SEM_VALUE_MAX`.
    pub fn place_shared_semaphore(&mut self, offset: usize, value: u32) -> Result<Placed> {
        let ptr = self.free_slot("sem_init", offset, PlacedKind::Semaphore)?;
        // SAFETY: as for the mutex in `place_shared_mutex`: inside, aligned, no
        // handle alive (`&mut self`), no object placed on these bytes.
        let rc = unsafe { libc::sem_init(ptr.cast(), 1, value) };
        let result = if rc == -1 { Err(Errno::last()) } else { Ok(0) };
        explain!("sem_init", result, "{ptr:p}, 1, {value}");
        result.map_err(|errno| {
            let error = Error::os("sem_init", None, errno);
            if errno == Errno::EINVAL {
                error.with_limit(crate::limits::sem_value_max())
            } else {
                error
            }
        })?;
        Ok(self.record(offset, PlacedKind::Semaphore))
    }

    /// The mutex `placed` in this mapping.
    ///
    /// # Errors
    /// A refusal if `placed` is not a mutex placed in this mapping.
    pub fn mutex(&self, placed: Placed) -> Result<SharedMutex<'_>> {
        let ptr = self.placed_ptr(placed, "pthread_mutex_lock", PlacedKind::Mutex)?;
        Ok(SharedMutex {
            ptr: ptr.cast(),
            _mapping: PhantomData,
        })
    }

    /// The condition variable `placed` in this mapping.
    ///
    /// # Errors
    /// A refusal if `placed` is not a condition variable placed in this mapping.
    pub fn condvar(&self, placed: Placed) -> Result<SharedCondvar<'_>> {
        let call = "pthread_cond_wait";
        let PlacedKind::Condvar { mutex } = placed.placement.kind else {
            return Err(Error::refused(
                call,
                None,
                Errno::EINVAL,
                Refusal::ForeignPlacement,
            ));
        };
        let ptr = self.placed_ptr(placed, call, placed.placement.kind)?;
        Ok(SharedCondvar {
            ptr: ptr.cast(),
            mutex: self.range_ptr(call, mutex, SHARED_MUTEX_SIZE)?.cast(),
            _mapping: PhantomData,
        })
    }

    /// The semaphore `placed` in this mapping.
    ///
    /// # Errors
    /// A refusal if `placed` is not a semaphore placed in this mapping.
    pub fn semaphore(&self, placed: Placed) -> Result<SharedSemaphore<'_>> {
        let ptr = self.placed_ptr(placed, "sem_wait", PlacedKind::Semaphore)?;
        Ok(SharedSemaphore {
            ptr: ptr.cast(),
            _mapping: PhantomData,
        })
    }
}

/// A robust, error-checking, process-shared `pthread_mutex_t` in a [`Mapping`].
#[derive(Debug)]
pub struct SharedMutex<'map> {
    ptr: *mut libc::pthread_mutex_t,
    _mapping: PhantomData<&'map Mapping>,
}

// SAFETY: the handle is an address of a process-shared mutex in a mapping that
// outlives it; a pthread mutex is made to be used from any thread, and the only
// thread-bound state (who holds it) lives in the `MutexGuard`, which is not `Send`.
unsafe impl Send for SharedMutex<'_> {}
// SAFETY: as for `Send`: every operation through `&SharedMutex` is a pthread call
// that is safe from several threads at once.
unsafe impl Sync for SharedMutex<'_> {}

/// Proof that this thread holds a [`SharedMutex`]; unlocks it when dropped.
///
/// Not `Send`: a mutex is unlocked by the thread that locked it.
#[derive(Debug)]
#[must_use = "the mutex is unlocked as soon as the guard is dropped"]
pub struct MutexGuard<'map> {
    /// The mutex held; a raw pointer, which also keeps the guard from being `Send`.
    ptr: *mut libc::pthread_mutex_t,
    previous_owner_died: bool,
    _mapping: PhantomData<&'map Mapping>,
}

impl<'map> SharedMutex<'map> {
    /// Turns a lock call's result into a guard: `EOWNERDEAD` (the holder died) is
    /// a success that the guard reports, after `pthread_mutex_consistent`.
    fn guard(&self, call: &'static str, rc: libc::c_int) -> Result<MutexGuard<'map>> {
        let previous_owner_died = rc == libc::EOWNERDEAD;
        if previous_owner_died {
            // SAFETY: EOWNERDEAD means this thread now holds the mutex, which is
            // what pthread_mutex_consistent requires.
            pthread("pthread_mutex_consistent", self.ptr, unsafe {
                libc::pthread_mutex_consistent(self.ptr)
            })?;
        } else if rc != 0 {
            return Err(Error::os(call, None, Errno::from_raw(rc)));
        }
        Ok(MutexGuard {
            ptr: self.ptr,
            previous_owner_died,
            _mapping: PhantomData,
        })
    }

    /// `pthread_mutex_lock`: waits for the mutex and returns the guard that holds it.
    ///
    /// # Errors
    /// `EDEADLK` if this thread already holds it; `ENOTRECOVERABLE` if a holder died
    /// and the next one unlocked it without marking it consistent (this crate
    /// always marks it).
    pub fn lock(&self) -> Result<MutexGuard<'map>> {
        explain_start!("pthread_mutex_lock", "{:p}", self.ptr);
        // SAFETY: `ptr` is a mutex placed (initialised) in a mapping that outlives
        // `self`; an error-checking robust mutex reports misuse as an error.
        let rc = unsafe { libc::pthread_mutex_lock(self.ptr) };
        explain_resumed!("pthread_mutex_lock", errno_of(rc), "");
        self.guard("pthread_mutex_lock", rc)
    }

    /// `pthread_mutex_trylock`: the guard if the mutex was free, `None` if another
    /// thread holds it.
    ///
    /// # Errors
    /// As [`lock`](Self::lock): `EDEADLK` if this thread holds it.
    pub fn try_lock(&self) -> Result<Option<MutexGuard<'map>>> {
        // SAFETY: as for `lock`.
        let rc = unsafe { libc::pthread_mutex_trylock(self.ptr) };
        explain!("pthread_mutex_trylock", errno_of(rc), "{:p}", self.ptr);
        if rc == libc::EBUSY {
            return Ok(None);
        }
        self.guard("pthread_mutex_trylock", rc).map(Some)
    }

    /// `pthread_mutex_timedlock`: as [`lock`](Self::lock), giving up at `deadline`.
    ///
    /// # Errors
    /// `ETIMEDOUT` at the deadline; `EINVAL` for a deadline out of range; as `lock`.
    pub fn lock_until(&self, deadline: &Deadline) -> Result<MutexGuard<'map>> {
        explain_start!("pthread_mutex_timedlock", "{:p}, {deadline}", self.ptr);
        // SAFETY: as for `lock`; the deadline is a valid timespec read by the call.
        let rc = unsafe { libc::pthread_mutex_timedlock(self.ptr, deadline.as_timespec()) };
        explain_resumed!("pthread_mutex_timedlock", errno_of(rc), "");
        self.guard("pthread_mutex_timedlock", rc)
    }
}

impl MutexGuard<'_> {
    /// Whether the previous holder died holding the mutex (`EOWNERDEAD`): the bytes
    /// it protects may be half-updated. The mutex has been marked consistent again,
    /// so later lockers are not told.
    pub fn previous_owner_died(&self) -> bool {
        self.previous_owner_died
    }
}

impl Drop for MutexGuard<'_> {
    fn drop(&mut self) {
        // Narrated before it is made, so the line comes before the next holder's.
        explain_start!("pthread_mutex_unlock", "{:p}", self.ptr);
        // SAFETY: `ptr` is a placed, initialised mutex in a mapping that outlives
        // the guard ('map), and no placement can re-initialise it meanwhile (that
        // needs `&mut Mapping`). This thread normally holds it (the guard exists
        // only after a successful lock and is not `Send`); where it does not (a
        // forked child dropping its copy of a parent's guard, a condition wait
        // that failed without taking the mutex back), the error-checking, robust
        // mutex answers EPERM and stays as it was: defined behaviour either way.
        let rc = unsafe { libc::pthread_mutex_unlock(self.ptr) };
        explain_resumed!("pthread_mutex_unlock", errno_of(rc), "");
    }
}

/// A process-shared `pthread_cond_t` in a [`Mapping`], bound to one [`SharedMutex`].
#[derive(Debug)]
pub struct SharedCondvar<'map> {
    ptr: *mut libc::pthread_cond_t,
    /// The mutex it was placed with.
    mutex: *mut libc::pthread_mutex_t,
    _mapping: PhantomData<&'map Mapping>,
}

// SAFETY: an address of a process-shared condition variable in a mapping that
// outlives the handle; pthread condition variables are made for use from any thread.
unsafe impl Send for SharedCondvar<'_> {}
// SAFETY: as for `Send`.
unsafe impl Sync for SharedCondvar<'_> {}

impl SharedCondvar<'_> {
    fn check_mutex(&self, call: &'static str, guard: &MutexGuard<'_>) -> Result<()> {
        if guard.ptr == self.mutex {
            Ok(())
        } else {
            Err(Error::refused(
                call,
                None,
                Errno::EINVAL,
                Refusal::WrongMutex,
            ))
        }
    }

    /// Records what a wait returned: `EOWNERDEAD` means the mutex was taken back
    /// from a holder that died, which the guard then reports.
    fn waited(
        &self,
        call: &'static str,
        rc: libc::c_int,
        guard: &mut MutexGuard<'_>,
    ) -> Result<()> {
        explain_resumed!(call, errno_of(rc), "");
        if rc == libc::EOWNERDEAD {
            guard.previous_owner_died = true;
            // SAFETY: EOWNERDEAD from a wait means this thread holds the mutex again.
            return pthread("pthread_mutex_consistent", guard.ptr, unsafe {
                libc::pthread_mutex_consistent(guard.ptr)
            });
        }
        errno_of(rc)
            .map(drop)
            .map_err(|errno| Error::os(call, None, errno))
    }

    /// `pthread_cond_wait`: releases the mutex `guard` holds, waits for a signal and
    /// takes the mutex again. Wake-ups may be spurious: wait in a loop on the
    /// condition.
    ///
    /// # Errors
    /// A refusal if `guard` holds another mutex than this condition variable's.
    pub fn wait(&self, guard: &mut MutexGuard<'_>) -> Result<()> {
        self.check_mutex("pthread_cond_wait", guard)?;
        explain_start!("pthread_cond_wait", "{:p}, {:p}", self.ptr, guard.ptr);
        // SAFETY: both are placed objects of one mapping that outlives them; the
        // guard proves this thread holds the condition variable's own mutex.
        let rc = unsafe { libc::pthread_cond_wait(self.ptr, guard.ptr) };
        self.waited("pthread_cond_wait", rc, guard)
    }

    /// `pthread_cond_timedwait`: as [`wait`](Self::wait), giving up at `deadline`
    /// (holding the mutex again either way).
    ///
    /// # Errors
    /// `ETIMEDOUT` at the deadline; as `wait`.
    pub fn wait_until(&self, guard: &mut MutexGuard<'_>, deadline: &Deadline) -> Result<()> {
        self.check_mutex("pthread_cond_timedwait", guard)?;
        explain_start!(
            "pthread_cond_timedwait",
            "{:p}, {:p}, {deadline}",
            self.ptr,
            guard.ptr
        );
        // SAFETY: as for `wait`; the deadline is a valid timespec read by the call.
        let rc =
            unsafe { libc::pthread_cond_timedwait(self.ptr, guard.ptr, deadline.as_timespec()) };
        self.waited("pthread_cond_timedwait", rc, guard)
    }

    /// `pthread_cond_signal`: wakes one waiter.
    ///
    /// # Errors
    /// None in practice (`EINVAL` for an uninitialised object, which a placed one
    /// is not).
    pub fn signal(&self) -> Result<()> {
        explain_start!("pthread_cond_signal", "{:p}", self.ptr);
        // SAFETY: `ptr` is a placed condition variable in a mapping that outlives `self`.
        let rc = unsafe { libc::pthread_cond_signal(self.ptr) };
        explain_resumed!("pthread_cond_signal", errno_of(rc), "");
        errno_of(rc)
            .map(drop)
            .map_err(|errno| Error::os("pthread_cond_signal", None, errno))
    }

    /// `pthread_cond_broadcast`: wakes every waiter.
    ///
    /// # Errors
    /// As [`signal`](Self::signal).
    pub fn broadcast(&self) -> Result<()> {
        explain_start!("pthread_cond_broadcast", "{:p}", self.ptr);
        // SAFETY: as for `signal`.
        let rc = unsafe { libc::pthread_cond_broadcast(self.ptr) };
        explain_resumed!("pthread_cond_broadcast", errno_of(rc), "");
        errno_of(rc)
            .map(drop)
            .map_err(|errno| Error::os("pthread_cond_broadcast", None, errno))
    }
}

/// An unnamed process-shared semaphore (`sem_init(.., 1, ..)`) in a [`Mapping`].
#[derive(Debug)]
pub struct SharedSemaphore<'map> {
    ptr: *mut libc::sem_t,
    _mapping: PhantomData<&'map Mapping>,
}

// SAFETY: an address of a process-shared semaphore in a mapping that outlives the
// handle; semaphores are made for use from any thread and process.
unsafe impl Send for SharedSemaphore<'_> {}
// SAFETY: as for `Send`.
unsafe impl Sync for SharedSemaphore<'_> {}

impl SharedSemaphore<'_> {
    fn check(&self, call: &'static str, rc: libc::c_int) -> Result<()> {
        let result = if rc == -1 { Err(Errno::last()) } else { Ok(0) };
        explain!(call, result, "{:p}", self.ptr);
        result
            .map(drop)
            .map_err(|errno| Error::os(call, None, errno))
    }

    /// As `check`, for a call whose start was narrated.
    fn resumed(&self, call: &'static str, rc: libc::c_int) -> Result<()> {
        let result = if rc == -1 { Err(Errno::last()) } else { Ok(0) };
        explain_resumed!(call, result, "");
        result
            .map(drop)
            .map_err(|errno| Error::os(call, None, errno))
    }

    /// `sem_wait`, under the `EINTR` policy of [`crate::termination`].
    ///
    /// # Errors
    /// A [`Refusal::Terminated`] refusal when a termination was requested.
    pub fn wait(&self) -> Result<()> {
        crate::termination::blocking("sem_wait", None, || {
            explain_start!("sem_wait", "{:p}", self.ptr);
            // SAFETY: `ptr` is a placed semaphore in a mapping that outlives `self`.
            let rc = unsafe { libc::sem_wait(self.ptr) };
            self.resumed("sem_wait", rc)
        })
    }

    /// `sem_trywait`: takes one if the value is above zero; `false` if it is zero.
    ///
    /// # Errors
    /// None in practice.
    pub fn try_wait(&self) -> Result<bool> {
        // SAFETY: as for `wait`.
        let rc = unsafe { libc::sem_trywait(self.ptr) };
        match self.check("sem_trywait", rc) {
            Ok(()) => Ok(true),
            Err(e) if e.errno() == Errno::EAGAIN => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `sem_timedwait`: as [`wait`](Self::wait), giving up at `deadline`.
    ///
    /// # Errors
    /// `ETIMEDOUT` at the deadline; `EINVAL` for a deadline out of range; as `wait`.
    pub fn wait_until(&self, deadline: &Deadline) -> Result<()> {
        crate::termination::blocking("sem_timedwait", None, || {
            explain_start!("sem_timedwait", "{:p}, {deadline}", self.ptr);
            // SAFETY: as for `wait`; the deadline is a valid timespec read by the call.
            let rc = unsafe { libc::sem_timedwait(self.ptr, deadline.as_timespec()) };
            self.resumed("sem_timedwait", rc)
        })
    }

    /// `sem_post`.
    ///
    /// # Errors
    /// `EOVERFLOW` at `SEM_VALUE_MAX`.
    pub fn post(&self) -> Result<()> {
        // Narrated before it is made, so the line comes before any waiter's it wakes.
        explain_start!("sem_post", "{:p}", self.ptr);
        // SAFETY: as for `wait`.
        let rc = unsafe { libc::sem_post(self.ptr) };
        self.resumed("sem_post", rc)
    }

    /// `sem_getvalue`: the value now (already stale when it returns).
    ///
    /// # Errors
    /// None in practice.
    pub fn value(&self) -> Result<u32> {
        let mut value: libc::c_int = 0;
        // SAFETY: as for `wait`; `value` is valid for the write.
        let rc = unsafe { libc::sem_getvalue(self.ptr, &mut value) };
        self.check("sem_getvalue", rc)?;
        Ok(value.max(0) as u32)
    }
}
