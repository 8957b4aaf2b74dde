//! The EINTR policy, with real signals: a blocking call retries after an unrelated
//! signal (keeping its deadline) and ends with a termination error after SIGTERM.
//!
//! A single-threaded runner (`harness = false`) runs each case in a child of its
//! own, which forks again for the process that installs the policy's handlers:
//! every fork is the safe `process::fork`.

mod common;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use common::single_threaded::{run, Case};
use common::Scratch;
use ipc_core::process::{fork, Child, ExitStatus};
use ipc_core::ObjectKind;
use ipc_core::{termination, Creation, Deadline, Errno, SemOptions, Semaphore};
use nix::sys::signal::{kill, sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

fn main() -> ExitCode {
    run(&[
        Case {
            name: "an_unrelated_signal_is_retried_and_a_post_still_wakes_the_wait",
            run: an_unrelated_signal_is_retried_and_a_post_still_wakes_the_wait,
        },
        Case {
            name: "a_termination_request_ends_the_wait_with_a_distinct_error",
            run: a_termination_request_ends_the_wait_with_a_distinct_error,
        },
        Case {
            name: "a_timed_wait_keeps_its_deadline_across_interruptions",
            run: a_timed_wait_keeps_its_deadline_across_interruptions,
        },
        Case {
            name: "a_request_made_before_the_call_is_seen",
            run: a_request_made_before_the_call_is_seen,
        },
    ])
}

extern "C" fn ignore(_: libc::c_int) {}

/// In the child: the termination policy, plus a SIGUSR1 handler without SA_RESTART
/// (so SIGUSR1 interrupts blocking calls with EINTR).
fn child_setup() {
    termination::install().unwrap();
    let action = SigAction::new(
        SigHandler::Handler(ignore),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SAFETY: the handler does nothing at all, so it is async-signal-safe.
    unsafe { sigaction(Signal::SIGUSR1, &action) }.unwrap();
}

fn semaphore(tag: &str) -> (Scratch, Semaphore) {
    let s = Scratch::new(ObjectKind::Semaphore, tag);
    let options = SemOptions::new()
        .creation(Creation::CreateExclusive)
        .mode(0o600)
        .value(0);
    let sem = Semaphore::open(&s.name, &options).unwrap();
    (s, sem)
}

/// Waits until `child` sleeps (blocked in its wait), then a little more.
fn settle(child: &Child) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", child.pid())).unwrap_or_default();
        if stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('S'))
        {
            std::thread::sleep(Duration::from_millis(50));
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn an_unrelated_signal_is_retried_and_a_post_still_wakes_the_wait() {
    let (_s, sem) = semaphore("retry");
    let (child, sem) = fork(sem, |sem| {
        child_setup();
        match sem.wait() {
            Ok(()) => 0,
            Err(e) if e.errno() == Errno::EINTR => 2,
            Err(_) => 1,
        }
    })
    .unwrap();
    settle(&child);
    for _ in 0..3 {
        kill(child.pid(), Signal::SIGUSR1).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    sem.post().unwrap();
    assert_eq!(
        child.wait().unwrap(),
        ExitStatus::Exited(0),
        "retried past SIGUSR1, woken by the post"
    );
}

fn a_termination_request_ends_the_wait_with_a_distinct_error() {
    let (_s, sem) = semaphore("term");
    let (child, sem) = fork(sem, |sem| {
        child_setup();
        match sem.wait() {
            Err(e) if e.termination() == Some(Signal::SIGTERM) && e.errno() == Errno::EINTR => 42,
            _ => 1,
        }
    })
    .unwrap();
    settle(&child);
    kill(child.pid(), Signal::SIGTERM).unwrap();
    assert_eq!(child.wait().unwrap(), ExitStatus::Exited(42));
    assert_eq!(sem.value().unwrap(), 0, "nothing was taken");
}

fn a_timed_wait_keeps_its_deadline_across_interruptions() {
    let (_s, sem) = semaphore("deadline");
    let (child, ()) = fork((), |()| {
        child_setup();
        let start = Instant::now();
        let deadline = Deadline::after(Duration::from_millis(400)).unwrap();
        match sem.wait_until(&deadline) {
            // Interrupted twice, it still waited the whole 400 ms, and no more
            // than a generous bound past it.
            Err(e) if e.errno() == Errno::ETIMEDOUT => {
                let waited = start.elapsed();
                if waited >= Duration::from_millis(395) && waited < Duration::from_secs(3) {
                    0
                } else {
                    3
                }
            }
            _ => 1,
        }
    })
    .unwrap();
    settle(&child);
    kill(child.pid(), Signal::SIGUSR1).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    kill(child.pid(), Signal::SIGUSR1).unwrap();
    assert_eq!(child.wait().unwrap(), ExitStatus::Exited(0));
}

fn a_request_made_before_the_call_is_seen() {
    let (_s, sem) = semaphore("early");
    let (child, ()) = fork((), |()| {
        child_setup();
        let _ = nix::sys::signal::raise(Signal::SIGINT);
        match sem.wait() {
            Err(e) if e.termination() == Some(Signal::SIGINT) => 0,
            _ => 1,
        }
    })
    .unwrap();
    assert_eq!(child.wait().unwrap(), ExitStatus::Exited(0));
}
