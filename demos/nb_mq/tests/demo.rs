//! `nb_mq` run as a class runs it: piped, paused, interrupted, killed.
//!
//! Steps: 1 mq_open, 2 mq_receive (empty), 3 mq_send, 4 mq_receive, 5 mq_close, 6 mq_unlink.

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
fn ctrl_c_before_opening() {
    let _lock = DEMO.lock();
    DEMO.interrupt_at_step(1, Signal::SIGINT, Target::Group);
}

#[test]
fn ctrl_c_with_a_message_queued() {
    let _lock = DEMO.lock();
    let stdout = DEMO.interrupt_at_step(4, Signal::SIGINT, Target::Group);
    assert_eq!(
        stdout,
        b"Queue is empty, no message available (non-blocking)\n"
    );
}

#[test]
fn sigterm_to_the_process_after_opening() {
    let _lock = DEMO.lock();
    DEMO.interrupt_at_step(2, Signal::SIGTERM, Target::Parent);
}

#[test]
fn a_run_after_sigkill_reuses_the_stale_queue() {
    let _lock = DEMO.lock();
    // nb_mq opens without O_EXCL: an empty stale queue is simply reused, silently.
    DEMO.assert_recovers_after_sigkill(2, &["/ep_nonblock_mq"], TRANSCRIPT, 0);
}

#[test]
fn a_stale_message_is_reported_on_stderr() {
    let _lock = DEMO.lock();
    assert_eq!(DEMO.kill_at_step(4), vec!["/ep_nonblock_mq"]);
    let out = DEMO.run(&[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"Received: 'test message'\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("from an earlier run"));
    DEMO.objects().assert_none_left();
}

#[test]
fn help_names_the_options() {
    DEMO.assert_help(&[]);
}
