//! Printing: tables for people, JSON for scripts. A closed pipe (`| head`) ends the
//! program quietly with status 0.
//!
//! Names and commands come from other users: every one is escaped before it
//! reaches a terminal ([`escape_name`]), so no escape sequence, newline or
//! invisible character passes through, and [`unescape`] turns the shown form back
//! into the bytes, so `rm` and `stat` take exactly what `ls` shows.

use crate::columns::plural;
use crate::holders::Holder;
use crate::inventory::{iso8601, Object};
use crate::table::Out;
use ipc_core::ObjectKind;

/// Writes `bytes` to stdout; a broken pipe exits 0 at once.
pub fn out(bytes: &[u8]) {
    let mut stdout = Out::new();
    stdout.write(bytes);
    stdout.finish();
}

/// Prints `value` as pretty JSON and a newline, as it serialises (no copy).
pub fn json<T: serde::Serialize + ?Sized>(value: &T) {
    let mut stdout = Out::new();
    stdout.json(value);
    stdout.finish();
}

/// Unicode characters that change how text around them looks, or are invisible:
/// soft hyphen, bidirectional controls and marks, zero-width characters, the
/// byte-order mark, interlinear annotations, tags.
fn invisible(c: char) -> bool {
    matches!(c as u32,
        0xAD | 0x61C | 0x180E | 0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x206F
        | 0xFEFF | 0xFFF9..=0xFFFB | 0xE0000..=0xE007F)
}

/// A name (or any bytes from another user) as one unambiguous, printable token:
/// printable ASCII stays, `\` is doubled, other ASCII and bytes that are not
/// UTF-8 become `\xNN`, and control, space and invisible Unicode characters become
/// `\u{XXXX}`; other Unicode text stays as it is.
pub fn escape_name(bytes: &[u8]) -> String {
    escape(bytes, false)
}

/// As [`escape_name`], for text whose words are separated by plain spaces (a
/// command line): a space stays a space.
pub fn escape_text(bytes: &[u8]) -> String {
    escape(bytes, true)
}

fn escape(bytes: &[u8], keep_spaces: bool) -> String {
    let mut text = String::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => text.push_str("\\\\"),
                '!'..='~' => text.push(c),
                ' ' if keep_spaces => text.push(c),
                c if c.is_ascii() => text.push_str(&format!("\\x{:02x}", c as u32)),
                c if c.is_control() || c.is_whitespace() || invisible(c) => {
                    text.push_str(&format!("\\u{{{:x}}}", c as u32));
                }
                c => text.push(c),
            }
        }
        for b in chunk.invalid() {
            text.push_str(&format!("\\x{b:02x}"));
        }
    }
    text
}

/// The bytes an escaped name stands for: the inverse of [`escape_name`] (`\\`,
/// `\xNN`, `\u{X...}`); any other backslash is an error.
pub fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('\\') {
        bytes.extend_from_slice(&rest.as_bytes()[..at]);
        let after = &rest[at + 1..];
        let bad = || {
            format!("'\\{}' is no escape: write a backslash as \\\\, a byte as \\xNN, a character as \\u{{XXXX}}", after.chars().next().map(String::from).unwrap_or_default())
        };
        if let Some(r) = after.strip_prefix('\\') {
            bytes.push(b'\\');
            rest = r;
        } else if let Some(r) = after.strip_prefix('x') {
            let hex = r.get(..2).ok_or_else(bad)?;
            bytes.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            rest = &r[2..];
        } else if let Some(r) = after.strip_prefix("u{") {
            let end = r.find('}').ok_or_else(bad)?;
            let c = u32::from_str_radix(&r[..end], 16)
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(bad)?;
            bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            rest = &r[end + 1..];
        } else {
            return Err(bad());
        }
    }
    bytes.extend_from_slice(rest.as_bytes());
    Ok(bytes)
}

/// The holders cell of a table: `pid(command) ...`, or why there are none.
pub fn holders_cell(object: &Object) -> String {
    if object.holders.is_empty() {
        return match object.orphan {
            Some(true) => "none (orphan)".to_owned(),
            Some(false) if object.unseen_holder => {
                "unseen (the kernel says it is open or mapped)".to_owned()
            }
            _ => "none seen (not every process could be seen)".to_owned(),
        };
    }
    object
        .holders
        .iter()
        .map(|h| {
            format!(
                "{}({})",
                h.pid,
                escape_name(short_command(&h.command).as_bytes())
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn short_command(command: &str) -> String {
    let first = command.split_whitespace().next().unwrap_or(command);
    first.rsplit('/').next().unwrap_or(first).to_owned()
}

/// `stat`: one object in full.
pub fn full(object: &Object) -> String {
    let mut text = format!("{} {}\n", object.kind.label(), object.shown_name());
    let mut line = |key: &str, value: String| text.push_str(&format!("  {key:<13} {value}\n"));
    match object.kind {
        ObjectKind::SharedMemory => line(
            "size",
            object.size.map_or_else(
                || "?".to_owned(),
                |size| format!("{size} {}", plural(size as i64, "byte", "bytes")),
            ),
        ),
        ObjectKind::Semaphore => line("value", object.value.map_or("?".into(), |v| v.to_string())),
        ObjectKind::MessageQueue => {
            let depth = match (object.messages, object.max_messages) {
                (Some(n), Some(max)) => format!("{n} of {max} at most"),
                _ => "?".to_owned(),
            };
            line("messages", depth);
            if let Some(size) = object.message_size {
                line(
                    "message size",
                    format!("{size} {} at most", plural(size, "byte", "bytes")),
                );
            }
            line(
                "queued bytes",
                object
                    .queued_bytes
                    .map_or_else(|| "? (no mqueue filesystem)".to_owned(), |b| b.to_string()),
            );
        }
    }
    for odd in &object.odd {
        line("odd", odd.clone());
    }
    line("mode", format!("{:04o}", object.mode));
    line(
        "owner",
        format!(
            "{} (uid {})",
            escape_name(object.owner.as_bytes()),
            object.uid
        ),
    );
    line("changed", iso8601(object.changed));
    let holders = if object.holders.is_empty() {
        holders_cell(object)
    } else {
        object.holders.len().to_string()
    };
    line("holders", holders);
    if let (None, Some(why)) = (object.orphan, &object.kernel_silent) {
        line("kernel", format!("would not say whether it is held: {why}"));
    }
    for holder in &object.holders {
        text.push_str(&format!(
            "    pid {:<7} {:<16} {:<10} {}\n",
            holder.pid,
            how(holder),
            escape_name(holder.user.as_bytes()),
            escape_text(holder.command.as_bytes())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_bytes_are_escaped_and_come_back() {
        let names: [&[u8]; 6] = [
            b"/plain_name-1.2",
            b"/a\x1b]0;owned\x07b",
            b"/two\nlines",
            b"/caf\xe9 \\x41",
            "/r\u{202e}txt\u{200b}".as_bytes(),
            "/gr\u{fc}n\u{85}".as_bytes(),
        ];
        for name in names {
            let shown = escape_name(name);
            assert!(
                shown
                    .chars()
                    .all(|c| !c.is_control() && !c.is_whitespace() && !invisible(c)),
                "{shown:?}"
            );
            assert_eq!(unescape(&shown).unwrap(), name, "{shown}");
        }
        assert_eq!(escape_name(b"/plain_name-1.2"), "/plain_name-1.2");
        assert_eq!(escape_name(b"/a\nb"), "/a\\x0ab");
        assert_eq!(escape_name(b"/caf\xe9"), "/caf\\xe9");
        assert_eq!(escape_name("/gr\u{fc}n".as_bytes()), "/gr\u{fc}n");
        assert!(unescape("/a\\qb").is_err());
        assert!(unescape("/a\\x4").is_err());
    }
}
