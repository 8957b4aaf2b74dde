//! `ipc-core`: safe wrappers for POSIX IPC on Linux, written to be read.
//!
//! The objects and their handles are at the crate's root:
//!
//! | facility | types | C calls |
//! |---|---|---|
//! | message queues | [`MessageQueue`], [`MqOptions`], [`Capacity`], [`MqAttributes`], [`Received`] | `mq_open`, `mq_send`, `mq_receive`, `mq_timed*`, `mq_getattr`, `mq_setattr`, `mq_close`, `mq_unlink` |
//! | named semaphores | [`Semaphore`], [`SemOptions`] | `sem_open`, `sem_wait`, `sem_trywait`, `sem_timedwait`, `sem_post`, `sem_getvalue`, `sem_close`, `sem_unlink` |
//! | shared memory | [`SharedMemory`], [`ShmOptions`], [`Sizing`], [`Mapping`] | `shm_open`, `ftruncate`, `posix_fallocate`, `pread`, `pwrite`, `mmap`, `close`, `munmap`, `shm_unlink` |
//! | process-shared objects in a mapping | [`Placed`], [`SharedMutex`], [`MutexGuard`], [`SharedCondvar`], [`SharedSemaphore`] | `pthread_mutex_*`, `pthread_cond_*`, `sem_init`, `sem_wait`, `sem_post` |
//! | names and kinds | [`Name`], [`NameError`], [`ObjectKind`] | |
//! | open flags | [`Creation`], [`Access`], [`set_umask`] | `O_CREAT`, `O_EXCL`, `O_RDONLY`, `O_WRONLY`, `O_RDWR`, `umask` |
//! | deadlines and errors | [`Deadline`], [`Error`], [`Refusal`], [`Result`] | `clock_gettime`, `perror` |
//!
//! The modules hold what is not an object:
//!
//! | module | what it holds |
//! |---|---|
//! | [`process`] | `fork` with the child's part as a closure, `waitpid`, `_exit` |
//! | [`cleanup`] | unlinking owned objects on SIGINT, SIGTERM, SIGHUP |
//! | [`holders`] | who holds an object: the `/proc` scan, and removing only what nobody holds |
//! | [`inherited`] | what the program started with: ignored signals (which stay ignored), a closed stdout |
//! | [`interruptible`] | blocking calls that Ctrl+C ends with nothing changed |
//! | [`termination`] | the `EINTR` policy: retry, or stop on a termination request |
//! | [`limits`] | every limit a call can meet: its value, where it is set, how to change it |
//! | [`explain`] | `--explain`: every call narrated on stderr, strace-style |
//!
//! Handles close on drop; nothing is ever unlinked on drop. An object stays in the
//! kernel until someone unlinks its name: kernel persistence is the lesson, so it
//! is never hidden. Each [`Error`] keeps the call that failed and its errno, and
//! can print itself exactly like C's `perror`.
//!
//! Every `unsafe` block of the library, the demos and the labs is in this crate,
//! each with a `// SAFETY:` comment saying why it holds (the test harness has its
//! own, in `pre_exec` hooks of the programs it starts).

#![deny(missing_docs)]

#[cfg(not(target_os = "linux"))]
compile_error!(
    "ipc-core and its demos run on Linux only: they rely on glibc's /dev/shm layout, \
     the Linux mqueue filesystem and Linux's process model. Build them on Linux."
);

mod deadline;
mod error;
mod kind;
mod mq;
mod name;
mod open;
mod pshared;
mod sem;
mod shm;

pub mod cleanup;
pub mod explain;
pub mod holders;
pub mod inherited;
pub mod interruptible;
pub mod limits;
pub mod process;
pub mod termination;

pub use deadline::Deadline;
pub use error::{strerror, Error, Refusal, Result};
pub use kind::{ObjectKind, UnknownKind};
pub use mq::{Capacity, MessageQueue, MqAttributes, MqOptions, Received};
pub use name::{Name, NameError, NAME_MAX, SEM_NAME_MAX};
pub use nix::errno::Errno;
pub use nix::sys::signal::Signal;
pub use nix::sys::stat::Mode;
pub use open::{set_umask, Access, Creation};
pub use pshared::{
    MutexGuard, Placed, SharedCondvar, SharedMutex, SharedSemaphore, SHARED_CONDVAR_SIZE,
    SHARED_MUTEX_SIZE, SHARED_SEMAPHORE_SIZE,
};
pub use sem::{SemOptions, Semaphore, SEM_VALUE_MAX};
pub use shm::{Mapping, SharedMemory, ShmOptions, Sizing};
