//! `ls` and `stat`.

use crate::cli::{ListArgs, StatArgs};
use crate::columns::{Column, Context, DEFAULT};
use crate::failure::Failure;
use crate::inventory::{collect, lookup, queue_unopenable, Object};
use crate::render::{full, json, out};
use crate::table::{print, Format, Heading};

/// `posix-ipc ls`.
pub fn ls(args: ListArgs) -> Result<(), Failure> {
    if args.list_columns {
        out(crate::columns::list().as_bytes());
        return Ok(());
    }
    if args.summary {
        return crate::summary::summary(&args);
    }
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
    let format = args.format.format();
    match (&args.output, format) {
        // The whole object, as before -o existed.
        (None, Format::Json) => json(&inventory.objects),
        (_, Format::Table) if inventory.objects.is_empty() => {
            eprintln!("posix-ipc: no objects");
        }
        (columns, _) => {
            let default = columns.is_none();
            let columns = columns.as_ref().map_or(&DEFAULT[..], |c| &c.0[..]);
            rows(&inventory.objects, columns, default, &args);
        }
    }
    Ok(())
}

/// The objects, one row each, in `columns`. The default table adds what is odd
/// about an object to its last cell.
fn rows(objects: &[Object], columns: &[Column], default: bool, args: &ListArgs) {
    let headings: Vec<Heading> = columns.iter().map(|c| c.heading()).collect();
    let context = std::cell::RefCell::new(Context::new(args.format.bytes));
    print(
        args.format.format(),
        &headings,
        !args.format.noheadings,
        objects.len(),
        |i, cells| {
            let object = &objects[i];
            let mut context = context.borrow_mut();
            for (cell, &column) in cells.iter_mut().zip(columns) {
                context.cell(column, object, cell);
            }
            if default {
                if let Some(last) = cells.last_mut() {
                    for odd in &object.odd {
                        last.push_str(&format!("  [odd: {odd}]"));
                    }
                }
            }
        },
        |i| {
            let mut context = context.borrow_mut();
            columns
                .iter()
                .map(|&c| context.json(c, &objects[i]))
                .collect()
        },
    );
}

/// `posix-ipc stat NAME`.
pub fn stat(args: StatArgs) -> Result<(), Failure> {
    let objects = lookup(&args.name, args.kind, args.scan.options());
    if objects.is_empty() {
        let queue_wanted = args
            .kind
            .is_none_or(|k| k == ipc_core::ObjectKind::MessageQueue);
        if let Some(error) = queue_wanted.then(|| queue_unopenable(&args.name)).flatten() {
            let hint = if error.errno() == ipc_core::Errno::EACCES {
                "a message queue of this name exists, but this user may not open it, and no \
                 mqueue filesystem is mounted to read it from"
            } else {
                "whether a message queue of this name exists cannot be told"
            };
            return Err(Failure::hinted(error, hint));
        }
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
