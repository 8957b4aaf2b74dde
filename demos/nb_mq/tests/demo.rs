//! `nb_mq` run as a class runs it: piped, paused, interrupted, killed.
//!
//! Steps: 1 mq_open, 2 mq_receive (empty), 3 mq_send, 4 mq_receive, 5 mq_close + mq_unlink.

use demo_harness::{
    assert_help, assert_stepped_transcript, assert_transcript, exclusive, interrupt_at_step,
    kill_at_step, Objects, Target,
};
use ipc_core::cleanup::ObjectKind;
use nix::sys::signal::Signal;

const BIN: &str = env!("CARGO_BIN_EXE_nb_mq");
const TRANSCRIPT: &[u8] = include_bytes!("../transcript.txt");

fn objects() -> Objects {
    Objects(vec![(ObjectKind::MessageQueue, "/ep_nonblock_mq")])
}

#[test]
fn piped_output_is_the_transcript() {
    let _lock = exclusive("nb_mq");
    let out = assert_transcript(BIN, &[], TRANSCRIPT);
    assert!(
        out.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    objects().assert_none_left();
}

#[test]
fn ctrl_c_before_opening() {
    let _lock = exclusive("nb_mq");
    interrupt_at_step(BIN, objects(), 1, Signal::SIGINT, Target::Group);
}

#[test]
fn ctrl_c_with_a_message_queued() {
    let _lock = exclusive("nb_mq");
    let stdout = interrupt_at_step(BIN, objects(), 4, Signal::SIGINT, Target::Group);
    assert_eq!(
        stdout,
        b"Queue is empty, no message available (non-blocking)\n"
    );
}

#[test]
fn sigterm_to_the_process_after_opening() {
    let _lock = exclusive("nb_mq");
    interrupt_at_step(BIN, objects(), 2, Signal::SIGTERM, Target::Parent);
}

#[test]
fn a_run_after_sigkill_reuses_the_stale_queue() {
    let _lock = exclusive("nb_mq");
    assert_eq!(kill_at_step(BIN, objects(), 2), vec!["/ep_nonblock_mq"]);
    assert_transcript(BIN, &[], TRANSCRIPT);
    objects().assert_none_left();
}

#[test]
fn a_stale_message_is_reported_on_stderr() {
    let _lock = exclusive("nb_mq");
    assert_eq!(kill_at_step(BIN, objects(), 4), vec!["/ep_nonblock_mq"]);
    let out = demo_harness::run_piped(BIN, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"Received: 'test message'\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("earlier run"));
    objects().assert_none_left();
}

#[test]
fn stepping_keeps_the_transcript() {
    let _lock = exclusive("nb_mq");
    assert_stepped_transcript(BIN, objects(), 5, TRANSCRIPT);
}

#[test]
fn help_names_the_options() {
    assert_help(BIN);
}
