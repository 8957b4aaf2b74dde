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
