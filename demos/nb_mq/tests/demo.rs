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

/// Two runs at once (a second terminal, another student): the second opened the
/// first run's live queue without `O_EXCL`, used it and unlinked it, so the first
/// run's `mq_unlink` met ENOENT. The second run now says who holds it and stops
/// without touching it. The queue is found in the mqueue filesystem, so the test
/// needs one mounted at /dev/mqueue.
#[test]
fn a_second_run_leaves_a_live_runs_queue_alone() {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    if !mounts
        .lines()
        .any(|l| l.split_whitespace().nth(1) == Some("/dev/mqueue") && l.contains(" mqueue "))
    {
        println!("a_second_run_leaves_a_live_runs_queue_alone: skipped: no mqueue filesystem at /dev/mqueue");
        return;
    }
    let _lock = DEMO.lock();
    let mut first = DEMO.step(&[]);
    first.advance_to(2); // the queue exists and is open
    let second = DEMO.run(&[]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "second run: {stderr}");
    assert!(stderr.contains("in use by pid"), "second run: {stderr}");
    let (_, status) = first.finish();
    assert_eq!(status.code(), Some(0), "the first run after the second");
    assert_eq!(
        String::from_utf8_lossy(&first.stdout()),
        String::from_utf8_lossy(TRANSCRIPT)
    );
    DEMO.objects().assert_none_left();
}

#[test]
fn another_users_queue_is_pointed_out() {
    let test = "another_users_queue_is_pointed_out";
    if !demo_harness::needs::as_two_users(test, "a second user, refused this user's queue") {
        return;
    }
    let _lock = DEMO.lock();
    let name = ipc_core::Name::new("/ep_nonblock_mq").unwrap();
    let options = ipc_core::MqOptions::new()
        .creation(ipc_core::Creation::CreateExclusive)
        .mode(0o600);
    let _queue = ipc_core::MessageQueue::open(&name, &options).unwrap();
    let Some(out) = DEMO.run_as_second_user(test, &[]) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "{stderr}");
    assert!(
        stderr.contains("/ep_nonblock_mq: it belongs to")
            && stderr.contains("this user may not open it"),
        "{stderr}"
    );
    assert!(stderr.ends_with("mq_open: Permission denied\n"), "{stderr}");
}
