//! `ipc-core`: safe wrappers for POSIX IPC on Linux, written to be read.
//!
//! One module per facility, each call named after the C function it makes:
//!
//! | module | objects | C calls |
//! |---|---|---|
//! | [`mq`] | [`MessageQueue`] | `mq_open`, `mq_send`, `mq_receive`, `mq_getattr`, `mq_setattr`, `mq_close`, `mq_unlink` |
//! | [`sem`] | [`Semaphore`] | `sem_open`, `sem_wait`, `sem_trywait`, `sem_timedwait`, `sem_post`, `sem_getvalue`, `sem_close`, `sem_unlink` |
//! | [`shm`] | [`SharedMemory`], [`Mapping`] | `shm_open`, `ftruncate`, `mmap`, `close`, `munmap`, `shm_unlink` |
//! | [`pshared`] | [`SharedMutex`] | `pthread_mutexattr_setpshared`, `pthread_mutex_init`, `pthread_mutex_lock`, `pthread_mutex_unlock` |
//! | [`process`] | [`process::Child`] | `fork`, `waitpid`, `_exit` |
//! | [`cleanup`] | | unlinking owned objects on SIGINT, SIGTERM, SIGHUP |
//! | [`interruptible`] | | blocking calls that Ctrl+C ends with nothing changed |
//! | [`termination`] | | the `EINTR` policy: retry, or stop on a termination request |
//! | [`limits`] | [`Limit`] | the limit an error met: its value and where it is set |
//! | [`explain`] | | `--explain`: every call narrated on stderr, strace-style |
//!
//! Handles close on drop; nothing is ever unlinked on drop. An object stays in the
//! kernel until someone unlinks its name: kernel persistence is the lesson, so it
//! is never hidden. Each [`Error`] keeps the call that failed and its errno, and
//! can print itself exactly like C's `perror`.
//!
//! Every `unsafe` block of the workspace is in this crate, each with a `// SAFETY:`
//! comment saying why it holds.

#![deny(missing_docs)]

#[cfg(not(target_os = "linux"))]
compile_error!(
    "ipc-core and its demos run on Linux only: they rely on glibc's /dev/shm layout, \
     the Linux mqueue filesystem and Linux's process model. Build them on Linux."
);

pub mod cleanup;
pub mod deadline;
pub mod error;
pub mod explain;
pub mod inherited;
pub mod interruptible;
pub mod limits;
pub mod mq;
pub mod name;
pub mod open;
pub mod process;
pub mod pshared;
pub mod sem;
pub mod shm;
pub mod termination;

pub use deadline::Deadline;
pub use error::{Error, Refusal, Result};
pub use limits::Limit;
pub use mq::{Capacity, MessageQueue, MqAttributes, MqOptions, Received};
pub use name::{Name, NameError, NAME_MAX, SEM_NAME_MAX};
pub use nix::errno::Errno;
pub use nix::sys::signal::Signal;
pub use nix::sys::stat::Mode;
pub use open::{Access, Creation};
pub use pshared::{
    Placed, SharedCondvar, SharedMutex, SharedSemaphore, SHARED_CONDVAR_SIZE, SHARED_MUTEX_SIZE,
    SHARED_SEMAPHORE_SIZE,
};
pub use sem::{SemOptions, Semaphore, SEM_VALUE_MAX};
pub use shm::{Mapping, SharedMemory, ShmOptions, Sizing};
