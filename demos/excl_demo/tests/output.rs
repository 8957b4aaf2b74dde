//! `excl_demo` with a stdout that cannot take its transcript: `> /dev/full`, `>&-`,
//! a broken pipe and `| head -1`, each also interrupted at every step and at random
//! moments. Every run fails cleanly: status 1 and a line on stderr (or 0 when every
//! line got through), no panic, no process and no object left, in bounded time.
//!
//! Steps: 1 shm_open O_EXCL, 2 ftruncate (first run), 3 shm_open (later run), 4 close, 5 shm_unlink (--unlink).

mod common;

use common::DEMO;

use std::time::Duration;

use demo_harness::broken_stdout::{self, Sink};
use demo_harness::Target;
use nix::sys::signal::Signal;

#[test]
fn full_closed_broken_or_head_stdout_fails_cleanly() {
    let _lock = DEMO.lock();
    broken_stdout::assert_every_sink_fails_cleanly(&DEMO, true);
}

#[test]
fn ctrl_c_at_every_step_with_stdout_closed() {
    let _lock = DEMO.lock();
    let reached =
        broken_stdout::interrupt_every_step(&DEMO, Sink::Closed, Signal::SIGINT, Target::Group);
    assert!(reached >= 1, "not even the first step was reached");
}

#[test]
fn sigterm_to_the_parent_at_every_step_into_a_broken_pipe() {
    let _lock = DEMO.lock();
    let reached = broken_stdout::interrupt_every_step(
        &DEMO,
        Sink::BrokenPipe,
        Signal::SIGTERM,
        Target::Parent,
    );
    assert!(reached >= 1, "not even the first step was reached");
}

#[test]
fn random_interrupts_with_stdout_closed_broken_or_full_leak_nothing() {
    let _lock = DEMO.lock();
    for sink in Sink::ALL {
        let runs = broken_stdout::soak(&DEMO, sink, 1, Duration::from_millis(50));
        assert!(runs > 0);
    }
}
