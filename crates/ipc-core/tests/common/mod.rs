//! Helpers shared by `ipc-core`'s integration tests.

#![allow(dead_code)]

pub mod single_threaded;

use std::sync::atomic::{AtomicUsize, Ordering};

use ipc_core::Name;
use ipc_core::ObjectKind;

/// A name no other test (or test process) uses, removed when dropped, so a test
/// that fails half-way leaves nothing behind.
pub struct Scratch {
    pub name: Name,
    kind: ObjectKind,
}

impl Scratch {
    pub fn new(kind: ObjectKind, tag: &str) -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = Name::new(&format!("/ipc_core_test_{}_{n}_{tag}", std::process::id())).unwrap();
        Scratch::named(kind, name)
    }

    /// A given name, removed now (left by an earlier failed run) and when dropped.
    pub fn named(kind: ObjectKind, name: Name) -> Scratch {
        let _ = kind.unlink(&name);
        Scratch { name, kind }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = self.kind.unlink(&self.name);
    }
}
