//! `posix-ipc`: see, drive and clean up POSIX message queues, named semaphores and
//! shared memory, one short-lived process per call.

#![deny(missing_docs)]

mod bench;
mod clean;
mod cli;
mod columns;
mod diagram;
mod drive;
mod failure;
mod generate;
mod holders;
mod inspect;
mod inventory;
mod limits;
mod mqueue_dir;
mod output;
mod render;
mod summary;
mod table;
mod units;
mod watch;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() {
    // Before anything can change a disposition: which signals the caller ignores.
    ipc_core::inherited::capture();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ls(args) => inspect::ls(args),
        Command::Stat(args) => inspect::stat(args),
        Command::Mq(command) => drive::mq(command),
        Command::Sem(command) => drive::sem(command),
        Command::Shm(command) => drive::shm(command),
        Command::Rm(args) => clean::rm(args),
        Command::Clean(args) => clean::clean(args),
        Command::Limits(args) => limits::limits(args),
        Command::Bench(args) => bench::bench(args),
        Command::Generate(command) => generate::generate(command),
        Command::Diagram(args) => diagram::diagram(args),
        Command::Watch(args) => watch::watch(args),
    };
    if let Err(failure) = result {
        std::process::exit(failure.report());
    }
}
