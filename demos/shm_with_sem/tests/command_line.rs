//! `shm_with_sem` as a class expects of a command-line program: `--version`,
//! `--steps` (also at the end of `--help`), a `--step` whose input cannot exhaust
//! memory, and signals ignored at start that stay ignored.

use demo_harness::command_line;
use demo_harness::{Demo, Objects};
use ipc_core::ObjectKind;

const DEMO: Demo = Demo {
    name: "shm_with_sem",
    bin: env!("CARGO_BIN_EXE_shm_with_sem"),
    objects: Objects(&[
        (ObjectKind::SharedMemory, "/ep_safe_shm"),
        (ObjectKind::Semaphore, "/ep_shm_lock"),
    ]),
};
const TRANSCRIPT: &[u8] = include_bytes!("../transcript.txt");

#[test]
fn version() {
    command_line::assert_version(&DEMO);
}

#[test]
fn steps_are_listed_without_running() {
    let _lock = DEMO.lock();
    command_line::assert_steps_listed(&DEMO, 9);
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
