//! `mq_lifecycle` run as a class runs it: piped, paused, interrupted, killed.
//!
//! Steps: 1 mq_open, 2 mq_send x3, 3 mq_receive x3, 4 mq_close, 5 mq_unlink.

mod common;

use common::DEMO;
use demo_harness::Target;
use nix::sys::signal::Signal;

const TRANSCRIPT: &[u8] = include_bytes!("../transcript.txt");
const FAREWELL: &[u8] = b"\nCleaned up. Exiting.\n";

#[test]
fn piped_output_is_the_transcript() {
    let _lock = DEMO.lock();
    DEMO.assert_clean_run(TRANSCRIPT);
}

#[test]
fn stepping_keeps_the_transcript() {
    let _lock = DEMO.lock();
    DEMO.assert_stepped_run(5, TRANSCRIPT);
}

/// Every interruption also ends with C's farewell on stdout.
fn interrupt(step: usize, signal: Signal, target: Target) {
    let _lock = DEMO.lock();
    let stdout = DEMO.interrupt_at_step(step, signal, target);
    assert!(
        stdout.ends_with(FAREWELL),
        "stdout: {}",
        String::from_utf8_lossy(&stdout)
    );
}

#[test]
fn ctrl_c_before_creating() {
    interrupt(1, Signal::SIGINT, Target::Group);
}

#[test]
fn ctrl_c_with_messages_queued() {
    interrupt(3, Signal::SIGINT, Target::Group);
}

#[test]
fn sighup_after_creating() {
    interrupt(2, Signal::SIGHUP, Target::Group);
}

#[test]
fn sigterm_after_close() {
    interrupt(5, Signal::SIGTERM, Target::Parent);
}

#[test]
fn a_run_after_sigkill_recovers_the_stale_queue() {
    let _lock = DEMO.lock();
    DEMO.assert_recovers_after_sigkill(3, &["/ep_mq_lifecycle"], TRANSCRIPT, 1);
}

#[test]
fn help_names_the_options() {
    DEMO.assert_help(&[]);
}
