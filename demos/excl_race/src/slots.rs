//! Each worker's report of one round, in anonymous shared memory: what it
//! concluded, and the inode of the object it held.

use std::os::unix::fs::MetadataExt;
use std::sync::atomic::{AtomicU64, Ordering};

use demo_kit::facility::Handle;
use ipc_core::{Errno, Mapping, Name};

/// Bytes between two workers' slots (a cache line each).
pub const STRIDE: usize = 64;

/// What a worker concluded from its attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing reported (yet).
    None,
    /// It created the object: `O_EXCL` succeeded, or (check-then-create) it saw
    /// `ENOENT` and then opened with `O_CREAT`, and so believes it did.
    Created,
    /// The object was there: `EEXIST`, or the check found it.
    Found,
    /// A call failed unexpectedly: which one, and its errno.
    Failed {
        /// The call, `shm_open`, `sem_open`, `mq_open`...
        call: &'static str,
        /// What it returned.
        errno: Errno,
    },
}

/// The calls a worker can report as failed, by number.
const CALLS: [&str; 3] = ["shm_open", "sem_open", "mq_open"];

impl Outcome {
    /// The outcome for an unexpected error.
    pub fn failed(error: &ipc_core::Error) -> Outcome {
        Outcome::Failed {
            call: CALLS
                .iter()
                .find(|&&c| c == error.call())
                .copied()
                .unwrap_or("open"),
            errno: error.errno(),
        }
    }

    fn encode(self) -> u64 {
        match self {
            Outcome::None => 0,
            Outcome::Created => 1,
            Outcome::Found => 2,
            Outcome::Failed { call, errno } => {
                let index = CALLS.iter().position(|&c| c == call).unwrap_or(CALLS.len());
                3 | (index as u64) << 8 | (errno as i32 as u64) << 16
            }
        }
    }

    fn decode(word: u64) -> Outcome {
        match word & 0xff {
            0 => Outcome::None,
            1 => Outcome::Created,
            2 => Outcome::Found,
            _ => Outcome::Failed {
                call: CALLS
                    .get(((word >> 8) & 0xff) as usize)
                    .copied()
                    .unwrap_or("open"),
                errno: Errno::from_raw((word >> 16) as i32),
            },
        }
    }
}

/// One worker's slot.
pub struct Slot<'a> {
    outcome: &'a AtomicU64,
    inode: &'a AtomicU64,
}

impl<'a> Slot<'a> {
    /// The slot at `offset` of `map`.
    pub fn at(map: &'a Mapping, offset: usize) -> ipc_core::Result<Slot<'a>> {
        Ok(Slot {
            outcome: map.atomic_u64(offset)?,
            inode: map.atomic_u64(offset + 8)?,
        })
    }

    /// The worker's report (the semaphore it posts next orders it before the
    /// parent's read).
    pub fn put(&self, outcome: Outcome, inode: u64) {
        self.inode.store(inode, Ordering::SeqCst);
        self.outcome.store(outcome.encode(), Ordering::SeqCst);
    }

    /// The parent reads the report and clears the slot for the next round.
    pub fn take(&self) -> (Outcome, u64) {
        (
            Outcome::decode(self.outcome.swap(0, Ordering::SeqCst)),
            self.inode.swap(0, Ordering::SeqCst),
        )
    }
}

/// The inode of the object `handle` holds. A descriptor's own inode for shared
/// memory and queues (through `/proc/self/fd`); for a semaphore, whose descriptor
/// glibc closes, the inode of `/dev/shm/sem.NAME`, which names the object the
/// worker mapped since nobody unlinks during a round. 0 if it cannot be read.
pub fn inode(handle: &Handle, name: &Name) -> u64 {
    let path = match handle {
        Handle::Shm(shm) => format!("/proc/self/fd/{}", shm.raw_fd()),
        Handle::Mq(queue) => format!("/proc/self/fd/{}", queue.raw()),
        Handle::Sem(_) => format!(
            "/dev/shm/sem.{}",
            String::from_utf8_lossy(name.without_slash())
        ),
    };
    std::fs::metadata(path).map_or(0, |m| m.ino())
}
