//! `sem_producer_consumer` run as a class runs it: piped, paused, interrupted, killed.
//!
//! Steps: 1 sem_open x2, 2 fork, 3 produce, 4 waitpid, 5 sem_close x2, 6 sem_unlink x2.

use demo_harness::{
    assert_help, assert_stepped_transcript, assert_transcript, exclusive, interrupt_at_step,
    kill_at_step, Objects, Target,
};
use ipc_core::cleanup::ObjectKind;
use nix::sys::signal::Signal;

const BIN: &str = env!("CARGO_BIN_EXE_sem_producer_consumer");
const TRANSCRIPT: &[u8] = include_bytes!("../transcript.txt");

fn objects() -> Objects {
    Objects(vec![
        (ObjectKind::Semaphore, "/ep_sem_empty"),
        (ObjectKind::Semaphore, "/ep_sem_full"),
    ])
}

#[test]
fn piped_output_is_the_transcript() {
    let _lock = exclusive("sem_producer_consumer");
    let out = assert_transcript(BIN, &[], TRANSCRIPT);
    assert!(
        out.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    objects().assert_none_left();
}

#[test]
fn ctrl_c_before_forking() {
    let _lock = exclusive("sem_producer_consumer");
    interrupt_at_step(BIN, objects(), 2, Signal::SIGINT, Target::Group);
}

#[test]
fn ctrl_c_while_the_consumer_waits() {
    let _lock = exclusive("sem_producer_consumer");
    let stdout = interrupt_at_step(BIN, objects(), 3, Signal::SIGINT, Target::Group);
    assert!(stdout.is_empty(), "{}", String::from_utf8_lossy(&stdout));
}

#[test]
fn sigterm_to_the_parent_alone_stops_the_blocked_consumer() {
    let _lock = exclusive("sem_producer_consumer");
    interrupt_at_step(BIN, objects(), 3, Signal::SIGTERM, Target::Parent);
}

#[test]
fn sighup_after_the_consumer_finished() {
    let _lock = exclusive("sem_producer_consumer");
    interrupt_at_step(BIN, objects(), 5, Signal::SIGHUP, Target::Parent);
}

#[test]
fn a_run_after_sigkill_recovers_both_semaphores() {
    let _lock = exclusive("sem_producer_consumer");
    let left = kill_at_step(BIN, objects(), 3);
    assert_eq!(left, vec!["/ep_sem_empty", "/ep_sem_full"]);
    let out = assert_transcript(BIN, &[], TRANSCRIPT);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("left from an earlier run").count(),
        2,
        "{stderr}"
    );
    objects().assert_none_left();
}

#[test]
fn stepping_keeps_the_transcript() {
    let _lock = exclusive("sem_producer_consumer");
    assert_stepped_transcript(BIN, objects(), 6, TRANSCRIPT);
}

#[test]
fn help_names_the_options() {
    assert_help(BIN);
}
