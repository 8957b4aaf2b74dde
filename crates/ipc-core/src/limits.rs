//! The limits that decide whether an IPC call succeeds, read where the kernel keeps
//! them: one [`Limit`] type, which an [`Error`](crate::Error) names when a call met
//! one, and [`all`] lists for `posix-ipc limits`.
//!
//! ```
//! let limits = ipc_core::limits::all();
//! let prio = limits.iter().find(|l| l.name == "MQ_PRIO_MAX").unwrap();
//! assert_eq!(prio.value, ipc_core::limits::Amount::Number(32768));
//! ```

use std::fmt;

use nix::sys::resource::{getrlimit, Resource};

use crate::name::{NAME_MAX, SEM_NAME_MAX};

/// Linux's `MQ_PRIO_MAX`: priorities run from 0 to this less one. The kernel
/// fixes it (`sysconf(_SC_MQ_PRIO_MAX)` reports the same number).
pub const MQ_PRIO_MAX: u32 = 32768;

/// A limit's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Amount {
    /// A count or a number of bytes (see [`Limit::bytes`]).
    Number(u64),
    /// No limit (`RLIM_INFINITY`).
    Unlimited,
    /// It could not be read here.
    Unknown,
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Amount::Number(n) => write!(f, "{n}"),
            Amount::Unlimited => f.write_str("unlimited"),
            Amount::Unknown => f.write_str("unknown"),
        }
    }
}

/// A limit: what it is, its value now, where it is set, how to change it, and
/// what a call meets at it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limit {
    /// Its name: `msg_max`, `RLIMIT_NOFILE`, `SEM_VALUE_MAX`...
    pub name: &'static str,
    /// What it limits, in words.
    pub what: &'static str,
    /// Its value now (the soft value of an rlimit).
    pub value: Amount,
    /// The hard value of an rlimit, up to which a process may raise `value`.
    pub hard: Option<Amount>,
    /// Whether the value counts bytes.
    pub bytes: bool,
    /// Where it is set.
    pub source: &'static str,
    /// How to change it.
    pub change: &'static str,
    /// What a call meets at the limit.
    pub error: &'static str,
}

impl fmt::Display for Limit {
    /// `msg_max is 10; set in /proc/sys/fs/mqueue/msg_max (sysctl fs.mqueue.msg_max=N)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is {}", self.name, self.value)?;
        if self.bytes {
            f.write_str(" bytes")?;
        }
        write!(f, "; {}", self.source)?;
        if !self.change.is_empty() {
            write!(f, " ({})", self.change)?;
        }
        Ok(())
    }
}

impl Limit {
    const fn fixed(name: &'static str, what: &'static str, value: u64) -> Limit {
        Limit {
            name,
            what,
            value: Amount::Number(value),
            hard: None,
            bytes: false,
            source: "fixed",
            change: "",
            error: "",
        }
    }
}

/// A number from `/proc/sys/fs/mqueue/FILE`.
pub fn mqueue_sysctl(file: &str) -> Option<i64> {
    std::fs::read_to_string(format!("/proc/sys/fs/mqueue/{file}"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// A limit read from `/proc/sys/fs/mqueue/FILE`, set there as root with
/// `sysctl fs.mqueue.FILE=N` (per IPC namespace).
fn sysctl(
    file: &'static str,
    what: &'static str,
    source: &'static str,
    change: &'static str,
) -> Limit {
    Limit {
        name: file,
        what,
        value: mqueue_sysctl(file)
            .and_then(|v| u64::try_from(v).ok())
            .map_or(Amount::Unknown, Amount::Number),
        hard: None,
        bytes: file.starts_with("msgsize"),
        source,
        change,
        error: "",
    }
}

/// `msg_max`: most messages per queue for a process without `CAP_SYS_RESOURCE`.
pub fn msg_max() -> Limit {
    Limit {
        error: "mq_open: EINVAL",
        ..sysctl(
            "msg_max",
            "mq_maxmsg of a new queue, without CAP_SYS_RESOURCE",
            "set in /proc/sys/fs/mqueue/msg_max",
            "as root: sysctl fs.mqueue.msg_max=N, per IPC namespace",
        )
    }
}

/// `msgsize_max`: largest message size for a process without `CAP_SYS_RESOURCE`.
pub fn msgsize_max() -> Limit {
    Limit {
        error: "mq_open: EINVAL",
        ..sysctl(
            "msgsize_max",
            "mq_msgsize of a new queue, without CAP_SYS_RESOURCE",
            "set in /proc/sys/fs/mqueue/msgsize_max",
            "as root: sysctl fs.mqueue.msgsize_max=N, per IPC namespace",
        )
    }
}

/// `queues_max`: most queues in this IPC namespace.
pub fn queues_max() -> Limit {
    Limit {
        error: "mq_open: ENOSPC",
        ..sysctl(
            "queues_max",
            "message queues in this IPC namespace",
            "set in /proc/sys/fs/mqueue/queues_max",
            "as root: sysctl fs.mqueue.queues_max=N, per IPC namespace",
        )
    }
}

fn rlimit(resource: Resource, name: &'static str, what: &'static str) -> Limit {
    let amount = |v: libc::rlim_t| {
        if v == libc::RLIM_INFINITY {
            Amount::Unlimited
        } else {
            Amount::Number(v)
        }
    };
    let (value, hard) = match getrlimit(resource) {
        Ok((soft, hard)) => (amount(soft), Some(amount(hard))),
        Err(_) => (Amount::Unknown, None),
    };
    Limit {
        name,
        what,
        value,
        hard,
        bytes: false,
        source: "set with setrlimit(2), inherited from the parent process",
        change: "",
        error: "",
    }
}

/// `RLIMIT_NOFILE`: most open descriptors in this process.
pub fn rlimit_nofile() -> Limit {
    let limit = rlimit(
        Resource::RLIMIT_NOFILE,
        "RLIMIT_NOFILE",
        "open descriptors per process",
    );
    Limit {
        change: "ulimit -n N in the shell, up to the hard limit",
        error: "mq_open, sem_open, shm_open: EMFILE",
        ..limit
    }
}

/// `RLIMIT_MSGQUEUE`: most bytes of message queues per user.
pub fn rlimit_msgqueue() -> Limit {
    let limit = rlimit(
        Resource::RLIMIT_MSGQUEUE,
        "RLIMIT_MSGQUEUE",
        "bytes of message queues per user",
    );
    Limit {
        bytes: true,
        change: "ulimit -q N in the shell, up to the hard limit",
        error: "mq_open: EMFILE",
        ..limit
    }
}

/// `SEM_VALUE_MAX`: the largest semaphore value.
pub fn sem_value_max() -> Limit {
    Limit {
        source: "fixed by the C library",
        error: "sem_open, sem_init: EINVAL; sem_post: EOVERFLOW",
        ..Limit::fixed(
            "SEM_VALUE_MAX",
            "largest semaphore value",
            crate::sem::SEM_VALUE_MAX as u64,
        )
    }
}

/// `MQ_PRIO_MAX`: priorities run from 0 to this less one.
pub fn mq_prio_max() -> Limit {
    Limit {
        source: "fixed by the kernel; priorities are 0 to MQ_PRIO_MAX - 1",
        error: "mq_send: EINVAL",
        ..Limit::fixed("MQ_PRIO_MAX", "message priorities", u64::from(MQ_PRIO_MAX))
    }
}

/// `statvfs("/dev/shm")`: its size and free bytes, if it can be read.
fn dev_shm() -> Option<(u64, u64)> {
    let s = nix::sys::statvfs::statvfs("/dev/shm").ok()?;
    let block = s.fragment_size();
    Some((s.blocks() * block, s.blocks_available() * block))
}

/// The free space of `/dev/shm`, which a call that ran out of it met.
pub fn dev_shm_free() -> Limit {
    Limit {
        name: "free space in /dev/shm",
        what: "bytes left for shared memory and semaphores",
        value: dev_shm().map_or(Amount::Unknown, |(_, free)| Amount::Number(free)),
        hard: None,
        bytes: true,
        source: "a tmpfs shared by every user",
        change: "remove objects (posix-ipc clean), or grow it: mount -o remount,size=N /dev/shm",
        error: "posix_fallocate: ENOSPC; a page first touched after ftruncate: SIGBUS",
    }
}

/// The size of `/dev/shm`.
pub fn dev_shm_size() -> Limit {
    Limit {
        name: "size of /dev/shm",
        what: "bytes of shared memory and semaphores, all users together",
        value: dev_shm().map_or(Amount::Unknown, |(size, _)| Amount::Number(size)),
        hard: None,
        bytes: true,
        source: "a tmpfs",
        change: "as root: mount -o remount,size=N /dev/shm (docker: --shm-size)",
        error: "posix_fallocate: ENOSPC; a page first touched after ftruncate: SIGBUS",
    }
}

/// The deadline's nanoseconds, which must be 0 to 999999999.
pub fn deadline_nanoseconds(nsec: i64) -> Limit {
    Limit {
        name: "the deadline's tv_nsec",
        what: "nanoseconds of a deadline",
        value: u64::try_from(nsec).map_or(Amount::Unknown, Amount::Number),
        hard: None,
        bytes: false,
        source: "it must be 0 to 999999999",
        change: "",
        error: "sem_timedwait, mq_timedsend, mq_timedreceive: EINVAL",
    }
}

/// Which limit an `EMFILE` from `mq_open` met: the descriptor limit if the process
/// is at it (it cannot even open `/proc/self/fd`, or has as many open as allowed),
/// else the per-user bytes of queues.
pub fn mq_open_emfile() -> Limit {
    let soft = getrlimit(Resource::RLIMIT_NOFILE)
        .ok()
        .map(|(soft, _)| soft);
    // The count includes the descriptor read_dir itself holds.
    let at_limit = match std::fs::read_dir("/proc/self/fd") {
        Err(e) => e.raw_os_error() == Some(libc::EMFILE),
        Ok(dir) => soft.is_some_and(|soft| dir.count() as u64 >= soft),
    };
    if at_limit {
        rlimit_nofile()
    } else {
        rlimit_msgqueue()
    }
}

/// Every limit, read now, in the order `posix-ipc limits` shows them.
pub fn all() -> Vec<Limit> {
    vec![
        queues_max(),
        msg_max(),
        msgsize_max(),
        sysctl(
            "msg_default",
            "mq_maxmsg when mq_open gets no attributes",
            "set in /proc/sys/fs/mqueue/msg_default",
            "as root: sysctl fs.mqueue.msg_default=N, per IPC namespace",
        ),
        sysctl(
            "msgsize_default",
            "mq_msgsize when mq_open gets no attributes",
            "set in /proc/sys/fs/mqueue/msgsize_default",
            "as root: sysctl fs.mqueue.msgsize_default=N, per IPC namespace",
        ),
        rlimit_msgqueue(),
        rlimit_nofile(),
        dev_shm_size(),
        dev_shm_free(),
        sem_value_max(),
        mq_prio_max(),
        Limit {
            error: "ENAMETOOLONG",
            ..Limit::fixed(
                "NAME_MAX",
                "bytes of a shared memory or queue name after its '/'",
                NAME_MAX as u64,
            )
        },
        Limit {
            source: "NAME_MAX less glibc's 'sem.' prefix",
            error: "ENAMETOOLONG",
            ..Limit::fixed(
                "SEM_NAME_MAX",
                "bytes of a semaphore name after its '/'",
                SEM_NAME_MAX as u64,
            )
        },
    ]
}
