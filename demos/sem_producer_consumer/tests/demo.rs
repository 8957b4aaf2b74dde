//! `sem_producer_consumer` run as a class runs it: piped, paused, interrupted, killed.
//!
//! Steps: 1 sem_open x2, 2 fork, 3 produce, 4 waitpid, 5 sem_close x2, 6 sem_unlink x2.

mod common;

use common::DEMO;
use demo_harness::Target;
use nix::sys::signal::Signal;

const TRANSCRIPT: &[u8] = include_bytes!("../transcript.txt");

#[test]
fn piped_output_is_the_transcript() {
    let _lock = DEMO.lock();
    DEMO.assert_clean_run(TRANSCRIPT);
}

#[test]
fn stepping_keeps_the_transcript() {
    let _lock = DEMO.lock();
    DEMO.assert_stepped_run(6, TRANSCRIPT);
}

#[test]
fn ctrl_c_before_forking() {
    let _lock = DEMO.lock();
    DEMO.interrupt_at_step(2, Signal::SIGINT, Target::Group);
}

#[test]
fn ctrl_c_while_the_consumer_waits() {
    let _lock = DEMO.lock();
    let stdout = DEMO.interrupt_at_step(3, Signal::SIGINT, Target::Group);
    assert!(stdout.is_empty(), "{}", String::from_utf8_lossy(&stdout));
}

#[test]
fn sigterm_to_the_parent_alone_stops_the_blocked_consumer() {
    let _lock = DEMO.lock();
    DEMO.interrupt_at_step(3, Signal::SIGTERM, Target::Parent);
}

#[test]
fn sighup_after_the_consumer_finished() {
    let _lock = DEMO.lock();
    DEMO.interrupt_at_step(5, Signal::SIGHUP, Target::Parent);
}

#[test]
fn a_run_after_sigkill_recovers_both_semaphores() {
    let _lock = DEMO.lock();
    DEMO.assert_recovers_after_sigkill(3, &["/ep_sem_empty", "/ep_sem_full"], TRANSCRIPT, 2);
}

#[test]
fn help_names_the_options() {
    DEMO.assert_help(&[]);
}

#[test]
fn a_zero_byte_semaphore_file_is_recovered_like_any_leftover() {
    let _lock = DEMO.lock();
    // Not a semaphore, but where one would be: C's exclusive sem_open fails with
    // EEXIST on it, and so must the port's, for its stale recovery to act.
    std::fs::write("/dev/shm/sem.ep_sem_full", b"").unwrap();
    let out = DEMO.assert_transcript(&[], TRANSCRIPT);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("left from an earlier run").count(),
        1,
        "{stderr}"
    );
    DEMO.objects().assert_none_left();
}
