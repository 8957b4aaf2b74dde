//! `excl_demo` run as a class runs it: twice, then `--unlink`; paused and interrupted.
//!
//! Steps of a first run: 1 shm_open (O_EXCL), 2 ftruncate, 3 close.
//! Steps of a second run: 1 shm_open (O_EXCL, fails), 2 shm_open (existing), 3 close.

mod common;

use common::DEMO;
use demo_harness::Target;
use nix::sys::signal::Signal;

const FIRST: &[u8] = include_bytes!("../transcript-first-run.txt");
const SECOND: &[u8] = include_bytes!("../transcript-second-run.txt");
const UNLINK: &[u8] = include_bytes!("../transcript-unlink.txt");

#[test]
fn two_runs_then_unlink() {
    let _lock = DEMO.lock();

    DEMO.assert_transcript(&[], FIRST);
    let meta = std::fs::metadata("/dev/shm/ep_exclusive").expect("left in /dev/shm on purpose");
    assert_eq!(meta.len(), 1024);
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
        0o600
    );

    DEMO.assert_transcript(&[], SECOND);
    DEMO.assert_transcript(&["--unlink"], UNLINK);
    DEMO.objects().assert_none_left();

    let again = DEMO.run(&["--unlink"]);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(again.stdout, b"");
    assert_eq!(
        again.stderr,
        b"shm_unlink failed: No such file or directory\n"
    );
}

#[test]
fn ctrl_c_after_creating_removes_the_half_made_object() {
    let _lock = DEMO.lock();
    let stdout = DEMO.interrupt_at_step(2, Signal::SIGINT, Target::Group);
    assert_eq!(stdout, b"Created new shared memory object\n");
}

#[test]
fn sigterm_before_close_on_a_first_run_removes_the_object() {
    let _lock = DEMO.lock();
    DEMO.interrupt_at_step(3, Signal::SIGTERM, Target::Parent);
}

#[test]
fn ctrl_c_on_a_second_run_keeps_the_object_it_did_not_create() {
    let _lock = DEMO.lock();
    DEMO.assert_transcript(&[], FIRST);

    let mut demo = DEMO.step(&[]);
    demo.advance_to(3);
    demo.signal(Signal::SIGINT, Target::Group);
    assert_eq!(demo.wait().code(), Some(130));
    assert_eq!(demo.stdout(), SECOND);
    assert_eq!(DEMO.objects().existing(), vec!["/ep_exclusive"]);
}

#[test]
fn help_names_the_options() {
    DEMO.assert_help(&["--unlink"]);
}
