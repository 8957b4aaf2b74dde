//! Named POSIX semaphores: [`Semaphore`].

use std::ptr::NonNull;

use std::time::Duration;

use nix::errno::Errno;
use nix::sys::stat::Mode;

use crate::deadline::Deadline;
use crate::error::{Error, Refusal, Result};
use crate::explain::{explain, explain_resumed, explain_start, oflag as flag_names};
use crate::limits;
use crate::name::Name;
use crate::open::Creation;
use crate::shm::FileMapped;
use crate::termination;

/// Largest value a semaphore can hold (`SEM_VALUE_MAX`).
pub const SEM_VALUE_MAX: u32 = i32::MAX as u32;

/// How to open a semaphore: the `oflag`, `mode` and `value` arguments of `sem_open`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SemOptions {
    /// `O_CREAT` / `O_EXCL`.
    pub creation: Creation,
    /// Permission bits for a semaphore this call creates (masked by the umask).
    pub mode: Mode,
    /// Initial value for a semaphore this call creates.
    pub value: u32,
}

impl Default for SemOptions {
    fn default() -> SemOptions {
        SemOptions {
            creation: Creation::OpenExisting,
            mode: Mode::from_bits_truncate(0o600),
            value: 0,
        }
    }
}

impl SemOptions {
    /// Open an existing semaphore; the setters below change one argument each.
    pub fn new() -> SemOptions {
        SemOptions::default()
    }

    /// `O_CREAT` / `O_EXCL`.
    pub fn creation(mut self, creation: Creation) -> SemOptions {
        self.creation = creation;
        self
    }

    /// Permission bits for a semaphore this call creates, as in C: `0o644`.
    pub fn mode(mut self, bits: u32) -> SemOptions {
        self.mode = Mode::from_bits_truncate(bits as libc::mode_t);
        self
    }

    /// Initial value for a semaphore this call creates.
    pub fn value(mut self, value: u32) -> SemOptions {
        self.value = value;
        self
    }
}

/// Named POSIX semaphores: `sem_open`, `sem_wait`, `sem_trywait`, `sem_timedwait`,
/// `sem_post`, `sem_getvalue`, `sem_close`, `sem_unlink`.
///
/// nix has no named semaphores, so these wrap `libc` directly. glibc keeps a named
/// semaphore in the file `/dev/shm/sem.NAME` and maps it into each process that
/// opens it; [`Semaphore`] is that mapping. Dropping it closes it (`sem_close`);
/// the semaphore and its value stay until [`Semaphore::unlink`].
///
/// # References
/// sem_overview(7), sem_open(3), sem_wait(3), sem_post(3), sem_getvalue(3),
/// sem_close(3), sem_unlink(3).
///
/// An open named semaphore; closed on drop.
#[derive(Debug)]
pub struct Semaphore {
    sem: SemPtr,
    /// glibc's mapping of `/dev/shm/sem.NAME`, recorded so that this process never
    /// shrinks that file under it (it is also the shared memory object
    /// `/sem.NAME`, which [`crate::SharedMemory::set_len`] could truncate, and the
    /// next use would raise `SIGBUS`). Declared after `sem`, so it is forgotten
    /// only once the mapping is gone.
    _file: Option<FileMapped>,
    name: Name,
}

/// The owned `sem_t *`: closing it is this type's job alone.
#[derive(Debug)]
struct SemPtr(NonNull<libc::sem_t>);

impl SemPtr {
    fn close(self) -> libc::c_int {
        let raw = self.0.as_ptr();
        std::mem::forget(self);
        // SAFETY: `raw` came from `sem_open` and is closed exactly once: `self`
        // is gone without running `Drop`.
        unsafe { libc::sem_close(raw) }
    }
}

impl Drop for SemPtr {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `sem_open` and is not used after drop.
        let rc = unsafe { libc::sem_close(self.0.as_ptr()) };
        explain!("sem_close", outcome(rc), "{:p}", self.0.as_ptr());
    }
}

/// A C return value: `Err(errno)` for -1, read at once.
fn outcome(rc: libc::c_int) -> std::result::Result<libc::c_int, Errno> {
    if rc == -1 {
        Err(Errno::last())
    } else {
        Ok(rc)
    }
}

/// A pointer shown as `0x7f...`.
struct Address(*mut libc::sem_t);

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:p}", self.0)
    }
}

// SAFETY: a `sem_t *` from `sem_open` may be used from any thread; all operations
// on it are atomic in the C library.
unsafe impl Send for SemPtr {}
// SAFETY: as for `Send`: `sem_wait`/`sem_post`/`sem_getvalue` are thread-safe.
unsafe impl Sync for SemPtr {}

impl Semaphore {
    /// `sem_open(name, oflag, mode, value)`: opens or creates the semaphore `name`.
    ///
    /// # Errors
    /// A refusal for a name longer than [`crate::SEM_NAME_MAX`] or a value above
    /// [`SEM_VALUE_MAX`]; from the call: `ENOENT`, `EEXIST`, `EACCES`, `EMFILE`.
    pub fn open(name: &Name, options: &SemOptions) -> Result<Semaphore> {
        name.check_semaphore()
            .map_err(|e| Error::bad_name("sem_open", e))?;
        if options.value > SEM_VALUE_MAX {
            return Err(
                Error::refused("sem_open", Some(name), Errno::EINVAL, Refusal::OverLimit)
                    .with_limit(limits::sem_value_max()),
            );
        }
        // glibc maps whatever file is there: one of the wrong size (anyone can make
        // a 0-byte sem.NAME) would fault at the first use. Refuse what is plainly
        // no semaphore; a file swapped in between this look and sem_open is beyond
        // what a look can catch. An exclusive create never opens what is there
        // (glibc links a new file to the name, and the link fails with EEXIST), so
        // it makes the call and reports EEXIST, as C does, for any file there.
        let maps_existing = options.creation != Creation::CreateExclusive;
        if let Some(Ok(meta)) = crate::ObjectKind::Semaphore
            .file(name)
            .filter(|_| maps_existing)
            .map(std::fs::symlink_metadata)
        {
            let size = std::mem::size_of::<libc::sem_t>() as u64;
            if !meta.is_file() || meta.len() != size {
                return Err(Error::refused(
                    "sem_open",
                    Some(name),
                    Errno::EINVAL,
                    Refusal::NotASemaphore { size: meta.len() },
                ));
            }
        }
        // SAFETY: the name is NUL-terminated and outlives the call; `sem_open` is
        // variadic and reads `mode_t` and `unsigned int`, passed here as `c_uint`.
        let sem = unsafe {
            libc::sem_open(
                name.as_c_str().as_ptr(),
                options.creation.oflag().bits(),
                libc::c_uint::from(options.mode.bits()),
                options.value as libc::c_uint,
            )
        };
        let result = if sem == libc::SEM_FAILED {
            Err(Errno::last())
        } else {
            Ok(Address(sem))
        };
        explain!(
            "sem_open",
            result,
            "\"{name}\", {}{}",
            flag_names(options.creation.oflag(), false),
            if options.creation.creates() {
                format!(", {:04o}, {}", options.mode.bits(), options.value)
            } else {
                String::new()
            }
        );
        result.map_err(|errno| match errno {
            Errno::EMFILE => {
                Error::os("sem_open", Some(name), errno).with_limit(limits::rlimit_nofile())
            }
            _ => Error::os("sem_open", Some(name), errno),
        })?;
        let sem = NonNull::new(sem).expect("sem_open returned null without SEM_FAILED");
        let file = FileMapped::at(sem.as_ptr() as usize, std::mem::size_of::<libc::sem_t>());
        Ok(Semaphore {
            sem: SemPtr(sem),
            _file: file,
            name: name.clone(),
        })
    }

    /// The semaphore's name.
    pub fn name(&self) -> &Name {
        &self.name
    }

    /// `sem_wait`: waits until the value is above zero, then decrements it.
    ///
    /// An interruption by a signal is retried, unless a termination was requested
    /// (see [`crate::termination`]).
    ///
    /// # Errors
    /// A termination error ([`Error::termination`]); `EINVAL` only otherwise, which
    /// a live handle does not meet.
    #[inline]
    pub fn wait(&self) -> Result<()> {
        termination::blocking("sem_wait", Some(&self.name), || {
            explain_start!("sem_wait", "{}", self.handle());
            // SAFETY: the pointer is a live semaphore from `sem_open`.
            let rc = unsafe { libc::sem_wait(self.sem.0.as_ptr()) };
            explain_resumed!("sem_wait", outcome(rc), "");
            self.result(rc, "sem_wait")
        })
    }

    /// `sem_trywait`: decrements the value if it is above zero, without waiting.
    ///
    /// # Errors
    /// `EAGAIN` when the value is zero.
    #[inline]
    pub fn try_wait(&self) -> Result<()> {
        // SAFETY: the pointer is a live semaphore from `sem_open`.
        let rc = unsafe { libc::sem_trywait(self.sem.0.as_ptr()) };
        self.check(rc, "sem_trywait", format_args!(""))
    }

    /// `sem_timedwait`: as [`wait`](Self::wait), giving up at `deadline`. An
    /// interruption is retried with the same deadline, so only the time left.
    ///
    /// # Errors
    /// `ETIMEDOUT` at the deadline; `EINVAL` for a deadline with bad nanoseconds
    /// (naming the field); a termination error.
    pub fn wait_until(&self, deadline: &Deadline) -> Result<()> {
        termination::blocking("sem_timedwait", Some(&self.name), || {
            self.wait_until_once(deadline)
        })
    }

    /// Waits as [`wait`](Self::wait) does, for a post that another process will
    /// make as long as it lives: `sem_timedwait` in slices of `slice`, asking
    /// `poster_lives()` between two slices. `Ok(true)` once one was taken;
    /// `Ok(false)` when `poster_lives()` said no and nothing was there to take (a
    /// last `sem_trywait` takes a post made just before the poster ended). Narrated
    /// as one wait, not one line per slice.
    ///
    /// # Errors
    /// As [`wait_until`](Self::wait_until), apart from `ETIMEDOUT`.
    pub fn wait_while(
        &self,
        slice: Duration,
        mut poster_lives: impl FnMut() -> bool,
    ) -> Result<bool> {
        let millis = slice.as_millis();
        explain_start!(
            "sem_timedwait",
            "{}, every {millis} ms while the poster lives",
            self.handle()
        );
        let outcome = loop {
            if !poster_lives() {
                // SAFETY: the pointer is a live semaphore from `sem_open`.
                let rc = unsafe { libc::sem_trywait(self.sem.0.as_ptr()) };
                break match outcome(rc) {
                    Ok(_) => Ok(true),
                    Err(Errno::EAGAIN) => Ok(false),
                    Err(errno) => Err(Error::os("sem_trywait", Some(&self.name), errno)),
                };
            }
            let deadline = match Deadline::after(slice) {
                Ok(deadline) => deadline,
                Err(e) => break Err(e),
            };
            let taken = termination::blocking("sem_timedwait", Some(&self.name), || {
                // SAFETY: the pointer is a live semaphore; the timespec is valid for reads.
                let rc =
                    unsafe { libc::sem_timedwait(self.sem.0.as_ptr(), deadline.as_timespec()) };
                self.result(rc, "sem_timedwait")
            });
            match taken {
                Ok(()) => break Ok(true),
                Err(e) if e.errno() == Errno::ETIMEDOUT => continue,
                Err(e) => break Err(e),
            }
        };
        let shown = match &outcome {
            Ok(true) => Ok(0),
            Ok(false) => Err(Errno::EAGAIN),
            Err(e) => Err(e.errno()),
        };
        explain_resumed!("sem_timedwait", shown, "");
        outcome
    }

    fn wait_until_once(&self, deadline: &Deadline) -> Result<()> {
        explain_start!("sem_timedwait", "{}, {deadline}", self.handle());
        // SAFETY: the pointer is a live semaphore; the timespec is valid for reads.
        let rc = unsafe { libc::sem_timedwait(self.sem.0.as_ptr(), deadline.as_timespec()) };
        explain_resumed!("sem_timedwait", outcome(rc), "");
        self.result(rc, "sem_timedwait").map_err(|e| {
            match (e.errno(), deadline.bad_nanoseconds()) {
                (Errno::EINVAL, Some(nsec)) => e.with_limit(limits::deadline_nanoseconds(nsec)),
                _ => e,
            }
        })
    }

    /// `sem_post`: increments the value, waking one waiter.
    ///
    /// # Errors
    /// `EOVERFLOW` when the value is already [`SEM_VALUE_MAX`].
    #[inline]
    pub fn post(&self) -> Result<()> {
        // Narrated before it is made, so the line comes before any waiter's it wakes.
        explain_start!("sem_post", "{}", self.handle());
        // SAFETY: the pointer is a live semaphore from `sem_open`.
        let rc = unsafe { libc::sem_post(self.sem.0.as_ptr()) };
        explain_resumed!("sem_post", outcome(rc), "");
        self.result(rc, "sem_post").map_err(|e| match e.errno() {
            Errno::EOVERFLOW => e.with_limit(limits::sem_value_max()),
            _ => e,
        })
    }

    /// `sem_getvalue`: the current value (a snapshot that may change at once).
    ///
    /// # Errors
    /// `EINVAL` only, which a live handle does not meet.
    pub fn value(&self) -> Result<u32> {
        let mut value: libc::c_int = 0;
        // SAFETY: the pointer is a live semaphore; `value` is a writable int.
        let rc = unsafe { libc::sem_getvalue(self.sem.0.as_ptr(), &mut value) };
        self.check(rc, "sem_getvalue", format_args!(", [{value}]"))?;
        Ok(value.max(0) as u32)
    }

    /// `sem_close`: releases this process's handle (glibc unmaps it) and reports an
    /// error, where `drop` would ignore it. The semaphore stays in the kernel.
    ///
    /// # Errors
    /// `EINVAL` only.
    pub fn close(self) -> Result<()> {
        let Semaphore { sem, _file, name } = self;
        let ptr = sem.0.as_ptr();
        let result = outcome(sem.close());
        drop(_file);
        explain!("sem_close", result, "{ptr:p} /* {name} */");
        result
            .map(drop)
            .map_err(|errno| Error::os("sem_close", Some(&name), errno))
    }

    /// `sem_unlink(name)`: removes the name; the semaphore is destroyed when the
    /// last process closes it.
    ///
    /// # Errors
    /// A refusal for a name too long for a semaphore; `ENOENT`, `EACCES`.
    pub fn unlink(name: &Name) -> Result<()> {
        name.check_semaphore()
            .map_err(|e| Error::bad_name("sem_unlink", e))?;
        // SAFETY: the name is NUL-terminated and valid for the call.
        let rc = unsafe { libc::sem_unlink(name.as_c_str().as_ptr()) };
        let result = outcome(rc);
        explain!("sem_unlink", result, "\"{name}\"");
        result
            .map(drop)
            .map_err(|errno| Error::os("sem_unlink", Some(name), errno))
    }

    /// Turns `rc` into a result, narrating `call(sem /* name */ more)` first.
    #[inline]
    fn check(
        &self,
        rc: libc::c_int,
        call: &'static str,
        more: std::fmt::Arguments<'_>,
    ) -> Result<()> {
        explain!(call, outcome(rc), "{}{more}", self.handle());
        self.result(rc, call)
    }

    /// Turns `rc` into a result, without narrating.
    #[inline]
    fn result(&self, rc: libc::c_int, call: &'static str) -> Result<()> {
        outcome(rc)
            .map(drop)
            .map_err(|errno| Error::os(call, Some(&self.name), errno))
    }

    /// The handle as the narration shows it: `0x7f.. /* /NAME */`.
    fn handle(&self) -> Handle<'_> {
        Handle(self)
    }
}

/// A semaphore as `--explain` shows it: its address and, as a comment, its name.
struct Handle<'a>(&'a Semaphore);

impl std::fmt::Display for Handle<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:p} /* {} */", self.0.sem.0.as_ptr(), self.0.name)
    }
}
