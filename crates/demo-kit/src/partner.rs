//! Taking turns with a forked child, without ever waiting for a child that is gone.
//!
//! The forking demos wait on a semaphore the other process posts. If that process
//! died first (a failed write to stdout, a SIGKILL), a plain `sem_wait` would wait
//! forever. The parent's waits go through a [`Partner`], which waits in slices and
//! looks between them whether the child has ended; the child's waits end when the
//! parent dies (`PR_SET_PDEATHSIG`, see [`ipc_core::process::fork`]), and a parent
//! that fails stops its child first (dropping the [`Partner`]).

use std::time::Duration;

use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};

use ipc_core::process::{Child, ExitStatus};
use ipc_core::{Errno, Semaphore, Signal};

use crate::failure::{Failure, Perror};

/// How long one slice of a wait lasts before the partner is looked at again.
pub const SLICE: Duration = Duration::from_millis(100);

/// The forked child a parent takes turns with. Dropped while the child still runs
/// (the parent is failing), it kills the child with SIGKILL and reaps it: the child
/// owns no object, so nothing is lost, and no process is left.
#[derive(Debug)]
pub struct Partner {
    child: Option<Child>,
    ended: Option<ExitStatus>,
    demo: &'static str,
    role: &'static str,
}

impl Partner {
    /// The partner `child` of the program `demo`, named `role` in messages
    /// (`"the consumer"`).
    pub fn new(child: Child, demo: &'static str, role: &'static str) -> Partner {
        Partner {
            child: Some(child),
            ended: None,
            demo,
            role,
        }
    }

    /// The child's process id, while it is not reaped.
    pub fn pid(&self) -> Option<i32> {
        self.child.as_ref().map(|child| child.pid().as_raw())
    }

    /// `sem_wait(sem)` for a post the partner makes: waits in slices of [`SLICE`]
    /// ([`Semaphore::wait_while`], narrated as one wait) and, between them, looks
    /// without reaping whether the partner has ended (`waitid(..., WNOWAIT)`). Once
    /// it has, whatever it posted is taken; if it posted nothing, nobody will.
    ///
    /// # Errors
    /// The partner ended before posting; `sem_timedwait` or `waitid` failing.
    pub fn wait_on(&self, sem: &Semaphore) -> Result<(), Failure> {
        let mut ended = None;
        let taken = sem
            .wait_while(SLICE, || match self.has_ended() {
                Ok(None) => true,
                Ok(status) => {
                    ended = status;
                    false
                }
                // Cannot tell: go on waiting, as the C program would.
                Err(_) => true,
            })
            .perror("sem_wait")?;
        match (taken, ended) {
            (true, _) => Ok(()),
            (false, status) => Err(Failure::message(format!(
                "{}: {} ended ({}) before posting {}: nobody is left to post it",
                self.demo,
                self.role,
                status.map_or_else(|| "unknown".to_owned(), describe),
                sem.name()
            ))),
        }
    }

    /// `waitpid`: waits for the partner to end and reaps it.
    ///
    /// # Errors
    /// `waitpid` failing.
    pub fn finish(&mut self) -> Result<ExitStatus, Failure> {
        let status = match self.child.take() {
            Some(child) => child.wait().perror("waitpid")?,
            None => self
                .ended
                .expect("a partner not waited for is still a child"),
        };
        self.ended = Some(status);
        Ok(status)
    }

    /// Checks the partner ended well: `Err` naming how it ended otherwise.
    ///
    /// # Errors
    /// A failure saying how the partner ended, when not with status 0.
    pub fn check(&self, status: ExitStatus) -> Result<(), Failure> {
        if status.success() {
            Ok(())
        } else {
            Err(Failure::message(format!(
                "{}: {} ended: {}",
                self.demo,
                self.role,
                describe(status)
            )))
        }
    }

    /// How the partner ended, if it has: after [`finish`](Self::finish), or as
    /// `waitid` sees it without reaping it.
    fn has_ended(&self) -> Result<Option<ExitStatus>, Failure> {
        let Some(child) = &self.child else {
            return Ok(self.ended);
        };
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        loop {
            return match waitid(Id::Pid(child.pid()), flags) {
                Ok(WaitStatus::Exited(_, code)) => Ok(Some(ExitStatus::Exited(code))),
                Ok(WaitStatus::Signaled(_, signal, _)) => Ok(Some(ExitStatus::Signaled(signal))),
                Ok(_) => Ok(None),
                Err(Errno::EINTR) => continue,
                Err(errno) => Err(Failure::message(format!(
                    "waitid: {}",
                    ipc_core::strerror(errno)
                ))),
            };
        }
    }
}

impl Drop for Partner {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            let _ = child.signal(Signal::SIGKILL);
            let _ = child.wait();
        }
    }
}

/// `exit status 1`, `killed by SIGKILL`.
fn describe(status: ExitStatus) -> String {
    match status {
        ExitStatus::Exited(code) => format!("exit status {code}"),
        ExitStatus::Signaled(signal) => format!("killed by {signal}"),
    }
}
