//! What every lifecycle demo shares, so each demo's `main.rs` reads like its C original:
//!
//! - [`cli`]: `--help`, `--version`, `--step`, `--steps` and a demo's own flags;
//! - [`facility`]: the three kinds of objects behind one interface, for the labs;
//! - [`step`]: the `--step` pauses, on stderr so stdout stays the transcript;
//! - [`output`]: [`outln!`], `println!` that fails instead of panicking, and
//!   [`errln!`], `eprintln!` that never panics;
//! - [`failure`]: `perror`-style failures that unlink what the demo owns and exit 1;
//! - [`partner`]: waits on a forked child's posts that end if the child is gone;
//! - [`stale`]: recreating an object a crashed run left behind, never one in use;
//! - [`names`]: the C names, or names of one's own on a shared machine;
//! - [`start`]: the `main` every demo shares.

#![deny(missing_docs)]

pub mod cli;
pub mod cpus;
pub mod facility;
pub mod failure;
pub mod names;
pub mod output;
pub mod partner;
pub mod stale;
pub mod start;
pub mod step;

pub use cli::{Cli, Usage};
pub use failure::{Failure, Perror};
pub use partner::Partner;
pub use stale::{create_replacing_stale, open_unless_held};
pub use start::{start, start_lab, start_stepped};
pub use step::{Step, Steps};
