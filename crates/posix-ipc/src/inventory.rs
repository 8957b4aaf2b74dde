//! What objects exist, and what each holds: read from `/dev/shm`, the mqueue
//! filesystem, and the objects themselves (`sem_getvalue`, `mq_getattr`).

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use ipc_core::{Access, Creation, MessageQueue, MqOptions, Name, SemOptions, Semaphore};
use serde::Serialize;

use crate::cli::Kind;
use crate::holders::{FileId, Holder, HolderIndex};
use crate::mqueue_dir::MqueueDir;

/// Where shared memory and semaphores live (glibc's `SHMDIR`).
pub const SHM_DIR: &str = "/dev/shm";

/// One object, as `ls` and `stat` show it.
#[derive(Debug, Serialize)]
pub struct Object {
    /// `shm`, `sem` or `mq`.
    #[serde(rename = "type")]
    pub kind: Kind,
    /// The name, with its leading '/'.
    pub name: String,
    /// Permission bits, in octal (`"0600"`).
    pub mode: String,
    /// Owner uid.
    pub uid: u32,
    /// Owner name, where the uid has one.
    pub owner: String,
    /// Last change (`st_mtime`), UTC, ISO 8601.
    pub changed: String,
    /// Shared memory: size in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Semaphore: current value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<u32>,
    /// Message queue: messages waiting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<i64>,
    /// Message queue: most messages (`mq_maxmsg`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_messages: Option<i64>,
    /// Message queue: largest message (`mq_msgsize`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_size: Option<i64>,
    /// Message queue: bytes of all waiting messages (`QSIZE`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queued_bytes: Option<u64>,
    /// Processes holding it open or mapped (this command excluded).
    pub holders: Vec<Holder>,
    /// No process holds it: it lives on only by kernel persistence. `None` when
    /// some processes could not be examined (not root).
    pub orphan: Option<bool>,
    #[serde(skip)]
    pub id: FileId,
}

impl Object {
    /// The depth and size of a queue, from `mq_getattr`.
    fn set_queue_attributes(&mut self, attr: &ipc_core::MqAttributes) {
        self.messages = Some(attr.current_messages);
        self.max_messages = Some(attr.max_messages);
        self.message_size = Some(attr.message_size);
    }

    /// An object with what its file's metadata says; details and holders to come.
    fn new(kind: Kind, name: &str, meta: &std::fs::Metadata) -> Object {
        Object {
            kind,
            name: name.to_owned(),
            mode: format!("{:04o}", meta.mode() & 0o7777),
            uid: meta.uid(),
            owner: owner_name(meta.uid()),
            changed: iso8601(meta.mtime()),
            size: None,
            value: None,
            messages: None,
            max_messages: None,
            message_size: None,
            queued_bytes: None,
            holders: Vec::new(),
            orphan: None,
            id: (meta.dev(), meta.ino()),
        }
    }
}

/// Everything found, plus what could not be looked at.
pub struct Inventory {
    /// The objects, sorted by type then name.
    pub objects: Vec<Object>,
    /// Why message queues are missing from `objects`, if they are.
    pub queues_unavailable: Option<String>,
}

/// Lists objects of `kind` (all kinds if `None`) whose names start with `prefix`.
pub fn collect(kind: Option<Kind>, prefix: &str) -> Inventory {
    let holders = HolderIndex::scan();
    let wanted = |k: Kind| kind.is_none_or(|w| w == k);
    let mut objects = Vec::new();
    if wanted(Kind::Shm) || wanted(Kind::Sem) {
        for (k, name, path) in shm_dir_entries() {
            if wanted(k) && name.starts_with(prefix) {
                if let Some(o) = describe(k, &name, &path, &holders) {
                    objects.push(o);
                }
            }
        }
    }
    let mut queues_unavailable = None;
    if wanted(Kind::Mq) {
        match MqueueDir::find_or_mount() {
            Ok(dir) => {
                for (name, path) in mqueue_entries(dir.path()) {
                    if name.starts_with(prefix) {
                        if let Some(o) = describe(Kind::Mq, &name, &path, &holders) {
                            objects.push(o);
                        }
                    }
                }
            }
            Err(e) => queues_unavailable = Some(e.0),
        }
    }
    objects.sort_by(|a, b| (a.kind as u8, &a.name).cmp(&(b.kind as u8, &b.name)));
    Inventory {
        objects,
        queues_unavailable,
    }
}

/// Every object named `name` (of `kind`, if given). Queues are opened by name, so
/// this works without an mqueue filesystem.
pub fn lookup(name: &Name, kind: Option<Kind>) -> Vec<Object> {
    let holders = HolderIndex::scan();
    let file = String::from_utf8_lossy(name.without_slash()).into_owned();
    let shown = name.to_string();
    let mut found = Vec::new();
    let wanted = |k: Kind| kind.is_none_or(|w| w == k);
    if wanted(Kind::Shm) {
        let path = Path::new(SHM_DIR).join(&file);
        found.extend(describe(Kind::Shm, &shown, &path, &holders));
    }
    if wanted(Kind::Sem) {
        let path = Path::new(SHM_DIR).join(format!("sem.{file}"));
        found.extend(describe(Kind::Sem, &shown, &path, &holders));
    }
    if wanted(Kind::Mq) {
        found.extend(describe_queue_by_name(name, &holders));
    }
    found
}

/// `(kind, "/name", path)` for each file of `/dev/shm`.
fn shm_dir_entries() -> Vec<(Kind, String, std::path::PathBuf)> {
    let Ok(dir) = std::fs::read_dir(SHM_DIR) else {
        return Vec::new();
    };
    dir.flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let file = e.file_name().to_str()?.to_owned();
            Some(match file.strip_prefix("sem.") {
                Some(sem) => (Kind::Sem, format!("/{sem}"), e.path()),
                None => (Kind::Shm, format!("/{file}"), e.path()),
            })
        })
        .collect()
}

fn mqueue_entries(dir: &Path) -> Vec<(String, std::path::PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| Some((format!("/{}", e.file_name().to_str()?), e.path())))
        .collect()
}

/// Describes the object whose file is `path`; `None` if it vanished meanwhile.
fn describe(kind: Kind, name: &str, path: &Path, holders: &HolderIndex) -> Option<Object> {
    let meta = std::fs::metadata(path).ok()?;
    let mut object = Object::new(kind, name, &meta);
    match kind {
        Kind::Shm => object.size = Some(meta.len()),
        Kind::Sem => object.value = Name::new(name).ok().and_then(|n| semaphore_value(&n)),
        Kind::Mq => {
            object.queued_bytes = std::fs::read_to_string(path).ok().and_then(|t| qsize(&t));
            if let Ok(n) = Name::new(name) {
                fill_queue_attributes(&mut object, &n);
            }
        }
    }
    set_holders(&mut object, holders);
    Some(object)
}

/// A queue found by opening its name (no mqueue filesystem needed).
fn describe_queue_by_name(name: &Name, holders: &HolderIndex) -> Option<Object> {
    let queue = open_queue_quietly(name)?;
    let meta = std::fs::metadata(format!("/proc/self/fd/{}", queue.raw())).ok()?;
    let mut object = Object::new(Kind::Mq, &name.to_string(), &meta);
    if let Ok(attr) = queue.attributes() {
        object.set_queue_attributes(&attr);
    }
    drop(queue);
    set_holders(&mut object, holders);
    Some(object)
}

fn set_holders(object: &mut Object, holders: &HolderIndex) {
    object.holders = holders.holders(object.id);
    object.orphan = if !object.holders.is_empty() {
        Some(false)
    } else if holders.complete() {
        Some(true)
    } else {
        None
    };
}

/// Opens a queue read-only and non-blocking, only to look at it.
fn open_queue_quietly(name: &Name) -> Option<MessageQueue> {
    let options = MqOptions {
        creation: Creation::OpenExisting,
        access: Access::ReadOnly,
        nonblocking: true,
        ..MqOptions::default()
    };
    MessageQueue::open(name, &options).ok()
}

fn fill_queue_attributes(object: &mut Object, name: &Name) {
    if let Some(attr) = open_queue_quietly(name).and_then(|q| q.attributes().ok()) {
        object.set_queue_attributes(&attr);
    }
}

fn semaphore_value(name: &Name) -> Option<u32> {
    Semaphore::open(name, &SemOptions::default())
        .ok()?
        .value()
        .ok()
}

/// `QSIZE:58 NOTIFY:0 ...` -> 58.
fn qsize(text: &str) -> Option<u64> {
    text.split_whitespace()
        .find_map(|field| field.strip_prefix("QSIZE:"))
        .and_then(|n| n.parse().ok())
}

fn owner_name(uid: u32) -> String {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map_or_else(|| uid.to_string(), |user| user.name)
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
pub fn iso8601(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_utc() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601(1_795_000_000), "2026-11-18T11:06:40Z");
    }

    #[test]
    fn qsize_from_the_mqueue_file() {
        assert_eq!(
            qsize("QSIZE:58         NOTIFY:0     SIGNO:0     NOTIFY_PID:0\n"),
            Some(58)
        );
    }
}
