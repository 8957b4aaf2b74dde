//! The limits that decide whether an IPC call succeeds, read where the kernel keeps
//! them, so that an error can say which limit it met, its value and where it is set.

use std::fmt;

use nix::sys::resource::{getrlimit, Resource};

/// A limit an operation ran into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Its name: `msg_max`, `RLIMIT_NOFILE`, `SEM_VALUE_MAX`...
    pub name: &'static str,
    /// Its value now, as text (`unknown` if it could not be read).
    pub value: String,
    /// Where it is set, and how to change it.
    pub source: &'static str,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is {}; {}", self.name, self.value, self.source)
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

fn sysctl_limit(file: &'static str, source: &'static str) -> Limit {
    Limit {
        name: file,
        value: mqueue_sysctl(file).map_or_else(|| "unknown".into(), |v| v.to_string()),
        source,
    }
}

/// `msg_max`: most messages per queue for a process without `CAP_SYS_RESOURCE`.
pub fn msg_max() -> Limit {
    sysctl_limit(
        "msg_max",
        "set in /proc/sys/fs/mqueue/msg_max (sysctl fs.mqueue.msg_max)",
    )
}

/// `msgsize_max`: largest message size for a process without `CAP_SYS_RESOURCE`.
pub fn msgsize_max() -> Limit {
    sysctl_limit(
        "msgsize_max",
        "set in /proc/sys/fs/mqueue/msgsize_max (sysctl fs.mqueue.msgsize_max)",
    )
}

/// `queues_max`: most queues in this IPC namespace.
pub fn queues_max() -> Limit {
    sysctl_limit(
        "queues_max",
        "set in /proc/sys/fs/mqueue/queues_max, per IPC namespace",
    )
}

/// The soft value of an rlimit, as text.
pub fn soft_rlimit(resource: Resource) -> String {
    match getrlimit(resource) {
        Ok((soft, _)) if soft == libc::RLIM_INFINITY => "unlimited".into(),
        Ok((soft, _)) => soft.to_string(),
        Err(_) => "unknown".into(),
    }
}

/// `RLIMIT_NOFILE`: most open descriptors in this process.
pub fn rlimit_nofile() -> Limit {
    Limit {
        name: "RLIMIT_NOFILE",
        value: soft_rlimit(Resource::RLIMIT_NOFILE),
        source: "set with setrlimit(2) or `ulimit -n`, inherited from the parent",
    }
}

/// `RLIMIT_MSGQUEUE`: most bytes of message queues per user.
pub fn rlimit_msgqueue() -> Limit {
    Limit {
        name: "RLIMIT_MSGQUEUE",
        value: soft_rlimit(Resource::RLIMIT_MSGQUEUE),
        source: "bytes of queues per user; set with setrlimit(2) or `ulimit -q`",
    }
}

/// `SEM_VALUE_MAX`: the largest semaphore value.
pub fn sem_value_max() -> Limit {
    Limit {
        name: "SEM_VALUE_MAX",
        value: crate::sem::SEM_VALUE_MAX.to_string(),
        source: "fixed by the C library",
    }
}

/// `MQ_PRIO_MAX`: priorities run from 0 to this less one.
pub fn mq_prio_max() -> Limit {
    Limit {
        name: "MQ_PRIO_MAX",
        value: MQ_PRIO_MAX.to_string(),
        source: "fixed by the kernel; priorities are 0 to MQ_PRIO_MAX - 1",
    }
}

/// Linux's `MQ_PRIO_MAX`.
pub const MQ_PRIO_MAX: u32 = 32768;

/// The space of `/dev/shm`: size and free bytes.
pub fn dev_shm_space() -> Limit {
    let value = match nix::sys::statvfs::statvfs("/dev/shm") {
        Ok(s) => format!(
            "{} bytes, {} free",
            s.blocks() * s.fragment_size(),
            s.blocks_available() * s.fragment_size()
        ),
        Err(_) => "unknown".into(),
    };
    Limit {
        name: "the size of /dev/shm",
        value,
        source: "a tmpfs: mount -o remount,size=N /dev/shm (docker: --shm-size)",
    }
}

/// The deadline's nanoseconds, which must be 0 to 999999999.
pub fn deadline_nanoseconds(nsec: i64) -> Limit {
    Limit {
        name: "the deadline's tv_nsec",
        value: nsec.to_string(),
        source: "it must be 0 to 999999999",
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
