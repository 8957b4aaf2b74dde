//! Printing: tables for people, JSON for scripts. A closed pipe (`| head`) ends the
//! program quietly with status 0.

use std::io::Write;

use crate::cli::Kind;
use crate::holders::Holder;
use crate::inventory::Object;

/// Writes `bytes` to stdout; a broken pipe exits 0 at once.
pub fn out(bytes: &[u8]) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("posix-ipc: write to stdout: {e}");
        std::process::exit(1);
    }
}

/// Prints `value` as pretty JSON and a newline.
pub fn json<T: serde::Serialize + ?Sized>(value: &T) {
    let text = serde_json::to_string_pretty(value).expect("our values serialise");
    out(format!("{text}\n").as_bytes());
}

fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Shm => "shm",
        Kind::Sem => "sem",
        Kind::Mq => "mq",
    }
}

/// The type-specific column: size, value, or depth of capacity.
fn detail(object: &Object) -> String {
    match object.kind {
        Kind::Shm => format!("{} B", object.size.unwrap_or(0)),
        Kind::Sem => object
            .value
            .map_or_else(|| "value ?".to_owned(), |v| format!("value {v}")),
        Kind::Mq => match (object.messages, object.max_messages) {
            (Some(n), Some(max)) => format!("{n}/{max} msgs"),
            _ => "? msgs".to_owned(),
        },
    }
}

fn holders_cell(object: &Object) -> String {
    if object.holders.is_empty() {
        return match object.orphan {
            Some(true) => "none (orphan)".to_owned(),
            _ => "none seen (run as root to see all)".to_owned(),
        };
    }
    object
        .holders
        .iter()
        .map(|h| format!("{}({})", h.pid, short_command(&h.command)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn short_command(command: &str) -> String {
    let first = command.split_whitespace().next().unwrap_or(command);
    first.rsplit('/').next().unwrap_or(first).to_owned()
}

/// The `ls` table.
pub fn table(objects: &[Object]) -> String {
    let rows: Vec<[String; 7]> = objects
        .iter()
        .map(|o| {
            [
                kind_word(o.kind).to_owned(),
                o.name.clone(),
                detail(o),
                o.mode.clone(),
                o.owner.clone(),
                o.changed.clone(),
                holders_cell(o),
            ]
        })
        .collect();
    let header = [
        "TYPE",
        "NAME",
        "SIZE/VALUE",
        "MODE",
        "OWNER",
        "CHANGED",
        "HOLDERS",
    ]
    .map(String::from);
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, w))| {
                if i == 6 {
                    cell.clone()
                } else {
                    format!("{cell:<w$}")
                }
            })
            .collect();
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    text
}

/// `stat`: one object in full.
pub fn full(object: &Object) -> String {
    let mut text = format!("{} {}\n", kind_word(object.kind), object.name);
    let mut line = |key: &str, value: String| text.push_str(&format!("  {key:<13} {value}\n"));
    match object.kind {
        Kind::Shm => line("size", format!("{} bytes", object.size.unwrap_or(0))),
        Kind::Sem => line("value", object.value.map_or("?".into(), |v| v.to_string())),
        Kind::Mq => {
            line("messages", detail(object));
            if let Some(size) = object.message_size {
                line("message size", format!("{size} bytes at most"));
            }
            if let Some(bytes) = object.queued_bytes {
                line("queued bytes", bytes.to_string());
            }
        }
    }
    line("mode", object.mode.clone());
    line("owner", format!("{} (uid {})", object.owner, object.uid));
    line("changed", object.changed.clone());
    let holders = if object.holders.is_empty() {
        holders_cell(object)
    } else {
        object.holders.len().to_string()
    };
    line("holders", holders);
    for holder in &object.holders {
        text.push_str(&format!(
            "    pid {:<7} {:<16} {}\n",
            holder.pid,
            how(holder),
            holder.command
        ));
    }
    text
}

fn how(holder: &Holder) -> String {
    let mut parts: Vec<String> = holder.fds.iter().map(|fd| format!("fd {fd}")).collect();
    if holder.mapped {
        parts.push("mapped".into());
    }
    parts.join(", ")
}
