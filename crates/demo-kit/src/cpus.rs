//! The CPUs a process may run on, the one it runs on now, and the monotonic clock
//! read the same way in every process (so workers' times can be compared): what a
//! racing lab needs to state the conditions its verdict ran under.

use nix::sched::{sched_getaffinity, sched_getcpu, sched_setaffinity, CpuSet};
use nix::time::{clock_gettime, ClockId};
use nix::unistd::Pid;

/// The CPUs this process may run on (`sched_getaffinity`), in increasing order.
/// Empty if the call fails.
pub fn allowed() -> Vec<usize> {
    let Ok(set) = sched_getaffinity(Pid::from_raw(0)) else {
        return Vec::new();
    };
    (0..CpuSet::count())
        .filter(|&cpu| set.is_set(cpu).unwrap_or(false))
        .collect()
}

/// Runs this process on `cpu` only (`sched_setaffinity`). Returns whether it worked.
pub fn pin(cpu: usize) -> bool {
    let mut set = CpuSet::new();
    set.set(cpu).is_ok() && sched_setaffinity(Pid::from_raw(0), &set).is_ok()
}

/// The CPU this process runs on at this instant (`sched_getcpu`), if known.
pub fn current() -> Option<usize> {
    sched_getcpu().ok()
}

/// `CLOCK_MONOTONIC` in nanoseconds: one clock for every process of the machine.
pub fn now_ns() -> u64 {
    clock_gettime(ClockId::CLOCK_MONOTONIC)
        .map(|t| t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64)
        .unwrap_or(0)
}

/// `0,1,3` for a bit mask of CPUs (`?` for none known).
pub fn list(mask: u64) -> String {
    let cpus: Vec<String> = (0..64)
        .filter(|bit| mask & (1 << bit) != 0)
        .map(|bit| bit.to_string())
        .collect();
    if cpus.is_empty() {
        "?".into()
    } else {
        cpus.join(",")
    }
}

/// `CPU 0` or `CPUs 0,1,3`.
pub fn phrase(mask: u64) -> String {
    match mask.count_ones() {
        0 => "unknown CPUs".into(),
        1 => format!("CPU {}", list(mask)),
        _ => format!("CPUs {}", list(mask)),
    }
}
