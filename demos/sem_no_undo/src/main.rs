//! `sem_no_undo`: a named semaphore is not released when its holder dies.
//!
//! A child takes a lock (a named semaphore with value 1) and is killed with
//! SIGKILL while holding it. Nothing gives it back: the value stays 0 and the
//! parent's timed wait ends in `ETIMEDOUT`. POSIX named semaphores have no undo.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use demo_kit::facility::unique_name;
use demo_kit::{outln, Failure, Perror, Usage};
use ipc_core::cleanup::{self, Strategy};
use ipc_core::process::{self, ExitStatus};
use ipc_core::ObjectKind;
use ipc_core::{Creation, Deadline, Errno, Mapping, SemOptions, Semaphore, Signal};

const USAGE: Usage = Usage {
    name: "sem_no_undo",
    about: "A child takes a named semaphore used as a lock and dies holding it: the value\n\
            stays 0, and a timed wait for it ends in ETIMEDOUT. There is no undo.",
    flags: &[],
    options: &[("--wait-ms", "500", "how long the parent waits for the lock")],
    steps: false,
};

/// How long the child may take to take the lock.
const TAKE_WITHIN: Duration = Duration::from_secs(10);

fn main() {
    // It forks and holds only a semaphore: the in-handler cleanup fits.
    demo_kit::start(&USAGE, Strategy::InHandler, None, |cli, _| {
        run(Duration::from_millis(cli.number(&USAGE, "--wait-ms", 1)))
    });
}

fn run(patience: Duration) -> Result<(), Failure> {
    let name = unique_name("sem_no_undo", "lock");
    let options = SemOptions::new()
        .creation(Creation::CreateExclusive)
        .mode(0o600)
        .value(1);
    let lock = cleanup::own(ObjectKind::Semaphore, &name, || {
        Semaphore::open(&name, &options)
    })
    .perror("sem_open")?;
    outln!(
        "created the lock {name} with value {}",
        lock.value().perror("sem_getvalue")?
    )?;

    let flag = Mapping::anonymous(64).perror("mmap")?;
    let taken = flag.atomic_u64(0).perror("atomic")?;
    let (holder, lock) = process::fork(lock, |lock| {
        // Take the lock, say so, and never give it back.
        if lock.wait().is_err() {
            return 1;
        }
        taken.store(1, Ordering::SeqCst);
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    })
    .perror("fork")?;
    // A bounded wait: the child takes the lock at once, or something is wrong.
    let start = Instant::now();
    while taken.load(Ordering::SeqCst) == 0 && start.elapsed() < TAKE_WITHIN {
        std::thread::sleep(Duration::from_millis(1));
    }
    let held = if taken.load(Ordering::SeqCst) == 1 {
        Some(lock.value())
    } else {
        None
    };
    holder.signal(Signal::SIGKILL).perror("kill")?;
    let status = holder.wait().perror("waitpid")?;
    let Some(held) = held else {
        return Err(Failure::message(format!(
            "sem_no_undo: the child did not take the lock within {} s ({status:?})",
            TAKE_WITHIN.as_secs()
        )));
    };
    outln!(
        "the child took the lock: value {}",
        held.perror("sem_getvalue")?
    )?;
    if status != ExitStatus::Signaled(Signal::SIGKILL) {
        return Err(Failure::message(
            "sem_no_undo: the holder was not killed by SIGKILL",
        ));
    }
    let after = lock.value().perror("sem_getvalue")?;
    outln!("the child died holding it ({status:?}): value {after}")?;

    let start = Instant::now();
    let deadline = Deadline::after(patience).perror("clock_gettime")?;
    let waited = lock.wait_until(&deadline);
    let elapsed = start.elapsed().as_millis();
    let outcome = match &waited {
        Ok(()) => "got the lock?!".to_owned(),
        Err(e) => format!("{:?} after {elapsed} ms", e.errno()),
    };
    outln!("sem_timedwait for {} ms: {outcome}", patience.as_millis())?;
    drop(lock);
    cleanup::unlink(ObjectKind::Semaphore, &name).perror("sem_unlink")?;
    let timed_out = waited.is_err_and(|e| e.errno() == Errno::ETIMEDOUT);
    outln!(
        "verdict: the holder was killed with the lock taken; the value stayed {after} and the wait {} \
         after {elapsed} ms: no undo",
        if timed_out { "ended in ETIMEDOUT" } else { "did not time out" }
    )?;
    Ok(())
}
