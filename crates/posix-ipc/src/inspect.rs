//! `ls` and `stat`.

use crate::cli::{ListArgs, StatArgs};
use crate::failure::Failure;
use crate::inventory::{collect, lookup};
use crate::render::{full, json, out, table};

/// `posix-ipc ls`.
pub fn ls(args: ListArgs) -> Result<(), Failure> {
    let prefix = args.prefix.clone().map_or_else(|| b"/".to_vec(), |p| p.0);
    let inventory = collect(args.kind, &prefix, args.scan.options());
    if let Some(why) = &inventory.queues_unavailable {
        eprintln!("posix-ipc: message queues not listed: {why}");
    }
    if !inventory.scan.is_complete() && inventory.objects.iter().any(|o| o.orphan.is_none()) {
        for blind in inventory.scan.blind_spots() {
            eprintln!("posix-ipc: holders may be missing: {blind}");
        }
    }
    if args.json.json {
        json(&inventory.objects);
    } else if inventory.objects.is_empty() {
        eprintln!("posix-ipc: no objects");
    } else {
        out(table(&inventory.objects).as_bytes());
    }
    Ok(())
}

/// `posix-ipc stat NAME`.
pub fn stat(args: StatArgs) -> Result<(), Failure> {
    let objects = lookup(&args.name, args.kind, args.scan.options());
    if objects.is_empty() {
        let error = ipc_core::Error::os("stat", Some(&args.name), ipc_core::Errno::ENOENT);
        return Err(Failure::hinted(
            error,
            "no shared memory object, semaphore or message queue has this name",
        ));
    }
    if args.json.json {
        json(&objects);
    } else {
        let text: Vec<String> = objects.iter().map(full).collect();
        out(text.join("\n").as_bytes());
    }
    Ok(())
}
