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

/// Two runs at once (a second terminal, another student): the second opened the
/// first run's live `/ep_safe_shm` without `O_EXCL`, wrote into it, and unlinked it
/// when it met the first run's lock, so the first run then failed with
/// `shm_unlink: No such file or directory`. The second run now says who holds it and
/// stops without touching it; the first run ends as if alone.
#[test]
fn a_second_run_leaves_a_live_runs_object_alone() {
    let _lock = DEMO.lock();
    let mut first = DEMO.step(&[]);
    first.advance_to(3); // /ep_safe_shm exists and is open: the lock does not yet
    let second = DEMO.run(&[]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "second run: {stderr}");
    assert!(stderr.contains("in use by pid"), "second run: {stderr}");
    assert!(second.stdout.is_empty(), "second run wrote to stdout");
    let (_, status) = first.finish();
    assert_eq!(status.code(), Some(0), "the first run after the second");
    assert_eq!(
        String::from_utf8_lossy(&first.stdout()),
        String::from_utf8_lossy(TRANSCRIPT)
    );
    DEMO.objects().assert_none_left();
}
