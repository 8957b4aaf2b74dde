//! `--explain`: narrate each IPC call on stderr as it is made, strace-style.
//!
//! Every wrapper of this crate reports its call here right after making it, with
//! the arguments it really passed and the result it really got:
//!
//! ```text
//! mq_open("/ep_mq_lifecycle", O_CREAT|O_EXCL|O_RDWR, 0644, {maxmsg: 5, msgsize: 128}) = 3
//! mq_send(3, "Low priority task\0", 18, 1) = 0
//! sem_open("/ep_sem_empty", O_CREAT|O_EXCL, 0644, 1) = 0x7f1c2b4e9000
//! shm_open("/ep_exclusive", O_CREAT|O_EXCL|O_RDWR, 0600) = -1 EEXIST (File exists)
//! ```
//!
//! Lines from a forked child start with `[pid N]`, as in `strace -f`. Off by
//! default; nothing is formatted unless [`enable`] was called.

use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use nix::errno::Errno;
use nix::fcntl::OFlag;

use crate::error::strerror;

static ON: AtomicBool = AtomicBool::new(false);
static FIRST_PID: AtomicI32 = AtomicI32::new(0);

/// Starts narrating calls on stderr, for this process and the children it forks.
pub fn enable() {
    FIRST_PID.store(std::process::id() as i32, Ordering::Relaxed);
    ON.store(true, Ordering::Relaxed);
}

/// Whether calls are being narrated.
#[inline]
pub fn enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Writes one narrated call: `CALL(ARGS) = RESULT`, as a single `write` so lines
/// from several processes never mix.
pub(crate) fn call(call: &str, args: fmt::Arguments<'_>, result: fmt::Arguments<'_>) {
    let mut line = String::new();
    let pid = std::process::id() as i32;
    if pid != FIRST_PID.load(Ordering::Relaxed) {
        let _ = write!(line, "[pid {pid}] ");
    }
    let _ = writeln!(line, "{call}({args}) = {result}");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// Narrates `call(args)` with the result `rc` (`-1` meaning failure with `errno`).
macro_rules! explain {
    ($call:expr, $rc:expr, $($args:tt)*) => {
        if $crate::explain::enabled() {
            $crate::explain::call($call, format_args!($($args)*), format_args!("{}", $crate::explain::Outcome(&$rc)));
        }
    };
}
pub(crate) use explain;

/// A return value as strace shows it: the value, or `-1 EEXIST (File exists)`.
pub(crate) struct Outcome<'a, T>(pub(crate) &'a Result<T, Errno>);

impl<T: fmt::Display> fmt::Display for Outcome<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Ok(value) => write!(f, "{value}"),
            Err(errno) => write!(f, "-1 {errno:?} ({})", strerror(*errno)),
        }
    }
}

/// The open flags in the document's order: `O_CREAT|O_EXCL|O_RDWR|O_NONBLOCK`.
/// `with_access` is false for `sem_open`, which takes no access mode.
pub(crate) fn oflag(flags: OFlag, with_access: bool) -> String {
    let mut names = Vec::new();
    if flags.contains(OFlag::O_CREAT) {
        names.push("O_CREAT");
    }
    if flags.contains(OFlag::O_EXCL) {
        names.push("O_EXCL");
    }
    if with_access {
        names.push(match flags.bits() & libc::O_ACCMODE {
            libc::O_RDWR => "O_RDWR",
            libc::O_WRONLY => "O_WRONLY",
            _ => "O_RDONLY",
        });
    }
    if flags.contains(OFlag::O_NONBLOCK) {
        names.push("O_NONBLOCK");
    }
    if names.is_empty() {
        "0".into()
    } else {
        names.join("|")
    }
}

/// Bytes as a C string literal, cut after 32 bytes: `"Low priority task\0"`.
pub(crate) struct Bytes<'a>(pub(crate) &'a [u8]);

impl fmt::Display for Bytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        for &b in self.0.iter().take(32) {
            match b {
                0 => f.write_str("\\0")?,
                b'"' => f.write_str("\\\"")?,
                b'\\' => f.write_str("\\\\")?,
                b'\n' => f.write_str("\\n")?,
                0x20..=0x7e => f.write_char(b as char)?,
                _ => write!(f, "\\x{b:02x}")?,
            }
        }
        f.write_char('"')?;
        if self.0.len() > 32 {
            f.write_str("...")?;
        }
        Ok(())
    }
}
