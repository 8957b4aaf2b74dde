//! `rm` and `clean`.
//!
//! `clean --orphans` lists the objects first, then scans `/proc` (a scan taken
//! before an object existed could not vouch for it). Where the scan saw no
//! holder, the kernel is asked (a lease taken and released at once); an object
//! neither can vouch for is left alone, and the command says why and ends with
//! status 1. Each candidate is checked once more
//! right before removing it: [`remove_unheld`] scans again and asks the kernel
//! for a lease, which it grants only if no process anywhere has the object open
//! or mapped, and unlinks while holding it.

use clap::CommandFactory;
use ipc_core::Errno;

use crate::cli::{CleanArgs, Cli, RmArgs};
use crate::failure::Failure;
use crate::holders::{remove_unheld, Removal};
use crate::inventory::{collect, lookup, Object};
use crate::render::{escape_name, escape_text, out};

/// `posix-ipc rm NAME...`: every object with each name (of `--type`, if given).
/// Fails (status 1) if a name matched nothing or an unlink failed; goes on with the
/// other names either way.
pub fn rm(args: RmArgs) -> Result<(), Failure> {
    let mut failed = 0;
    for name in &args.names {
        let shown = escape_name(name.as_bytes());
        let found = lookup(name, args.kind, Default::default());
        if found.is_empty() {
            eprintln!("posix-ipc: rm {shown}: No such file or directory");
            failed += 1;
        }
        for object in found {
            match object.kind.unlink(name) {
                Ok(()) => out(format!("removed {} {shown}\n", object.kind.noun()).as_bytes()),
                Err(e) => {
                    eprintln!(
                        "posix-ipc: rm {shown}: {}",
                        nix::errno::Errno::desc(e.errno())
                    );
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
    let prefix = args.prefix.clone().map_or_else(|| b"/".to_vec(), |p| p.0);
    if args.prefix.is_some() && prefix == b"/" && !args.all {
        let mut command = Cli::command();
        let clean = command
            .find_subcommand_mut("clean")
            .expect("clean is a subcommand");
        clean
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                "an empty prefix or a bare '/' matches every object: add --all if that is what you mean",
            )
            .exit();
    }
    let options = args.scan.options();
    let inventory = collect(args.kind, &prefix, options);
    if let Some(why) = &inventory.queues_unavailable {
        eprintln!("posix-ipc: message queues not examined: {why}");
    }
    let mut removed = 0;
    let mut failed = 0;
    let mut unknown = 0;
    for object in &inventory.objects {
        let shown = object.shown_name();
        if !object.regular {
            // No object at all (a directory, a pipe, a link): never a candidate.
            eprintln!("posix-ipc: left {shown} alone: {}", object.odd.join("; "));
            continue;
        }
        if args.orphans && object.orphan != Some(true) {
            if object.unseen_holder {
                eprintln!(
                    "posix-ipc: kept {shown}: the kernel says it is open or mapped, {}",
                    unseen_where(&inventory.scan)
                );
            } else if object.orphan.is_none() {
                unknown += 1;
                let why = object
                    .kernel_silent
                    .as_deref()
                    .unwrap_or("it was not asked");
                eprintln!("posix-ipc: left {shown} alone: no holder was seen, and the kernel would not say: {why}");
            }
            continue;
        }
        let Some(name) = object.call_name() else {
            continue;
        };
        let line = |verb: &str| format!("{verb} {} {shown}\n", object.kind.noun());
        if args.dry_run {
            out(line("would remove").as_bytes());
            continue;
        }
        if args.orphans {
            match remove_unheld(object.kind, &name, Some(object.id), options) {
                Removal::Removed { opened_meanwhile } => {
                    out(line("removed").as_bytes());
                    removed += 1;
                    if opened_meanwhile {
                        eprintln!(
                            "posix-ipc: another process was opening {shown} as it was removed: it holds the removed object"
                        );
                    }
                }
                Removal::Gone => {}
                kept => eprintln!("posix-ipc: kept {shown}: {}", why_kept(&kept, object)),
            }
            continue;
        }
        match object.kind.unlink(&name) {
            Ok(()) => {
                out(line("removed").as_bytes());
                removed += 1;
            }
            // Removed by someone else since we looked: what we wanted.
            Err(e) if e.errno() == Errno::ENOENT => {}
            Err(e) => {
                eprintln!("posix-ipc: {shown}: {}", Errno::desc(e.errno()));
                failed += 1;
            }
        }
    }
    if !args.dry_run {
        let objects = crate::columns::plural(removed as i64, "object", "objects");
        eprintln!("posix-ipc: {removed} {objects} removed");
    }
    let could_not = |n: usize| {
        format!(
            "{n} {} could not be removed",
            crate::columns::plural(n as i64, "object", "objects")
        )
    };
    if unknown == 0 {
        return match failed {
            0 => Ok(()),
            n => Err(Failure::Other(could_not(n))),
        };
    }
    if failed > 0 {
        eprintln!("posix-ipc: {}", could_not(failed));
    }
    let why = blind_spots(&inventory.scan);
    Err(Failure::Other(format!(
        "left {unknown} {} alone: no holder was seen, but {}, and the kernel would not say (see above){}",
        crate::columns::plural(unknown as i64, "object", "objects"),
        why.join("; "),
        hint(&inventory.scan)
    )))
}

/// What the scan could not see, one phrase each.
fn blind_spots(scan: &crate::holders::Scan) -> Vec<String> {
    scan.blind_spots().iter().map(ToString::to_string).collect()
}

/// Where the holder the kernel reports is, as this scan could not see it.
fn unseen_where(scan: &crate::holders::Scan) -> String {
    if scan.is_complete() {
        "though no process shows it: a descriptor in flight over a unix socket, or one only the kernel holds".into()
    } else {
        format!(
            "by a process this scan cannot see: {}",
            blind_spots(scan).join("; ")
        )
    }
}

/// What to do about a scan with blind spots.
fn hint(scan: &crate::holders::Scan) -> &'static str {
    use ipc_core::holders::BlindSpot;
    if scan
        .blind_spots()
        .iter()
        .all(|b| matches!(b, BlindSpot::NestedPidNamespace))
    {
        " (inside a container whose IPC namespace and /dev/shm are its own, add --trust-pid-namespace)"
    } else {
        " (run it as root, in the PID namespace of the whole system)"
    }
}

fn why_kept(kept: &Removal, object: &Object) -> String {
    match kept {
        Removal::Held(holders) => {
            let who: Vec<String> = holders
                .iter()
                .map(|h| escape_text(h.to_string().as_bytes()))
                .collect();
            format!("it is held now, by {}", who.join(", "))
        }
        Removal::HeldUnseen => {
            "the kernel says it is open or mapped (by a process this scan cannot see, or a descriptor no process shows)".into()
        }
        Removal::Unsure(why) => format!("cannot tell whether a process holds it: {why}"),
        Removal::Removed { .. } | Removal::Gone => {
            format!("{} {}", object.kind.noun(), object.shown_name())
        }
    }
}
