//! Who holds an object: every process with a descriptor open on it
//! (`/proc/PID/fd`) or a mapping of it (`/proc/PID/maps`).
//!
//! Matching is by device and inode, not by path: a glibc semaphore is mapped
//! under the temporary name it was created with (`/dev/shm/sem.XXXXXX (deleted)`),
//! and an unlinked object keeps being held under a name that no longer exists.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;

use serde::Serialize;

/// A file's identity: `(st_dev, st_ino)`.
pub type FileId = (u64, u64);

/// One process holding an object.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Holder {
    /// Process id.
    pub pid: i32,
    /// Its command line (or name, if the command line is empty).
    pub command: String,
    /// Descriptors it has open on the object.
    pub fds: Vec<i32>,
    /// Whether it has the object mapped.
    pub mapped: bool,
}

/// Every holder of every file, from one pass over `/proc`.
pub struct HolderIndex {
    by_file: BTreeMap<FileId, Vec<Holder>>,
    /// Processes whose descriptors or mappings we could not read (not root).
    pub unreadable: usize,
}

impl HolderIndex {
    /// Scans every process but this one.
    pub fn scan() -> HolderIndex {
        let me = std::process::id() as i32;
        let mut index = HolderIndex {
            by_file: BTreeMap::new(),
            unreadable: 0,
        };
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return index;
        };
        for pid in entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        {
            if pid != me {
                index.scan_process(pid);
            }
        }
        index
    }

    fn scan_process(&mut self, pid: i32) {
        let mut found: BTreeMap<FileId, Holder> = BTreeMap::new();
        match std::fs::read_dir(format!("/proc/{pid}/fd")) {
            Ok(fds) => {
                for fd in fds.flatten() {
                    let Some(n) = fd.file_name().to_str().and_then(|s| s.parse::<i32>().ok())
                    else {
                        continue;
                    };
                    // Follows the link to the open file itself, even if unlinked.
                    if let Ok(meta) = std::fs::metadata(fd.path()) {
                        entry(&mut found, (meta.dev(), meta.ino()), pid).fds.push(n);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => self.unreadable += 1,
            Err(_) => return, // the process is gone
        }
        if let Ok(maps) = std::fs::read_to_string(format!("/proc/{pid}/maps")) {
            for id in maps.lines().filter_map(shared_mapping) {
                entry(&mut found, id, pid).mapped = true;
            }
        }
        if found.is_empty() {
            return;
        }
        let command = command_of(pid);
        for (id, mut h) in found {
            h.command.clone_from(&command);
            self.by_file.entry(id).or_default().push(h);
        }
    }

    /// The holders of the file `id`.
    pub fn holders(&self, id: FileId) -> Vec<Holder> {
        self.by_file.get(&id).cloned().unwrap_or_default()
    }

    /// Whether every process could be read, so "no holder" means "orphan".
    pub fn complete(&self) -> bool {
        self.unreadable == 0
    }
}

fn entry(found: &mut BTreeMap<FileId, Holder>, id: FileId, pid: i32) -> &mut Holder {
    found.entry(id).or_insert_with(|| Holder {
        pid,
        command: String::new(),
        fds: Vec::new(),
        mapped: false,
    })
}

/// The device and inode of a shared mapping line of `/proc/PID/maps`.
fn shared_mapping(line: &str) -> Option<FileId> {
    let mut fields = line.split_whitespace();
    let _range = fields.next()?;
    let perms = fields.next()?;
    let _offset = fields.next()?;
    let dev = fields.next()?;
    let ino: u64 = fields.next()?.parse().ok()?;
    if !perms.ends_with('s') || ino == 0 {
        return None;
    }
    let (major, minor) = dev.split_once(':')?;
    let major = u32::from_str_radix(major, 16).ok()?;
    let minor = u32::from_str_radix(minor, 16).ok()?;
    Some((libc::makedev(major, minor), ino))
}

/// `/proc/PID/cmdline` with spaces between arguments, or `/proc/PID/comm`.
pub fn command_of(pid: i32) -> String {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let text: Vec<String> = cmdline
        .split(|&b| b == 0)
        .filter(|arg| !arg.is_empty())
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .collect();
    if text.is_empty() {
        std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .map(|c| format!("[{}]", c.trim()))
            .unwrap_or_default()
    } else {
        text.join(" ")
    }
}
