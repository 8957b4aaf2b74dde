//! The columns of `ls`: what `-o` chooses from, what `--list-columns` prints,
//! and how each shows an object in a cell (text) or in `--json` (a number where
//! it is one).

use std::collections::HashMap;

use crate::inventory::Object;
use crate::render::{escape_name, holders_cell};
use crate::table::Heading;
use crate::units::bytes_cell;
use ipc_core::ObjectKind;

/// One column of `ls`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// shm, sem or mq.
    Type,
    /// The name, escaped as `rm` and `stat` take it.
    Name,
    /// Size, value, or depth and queued bytes, by type.
    Detail,
    /// Shared memory size.
    Size,
    /// Semaphore value.
    Value,
    /// Messages waiting.
    Msgs,
    /// Most messages (`mq_maxmsg`).
    MaxMsgs,
    /// Largest message (`mq_msgsize`).
    MsgSize,
    /// Bytes of the waiting messages (`QSIZE`).
    UsedBytes,
    /// Permission bits in octal.
    Mode,
    /// Permission bits as `rw-r-----`.
    Perms,
    /// Owner uid.
    Uid,
    /// Owner name.
    Owner,
    /// Group id.
    Gid,
    /// Group name.
    Group,
    /// Last change, UTC.
    Changed,
    /// Holders as `pid(command)`.
    Holders,
    /// Number of holders.
    NHolders,
    /// yes, no, or unknown.
    Orphan,
    /// What is odd about it.
    Odd,
}

/// A column's names and help.
struct Description {
    column: Column,
    name: &'static str,
    json: &'static str,
    help: &'static str,
    right: bool,
}

const fn describe(
    column: Column,
    name: &'static str,
    json: &'static str,
    right: bool,
    help: &'static str,
) -> Description {
    Description {
        column,
        name,
        json,
        help,
        right,
    }
}

const DESCRIPTIONS: [Description; 20] = [
    describe(Column::Type, "TYPE", "type", false, "shm, sem or mq"),
    describe(
        Column::Name,
        "NAME",
        "name",
        false,
        "name, escaped as rm and stat take it",
    ),
    describe(
        Column::Detail,
        "DETAIL",
        "detail",
        false,
        "size, value, or messages and queued bytes, by type",
    ),
    describe(Column::Size, "SIZE", "size", true, "shared memory: size"),
    describe(Column::Value, "VALUE", "value", true, "semaphore: value"),
    describe(
        Column::Msgs,
        "MSGS",
        "messages",
        true,
        "queue: messages waiting",
    ),
    describe(
        Column::MaxMsgs,
        "MAXMSGS",
        "max_messages",
        true,
        "queue: most messages (mq_maxmsg)",
    ),
    describe(
        Column::MsgSize,
        "MSGSIZE",
        "message_size",
        true,
        "queue: largest message (mq_msgsize)",
    ),
    describe(
        Column::UsedBytes,
        "USEDBYTES",
        "queued_bytes",
        true,
        "queue: bytes of the waiting messages (QSIZE)",
    ),
    describe(
        Column::Mode,
        "MODE",
        "mode",
        false,
        "permission bits, octal",
    ),
    describe(
        Column::Perms,
        "PERMS",
        "perms",
        false,
        "permission bits, as rw-r-----",
    ),
    describe(Column::Uid, "UID", "uid", true, "owner's user id"),
    describe(Column::Owner, "OWNER", "owner", false, "owner's user name"),
    describe(Column::Gid, "GID", "gid", true, "group id"),
    describe(Column::Group, "GROUP", "group", false, "group name"),
    describe(
        Column::Changed,
        "CHANGED",
        "changed",
        false,
        "last change (mtime), UTC",
    ),
    describe(
        Column::Holders,
        "HOLDERS",
        "holders",
        false,
        "processes holding it open or mapped: pid(command)",
    ),
    describe(
        Column::NHolders,
        "NHOLDERS",
        "nholders",
        true,
        "number of processes holding it",
    ),
    describe(
        Column::Orphan,
        "ORPHAN",
        "orphan",
        false,
        "yes (no holder), no, or unknown (not every process could be seen)",
    ),
    describe(
        Column::Odd,
        "ODD",
        "odd",
        false,
        "what is odd about it (a link, a malformed semaphore, ...)",
    ),
];

/// The columns `ls` shows without `-o`.
pub const DEFAULT: [Column; 7] = [
    Column::Type,
    Column::Name,
    Column::Detail,
    Column::Mode,
    Column::Owner,
    Column::Changed,
    Column::Holders,
];

impl Column {
    fn description(self) -> &'static Description {
        DESCRIPTIONS
            .iter()
            .find(|d| d.column == self)
            .expect("every column is described")
    }

    /// Its header.
    pub fn heading(self) -> Heading {
        let d = self.description();
        Heading {
            name: d.name,
            right: d.right,
        }
    }
}

/// The columns `-o` chose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Columns(pub Vec<Column>);

/// `-o` as given: `NAME,SIZE` replaces the default columns, `+GID,GROUP` adds to
/// them. Case does not matter.
pub fn parse_columns(text: &str) -> Result<Columns, String> {
    let (mut columns, list) = match text.strip_prefix('+') {
        Some(rest) => (DEFAULT.to_vec(), rest),
        None => (Vec::new(), text),
    };
    for word in list.split(',').filter(|w| !w.is_empty()) {
        let d = DESCRIPTIONS
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(word))
            .ok_or_else(|| format!("unknown column '{word}' (see --list-columns)"))?;
        columns.push(d.column);
    }
    if columns.is_empty() {
        return Err("no columns given (see --list-columns)".into());
    }
    Ok(Columns(columns))
}

/// The column list, as `--list-columns` and `ls --help` show it.
pub fn list() -> String {
    let mut text = String::new();
    for d in &DESCRIPTIONS {
        text.push_str(&format!("  {:<10} {}\n", d.name, d.help));
    }
    text
}

/// What cells need besides the object: whether sizes are exact, and the names of
/// gids (each looked up once, not once per object).
pub struct Context {
    /// `--bytes`: exact numbers of bytes instead of `4K`.
    pub exact: bool,
    groups: HashMap<u32, String>,
}

impl Context {
    /// A context with empty name caches.
    pub fn new(exact: bool) -> Context {
        Context {
            exact,
            groups: HashMap::new(),
        }
    }

    fn group(&mut self, gid: u32) -> &str {
        self.groups.entry(gid).or_insert_with(|| {
            let name = nix::unistd::Group::from_gid(nix::unistd::Gid::from_raw(gid))
                .ok()
                .flatten()
                .map_or_else(|| gid.to_string(), |g| g.name);
            escape_name(name.as_bytes())
        })
    }

    /// Appends `column` of `object` to `cell`; nothing if it does not apply.
    pub fn cell(&mut self, column: Column, object: &Object, cell: &mut String) {
        use std::fmt::Write;
        let exact = self.exact;
        let bytes = |n: u64| bytes_cell(n, exact);
        match column {
            Column::Type => cell.push_str(object.kind.label()),
            Column::Name => cell.push_str(&object.shown_name()),
            Column::Detail => cell.push_str(&detail(object, exact)),
            Column::Size => {
                if let Some(n) = object.size {
                    cell.push_str(&bytes(n));
                }
            }
            Column::Value => push_opt(cell, object.value),
            Column::Msgs => push_opt(cell, object.messages),
            Column::MaxMsgs => push_opt(cell, object.max_messages),
            Column::MsgSize => {
                if let Some(n) = object.message_size {
                    cell.push_str(&bytes(n.max(0) as u64));
                }
            }
            Column::UsedBytes => {
                if let Some(n) = object.queued_bytes {
                    cell.push_str(&bytes(n));
                }
            }
            Column::Mode => {
                let _ = write!(cell, "{:04o}", object.mode);
            }
            Column::Perms => cell.push_str(&perms(object.mode)),
            Column::Uid => {
                let _ = write!(cell, "{}", object.uid);
            }
            Column::Owner => cell.push_str(&escape_name(object.owner.as_bytes())),
            Column::Gid => {
                let _ = write!(cell, "{}", object.gid);
            }
            Column::Group => cell.push_str(self.group(object.gid)),
            Column::Changed => cell.push_str(&crate::inventory::iso8601(object.changed)),
            Column::Holders => cell.push_str(&holders_cell(object)),
            Column::NHolders => {
                let _ = write!(cell, "{}", object.holders.len());
            }
            Column::Orphan => cell.push_str(match object.orphan {
                Some(true) => "yes",
                Some(false) => "no",
                None => "unknown",
            }),
            Column::Odd => cell.push_str(&object.odd.join("; ")),
        }
    }

    /// `column` of `object` for `--json -o`: numbers as numbers, `null` where it
    /// does not apply.
    pub fn json(&mut self, column: Column, object: &Object) -> (&'static str, serde_json::Value) {
        use serde_json::Value;
        let number = |n: Option<u64>| n.map_or(Value::Null, Value::from);
        let value = match column {
            Column::Size => number(object.size),
            Column::Value => number(object.value.map(u64::from)),
            Column::Msgs => number(object.messages.map(|n| n.max(0) as u64)),
            Column::MaxMsgs => number(object.max_messages.map(|n| n.max(0) as u64)),
            Column::MsgSize => number(object.message_size.map(|n| n.max(0) as u64)),
            Column::UsedBytes => number(object.queued_bytes),
            Column::Uid => object.uid.into(),
            Column::Gid => object.gid.into(),
            Column::NHolders => object.holders.len().into(),
            Column::Orphan => object.orphan.map_or(Value::Null, Value::from),
            Column::Holders => {
                serde_json::to_value(HoldersJson(&object.holders)).expect("holders serialise")
            }
            Column::Odd => object.odd.clone().into(),
            Column::Name => object.name_json().into(),
            _ => {
                let mut text = String::new();
                self.cell(column, object, &mut text);
                if text.is_empty() {
                    Value::Null
                } else {
                    text.into()
                }
            }
        };
        (column.description().json, value)
    }
}

struct HoldersJson<'a>(&'a [crate::holders::Holder]);

impl serde::Serialize for HoldersJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::holders::serialize_holders(self.0, s)
    }
}

fn push_opt<T: std::fmt::Display>(cell: &mut String, value: Option<T>) {
    use std::fmt::Write;
    if let Some(v) = value {
        let _ = write!(cell, "{v}");
    }
}

/// `rw-r-----` for mode bits.
fn perms(mode: u32) -> String {
    let mut text = String::with_capacity(9);
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        text.push(if bits & 4 != 0 { 'r' } else { '-' });
        text.push(if bits & 2 != 0 { 'w' } else { '-' });
        text.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    text
}

/// The type-specific column: size, value, or depth of capacity and queued bytes,
/// with the right word in the singular or plural. Sizes end in B even when exact.
pub fn detail(object: &Object, exact: bool) -> String {
    let bytes_cell = |n: u64, exact: bool| {
        let text = bytes_cell(n, exact);
        if exact {
            text + "B"
        } else {
            text
        }
    };
    match object.kind {
        ObjectKind::SharedMemory => object
            .size
            .map_or_else(|| "?".to_owned(), |size| bytes_cell(size, exact)),
        ObjectKind::Semaphore => object
            .value
            .map_or_else(|| "value ?".to_owned(), |v| format!("value {v}")),
        ObjectKind::MessageQueue => {
            let depth = match (object.messages, object.max_messages) {
                (Some(n), Some(max)) => format!("{n}/{max} {}", plural(max, "msg", "msgs")),
                _ => "? msgs".to_owned(),
            };
            match object.queued_bytes {
                Some(bytes) => format!("{depth}, {}", bytes_cell(bytes, exact)),
                None => depth,
            }
        }
    }
}

/// `one` if `n` is 1, else `many`.
pub fn plural(n: i64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_parse_and_add() {
        assert_eq!(
            parse_columns("name,size").unwrap().0,
            [Column::Name, Column::Size]
        );
        let added = parse_columns("+GID").unwrap().0;
        assert_eq!(added.len(), DEFAULT.len() + 1);
        assert_eq!(added.last(), Some(&Column::Gid));
        assert!(parse_columns("NAME,BOGUS").is_err());
        assert!(parse_columns("").is_err());
        for d in &DESCRIPTIONS {
            assert_eq!(parse_columns(d.name).unwrap().0, [d.column]);
        }
    }

    #[test]
    fn permission_strings() {
        assert_eq!(perms(0o640), "rw-r-----");
        assert_eq!(perms(0o777), "rwxrwxrwx");
        assert_eq!(perms(0), "---------");
    }
}
