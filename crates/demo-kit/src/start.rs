//! The `main` of every demo and lab: parse the command line, install the signal
//! cleanup, run, and fail like C.

use ipc_core::cleanup::{self, Strategy};

use crate::cli::{Cli, Usage};
use crate::errln;
use crate::failure::Failure;
use crate::step::{Step, Steps};

/// Parses the arguments (`--help`, `--version` and bad usage exit here;
/// `--explain` and `--trace FILE` turn on [`ipc_core::explain`]), installs the
/// cleanup `strategy` with its `farewell` (a signal ignored at start stays
/// ignored), then runs `demo`. A [`Failure`] prints its line, unlinks what the
/// demo still owns and exits 1.
pub fn start(
    usage: &Usage,
    strategy: Strategy,
    farewell: Option<&'static str>,
    demo: impl FnOnce(&Cli, &mut Steps) -> Result<(), Failure>,
) {
    run(usage, &[], Some((strategy, farewell)), demo);
}

/// As [`start`], for a demo that pauses at `steps` with `--step`: `--steps` lists
/// them without running, and `--help` ends with them.
pub fn start_stepped(
    usage: &Usage,
    steps: &[Step],
    strategy: Strategy,
    farewell: Option<&'static str>,
    demo: impl FnOnce(&Cli, &mut Steps) -> Result<(), Failure>,
) {
    run(usage, steps, Some((strategy, farewell)), demo);
}

/// As [`start`], for a lab that installs its cleanup itself, at the moment its
/// design needs (for example after forking, for the helper-thread strategy).
pub fn start_lab(usage: &Usage, lab: impl FnOnce(&Cli, &mut Steps) -> Result<(), Failure>) {
    run(usage, &[], None, lab);
}

fn run(
    usage: &Usage,
    steps: &[Step],
    cleanup: Option<(Strategy, Option<&'static str>)>,
    demo: impl FnOnce(&Cli, &mut Steps) -> Result<(), Failure>,
) {
    let cli = Cli::parse_stepped(usage, steps);
    if cli.explain {
        ipc_core::explain::enable();
    }
    if let Some(file) = &cli.trace {
        if let Err(e) = ipc_core::explain::trace_to(file) {
            eprintln!("{}: --trace {}: {e}", usage.name, file.display());
            std::process::exit(1);
        }
    }
    if let Some((strategy, farewell)) = cleanup {
        if let Err(e) = cleanup::install(strategy, farewell) {
            errln!("{}: {e}", usage.name);
            std::process::exit(1);
        }
    }
    let mut steps = Steps::new(cli.step);
    if let Err(failure) = demo(&cli, &mut steps) {
        failure.exit();
    }
    ipc_core::explain::exit(0);
    if let (Some(file), Some(lost)) = (&cli.trace, ipc_core::explain::trace_lost()) {
        // The run did what it shows, but the trace asked for is incomplete.
        errln!("{}: --trace {}: {lost}", usage.name, file.display());
        std::process::exit(1);
    }
}
