//! Deferring the termination signals across one attempt, in a worker.
//!
//! A worker killed inside `sem_open(O_CREAT)` leaves glibc's temporary
//! `/dev/shm/sem.XXXXXX` behind: glibc creates and fills it, then `link`s it to
//! the name and unlinks it, and a signal between the two ends the process with the
//! file still there. Blocking SIGINT, SIGTERM and SIGHUP for the attempt makes a
//! signal wait until it is over; unblocking then delivers it, and the worker ends
//! as it would have, with nothing half-made.

use std::mem::MaybeUninit;

/// Runs `attempt` with SIGINT, SIGTERM and SIGHUP blocked, then restores the
/// signal mask (which delivers any that arrived meanwhile).
pub fn deferred<T>(attempt: impl FnOnce() -> T) -> T {
    let mut block = MaybeUninit::<libc::sigset_t>::zeroed();
    let mut previous = MaybeUninit::<libc::sigset_t>::zeroed();
    // SAFETY: `block` and `previous` are valid places for a `sigset_t`; sigemptyset
    // initialises `block` before sigaddset and sigprocmask read it. A forked worker
    // has one thread, so sigprocmask is the thread's mask.
    let blocked = unsafe {
        libc::sigemptyset(block.as_mut_ptr());
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(block.as_mut_ptr(), signal);
        }
        libc::sigprocmask(libc::SIG_BLOCK, block.as_ptr(), previous.as_mut_ptr()) == 0
    };
    let result = attempt();
    if blocked {
        // SAFETY: `previous` was filled by the successful sigprocmask above.
        unsafe { libc::sigprocmask(libc::SIG_SETMASK, previous.as_ptr(), std::ptr::null_mut()) };
    }
    result
}
