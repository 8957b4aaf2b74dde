//! The helper-thread strategy: no signal handler at all. The termination signals
//! are blocked in every thread (`install` is refused in a process that already has
//! other threads, and threads started later inherit the mask) and one helper
//! thread takes them with `sigwait`,
//! then cleans up in ordinary code, where `mq_unlink`, `sem_unlink`, `shm_unlink`
//! and printing are all allowed.
//!
//! A forked child has none of its parent's threads, so a process using this
//! strategy must not fork once it is installed (`process::fork` refuses). It may
//! fork *before* installing it: children registered then are stopped (sent the
//! same signal, and reaped) like those of the in-handler strategy.

use super::registry;
use crate::error::{Error, Result};
use crate::kind::ObjectKind;
use crate::name::Name;

/// Blocks the termination signals in the calling thread (and so in every thread it
/// starts later) and starts the thread that waits for them.
pub(crate) fn install() -> Result<()> {
    let answered = registry::answered();
    if answered.is_empty() {
        // Every one is ignored: nothing to wait for.
        return Ok(());
    }
    let mut set = nix::sys::signal::SigSet::empty();
    for signal in answered {
        set.add(signal);
    }
    set.thread_block()
        .map_err(|errno| Error::os("pthread_sigmask", None, errno))?;
    std::thread::Builder::new()
        .name("ipc-cleanup".into())
        .spawn(move || {
            // sigwait only fails for an invalid set; ours is valid.
            if let Ok(signal) = set.wait() {
                clean_up_and_exit(signal as i32);
            }
        })
        .map_err(|e| {
            Error::os(
                "pthread_create",
                None,
                nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EAGAIN)),
            )
        })?;
    Ok(())
}

fn clean_up_and_exit(signal: i32) -> ! {
    crate::explain::signal(signal);
    registry::critical(|registry| {
        let me = std::process::id() as libc::pid_t;
        for child in registry
            .children
            .iter()
            .filter(|c| c.pid != 0 && c.owner == me)
        {
            let pid = nix::unistd::Pid::from_raw(child.pid);
            // Only a child of ours not yet reaped: WNOHANG says which, so a reused
            // pid is never signalled.
            if let Ok(nix::sys::wait::WaitStatus::StillAlive) =
                nix::sys::wait::waitpid(pid, Some(nix::sys::wait::WaitPidFlag::WNOHANG))
            {
                let _ =
                    nix::sys::signal::kill(pid, nix::sys::signal::Signal::try_from(signal).ok());
                // Two seconds to act on it, then SIGKILL: the exit never hangs.
                let start = std::time::Instant::now();
                let flags = Some(nix::sys::wait::WaitPidFlag::WNOHANG);
                while let Ok(nix::sys::wait::WaitStatus::StillAlive) =
                    nix::sys::wait::waitpid(pid, flags)
                {
                    if start.elapsed() > std::time::Duration::from_secs(2) {
                        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
                        let _ = nix::sys::wait::waitpid(pid, None);
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
            }
        }
        for object in registry.objects.iter().filter(|o| o.used && o.owner == me) {
            // The name was valid when it was registered.
            if let Ok(name) = Name::from_bytes(object.name_bytes()) {
                report(object.kind.unlink(&name), object.kind, &name);
            }
        }
        if let Some(farewell) = registry.farewell {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(farewell.as_bytes());
            let _ = out.flush();
        }
        crate::explain::exit(128 + signal);
        std::process::exit(128 + signal)
    })
}

/// Says on stderr what was removed, or why not (gone already is what we wanted).
/// A failed write to stderr is ignored: the cleanup goes on.
fn report(result: Result<()>, kind: ObjectKind, name: &Name) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = match result {
        Ok(()) => writeln!(err, "cleanup: removed {kind} {name}"),
        Err(e) if e.errno() == nix::errno::Errno::ENOENT => Ok(()),
        Err(e) => writeln!(err, "cleanup: {e} ({kind})"),
    };
}
