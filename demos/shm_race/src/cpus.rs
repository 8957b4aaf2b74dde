//! The CPUs a process may run on, the one it runs on now, and the monotonic clock
//! read the same way in every process (so workers' times can be compared).

use std::mem::MaybeUninit;

/// The CPUs this process may run on (`sched_getaffinity`), in increasing order.
/// Empty if the call fails.
pub fn allowed() -> Vec<usize> {
    let mut set = MaybeUninit::<libc::cpu_set_t>::zeroed();
    // SAFETY: `set` is a zeroed `cpu_set_t` (a plain bit array) and its size is
    // passed; the kernel writes at most that many bytes.
    let rc = unsafe {
        libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set.as_mut_ptr())
    };
    if rc != 0 {
        return Vec::new();
    }
    // SAFETY: zeroed, then filled by a successful `sched_getaffinity`.
    let set = unsafe { set.assume_init() };
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `cpu` is below CPU_SETSIZE, the size of the set.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect()
}

/// Runs this process on `cpu` only (`sched_setaffinity`). Returns whether it worked.
pub fn pin(cpu: usize) -> bool {
    let mut set = MaybeUninit::<libc::cpu_set_t>::zeroed();
    // SAFETY: a zeroed `cpu_set_t` is an empty set; `cpu` comes from `allowed`,
    // so it is below CPU_SETSIZE.
    let rc = unsafe {
        let set = set.assume_init_mut();
        libc::CPU_SET(cpu, set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set)
    };
    rc == 0
}

/// The CPU this process runs on at this instant (`sched_getcpu`), if known.
pub fn current() -> Option<usize> {
    // SAFETY: no arguments; returns -1 on failure.
    let cpu = unsafe { libc::sched_getcpu() };
    usize::try_from(cpu).ok()
}

/// `CLOCK_MONOTONIC` in nanoseconds: one clock for every process of the machine.
pub fn now_ns() -> u64 {
    let mut ts = MaybeUninit::<libc::timespec>::zeroed();
    // SAFETY: `ts` is a valid place for one `timespec`; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, ts.as_mut_ptr()) };
    // SAFETY: zeroed, then written by clock_gettime (or left zero).
    let ts = unsafe { ts.assume_init() };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
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
