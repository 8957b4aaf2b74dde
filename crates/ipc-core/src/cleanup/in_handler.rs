//! The in-handler strategy: the signal handler itself cleans up, using only calls
//! signal-safety(7) lists as async-signal-safe.
//!
//! It works in any process, forked children included, because it needs no thread.
//! The price is that it cannot call `shm_unlink`, `sem_unlink` or `mq_unlink`
//! (none is on the list). For shared memory and semaphores it calls `unlink(2)` on
//! the file glibc keeps (`/dev/shm/NAME`, `/dev/shm/sem.NAME`), which is the very
//! system call glibc's `shm_unlink` and `sem_unlink` make. A message queue has no
//! such path unless an mqueue filesystem is mounted, so this strategy refuses to
//! register one.

use std::sync::atomic::{AtomicBool, Ordering};

use libc::c_int;

use super::registry::{self, Registry};
use crate::error::{Error, Result};

/// Set by the first handler run, so a second signal arriving during the cleanup
/// (say SIGTERM after SIGINT) does not start it again.
static RUNNING: AtomicBool = AtomicBool::new(false);

/// Installs the handler for every termination signal not ignored now.
pub(crate) fn install() -> Result<()> {
    for signal in registry::answered() {
        let number = signal as c_int;
        // SAFETY: `on_signal` only makes async-signal-safe calls (getpid, gettid,
        // clock_gettime, waitpid, kill, nanosleep, unlink, write, _exit), allocates
        // nothing, takes no lock (it spins on an atomic flag another thread gives
        // back) and cannot panic; it reads the registry under the contract of
        // `registry::take_for_exit`.
        unsafe { signal_hook::low_level::register(number, move || on_signal(number)) }
            .map_err(|e| Error::os("sigaction", None, errno_of(&e)))?;
    }
    Ok(())
}

fn errno_of(e: &std::io::Error) -> nix::errno::Errno {
    nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EINVAL))
}

fn on_signal(signal: c_int) {
    if RUNNING.swap(true, Ordering::SeqCst) {
        return;
    }
    crate::explain::signal(signal);
    // SAFETY: `getpid` is async-signal-safe and cannot fail.
    let me = unsafe { libc::getpid() };
    // SAFETY: we are in the handler for a termination signal (see `install`), which
    // this thread does not block, and `RUNNING` lets only the first run get here.
    let registry = unsafe { registry::take_for_exit() };
    stop_children(registry, me, signal);
    unlink_objects(registry, me);
    if registry.installer == me {
        if let Some(farewell) = registry.farewell {
            write_all(libc::STDOUT_FILENO, farewell.as_bytes());
        }
    }
    crate::explain::exit(128 + signal);
    signal_hook::low_level::exit(128 + signal);
}

/// Forwards the signal to each live child of ours and reaps it, so none is left
/// blocked (in `sem_wait`, say) when only the parent was signalled.
fn stop_children(registry: &Registry, me: libc::pid_t, signal: c_int) {
    for child in registry
        .children
        .iter()
        .filter(|c| c.pid != 0 && c.owner == me)
    {
        let mut status = 0;
        // SAFETY: waitpid with WNOHANG is async-signal-safe. It returns 0 only for a
        // child of ours that is still running: a pid already reaped (and perhaps
        // reused by another process) gives ECHILD, so `kill` never hits a stranger.
        let alive = unsafe { libc::waitpid(child.pid, &mut status, libc::WNOHANG) } == 0;
        if alive {
            // SAFETY: kill, waitpid and nanosleep are async-signal-safe; the pid is
            // our unreaped child.
            unsafe {
                libc::kill(child.pid, signal);
                // A child that blocks the signal a while (around a create, say) gets
                // two seconds to act on it; then SIGKILL, so the exit never hangs.
                let tick = libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 10_000_000,
                };
                let mut reaped = false;
                for _ in 0..200 {
                    if libc::waitpid(child.pid, &mut status, libc::WNOHANG) != 0 {
                        reaped = true;
                        break;
                    }
                    libc::nanosleep(&tick, std::ptr::null_mut());
                }
                if !reaped {
                    libc::kill(child.pid, libc::SIGKILL);
                    while libc::waitpid(child.pid, &mut status, 0) == -1
                        && *libc::__errno_location() == libc::EINTR
                    {}
                }
            }
        }
    }
}

/// `/dev/shm/` plus `sem.` plus a name of at most `NAME_MAX` bytes plus NUL.
const PATH_CAPACITY: usize = "/dev/shm/sem.".len() + crate::name::NAME_MAX + 1;

fn unlink_objects(registry: &Registry, me: libc::pid_t) {
    for object in registry.objects.iter().filter(|o| o.used && o.owner == me) {
        // A queue has no file: refused at registration (see `super::own`).
        let Some(prefix) = object.kind.file_prefix() else {
            continue;
        };
        let prefix = prefix.as_bytes();
        let name = &object.name_bytes()[1..];
        let mut path = [0u8; PATH_CAPACITY];
        path[..prefix.len()].copy_from_slice(prefix);
        path[prefix.len()..prefix.len() + name.len()].copy_from_slice(name);
        // SAFETY: `path` is NUL-terminated (the buffer is zeroed and longer than
        // prefix + name); unlink is async-signal-safe.
        let rc = unsafe { libc::unlink(path.as_ptr().cast()) };
        // SAFETY: reading errno is async-signal-safe.
        let errno = unsafe { *libc::__errno_location() };
        crate::explain::unlink_in_handler(&path[..prefix.len() + name.len()], rc, errno);
        if rc == 0 {
            // Say what was removed, on stderr (stdout is the C program's).
            write_all(libc::STDERR_FILENO, b"cleanup: removed ");
            write_all(libc::STDERR_FILENO, object.kind.label().as_bytes());
            write_all(libc::STDERR_FILENO, b" ");
            write_all(libc::STDERR_FILENO, object.name_bytes());
            write_all(libc::STDERR_FILENO, b"\n");
        }
    }
}

fn write_all(fd: c_int, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is valid for reads of its length; write is async-signal-safe.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n <= 0 {
            // SAFETY: reading errno is async-signal-safe.
            if n == -1 && unsafe { *libc::__errno_location() } == libc::EINTR {
                continue;
            }
            return;
        }
        bytes = &bytes[n as usize..];
    }
}
