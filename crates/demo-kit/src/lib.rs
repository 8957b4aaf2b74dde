//! What every lifecycle demo shares, so each demo's `main.rs` reads like its C original:
//!
//! - [`cli`]: `--help`, `--step` and a demo's own flags;
//! - [`step`]: the `--step` pauses, on stderr so stdout stays the transcript;
//! - [`failure`]: `perror`-style failures that unlink what the demo owns and exit 1.

#![deny(missing_docs)]

pub mod cli;
pub mod failure;
pub mod step;

pub use cli::{Cli, Usage};
pub use failure::{Failure, Perror};
pub use step::Steps;
