//! The named objects a demo creates: which exist, and removing them.

use std::path::Path;

use ipc_core::ObjectKind;
use ipc_core::{Errno, MessageQueue, MqOptions, Name};

/// The named objects a demo creates.
#[derive(Clone, Copy, Debug)]
pub struct Objects(pub &'static [(ObjectKind, &'static str)]);

impl Objects {
    /// Those of them that exist now.
    pub fn existing(&self) -> Vec<&'static str> {
        self.0
            .iter()
            .filter(|(kind, name)| exists(*kind, name))
            .map(|(_, name)| *name)
            .collect()
    }

    /// Removes every one of them that exists.
    pub fn remove_all(&self) {
        for (kind, name) in self.0 {
            remove(*kind, name);
        }
    }

    /// Panics, naming them, if any of them exists.
    pub fn assert_none_left(&self) {
        let left = self.existing();
        assert!(left.is_empty(), "objects left behind: {left:?}");
    }
}

/// Whether the object `name` of `kind` exists. Shared memory and semaphores are
/// looked up in `/dev/shm`; a queue is opened without `O_CREAT` (which works with
/// no mqueue filesystem mounted).
pub(crate) fn exists(kind: ObjectKind, name: &str) -> bool {
    let file = name.strip_prefix('/').unwrap_or(name);
    match kind {
        ObjectKind::SharedMemory => Path::new("/dev/shm").join(file).exists(),
        ObjectKind::Semaphore => Path::new("/dev/shm").join(format!("sem.{file}")).exists(),
        ObjectKind::MessageQueue => {
            let name = Name::new(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            match MessageQueue::open(&name, &MqOptions::default()) {
                Ok(_) => true,
                Err(e) => {
                    assert_eq!(e.errno(), Errno::ENOENT, "probing {name}: {e}");
                    false
                }
            }
        }
    }
}

/// Removes the object `name` of `kind` if it exists.
pub(crate) fn remove(kind: ObjectKind, name: &str) {
    if let Ok(name) = Name::new(name) {
        let _ = kind.unlink(&name);
    }
}
