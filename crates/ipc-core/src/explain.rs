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
//! Each line names who made the call as `strace -f` does: no prefix for the
//! process that turned narration on, `[pid N]` for any other process or thread
//! (N is the thread id, which for a process's first thread is its pid).
//!
//! A call that may block is narrated twice, when it starts and when it returns,
//! exactly as strace shows a call another line interrupts:
//!
//! ```text
//! sem_wait(0x7f1c2b4e9000 /* /ep_sem_full */ <unfinished ...>
//! [pid 4242] sem_post(0x7f1c2b4e9000 /* /ep_sem_full */) = 0
//! <... sem_wait resumed>) = 0
//! ```
//!
//! so the narration reads in causal order: the post that wakes a wait is
//! printed before the wait's return. A failed call shows what the kernel
//! returned and nothing else (a failed receive shows its buffer's address, not
//! bytes it never got). The in-handler cleanup narrates its `unlink` calls with
//! async-signal-safe writes of lines formatted without allocating.
//!
//! `--trace FILE` is the narration's machine-readable twin: every narrated call
//! is also written to FILE as one JSON object per line (see [`trace_to`]), with
//! the object it acts on named apart from its arguments, and process exits and
//! the signals the cleanup answers recorded too. `posix-ipc diagram` draws a
//! sequence diagram from such a file.
//!
//! Off by default; nothing is formatted unless [`enable`] or [`trace_to`] was called.

mod objects;
mod trace;

use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use nix::errno::Errno;
use nix::fcntl::OFlag;

use crate::error::strerror;

pub use trace::{trace_lost, trace_to, TraceLost};

static ON: AtomicBool = AtomicBool::new(false);
static FIRST_PID: AtomicI32 = AtomicI32::new(0);

/// Starts narrating calls on stderr, for this process and the children it forks.
pub fn enable() {
    FIRST_PID.store(std::process::id() as i32, Ordering::Relaxed);
    ON.store(true, Ordering::Relaxed);
}

/// Whether calls are being narrated on stderr or traced to a file.
#[inline]
pub fn enabled() -> bool {
    ON.load(Ordering::Relaxed) || trace::on()
}

/// Whether calls are narrated on stderr.
fn narrating() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Records in the trace that this process is ending with exit status `code`
/// (nothing on stderr: strace's `+++ exited with N +++` has no narration twin).
/// Async-signal-safe. The library calls it where it ends a process (a forked
/// child's end, the cleanup's exit after a signal); a program calls it before
/// its own exit.
pub fn exit(code: i32) {
    trace::exit(code);
}

/// Records in the trace that the cleanup caught `signal` (async-signal-safe).
pub(crate) fn signal(signal: libc::c_int) {
    trace::signal(signal);
}

/// The calling thread's id (`gettid`), which for a process's first thread is its pid.
fn tid() -> i32 {
    nix::unistd::gettid().as_raw()
}

/// Writes one line, prefixed with `[pid TID] ` unless the narrating process's
/// first thread made the call, as a single `write` so lines from several
/// processes never mix.
fn line(body: fmt::Arguments<'_>) {
    let mut line = String::new();
    let tid = tid();
    if tid != FIRST_PID.load(Ordering::Relaxed) {
        let _ = write!(line, "[pid {tid}] ");
    }
    let _ = writeln!(line, "{body}");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// Writes one narrated call: `CALL(ARGS) = RESULT`.
pub(crate) fn call(call: &str, args: fmt::Arguments<'_>, result: &dyn Returned) {
    let args = args.to_string();
    if narrating() {
        line(format_args!("{call}({args}) = {result}"));
    }
    if trace::on() {
        let object = objects::note(call, &args, Some(result));
        trace::call(
            trace::Phase::Call,
            call,
            &args,
            object.as_ref(),
            Some(result),
        );
    }
}

/// Writes the start of a call that may block: `CALL(ARGS <unfinished ...>`.
/// `args` are those known before the call (strace's convention: what the
/// kernel fills in is shown on the `resumed` line).
pub(crate) fn start(call: &str, args: fmt::Arguments<'_>) {
    let args = args.to_string();
    if narrating() {
        line(format_args!("{call}({args} <unfinished ...>"));
    }
    if trace::on() {
        let object = objects::note(call, &args, None);
        trace::call(trace::Phase::Start, call, &args, object.as_ref(), None);
        objects::started(call, object);
    }
}

/// Writes the end of a call narrated by [`start`]:
/// `<... CALL resumed>REST) = RESULT`.
pub(crate) fn resumed(call: &str, rest: fmt::Arguments<'_>, result: &dyn Returned) {
    let rest = rest.to_string();
    if narrating() {
        line(format_args!("<... {call} resumed>{rest}) = {result}"));
    }
    if trace::on() {
        let object = objects::resumed(call, result);
        trace::call(
            trace::Phase::End,
            call,
            &rest,
            object.as_ref(),
            Some(result),
        );
    }
}

/// What a narrated call returned: shown as strace shows it, and its errno apart.
pub(crate) trait Returned: fmt::Display {
    /// The error number of a failed call; `None` for a success.
    fn errno(&self) -> Option<Errno>;
}

impl<T: fmt::Display> Returned for Outcome<'_, T> {
    fn errno(&self) -> Option<Errno> {
        self.0.as_ref().err().copied()
    }
}

/// Narrates `call(args)` with the result `rc` (`-1` meaning failure with `errno`).
macro_rules! explain {
    ($call:expr, $rc:expr, $($args:tt)*) => {
        if $crate::explain::enabled() {
            $crate::explain::call($call, format_args!($($args)*), &$crate::explain::Outcome(&$rc));
        }
    };
}
pub(crate) use explain;

/// Narrates the start of a call that may block (see [`start`]).
macro_rules! explain_start {
    ($call:expr, $($args:tt)*) => {
        if $crate::explain::enabled() {
            $crate::explain::start($call, format_args!($($args)*));
        }
    };
}
pub(crate) use explain_start;

/// Narrates the return of a call whose start was narrated (see [`resumed`]).
macro_rules! explain_resumed {
    ($call:expr, $rc:expr, $($rest:tt)*) => {
        if $crate::explain::enabled() {
            $crate::explain::resumed($call, format_args!($($rest)*), &$crate::explain::Outcome(&$rc));
        }
    };
}
pub(crate) use explain_resumed;

/// Narrates `unlink(PATH) = RESULT` from a signal handler: formatted into a
/// buffer on the stack (`core::fmt` allocates nothing and takes no lock) and
/// written with `write`. Async-signal-safe.
pub(crate) fn unlink_in_handler(path: &[u8], rc: libc::c_int, errno: libc::c_int) {
    trace::unlink_in_handler(path, rc, errno);
    if !narrating() {
        return;
    }
    let mut line = StackLine::<512>::new();
    // SAFETY: gettid is async-signal-safe and cannot fail.
    let tid = unsafe { libc::gettid() };
    if tid != FIRST_PID.load(Ordering::Relaxed) {
        let _ = write!(line, "[pid {tid}] ");
    }
    let _ = write!(line, "unlink(\"");
    line.push(path);
    let _ = match rc {
        0 => writeln!(line, "\") = 0"),
        _ => writeln!(line, "\") = -1 {:?}", Errno::from_raw(errno)),
    };
    // Narration on a full or closed stderr is lost, as eprintln's would be.
    let _ = write_all(libc::STDERR_FILENO, line.as_bytes());
}

/// Writes all of `bytes` to `fd` with `write` (async-signal-safe), giving up
/// on an error.
fn write_all(fd: libc::c_int, mut bytes: &[u8]) -> Result<(), Errno> {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is readable for its length; write is async-signal-safe.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        match n {
            // Reading errno is async-signal-safe.
            ..0 if Errno::last() == Errno::EINTR => continue,
            ..0 => return Err(Errno::last()),
            0 => return Err(Errno::EIO),
            _ => bytes = &bytes[n as usize..],
        }
    }
    Ok(())
}

/// A line of at most `N` bytes built without allocating: bytes past its
/// capacity are dropped.
struct StackLine<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> StackLine<N> {
    fn new() -> Self {
        StackLine {
            bytes: [0; N],
            len: 0,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    fn push(&mut self, more: &[u8]) {
        let n = more.len().min(self.bytes.len() - self.len);
        self.bytes[self.len..self.len + n].copy_from_slice(&more[..n]);
        self.len += n;
    }
}

impl<const N: usize> fmt::Write for StackLine<N> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.push(text.as_bytes());
        Ok(())
    }
}

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
