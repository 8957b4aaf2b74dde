//! `shm_with_sem` run as a class runs it: piped, paused, interrupted, killed.
//!
//! Steps: 1 shm_open, 2 ftruncate, 3 mmap, 4 close, 5 sem_open, 6 fork,
//! 7 waitpid, 8 munmap + sem_close, 9 shm_unlink + sem_unlink.

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
    DEMO.assert_stepped_run(9, TRANSCRIPT);
}

#[test]
fn ctrl_c_after_mapping() {
    let _lock = DEMO.lock();
    DEMO.interrupt_at_step(4, Signal::SIGINT, Target::Group);
}

#[test]
fn ctrl_c_while_the_child_runs() {
    let _lock = DEMO.lock();
    DEMO.interrupt_at_step(7, Signal::SIGINT, Target::Group);
}

#[test]
fn sigterm_to_the_parent_alone_while_the_child_runs() {
    let _lock = DEMO.lock();
    DEMO.interrupt_at_step(7, Signal::SIGTERM, Target::Parent);
}

#[test]
fn sighup_before_creating_the_lock() {
    let _lock = DEMO.lock();
    DEMO.interrupt_at_step(5, Signal::SIGHUP, Target::Parent);
}

#[test]
fn a_run_after_sigkill_recovers_the_stale_lock() {
    let _lock = DEMO.lock();
    // The shared memory object is reopened without O_EXCL; only the lock needs a note.
    DEMO.assert_recovers_after_sigkill(7, &["/ep_safe_shm", "/ep_shm_lock"], TRANSCRIPT, 1);
}

#[test]
fn help_names_the_options() {
    DEMO.assert_help(&[]);
}
