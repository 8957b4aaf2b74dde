//! Test support for the demos, labs and tools: run a program as a class would
//! (piped, or paused with `--step` and interrupted), bounded in time, and check
//! what it left behind.
//!
//! - [`Process`] starts a program in a process group of its own and bounds its
//!   whole run, reading its stdout and stderr included: one that does not finish in
//!   time is killed with its group and the test fails saying so.
//! - [`Demo`] is one demo under test: its transcript runs, [`Stepped`] runs paused
//!   with `--step`, interruptions, recovery after SIGKILL, and [`Demo::soak`].
//! - [`Lab`] is one lab under test: its `verdict:` line, interruptions, stdout that
//!   cannot be written, and what a run left behind.
//! - [`Objects`] names a demo's objects, says which still exist, and removes them.
//! - [`strace::assert_explain_order`] checks `--explain` against `strace -f`: who
//!   made each call, where, and that a wake-up is narrated before what it woke.
//! - [`NamesLock`] serialises the tests that share object names (or CPUs), across
//!   threads and processes, with a lock file private to the user.
//! - [`needs`] gives a test what it needs beyond a build (root's powers, in a user
//!   namespace when the user is not root; a second user; `strace`), or skips it
//!   with one line saying what and why.

#![deny(missing_docs)]

pub mod broken_stdout;
pub mod command_line;
mod demo;
mod lab;
mod lock;
pub mod needs;
mod objects;
mod process;
mod soak;
mod stepped;
pub mod strace;
mod suites;

use std::time::Duration;

pub use demo::{Demo, DemoLock};
pub use lab::{numbers, Lab, LabRun};
pub use lock::{private_dir, NamesLock};
pub use objects::Objects;
pub use process::{command, live_members, Io, Process, Target, LAB_PREFIX_VARIABLE};
pub use stepped::Stepped;

/// How long one run of a program under test may take, from its start until its
/// exit and the end of its output, before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(20);
