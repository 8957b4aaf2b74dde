//! A process-shared pthread mutex inside a shared memory mapping: the document's
//! other answer to "how do processes synchronise shared memory?"
//! (`pthread_mutexattr_setpshared(PTHREAD_PROCESS_SHARED)`).
//!
//! The mutex lives in the mapped bytes, so every process that maps the object
//! (or inherits the mapping across `fork`) uses the same lock. It is initialised
//! once, by one process, before the others use it.
//!
//! # References
//! pthread_mutexattr_setpshared(3), pthread_mutex_init(3), pthread_mutex_lock(3).

use std::marker::PhantomData;

use nix::errno::Errno;

use crate::error::{Error, Refusal, Result};
use crate::explain::explain;
use crate::shm::Mapping;

/// Bytes a [`SharedMutex`] takes in a mapping.
pub const SHARED_MUTEX_SIZE: usize = std::mem::size_of::<libc::pthread_mutex_t>();

/// A `pthread_mutex_t` with `PTHREAD_PROCESS_SHARED`, living in a [`Mapping`].
#[derive(Debug)]
pub struct SharedMutex<'map> {
    ptr: *mut libc::pthread_mutex_t,
    _mapping: PhantomData<&'map Mapping>,
}

fn pthread(call: &'static str, rc: libc::c_int) -> Result<()> {
    let result = if rc == 0 {
        Ok(0)
    } else {
        Err(Errno::from_raw(rc))
    };
    explain!(call, result, "...");
    result
        .map(drop)
        .map_err(|errno| Error::os(call, None, errno))
}

impl Mapping {
    fn mutex_at(&self, offset: usize) -> Result<*mut libc::pthread_mutex_t> {
        let ptr = self.range_ptr("pthread_mutex_init", offset, SHARED_MUTEX_SIZE)?;
        if ptr.align_offset(std::mem::align_of::<libc::pthread_mutex_t>()) != 0 {
            return Err(Error::refused(
                "pthread_mutex_init",
                None,
                Errno::EINVAL,
                Refusal::Misaligned { offset },
            ));
        }
        Ok(ptr.cast())
    }

    /// `pthread_mutex_init` with `PTHREAD_PROCESS_SHARED` at `offset` (aligned for a
    /// mutex): call once, before any process uses it.
    ///
    /// # Errors
    /// A refusal for a range outside the mapping or a misaligned offset; `EAGAIN`,
    /// `ENOMEM` from the call.
    pub fn init_shared_mutex(&self, offset: usize) -> Result<SharedMutex<'_>> {
        let ptr = self.mutex_at(offset)?;
        // SAFETY: an all-zero attribute object is valid storage for
        // pthread_mutexattr_init to initialise.
        let mut attr: libc::pthread_mutexattr_t = unsafe { std::mem::zeroed() };
        // SAFETY: `attr` is valid storage; init, setpshared and destroy are paired.
        pthread("pthread_mutexattr_init", unsafe {
            libc::pthread_mutexattr_init(&mut attr)
        })?;
        // SAFETY: `attr` was initialised just above.
        let shared =
            unsafe { libc::pthread_mutexattr_setpshared(&mut attr, libc::PTHREAD_PROCESS_SHARED) };
        // SAFETY: `ptr` is inside the mapping, aligned and sized for a mutex (checked
        // by `mutex_at`), and no process uses it yet (the caller's contract); `attr`
        // is initialised.
        let init = unsafe { libc::pthread_mutex_init(ptr, &attr) };
        // SAFETY: `attr` is initialised and no longer needed.
        unsafe { libc::pthread_mutexattr_destroy(&mut attr) };
        pthread("pthread_mutexattr_setpshared", shared)?;
        pthread("pthread_mutex_init", init)?;
        Ok(SharedMutex {
            ptr,
            _mapping: PhantomData,
        })
    }
}

impl SharedMutex<'_> {
    /// `pthread_mutex_lock`.
    ///
    /// # Errors
    /// `EDEADLK` or `EINVAL` only, which a correctly used mutex does not meet.
    pub fn lock(&self) -> Result<()> {
        // SAFETY: `ptr` points at a mutex initialised by `init_shared_mutex` inside a
        // mapping that outlives `self`.
        pthread("pthread_mutex_lock", unsafe {
            libc::pthread_mutex_lock(self.ptr)
        })
    }

    /// `pthread_mutex_unlock`.
    ///
    /// # Errors
    /// `EPERM` if this thread does not hold it.
    pub fn unlock(&self) -> Result<()> {
        // SAFETY: as for `lock`.
        pthread("pthread_mutex_unlock", unsafe {
            libc::pthread_mutex_unlock(self.ptr)
        })
    }
}

/// Bytes a [`SharedSemaphore`] takes in a mapping.
pub const SHARED_SEMAPHORE_SIZE: usize = std::mem::size_of::<libc::sem_t>();

/// An unnamed semaphore (`sem_init` with `pshared` = 1) living in a [`Mapping`]:
/// no name, nothing to unlink, gone with the last mapping.
#[derive(Debug)]
pub struct SharedSemaphore<'map> {
    ptr: *mut libc::sem_t,
    _mapping: PhantomData<&'map Mapping>,
}

impl Mapping {
    /// `sem_init(ptr, 1, value)` at `offset` (aligned for a `sem_t`): call once,
    /// before any process uses it.
    ///
    /// # Errors
    /// A refusal for a range outside the mapping or a misaligned offset; `EINVAL`
    /// for a value above `SEM_VALUE_MAX`.
    pub fn init_shared_semaphore(&self, offset: usize, value: u32) -> Result<SharedSemaphore<'_>> {
        let ptr = self.range_ptr("sem_init", offset, SHARED_SEMAPHORE_SIZE)?;
        if ptr.align_offset(std::mem::align_of::<libc::sem_t>()) != 0 {
            return Err(Error::refused(
                "sem_init",
                None,
                Errno::EINVAL,
                Refusal::Misaligned { offset },
            ));
        }
        let ptr = ptr.cast::<libc::sem_t>();
        // SAFETY: `ptr` is inside the mapping, aligned and sized for a sem_t, and no
        // process uses it yet (the caller's contract).
        let rc = unsafe { libc::sem_init(ptr, 1, value) };
        let result = if rc == -1 { Err(Errno::last()) } else { Ok(0) };
        explain!("sem_init", result, "{ptr:p}, 1, {value}");
        result.map_err(|errno| Error::os("sem_init", None, errno))?;
        Ok(SharedSemaphore {
            ptr,
            _mapping: PhantomData,
        })
    }
}

impl SharedSemaphore<'_> {
    fn check(&self, call: &'static str, rc: libc::c_int) -> Result<()> {
        let result = if rc == -1 { Err(Errno::last()) } else { Ok(0) };
        explain!(call, result, "{:p}", self.ptr);
        result
            .map(drop)
            .map_err(|errno| Error::os(call, None, errno))
    }

    /// `sem_wait`, under the `EINTR` policy of [`crate::termination`].
    ///
    /// # Errors
    /// `EINVAL` only, which an initialised semaphore does not meet.
    pub fn wait(&self) -> Result<()> {
        crate::termination::blocking("sem_wait", None, || {
            // SAFETY: `ptr` is a semaphore initialised by `init_shared_semaphore` in a
            // mapping that outlives `self`.
            let rc = unsafe { libc::sem_wait(self.ptr) };
            self.check("sem_wait", rc)
        })
    }

    /// `sem_post`.
    ///
    /// # Errors
    /// `EOVERFLOW` at `SEM_VALUE_MAX`.
    pub fn post(&self) -> Result<()> {
        // SAFETY: as for `wait`.
        let rc = unsafe { libc::sem_post(self.ptr) };
        self.check("sem_post", rc)
    }
}

/// Bytes a [`SharedCondvar`] takes in a mapping.
pub const SHARED_CONDVAR_SIZE: usize = std::mem::size_of::<libc::pthread_cond_t>();

/// A `pthread_cond_t` with `PTHREAD_PROCESS_SHARED`, living in a [`Mapping`], used
/// with a [`SharedMutex`] of the same mapping.
#[derive(Debug)]
pub struct SharedCondvar<'map> {
    ptr: *mut libc::pthread_cond_t,
    _mapping: PhantomData<&'map Mapping>,
}

impl Mapping {
    /// `pthread_cond_init` with `PTHREAD_PROCESS_SHARED` at `offset` (aligned for a
    /// condition variable): call once, before any process uses it.
    ///
    /// # Errors
    /// A refusal for a range outside the mapping or a misaligned offset; `EAGAIN`,
    /// `ENOMEM` from the call.
    pub fn init_shared_condvar(&self, offset: usize) -> Result<SharedCondvar<'_>> {
        let ptr = self.range_ptr("pthread_cond_init", offset, SHARED_CONDVAR_SIZE)?;
        if ptr.align_offset(std::mem::align_of::<libc::pthread_cond_t>()) != 0 {
            return Err(Error::refused(
                "pthread_cond_init",
                None,
                Errno::EINVAL,
                Refusal::Misaligned { offset },
            ));
        }
        let ptr = ptr.cast::<libc::pthread_cond_t>();
        // SAFETY: an all-zero attribute object is valid storage for init.
        let mut attr: libc::pthread_condattr_t = unsafe { std::mem::zeroed() };
        // SAFETY: `attr` is valid storage; init, setpshared and destroy are paired.
        pthread("pthread_condattr_init", unsafe {
            libc::pthread_condattr_init(&mut attr)
        })?;
        // SAFETY: `attr` was initialised just above.
        let shared =
            unsafe { libc::pthread_condattr_setpshared(&mut attr, libc::PTHREAD_PROCESS_SHARED) };
        // SAFETY: `ptr` is inside the mapping, aligned and sized for a condition
        // variable, and no process uses it yet (the caller's contract).
        let init = unsafe { libc::pthread_cond_init(ptr, &attr) };
        // SAFETY: `attr` is initialised and no longer needed.
        unsafe { libc::pthread_condattr_destroy(&mut attr) };
        pthread("pthread_condattr_setpshared", shared)?;
        pthread("pthread_cond_init", init)?;
        Ok(SharedCondvar {
            ptr,
            _mapping: PhantomData,
        })
    }
}

impl SharedCondvar<'_> {
    /// `pthread_cond_wait`: releases `mutex` (which the caller holds), waits for a
    /// signal, and takes `mutex` again. Wake-ups may be spurious: wait in a loop on
    /// the condition.
    ///
    /// # Errors
    /// `EINVAL`, `EPERM` for a mutex not held.
    pub fn wait(&self, mutex: &SharedMutex<'_>) -> Result<()> {
        // SAFETY: both point at objects initialised in a mapping that outlives them;
        // the caller holds `mutex`.
        pthread("pthread_cond_wait", unsafe {
            libc::pthread_cond_wait(self.ptr, mutex.ptr)
        })
    }

    /// `pthread_cond_signal`: wakes one waiter.
    ///
    /// # Errors
    /// `EINVAL` only.
    pub fn signal(&self) -> Result<()> {
        // SAFETY: `ptr` points at an initialised condition variable.
        pthread("pthread_cond_signal", unsafe {
            libc::pthread_cond_signal(self.ptr)
        })
    }
}

/// Proof that a process-shared object was initialised at an offset of one mapping:
/// a plain value (no borrow), so it can be kept beside the mapping and across
/// `fork` (a forked child has the mapping at the same address), and turned back
/// into a handle with [`Mapping::semaphore_at`], [`Mapping::mutex_at_placed`] or
/// [`Mapping::condvar_at`], which check it belongs to that mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placed {
    base: usize,
    offset: usize,
    kind: PlacedKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PlacedKind {
    Semaphore,
    Mutex,
    Condvar,
}

impl Mapping {
    fn placed(&self, offset: usize, kind: PlacedKind) -> Placed {
        Placed {
            base: self.base_address(),
            offset,
            kind,
        }
    }

    fn check_placed(
        &self,
        placed: Placed,
        kind: PlacedKind,
        call: &'static str,
    ) -> Result<*mut u8> {
        if placed.base != self.base_address() || placed.kind != kind {
            return Err(Error::refused(
                call,
                None,
                Errno::EINVAL,
                Refusal::Cleanup(
                    "that object was placed in another mapping, or is of another kind",
                ),
            ));
        }
        self.range_ptr(call, placed.offset, 1)
    }

    /// [`init_shared_semaphore`](Mapping::init_shared_semaphore), returning a [`Placed`].
    ///
    /// # Errors
    /// As `init_shared_semaphore`.
    pub fn place_shared_semaphore(&self, offset: usize, value: u32) -> Result<Placed> {
        self.init_shared_semaphore(offset, value)?;
        Ok(self.placed(offset, PlacedKind::Semaphore))
    }

    /// [`init_shared_mutex`](Mapping::init_shared_mutex), returning a [`Placed`].
    ///
    /// # Errors
    /// As `init_shared_mutex`.
    pub fn place_shared_mutex(&self, offset: usize) -> Result<Placed> {
        self.init_shared_mutex(offset)?;
        Ok(self.placed(offset, PlacedKind::Mutex))
    }

    /// [`init_shared_condvar`](Mapping::init_shared_condvar), returning a [`Placed`].
    ///
    /// # Errors
    /// As `init_shared_condvar`.
    pub fn place_shared_condvar(&self, offset: usize) -> Result<Placed> {
        self.init_shared_condvar(offset)?;
        Ok(self.placed(offset, PlacedKind::Condvar))
    }

    /// The semaphore `placed` in this mapping.
    ///
    /// # Errors
    /// A refusal if `placed` is not a semaphore of this mapping.
    pub fn semaphore_at(&self, placed: Placed) -> Result<SharedSemaphore<'_>> {
        let ptr = self.check_placed(placed, PlacedKind::Semaphore, "sem_wait")?;
        Ok(SharedSemaphore {
            ptr: ptr.cast(),
            _mapping: PhantomData,
        })
    }

    /// The mutex `placed` in this mapping.
    ///
    /// # Errors
    /// A refusal if `placed` is not a mutex of this mapping.
    pub fn mutex_at_placed(&self, placed: Placed) -> Result<SharedMutex<'_>> {
        let ptr = self.check_placed(placed, PlacedKind::Mutex, "pthread_mutex_lock")?;
        Ok(SharedMutex {
            ptr: ptr.cast(),
            _mapping: PhantomData,
        })
    }

    /// The condition variable `placed` in this mapping.
    ///
    /// # Errors
    /// A refusal if `placed` is not a condition variable of this mapping.
    pub fn condvar_at(&self, placed: Placed) -> Result<SharedCondvar<'_>> {
        let ptr = self.check_placed(placed, PlacedKind::Condvar, "pthread_cond_wait")?;
        Ok(SharedCondvar {
            ptr: ptr.cast(),
            _mapping: PhantomData,
        })
    }
}
