//! The `main` of every demo: parse the command line, install the signal cleanup,
//! run, and fail like C.

use ipc_core::cleanup::{self, Strategy};

use crate::cli::{Cli, Usage};
use crate::failure::Failure;
use crate::step::Steps;

/// Parses the arguments (`--help` and bad usage exit here; `--explain` turns on
/// [`ipc_core::explain`]), installs the cleanup
/// `strategy` with its `farewell`, then runs `demo`. A [`Failure`] prints its
/// `perror` line, unlinks what the demo still owns and exits 1.
pub fn start(
    usage: &Usage,
    strategy: Strategy,
    farewell: Option<&'static str>,
    demo: impl FnOnce(&Cli, &mut Steps) -> Result<(), Failure>,
) {
    let cli = Cli::parse(usage);
    if cli.explain {
        ipc_core::explain::enable();
    }
    if let Err(e) = cleanup::install(strategy, farewell) {
        eprintln!("{}: {e}", usage.name);
        std::process::exit(1);
    }
    let mut steps = Steps::new(cli.step);
    if let Err(failure) = demo(&cli, &mut steps) {
        failure.exit();
    }
}
