//! `nb_mq` as a class expects of a command-line program: `--version`,
//! `--steps` (also at the end of `--help`), a `--step` whose input cannot exhaust
//! memory, and signals ignored at start that stay ignored.

mod common;

use common::DEMO;

use demo_harness::command_line;

const TRANSCRIPT: &[u8] = include_bytes!("../transcript.txt");

#[test]
fn version() {
    command_line::assert_version(&DEMO);
}

#[test]
fn steps_are_listed_without_running() {
    let _lock = DEMO.lock();
    command_line::assert_steps_listed(&DEMO, 6);
}

#[test]
fn step_with_endless_input_reads_a_bounded_line() {
    let _lock = DEMO.lock();
    command_line::assert_endless_step_input_is_bounded(&DEMO, TRANSCRIPT);
}

#[test]
fn signals_ignored_at_start_stay_ignored() {
    let _lock = DEMO.lock();
    command_line::assert_ignored_signals_stay_ignored(&DEMO, TRANSCRIPT);
}
