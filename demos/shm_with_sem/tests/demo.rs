//! `shm_with_sem` run as a class runs it: piped, paused, interrupted, killed.
//!
//! Steps: 1 shm_open, 2 ftruncate, 3 mmap, 4 close, 5 sem_open, 6 fork,
//! 7 waitpid, 8 munmap + sem_close + unlinks.

use demo_harness::{
    assert_help, assert_stepped_transcript, assert_transcript, exclusive, interrupt_at_step,
    kill_at_step, Objects, Target,
};
use ipc_core::cleanup::ObjectKind;
use nix::sys::signal::Signal;

const BIN: &str = env!("CARGO_BIN_EXE_shm_with_sem");
const TRANSCRIPT: &[u8] = include_bytes!("../transcript.txt");

fn objects() -> Objects {
    Objects(vec![
        (ObjectKind::SharedMemory, "/ep_safe_shm"),
        (ObjectKind::Semaphore, "/ep_shm_lock"),
    ])
}

#[test]
fn piped_output_is_the_transcript() {
    let _lock = exclusive("shm_with_sem");
    let out = assert_transcript(BIN, &[], TRANSCRIPT);
    assert!(
        out.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    objects().assert_none_left();
}

#[test]
fn stepping_keeps_the_transcript() {
    let _lock = exclusive("shm_with_sem");
    assert_stepped_transcript(BIN, objects(), 8, TRANSCRIPT);
}

#[test]
fn ctrl_c_after_mapping() {
    let _lock = exclusive("shm_with_sem");
    interrupt_at_step(BIN, objects(), 4, Signal::SIGINT, Target::Group);
}

#[test]
fn ctrl_c_while_the_child_runs() {
    let _lock = exclusive("shm_with_sem");
    interrupt_at_step(BIN, objects(), 7, Signal::SIGINT, Target::Group);
}

#[test]
fn sigterm_to_the_parent_alone_while_the_child_runs() {
    let _lock = exclusive("shm_with_sem");
    interrupt_at_step(BIN, objects(), 7, Signal::SIGTERM, Target::Parent);
}

#[test]
fn sighup_before_creating_the_lock() {
    let _lock = exclusive("shm_with_sem");
    interrupt_at_step(BIN, objects(), 5, Signal::SIGHUP, Target::Parent);
}

#[test]
fn a_run_after_sigkill_recovers_the_stale_lock() {
    let _lock = exclusive("shm_with_sem");
    let left = kill_at_step(BIN, objects(), 7);
    assert_eq!(left, vec!["/ep_safe_shm", "/ep_shm_lock"]);
    let out = assert_transcript(BIN, &[], TRANSCRIPT);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "one note on stderr: {stderr}");
    objects().assert_none_left();
}

#[test]
fn help_names_the_options() {
    assert_help(BIN);
}
