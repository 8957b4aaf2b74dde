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

/// A run killed between `shm_open` and `ftruncate` leaves a 0-byte object that no
/// later run sizes: the next run says so on stderr, and its stdout stays C's.
#[test]
fn a_zero_byte_object_is_pointed_out() {
    let _lock = DEMO.lock();
    let name = ipc_core::Name::new("/ep_exclusive").unwrap();
    let create = ipc_core::ShmOptions::new()
        .creation(ipc_core::Creation::CreateExclusive)
        .mode(0o600);
    drop(ipc_core::SharedMemory::open(&name, &create).unwrap());
    let out = DEMO.assert_transcript(&[], SECOND);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/ep_exclusive is 0 bytes"), "{stderr}");
    assert!(stderr.contains("excl_demo --unlink"), "{stderr}");
    DEMO.assert_transcript(&["--unlink"], UNLINK);
    DEMO.objects().assert_none_left();
}

/// A second terminal's run, while the first is paused between `shm_open` and
/// `ftruncate`, also finds a 0-byte object: the note names the run that holds it,
/// and does not tell the student to remove it under that run.
#[test]
fn a_zero_byte_object_a_live_run_holds_is_not_called_abandoned() {
    let _lock = DEMO.lock();
    let mut first = DEMO.step(&[]);
    first.advance_to(2);
    let out = DEMO.assert_transcript(&[], SECOND);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("/ep_exclusive is 0 bytes for now")
            && stderr.contains(&format!("pid {} (", first.pid())),
        "{stderr}"
    );
    assert!(!stderr.contains("--unlink"), "{stderr}");
    let (_, status) = first.finish();
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&first.stdout()),
        String::from_utf8_lossy(FIRST)
    );
    let size = std::fs::metadata("/dev/shm/ep_exclusive").unwrap().len();
    assert_eq!(size, 1024, "the first run sized its object");
    DEMO.assert_transcript(&["--unlink"], UNLINK);
}

#[test]
fn another_users_object_is_named_with_its_owner() {
    use std::os::unix::fs::OpenOptionsExt;
    let test = "another_users_object_is_named_with_its_owner";
    if !demo_harness::needs::as_two_users(test, "a second user, refused this user's object") {
        return;
    }
    let _lock = DEMO.lock();
    std::fs::File::options()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open("/dev/shm/ep_exclusive")
        .unwrap();
    let Some(out) = DEMO.run_as_second_user(test, &[]) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Already exists, opening...\n"
    );
    let owner = nix::unistd::getuid().as_raw();
    assert!(
        stderr.contains("/ep_exclusive: it belongs to")
            && stderr.contains(&format!("(uid {owner}, mode 0600)")),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("shm_open (open existing) failed: Permission denied\n"),
        "{stderr}"
    );
}
