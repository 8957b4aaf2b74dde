//! `rm` and `clean`.

use ipc_core::ObjectKind;
use ipc_core::{Errno, Name};

use crate::cli::{CleanArgs, Kind, RmArgs};
use crate::failure::Failure;
use crate::inspect::normalise_prefix;
use crate::inventory::{collect, lookup};
use crate::render::out;

fn object_kind(kind: Kind) -> ObjectKind {
    match kind {
        Kind::Shm => ObjectKind::SharedMemory,
        Kind::Sem => ObjectKind::Semaphore,
        Kind::Mq => ObjectKind::MessageQueue,
    }
}

fn word(kind: Kind) -> &'static str {
    match kind {
        Kind::Shm => "shared memory",
        Kind::Sem => "semaphore",
        Kind::Mq => "message queue",
    }
}

/// `posix-ipc rm NAME...`: every object with each name (of `--type`, if given).
/// Fails (status 1) if a name matched nothing or an unlink failed; goes on with the
/// other names either way.
pub fn rm(args: RmArgs) -> Result<(), Failure> {
    let mut failed = 0;
    for name in &args.names {
        let found = lookup(name, args.kind);
        if found.is_empty() {
            eprintln!("posix-ipc: rm {name}: No such file or directory");
            failed += 1;
        }
        for object in found {
            match object_kind(object.kind).unlink(name) {
                Ok(()) => out(format!("removed {} {name}\n", word(object.kind)).as_bytes()),
                Err(e) => {
                    eprintln!("posix-ipc: {e}");
                    failed += 1;
                }
            }
        }
    }
    match failed {
        0 => Ok(()),
        n => Err(Failure::Other(format!(
            "{n} of the names could not be removed"
        ))),
    }
}

/// `posix-ipc clean`: by prefix, or only orphans, or both.
pub fn clean(args: CleanArgs) -> Result<(), Failure> {
    let prefix = normalise_prefix(args.prefix.as_deref());
    let inventory = collect(args.kind, &prefix);
    if let Some(why) = &inventory.queues_unavailable {
        eprintln!("posix-ipc: message queues not examined: {why}");
    }
    let mut removed = 0;
    let mut failed = 0;
    for object in &inventory.objects {
        if args.orphans {
            match object.orphan {
                Some(true) => {}
                Some(false) => continue,
                None => return Err(Failure::Other(
                    "cannot tell orphans here: some processes could not be examined (run as root)"
                        .into(),
                )),
            }
        }
        let Ok(name) = Name::new(&object.name) else {
            continue;
        };
        if args.dry_run {
            out(format!("would remove {} {}\n", word(object.kind), object.name).as_bytes());
            continue;
        }
        match object_kind(object.kind).unlink(&name) {
            Ok(()) => {
                out(format!("removed {} {}\n", word(object.kind), object.name).as_bytes());
                removed += 1;
            }
            // Removed by someone else since we looked: what we wanted.
            Err(e) if e.errno() == Errno::ENOENT => {}
            Err(e) => {
                eprintln!("posix-ipc: {e}");
                failed += 1;
            }
        }
    }
    if !args.dry_run {
        eprintln!("posix-ipc: {removed} object(s) removed");
    }
    match failed {
        0 => Ok(()),
        n => Err(Failure::Other(format!(
            "{n} object(s) could not be removed"
        ))),
    }
}
