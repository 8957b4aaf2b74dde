//! `posix-ipc limits`: every limit that decides whether an IPC call succeeds.

use nix::sys::resource::{getrlimit, Resource};
use serde::Serialize;

use crate::cli::{mq_prio_max, JsonArg};
use crate::failure::Failure;
use crate::inventory::SHM_DIR;
use crate::render::{json, out};

/// One limit.
#[derive(Debug, Serialize)]
pub struct Limit {
    /// What it limits.
    pub name: &'static str,
    /// Its value now, as text (`unlimited` where so).
    pub value: String,
    /// Where the value comes from.
    pub source: String,
    /// How to change it.
    pub change: String,
    /// The error a call meets at the limit.
    pub error: &'static str,
}

fn proc_mqueue(file: &'static str, what: &'static str, error: &'static str) -> Limit {
    let path = format!("/proc/sys/fs/mqueue/{file}");
    Limit {
        name: what,
        value: std::fs::read_to_string(&path)
            .map_or_else(|e| format!("unreadable ({e})"), |v| v.trim().to_owned()),
        change: format!("sysctl fs.mqueue.{file}=N (as root; per IPC namespace)"),
        source: path,
        error,
    }
}

fn rlimit(resource: Resource, what: &'static str, ulimit: &str, error: &'static str) -> Limit {
    let show = |v: libc::rlim_t| {
        if v == libc::RLIM_INFINITY {
            "unlimited".to_owned()
        } else {
            v.to_string()
        }
    };
    let value = match getrlimit(resource) {
        Ok((soft, hard)) => format!("{} (hard {})", show(soft), show(hard)),
        Err(e) => format!("unknown ({})", e.desc()),
    };
    Limit {
        name: what,
        value,
        source: "getrlimit(2), inherited from the parent process".into(),
        change: format!("ulimit {ulimit} N in the shell (up to the hard limit), or limits.conf / systemd LimitX="),
        error,
    }
}

fn sysconf(var: nix::unistd::SysconfVar, fallback: i64) -> String {
    nix::unistd::sysconf(var)
        .ok()
        .flatten()
        .unwrap_or(fallback)
        .to_string()
}

/// Every limit, read now.
pub fn all() -> Vec<Limit> {
    let mut limits = vec![
        proc_mqueue(
            "queues_max",
            "message queues in this IPC namespace",
            "mq_open: ENOSPC",
        ),
        proc_mqueue(
            "msg_max",
            "mq_maxmsg of a new queue, without CAP_SYS_RESOURCE",
            "mq_open: EINVAL",
        ),
        proc_mqueue(
            "msgsize_max",
            "mq_msgsize of a new queue, without CAP_SYS_RESOURCE",
            "mq_open: EINVAL",
        ),
        proc_mqueue(
            "msg_default",
            "mq_maxmsg when mq_open gets no attributes",
            "-",
        ),
        proc_mqueue(
            "msgsize_default",
            "mq_msgsize when mq_open gets no attributes",
            "-",
        ),
        rlimit(
            Resource::RLIMIT_MSGQUEUE,
            "bytes of queues per user (RLIMIT_MSGQUEUE)",
            "-q",
            "mq_open: EMFILE",
        ),
        rlimit(
            Resource::RLIMIT_NOFILE,
            "open descriptors per process (RLIMIT_NOFILE)",
            "-n",
            "*_open: EMFILE",
        ),
    ];
    let (size, free) = match nix::sys::statvfs::statvfs(SHM_DIR) {
        Ok(s) => {
            let block = s.fragment_size();
            (
                format!("{} bytes", s.blocks() * block),
                format!("{} bytes", s.blocks_available() * block),
            )
        }
        Err(e) => (format!("unknown ({})", e.desc()), "unknown".into()),
    };
    limits.push(Limit {
        name: "size of /dev/shm (shared memory and semaphores)",
        value: size,
        source: "statvfs(/dev/shm): a tmpfs".into(),
        change: "mount -o remount,size=N /dev/shm (as root); docker run --shm-size=N".into(),
        error: "ftruncate succeeds, then a write faults with SIGBUS",
    });
    limits.push(Limit {
        name: "free space in /dev/shm",
        value: free,
        source: "statvfs(/dev/shm)".into(),
        change: "remove objects: posix-ipc clean --orphans".into(),
        error: "SIGBUS at first touch of an unbacked page",
    });
    limits.push(Limit {
        name: "largest semaphore value (SEM_VALUE_MAX)",
        value: sysconf(
            nix::unistd::SysconfVar::SEM_VALUE_MAX,
            i64::from(ipc_core::SEM_VALUE_MAX),
        ),
        source: "sysconf(_SC_SEM_VALUE_MAX)".into(),
        change: "fixed by the C library".into(),
        error: "sem_open: EINVAL; sem_post: EOVERFLOW",
    });
    limits.push(Limit {
        name: "message priorities (MQ_PRIO_MAX)",
        value: format!("{} (priorities 0 to {})", mq_prio_max(), mq_prio_max() - 1),
        source: "sysconf(_SC_MQ_PRIO_MAX)".into(),
        change: "fixed by the kernel".into(),
        error: "mq_send: EINVAL",
    });
    limits.push(Limit {
        name: "name length, shared memory and queues",
        value: format!("{} bytes after the '/'", ipc_core::NAME_MAX),
        source: "NAME_MAX: one path component".into(),
        change: "fixed".into(),
        error: "ENAMETOOLONG",
    });
    limits.push(Limit {
        name: "name length, semaphores",
        value: format!("{} bytes after the '/'", ipc_core::SEM_NAME_MAX),
        source: "NAME_MAX less glibc's 'sem.' prefix".into(),
        change: "fixed".into(),
        error: "ENAMETOOLONG",
    });
    limits
}

/// `posix-ipc limits`.
pub fn limits(args: JsonArg) -> Result<(), Failure> {
    let limits = all();
    if args.json {
        json(&limits);
        return Ok(());
    }
    let mut text = String::new();
    for limit in &limits {
        text.push_str(&format!(
            "{}\n  value:  {}\n  from:   {}\n  change: {}\n  at the limit: {}\n",
            limit.name, limit.value, limit.source, limit.change, limit.error
        ));
    }
    out(text.as_bytes());
    Ok(())
}
