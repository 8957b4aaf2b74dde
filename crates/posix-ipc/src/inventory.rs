//! What objects exist, and what each holds: read from `/dev/shm`, the mqueue
//! filesystem, and the objects themselves.
//!
//! Nothing here trusts what it finds. Every entry is looked at with `lstat` (a
//! symbolic link is reported, never followed), a semaphore is opened with
//! `O_NOFOLLOW | O_NONBLOCK` and checked with `fstat` (a regular file of exactly
//! `sizeof(sem_t)` bytes) before its value is read with `pread`, and nothing is
//! ever mapped: a 0-byte `sem.x` someone left is listed as malformed, not a SIGBUS.
//! Names are bytes: kept as they are for the system calls, escaped for display.
//!
//! The objects are listed first and `/proc` is scanned after: a scan taken before
//! an object existed could not vouch for it.

use std::ffi::OsStr;
use std::fs::Metadata;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use ipc_core::{Access, Creation, MessageQueue, MqOptions, Name};
use serde::Serialize;

use crate::holders::{
    ask_kernel, serialize_holders, FileId, Holder, KernelAnswer, Scan, ScanOptions,
};
use crate::mqueue_dir::{MqueueDir, Unavailable};
use crate::render::escape_name;
use ipc_core::ObjectKind;

pub use ipc_core::holders::SHM_DIR;

/// One object, as `ls` and `stat` show it. Kept small (one allocation, its
/// name): `ls` holds every object at once to sort them.
///
/// Its JSON form: `type`; `name` (with its leading '/': exactly, if it is UTF-8;
/// escaped as the table shows it, `\xNN`, if not, with the exact bytes in
/// `name_bytes`); `mode` (octal, `"0600"`); `uid`; `owner`; `gid`; `changed` (UTC,
/// ISO 8601); `size`, `value`, `messages`, `max_messages`, `message_size`,
/// `queued_bytes` where they apply; `holders`; `orphan`; `odd` if not empty.
#[derive(Clone, Debug)]
pub struct Object {
    /// `shm`, `sem` or `mq`.
    pub kind: ObjectKind,
    /// The name's bytes, with the leading '/'.
    pub raw: Box<[u8]>,
    /// Permission bits.
    pub mode: u32,
    /// Owner uid.
    pub uid: u32,
    /// Owner name, where the uid has one (shared by the objects of one owner).
    pub owner: Owner,
    /// Group id.
    pub gid: u32,
    /// Last change (`st_mtime`), seconds since the epoch.
    pub changed: i64,
    /// Shared memory: size in bytes.
    pub size: Option<u64>,
    /// Semaphore: current value.
    pub value: Option<u32>,
    /// Message queue: messages waiting.
    pub messages: Option<i64>,
    /// Message queue: most messages (`mq_maxmsg`).
    pub max_messages: Option<i64>,
    /// Message queue: largest message (`mq_msgsize`).
    pub message_size: Option<i64>,
    /// Message queue: bytes of all waiting messages (`QSIZE`).
    pub queued_bytes: Option<u64>,
    /// Processes holding it open or mapped (this command excluded).
    pub holders: Vec<Holder>,
    /// No process holds it: it lives on only by kernel persistence. Where the
    /// scan of `/proc` saw no holder, the kernel is asked ([`ask_kernel`]), which
    /// also sees what `/proc` cannot (a process this one cannot examine, a
    /// descriptor in flight over a socket); `None` when the scan could not see
    /// every process and the kernel would not say either (see `ls` on stderr).
    pub orphan: Option<bool>,
    /// The kernel says it is held, though the scan saw no holder: by a process
    /// this one cannot see, or by a descriptor no process shows.
    pub unseen_holder: bool,
    /// Why the kernel would not say whether it is held, when it was asked and
    /// the scan could not tell either (`orphan` is `None`).
    pub kernel_silent: Option<String>,
    /// What is odd about it: not a regular file, a malformed semaphore, a name no
    /// call can open. Empty for an ordinary object.
    pub odd: Vec<String>,
    /// `(st_dev, st_ino)` of its file.
    pub id: FileId,
    /// Whether its file is a regular file (not a link, directory, pipe, ...).
    pub regular: bool,
    /// Its file's last status change (`st_ctime`, seconds and nanoseconds): moves
    /// with every message sent or received, and with chmod and chown.
    pub status_changed: (i64, i64),
    /// When it was looked at (before its file's `lstat`).
    pub looked_at: std::time::SystemTime,
}

impl Serialize for Object {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        struct Holders<'a>(&'a [Holder]);
        impl Serialize for Holders<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                serialize_holders(self.0, s)
            }
        }
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("type", self.kind.label())?;
        map.serialize_entry("name", &self.name_json())?;
        if std::str::from_utf8(&self.raw).is_err() {
            map.serialize_entry("name_bytes", &self.raw)?;
        }
        map.serialize_entry("mode", &format_args!("{:04o}", self.mode).to_string())?;
        map.serialize_entry("uid", &self.uid)?;
        map.serialize_entry("owner", &*self.owner)?;
        map.serialize_entry("gid", &self.gid)?;
        map.serialize_entry("changed", &iso8601(self.changed))?;
        if let Some(size) = self.size {
            map.serialize_entry("size", &size)?;
        }
        if let Some(value) = self.value {
            map.serialize_entry("value", &value)?;
        }
        if let Some(n) = self.messages {
            map.serialize_entry("messages", &n)?;
        }
        if let Some(n) = self.max_messages {
            map.serialize_entry("max_messages", &n)?;
        }
        if let Some(n) = self.message_size {
            map.serialize_entry("message_size", &n)?;
        }
        if let Some(n) = self.queued_bytes {
            map.serialize_entry("queued_bytes", &n)?;
        }
        map.serialize_entry("holders", &Holders(&self.holders))?;
        map.serialize_entry("orphan", &self.orphan)?;
        if self.unseen_holder {
            map.serialize_entry("unseen_holder", &true)?;
        }
        if !self.odd.is_empty() {
            map.serialize_entry("odd", &self.odd)?;
        }
        map.end()
    }
}

/// A user's name, shared by all the objects the user owns.
#[derive(Clone, Debug)]
pub struct Owner(std::rc::Rc<str>);

impl std::ops::Deref for Owner {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Object {
    /// The depth and size of a queue, from `mq_getattr`.
    fn set_queue_attributes(&mut self, attr: &ipc_core::MqAttributes) {
        self.messages = Some(attr.current_messages);
        self.max_messages = Some(attr.max_messages);
        self.message_size = Some(attr.message_size);
    }

    /// An object with what its file's metadata (from `lstat`) says; details and
    /// holders to come. The owner's name is looked up once per uid, in `owners`.
    pub fn new(kind: ObjectKind, raw: Vec<u8>, meta: &Metadata, owners: &mut Owners) -> Object {
        Object {
            kind,
            raw: raw.into_boxed_slice(),
            mode: meta.mode() & 0o7777,
            uid: meta.uid(),
            owner: owners.name(meta.uid()),
            gid: meta.gid(),
            changed: meta.mtime(),
            size: None,
            value: None,
            messages: None,
            max_messages: None,
            message_size: None,
            queued_bytes: None,
            holders: Vec::new(),
            orphan: None,
            unseen_holder: false,
            kernel_silent: None,
            odd: Vec::new(),
            id: (meta.dev(), meta.ino()),
            regular: meta.file_type().is_file(),
            status_changed: (meta.ctime(), meta.ctime_nsec()),
            looked_at: std::time::SystemTime::now(),
        }
    }

    /// The name as calls take it, if it is one (`/dev/shm/sem.` is not).
    pub fn call_name(&self) -> Option<Name> {
        Name::from_bytes(&self.raw).ok()
    }

    /// The name as tables show it.
    pub fn shown_name(&self) -> String {
        escape_name(&self.raw)
    }

    /// The name as `--json` shows it: exactly if it is UTF-8, else escaped.
    pub fn name_json(&self) -> String {
        match std::str::from_utf8(&self.raw) {
            Ok(name) => name.to_owned(),
            Err(_) => escape_name(&self.raw),
        }
    }
}

/// Owner names by uid, each looked up once: a lookup reads the user database
/// (`/etc/passwd`, or a directory service), far too slow to do per object.
#[derive(Default)]
pub struct Owners(std::collections::HashMap<u32, Owner>);

impl Owners {
    /// The name of user `uid`, or the uid in digits.
    pub fn name(&mut self, uid: u32) -> Owner {
        self.0
            .entry(uid)
            .or_insert_with(|| Owner(ipc_core::holders::user_name(uid).into()))
            .clone()
    }
}

/// Everything found, plus what could not be looked at.
pub struct Inventory {
    /// The objects, sorted by type then name.
    pub objects: Vec<Object>,
    /// Why message queues are missing from `objects`, if they are.
    pub queues_unavailable: Option<String>,
    /// The holder scan, taken after the objects were listed.
    pub scan: Scan,
}

/// Lists objects of `kind` (all kinds if `None`) whose names start with `prefix`
/// (bytes, with the leading '/'), then scans `/proc` for their holders.
pub fn collect(kind: Option<ObjectKind>, prefix: &[u8], options: ScanOptions) -> Inventory {
    let queues = kind
        .is_none_or(|k| k == ObjectKind::MessageQueue)
        .then(MqueueDir::find_or_mount);
    let (mut objects, queues_unavailable) =
        list(kind, prefix, queues.as_ref(), &[], &mut Owners::default());
    let scan = Scan::take(options);
    for object in &mut objects {
        set_holders(object, &scan);
        ask_kernel_if_no_holder_seen(object);
    }
    Inventory {
        objects,
        queues_unavailable,
        scan,
    }
}

/// Lists objects of `kind` (all kinds if `None`) whose names start with `prefix`,
/// sorted by type then name, without their holders; queues from `queues` (`None`:
/// none wanted). A queue whose file is the one in `previous` (a list made by this
/// function) and has not changed since (same `st_ctime`, which every send and
/// receive moves) keeps its counts from there instead of being opened again.
/// Owners' names are looked up once per uid, in `owners`. Returns the objects, and
/// why queues are missing, if they are.
pub fn list(
    kind: Option<ObjectKind>,
    prefix: &[u8],
    queues: Option<&Result<MqueueDir, Unavailable>>,
    previous: &[Object],
    owners: &mut Owners,
) -> (Vec<Object>, Option<String>) {
    let wanted = |k: ObjectKind| kind.is_none_or(|w| w == k);
    let mut objects = Vec::new();
    if wanted(ObjectKind::SharedMemory) || wanted(ObjectKind::Semaphore) {
        for (k, raw, path) in shm_dir_entries() {
            if wanted(k) && raw.starts_with(prefix) {
                objects.extend(describe_file(k, raw, &path, &[], owners));
            }
        }
    }
    let mut queues_unavailable = None;
    match queues {
        Some(Ok(dir)) => {
            for (raw, path) in mqueue_entries(dir.path()) {
                if raw.starts_with(prefix) {
                    objects.extend(describe_file(
                        ObjectKind::MessageQueue,
                        raw,
                        &path,
                        previous,
                        owners,
                    ));
                }
            }
        }
        Some(Err(e)) => queues_unavailable = Some(e.0.clone()),
        None => {}
    }
    // In place: a stable sort would take a buffer of half the objects, and no two
    // objects of one type share a name.
    objects.sort_unstable_by(|a, b| (a.kind as u8, &a.raw).cmp(&(b.kind as u8, &b.raw)));
    (objects, queues_unavailable)
}

/// Every object named `name` (of `kind`, if given), then their holders. Queues are
/// found in the mqueue filesystem, or opened by name where none can be mounted.
pub fn lookup(name: &Name, kind: Option<ObjectKind>, options: ScanOptions) -> Vec<Object> {
    let raw = name.as_bytes().to_vec();
    let mut found = Vec::new();
    let mut owners = Owners::default();
    let wanted = |k: ObjectKind| kind.is_none_or(|w| w == k);
    let in_shm = |file: &[u8]| Path::new(SHM_DIR).join(OsStr::from_bytes(file));
    if wanted(ObjectKind::SharedMemory) {
        found.extend(describe_file(
            ObjectKind::SharedMemory,
            raw.clone(),
            &in_shm(name.without_slash()),
            &[],
            &mut owners,
        ));
    }
    if wanted(ObjectKind::Semaphore) {
        let file = [b"sem.", name.without_slash()].concat();
        found.extend(describe_file(
            ObjectKind::Semaphore,
            raw.clone(),
            &in_shm(&file),
            &[],
            &mut owners,
        ));
    }
    if wanted(ObjectKind::MessageQueue) {
        match MqueueDir::find_or_mount() {
            Ok(dir) => {
                let path = dir.path().join(OsStr::from_bytes(name.without_slash()));
                found.extend(describe_file(
                    ObjectKind::MessageQueue,
                    raw,
                    &path,
                    &[],
                    &mut owners,
                ));
            }
            Err(_) => found.extend(describe_queue_by_name(name, &mut owners)),
        }
    }
    let scan = Scan::take(options);
    for object in &mut found {
        set_holders(object, &scan);
        ask_kernel_if_no_holder_seen(object);
    }
    found
}

/// `(kind, b"/name", path)` for each entry of `/dev/shm`, whatever its type, as
/// the directory is read (never all at once).
fn shm_dir_entries() -> impl Iterator<Item = (ObjectKind, Vec<u8>, PathBuf)> {
    std::fs::read_dir(SHM_DIR)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            let file = e.file_name().as_bytes().to_vec();
            match file.strip_prefix(b"sem.") {
                Some(sem) if Name::from_bytes(&[b"/", sem].concat()).is_ok() => {
                    (ObjectKind::Semaphore, [b"/", sem].concat(), e.path())
                }
                _ => (
                    ObjectKind::SharedMemory,
                    [b"/", &file[..]].concat(),
                    e.path(),
                ),
            }
        })
}

/// `(b"/name", path)` for each queue, as the directory is read.
fn mqueue_entries(dir: &Path) -> impl Iterator<Item = (Vec<u8>, PathBuf)> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| ([b"/", e.file_name().as_bytes()].concat(), e.path()))
}

/// Describes the object whose file is `path`, never following a link; `None` if
/// it vanished meanwhile.
fn describe_file(
    kind: ObjectKind,
    raw: Vec<u8>,
    path: &Path,
    previous: &[Object],
    owners: &mut Owners,
) -> Option<Object> {
    let looked_at = std::time::SystemTime::now();
    let meta = std::fs::symlink_metadata(path).ok()?;
    let mut object = Object::new(kind, raw, &meta, owners);
    object.looked_at = looked_at;
    let file_type = meta.file_type();
    if file_type.is_symlink() {
        let target = std::fs::read_link(path)
            .map(|t| escape_name(t.as_os_str().as_bytes()))
            .unwrap_or_else(|_| "?".into());
        object.odd.push(format!(
            "a symbolic link to {target}, not an object (not followed)"
        ));
        return Some(object);
    }
    if !file_type.is_file() {
        object
            .odd
            .push(format!("{}, not an object", type_words(&meta)));
        return Some(object);
    }
    if kind == ObjectKind::SharedMemory {
        if let Some(sem) = object.raw.strip_prefix(b"/sem.") {
            object.odd.push(format!(
                "named like a semaphore, but '/{}' is no semaphore name",
                escape_name(sem)
            ));
        }
    }
    match kind {
        ObjectKind::SharedMemory => object.size = Some(meta.len()),
        ObjectKind::Semaphore => read_semaphore(&mut object, path),
        ObjectKind::MessageQueue => {
            let same = previous
                .binary_search_by(|p| (p.kind as u8, &p.raw).cmp(&(kind as u8, &object.raw)))
                .ok()
                .map(|at| &previous[at])
                .filter(|p| (p.id, p.status_changed) == (object.id, object.status_changed))
                .filter(|p| settled_before(p.status_changed, p.looked_at));
            if let Some(same) = same {
                object.messages = same.messages;
                object.max_messages = same.max_messages;
                object.message_size = same.message_size;
                object.queued_bytes = same.queued_bytes;
                object.odd.clone_from(&same.odd);
                return Some(object);
            }
            object.queued_bytes = read_nonblocking(path).and_then(|t| qsize(&t));
            if let Some(name) = object.call_name() {
                fill_queue_attributes(&mut object, &name);
            }
        }
    }
    Some(object)
}

/// `directory`, `named pipe`, ... for an entry that is not a regular file.
pub fn type_words(meta: &Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a named pipe"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

/// The start of a small file (an mqueue file's one line of about 60 bytes),
/// opened without following a link or blocking, in one `read`.
fn read_nonblocking(path: &Path) -> Option<String> {
    let file = open_nofollow(path).ok()?;
    let mut buf = [0u8; 256];
    let n = std::io::Read::read(&mut &file, &mut buf).ok()?;
    String::from_utf8(buf[..n].to_vec()).ok()
}

fn open_nofollow(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

/// The size of glibc's `sem_t`: what `sem_open` writes into `/dev/shm/sem.NAME`.
const SEM_T_SIZE: u64 = std::mem::size_of::<libc::sem_t>() as u64;

/// Reads a semaphore's value from its file without mapping it (so without
/// `sem_open`), with [`semaphore_file`]; anything odd is recorded in `odd`.
fn read_semaphore(object: &mut Object, path: &Path) {
    match semaphore_file(path, Some(object.id)) {
        Ok(Some(value)) => object.value = Some(value),
        Ok(None) => {}
        Err(odd) => object.odd.push(odd),
    }
}

/// What a semaphore file holds, read without mapping it: opened with
/// `O_NOFOLLOW | O_NONBLOCK`, checked with `fstat` to be a regular file of exactly
/// `sizeof(sem_t)` bytes (and, with `id`, still that file), its value word read
/// with `pread`. `Ok(None)`: it could not be opened for a reason that is no
/// oddity of the file (permission, or it is gone; with `id`, a listing, also
/// someone's lease on it, which a command about to `sem_open` it is told of rather
/// than wait for); `Err`: what is odd about it,
/// such as a 0-byte file, which `sem_open` would map and its first use fault on.
///
/// The layout is glibc's `struct new_sem` (nptl/semaphoreP.h, internaltypes.h):
/// with 64-bit atomics, the first 8 bytes are one word whose low 32 bits are the
/// value and high 32 bits the number of waiters, then an `int` of futex flags (0
/// for a shared semaphore, `FUTEX_PRIVATE_FLAG` for a private one); without them,
/// the first 4 bytes hold the value shifted left by one (bit 0 flags waiters). The
/// value never exceeds `SEM_VALUE_MAX`, the flags are never anything else: any
/// other bytes are no semaphore (`sem_post` on them aborts in the C library).
pub fn semaphore_file(path: &Path, id: Option<FileId>) -> Result<Option<u32>, String> {
    let file = match open_nofollow(path) {
        Ok(file) => file,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::NotFound
            ) =>
        {
            return Ok(None)
        }
        // Someone holds a lease on it: nothing odd about the file, for a listing.
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && id.is_some() => return Ok(None),
        Err(e) => return Err(format!("cannot be opened: {e}")),
    };
    let Ok(meta) = file.metadata() else {
        return Ok(None);
    };
    if id.is_some_and(|id| (meta.dev(), meta.ino()) != id) || !meta.file_type().is_file() {
        return Err(match id {
            Some(_) => "replaced while being looked at".into(),
            None => "not a regular file, not a semaphore".into(),
        });
    }
    if meta.len() != SEM_T_SIZE {
        return Err(format!(
            "malformed semaphore: {} bytes, a semaphore is {SEM_T_SIZE} (not opened, value unknown)",
            meta.len()
        ));
    }
    let mut head = [0u8; 12];
    if file.read_exact_at(&mut head, 0).is_err() {
        return Ok(None);
    }
    let (value, flags) = if cfg!(target_pointer_width = "64") {
        let word = u64::from_ne_bytes(head[..8].try_into().expect("8 bytes"));
        let flags = i32::from_ne_bytes(head[8..12].try_into().expect("4 bytes"));
        ((word & 0xffff_ffff) as u32, flags)
    } else {
        (
            u32::from_ne_bytes(head[..4].try_into().expect("4 bytes")) >> 1,
            0,
        )
    };
    if value > ipc_core::SEM_VALUE_MAX {
        return Err(format!(
            "malformed semaphore: its value word reads {value}, above SEM_VALUE_MAX"
        ));
    }
    if flags != 0 && flags != libc::FUTEX_PRIVATE_FLAG {
        return Err(format!(
            "malformed semaphore: its futex flags read {flags:#x}, not 0 or FUTEX_PRIVATE_FLAG"
        ));
    }
    Ok(Some(value))
}

/// Whether a change made after `looked_at` must move a file's `st_ctime` away
/// from `ctime`. File times are coarse: the mqueue filesystem keeps whole
/// seconds, and the clock they are read from lags up to a tick (10 ms): two
/// changes within one second can get the same time. So a time only vouches for
/// "nothing changed since" once the file was looked at more than that after it.
fn settled_before(ctime: (i64, i64), looked_at: std::time::SystemTime) -> bool {
    let Ok(seconds) = u64::try_from(ctime.0) else {
        return false;
    };
    let changed = std::time::UNIX_EPOCH
        + std::time::Duration::new(seconds, u32::try_from(ctime.1).unwrap_or(0));
    changed + FILE_TIME_GRANULARITY < looked_at
}

/// The coarsest file time granularity of the file systems looked at (mqueue: one
/// second), plus a clock tick.
const FILE_TIME_GRANULARITY: std::time::Duration = std::time::Duration::from_millis(1010);

/// A queue found by opening its name (no mqueue filesystem available).
fn describe_queue_by_name(name: &Name, owners: &mut Owners) -> Option<Object> {
    let queue = open_queue_quietly(name)?;
    let meta = std::fs::metadata(format!("/proc/self/fd/{}", queue.raw())).ok()?;
    let mut object = Object::new(
        ObjectKind::MessageQueue,
        name.as_bytes().to_vec(),
        &meta,
        owners,
    );
    if let Ok(attr) = queue.attributes() {
        object.set_queue_attributes(&attr);
    }
    Some(object)
}

/// Sets the object's holders and orphan state from `scan`.
pub fn set_holders(object: &mut Object, scan: &Scan) {
    object.holders = scan.holders(object.id).to_vec();
    object.orphan = if !object.holders.is_empty() {
        Some(false)
    } else if scan.is_complete() {
        Some(true)
    } else {
        None
    };
}

/// Where the scan saw no holder, asks the kernel (a lease taken and released at
/// once): it knows whether any process anywhere has the object open or mapped,
/// though not which.
pub fn ask_kernel_if_no_holder_seen(object: &mut Object) {
    if let Some(answer) = kernel_answer(object) {
        object.take_kernel_answer(&answer);
    }
}

/// The kernel's answer for an object whose scan saw no holder; `None` if it is
/// not asked (a holder was seen, or it is no regular file, or no call can open
/// its name).
pub fn kernel_answer(object: &Object) -> Option<KernelAnswer> {
    if object.orphan == Some(false) || !object.regular {
        return None;
    }
    Some(ask_kernel(object.kind, &object.call_name()?, object.id))
}

impl Object {
    /// Takes the kernel's word on an object whose scan saw no holder. Where the
    /// kernel will not say, what the scan says stands.
    pub fn take_kernel_answer(&mut self, answer: &KernelAnswer) {
        match answer {
            KernelAnswer::Unheld => self.orphan = Some(true),
            KernelAnswer::Held => {
                self.orphan = Some(false);
                self.unseen_holder = true;
            }
            KernelAnswer::Silent(why) if self.orphan.is_none() => {
                self.kernel_silent = Some(why.clone());
            }
            _ => {}
        }
    }
}

/// Why the queue `name` cannot be opened to look at it, unless it does not exist
/// (or can be opened): where no mqueue filesystem can be read, a queue this user
/// may not open is found by nothing else, yet it exists.
pub fn queue_unopenable(name: &Name) -> Option<ipc_core::Error> {
    let options = MqOptions::new()
        .creation(Creation::OpenExisting)
        .access(Access::ReadOnly)
        .nonblocking(true);
    match MessageQueue::open(name, &options) {
        Err(e) if e.errno() != ipc_core::Errno::ENOENT => Some(e),
        _ => None,
    }
}

/// Opens a queue read-only and non-blocking, only to look at it.
fn open_queue_quietly(name: &Name) -> Option<MessageQueue> {
    let options = MqOptions::new()
        .creation(Creation::OpenExisting)
        .access(Access::ReadOnly)
        .nonblocking(true);
    MessageQueue::open(name, &options).ok()
}

fn fill_queue_attributes(object: &mut Object, name: &Name) {
    if let Some(attr) = open_queue_quietly(name).and_then(|q| q.attributes().ok()) {
        object.set_queue_attributes(&attr);
    }
}

/// `QSIZE:58 NOTIFY:0 ...` -> 58.
fn qsize(text: &str) -> Option<u64> {
    text.split_whitespace()
        .find_map(|field| field.strip_prefix("QSIZE:"))
        .and_then(|n| n.parse().ok())
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
