//! `posix-ipc generate`: man pages and shell completions, made from the same clap
//! definition that parses the command line, so they never disagree with `--help`.
//! Hidden from `--help`; `make install-docs` runs it. The bash completion file is
//! named `posix-ipc`, as bash-completion looks it up.

use std::path::Path;

use clap::CommandFactory;

use crate::cli::{Cli, GenerateCommand};
use crate::failure::Failure;

/// `posix-ipc generate man DIR` / `posix-ipc generate completions SHELL DIR`.
pub fn generate(command: GenerateCommand) -> Result<(), Failure> {
    match command {
        GenerateCommand::Man { dir } => {
            create_dir(&dir)?;
            clap_mangen::generate_to(Cli::command(), &dir)
                .map_err(|e| Failure::Other(format!("writing man pages in {}: {e}", dir.display())))
        }
        GenerateCommand::Completions { shell, dir } => {
            create_dir(&dir)?;
            let mut command = Cli::command();
            let failed = |e: std::io::Error| {
                Failure::Other(format!("writing completions in {}: {e}", dir.display()))
            };
            let path = clap_complete::generate_to(shell, &mut command, "posix-ipc", &dir)
                .map_err(failed)?;
            // bash-completion loads a command's completions from a file named
            // after the command.
            if shell == clap_complete::Shell::Bash {
                std::fs::rename(&path, dir.join("posix-ipc")).map_err(failed)?;
            }
            Ok(())
        }
    }
}

fn create_dir(dir: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::Other(format!("creating {}: {e}", dir.display())))
}
