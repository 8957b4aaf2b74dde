//! The whole run of a program under test is bounded: one that blocks, or that
//! leaves a process holding its stdout open, fails the test in bounded time, with
//! a clear message, and none of its processes is left.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use demo_harness::{live_members, Io, Process};
use nix::unistd::Pid;

/// The timeout given to the program under test.
const TIMEOUT: Duration = Duration::from_secs(1);

/// Runs `body` (which starts one process and reports its pid) on a thread of its
/// own and expects it to panic within a few timeouts. Returns the panic message and
/// the process group it started; fails the test if `body` hangs or returns.
fn expect_timeout(body: impl FnOnce(&dyn Fn(Pid)) + Send + 'static) -> (String, Pid) {
    let (done, outcome) = channel();
    let (started, pid) = channel();
    let start = Instant::now();
    std::thread::spawn(move || {
        let report = move |p: Pid| {
            let _ = started.send(p);
        };
        let result = catch_unwind(AssertUnwindSafe(|| body(&report)));
        let _ = done.send(result);
    });
    let result = outcome
        .recv_timeout(TIMEOUT * 20)
        .expect("the run was not bounded: still waiting after 20 timeouts");
    let elapsed = start.elapsed();
    let panic = result.expect_err("the run ended without a failure");
    let message = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default();
    assert!(
        elapsed >= TIMEOUT && elapsed < TIMEOUT * 5,
        "failed after {elapsed:?}, for a timeout of {TIMEOUT:?}"
    );
    (message, pid.recv().expect("the body reports its pid"))
}

/// No process of the group `pgid` runs any more.
fn assert_gone(pgid: Pid) {
    let start = Instant::now();
    while !live_members(pgid).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "left running: {:?}",
            live_members(pgid)
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_program_that_blocks_is_killed_and_fails_the_test() {
    let (message, pgid) = expect_timeout(|report| {
        let process = Process::start("sleep", &["1000"], Io::Captured, TIMEOUT);
        report(process.pid());
        process.output();
    });
    assert!(
        message.starts_with("sleep 1000 did not finish within 1s")
            && message.contains("killed its process group"),
        "{message}"
    );
    assert_gone(pgid);
}

#[test]
fn a_child_left_holding_stdout_open_is_killed_and_fails_the_test() {
    // The shell exits at once; its background child keeps stdout open, so reading
    // stdout to its end would wait for ever.
    let (message, pgid) = expect_timeout(|report| {
        let process = Process::start(
            "sh",
            &["-c", "sleep 1000 & echo started"],
            Io::Captured,
            TIMEOUT,
        );
        report(process.pid());
        process.output();
    });
    assert!(
        message.contains("exited (exit status: 0) but its stdout or stderr stayed open"),
        "{message}"
    );
    assert!(
        message.contains("stdout so far: \"started\\n\""),
        "{message}"
    );
    assert_gone(pgid);
}

#[test]
fn waiting_for_a_line_that_never_comes_is_bounded() {
    let (message, pgid) = expect_timeout(|report| {
        let mut process = Process::start(
            "sh",
            &[
                "-c",
                "echo '[step 1] press Enter' >&2; read line; sleep 1000",
            ],
            Io::Interactive,
            TIMEOUT,
        );
        report(process.pid());
        let first = process.stderr_line("step 1");
        assert_eq!(first.as_deref(), Some("[step 1] press Enter"));
        process.write_stdin(b"\n");
        process.stderr_line("step 2");
    });
    assert!(
        message.contains("did not finish within 1s (waiting for step 2)"),
        "{message}"
    );
    assert_gone(pgid);
}

#[test]
fn a_program_that_finishes_in_time_gives_its_whole_output() {
    let out = Process::start(
        "sh",
        &["-c", "echo out; echo err >&2; exit 3"],
        Io::Captured,
        Duration::from_secs(10),
    )
    .output();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(out.stdout, b"out\n");
    assert_eq!(out.stderr, b"err\n");
}
