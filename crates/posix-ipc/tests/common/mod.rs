//! What the tests of `posix-ipc` share: the binary under test, running it, and
//! names of their own.

#![allow(dead_code)]

use std::process::{Output, Stdio};

use ipc_core::{Name, ObjectKind};

/// The `posix-ipc` under test: `POSIX_IPC_UNDER_TEST` if set (to check a test
/// against another build), else this build's.
pub fn bin() -> String {
    std::env::var("POSIX_IPC_UNDER_TEST").unwrap_or_else(|_| env!("CARGO_BIN_EXE_posix-ipc").into())
}

/// Runs `posix-ipc ARGS` with stdin empty and waits for it.
pub fn run(args: &[&str]) -> Output {
    demo_harness::command(bin())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run posix-ipc")
}

/// A name only this test uses; every object of that name is removed on drop.
pub struct Scratch(String);

impl Scratch {
    /// `/pipc_PID_TAG`, with whatever an earlier run left of it removed.
    pub fn new(tag: &str) -> Scratch {
        let scratch = Scratch(format!("/pipc_{}_{tag}", std::process::id()));
        scratch.remove();
        scratch
    }

    /// The name, with its '/'.
    pub fn name(&self) -> &str {
        &self.0
    }

    /// The name as `ipc-core` takes it.
    pub fn ipc_name(&self) -> Name {
        Name::new(&self.0).unwrap()
    }

    fn remove(&self) {
        for kind in ObjectKind::ALL {
            let _ = kind.unlink(&self.ipc_name());
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        self.remove();
    }
}
