//! `excl_demo` run as a class runs it: twice, then `--unlink`; paused and interrupted.
//!
//! Steps of a first run: 1 shm_open (O_EXCL), 2 ftruncate, 3 close.
//! Steps of a second run: 1 shm_open (O_EXCL, fails), 2 shm_open (existing), 3 close.

use demo_harness::{assert_help, assert_transcript, run_piped, Demo, Objects, Stepped, Target};
use ipc_core::ObjectKind;
use nix::sys::signal::Signal;

const DEMO: Demo = Demo {
    name: "excl_demo",
    bin: env!("CARGO_BIN_EXE_excl_demo"),
    objects: Objects(&[(ObjectKind::SharedMemory, "/ep_exclusive")]),
};
const BIN: &str = DEMO.bin;
const FIRST: &[u8] = include_bytes!("../transcript-first-run.txt");
const SECOND: &[u8] = include_bytes!("../transcript-second-run.txt");
const UNLINK: &[u8] = include_bytes!("../transcript-unlink.txt");

#[test]
fn two_runs_then_unlink() {
    let _lock = DEMO.lock();

    assert_transcript(BIN, &[], FIRST);
    let meta = std::fs::metadata("/dev/shm/ep_exclusive").expect("left in /dev/shm on purpose");
    assert_eq!(meta.len(), 1024);
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
        0o600
    );

    assert_transcript(BIN, &[], SECOND);
    assert_transcript(BIN, &["--unlink"], UNLINK);
    DEMO.objects.assert_none_left();

    let again = run_piped(BIN, &["--unlink"]);
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
    assert_transcript(BIN, &[], FIRST);

    let mut demo = Stepped::spawn(BIN, &[], Objects(&[]));
    demo.advance_to(3);
    demo.signal_group(Signal::SIGINT);
    assert_eq!(demo.wait().code(), Some(130));
    assert_eq!(demo.stdout(), SECOND);
    assert_eq!(DEMO.objects.existing(), vec!["/ep_exclusive"]);
}

#[test]
fn help_names_the_options() {
    assert_help(BIN);
    let out = run_piped(BIN, &["--help"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("--unlink"));
}
