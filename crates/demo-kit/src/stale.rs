//! Recovering from a crashed run: an exclusive create that meets `EEXIST` unlinks
//! the stale object and tries once more, as the document recommends.

use ipc_core::cleanup;
use ipc_core::ObjectKind;
use ipc_core::{Errno, Name, Result};

/// Runs `create` (an `O_CREAT | O_EXCL` open) with the object registered for
/// cleanup. On `EEXIST`, and only then, prints one note on stderr, unlinks the
/// object a crashed run left (whatever that unlink says, the retry decides) and
/// runs `create` once more. A normal run makes exactly `create`'s calls.
pub fn create_replacing_stale<T>(
    demo: &str,
    kind: ObjectKind,
    name: &Name,
    create: impl Fn() -> Result<T>,
) -> Result<T> {
    match cleanup::own(kind, name, &create) {
        Err(e) if e.errno() == Errno::EEXIST => {
            eprintln!(
                "{demo}: {name} is left from an earlier run: unlinking it and creating it again"
            );
            let _ = kind.unlink(name);
            cleanup::own(kind, name, &create)
        }
        other => other,
    }
}
