//! `nb_mq` as a class expects of a command-line program: `--version`,
//! `--steps` (also at the end of `--help`), a `--step` whose input cannot exhaust
//! memory, and signals ignored at start that stay ignored.

mod common;

use common::DEMO;

demo_harness::command_line_tests!(
    steps: 6,
    transcript: include_bytes!("../transcript.txt")
);
