//! `mq_lifecycle` run as a class runs it: piped, paused, interrupted, killed.
//!
//! Steps: 1 mq_open, 2 mq_send x3, 3 mq_receive x3, 4 mq_close, 5 mq_unlink.

use demo_harness::{
    assert_help, assert_stepped_transcript, assert_transcript, exclusive, interrupt_at_step,
    kill_at_step, Objects, Target,
};
use ipc_core::cleanup::ObjectKind;
use nix::sys::signal::Signal;

const BIN: &str = env!("CARGO_BIN_EXE_mq_lifecycle");
const TRANSCRIPT: &[u8] = include_bytes!("../transcript.txt");
const FAREWELL: &[u8] = b"\nCleaned up. Exiting.\n";

fn objects() -> Objects {
    Objects(vec![(ObjectKind::MessageQueue, "/ep_mq_lifecycle")])
}

#[test]
fn piped_output_is_the_transcript() {
    let _lock = exclusive("mq_lifecycle");
    let out = assert_transcript(BIN, &[], TRANSCRIPT);
    assert!(
        out.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    objects().assert_none_left();
}

fn interrupt(step: usize, signal: Signal, target: Target) {
    let _lock = exclusive("mq_lifecycle");
    let stdout = interrupt_at_step(BIN, objects(), step, signal, target);
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
    let _lock = exclusive("mq_lifecycle");
    assert_eq!(kill_at_step(BIN, objects(), 3), vec!["/ep_mq_lifecycle"]);
    let out = assert_transcript(BIN, &[], TRANSCRIPT);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "one note on stderr: {stderr}");
    assert!(stderr.contains("left from an earlier run"), "{stderr}");
    objects().assert_none_left();
}

#[test]
fn stepping_keeps_the_transcript() {
    let _lock = exclusive("mq_lifecycle");
    assert_stepped_transcript(BIN, objects(), 5, TRANSCRIPT);
}

#[test]
fn help_names_the_options() {
    assert_help(BIN);
}
