//! `--trace FILE`: one JSON object per line for every narrated call, exit and
//! caught signal.
//!
//! ```text
//! {"time_ns":1764287012345678901,"pid":41,"tid":41,"event":"start","call":"sem_wait","args":"0x7f.. /* /ep_sem_full */","object":"/ep_sem_full","kind":"sem"}
//! {"time_ns":1764287012445678901,"pid":40,"tid":40,"event":"start","call":"sem_post","args":"0x7f.. /* /ep_sem_full */","object":"/ep_sem_full","kind":"sem"}
//! {"time_ns":1764287012445712345,"pid":40,"tid":40,"event":"end","call":"sem_post","args":"","object":"/ep_sem_full","kind":"sem","result":"0"}
//! {"time_ns":1764287012445790000,"pid":41,"tid":41,"event":"end","call":"sem_wait","args":"","object":"/ep_sem_full","kind":"sem","result":"0"}
//! {"time_ns":1764287012500000000,"pid":41,"tid":41,"event":"exit","status":0}
//! ```
//!
//! Fields: `time_ns` (`CLOCK_REALTIME`, nanoseconds since the epoch), `pid`,
//! `tid`, `event` (`call` for a call narrated once; `start` and `end` for one
//! that may block or wakes another, the `end` following its thread's `start`;
//! `exit` with `status`; `signal` with `signal`), `call`, `args` (as narrated;
//! on an `end`, what the kernel filled in), `object` and `kind` where the
//! object is known (`mq`, `sem`, `shm`, `mutex`, `condvar`, `unnamed sem`,
//! `process`), `result` (the value, or `-1` with `errno` naming the error).
//!
//! The file is opened `O_APPEND` and each line is one `write`, so the lines of
//! forked children and threads never mix and appear in the order they were
//! written. Lines written from a signal handler are formatted on the stack.

use std::fmt::{self, Write as _};
use std::os::fd::IntoRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicU64, Ordering};

use nix::errno::Errno;

use super::objects::Object;
use super::{write_all, Returned, StackLine};

/// The trace file's descriptor, or -1 when not tracing.
static FD: AtomicI32 = AtomicI32::new(-1);

/// Lines that could not be written to the trace file, and the first error.
#[repr(C)]
struct Lost {
    lines: AtomicU64,
    errno: AtomicI32,
}

/// The count of this process, until [`trace_to`] gives it a shared one.
static OWN_LOST: Lost = Lost {
    lines: AtomicU64::new(0),
    errno: AtomicI32::new(0),
};

/// A [`Lost`] in a shared anonymous mapping made by [`trace_to`], so that the
/// children this process forks (which end with `_exit`, saying nothing) add
/// their lost lines to their parent's count; null until then.
static SHARED_LOST: AtomicPtr<Lost> = AtomicPtr::new(std::ptr::null_mut());

/// The count to add to: the shared one if there is one.
fn lost() -> &'static Lost {
    let shared = SHARED_LOST.load(Ordering::Acquire);
    if shared.is_null() {
        &OWN_LOST
    } else {
        // SAFETY: a non-null pointer was stored by `share_lost` only: a mapping
        // of a whole `Lost`, readable and writable, aligned (page-aligned), all
        // zeros at first (valid atomics), and never unmapped.
        unsafe { &*shared }
    }
}

/// Moves the count into memory shared with the children forked from now on.
/// Where the mapping fails, each process keeps its own count.
fn share_lost() {
    if !SHARED_LOST.load(Ordering::Acquire).is_null() {
        return;
    }
    // SAFETY: a new anonymous mapping, placed by the kernel, overlaps nothing of
    // ours; its result is checked before use.
    let page = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            std::mem::size_of::<Lost>(),
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if page == libc::MAP_FAILED {
        return;
    }
    let shared = page.cast::<Lost>();
    // SAFETY: `shared` points to a zeroed, page-aligned mapping of at least one
    // `Lost`, valid as one (atomics of zero), never unmapped.
    let shared_ref = unsafe { &*shared };
    shared_ref
        .lines
        .store(OWN_LOST.lines.load(Ordering::Relaxed), Ordering::Relaxed);
    shared_ref
        .errno
        .store(OWN_LOST.errno.load(Ordering::Relaxed), Ordering::Relaxed);
    SHARED_LOST.store(shared, Ordering::Release);
}

/// Lines of the trace that this process could not write (a full disk, a file
/// system error), with the first error met.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceLost {
    /// How many lines were lost.
    pub lines: u64,
    /// The error of the first lost line's `write`.
    pub errno: Errno,
}

impl fmt::Display for TraceLost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines = if self.lines == 1 { "line" } else { "lines" };
        write!(
            f,
            "{}: {} {lines} of the trace could not be written",
            self.errno.desc(),
            self.lines
        )
    }
}

/// Whether this process, or a child it forked after [`trace_to`], lost lines of
/// its trace, and why: a program that traces asks before it exits, and says so
/// (the trace it leaves is incomplete).
pub fn trace_lost() -> Option<TraceLost> {
    let lost = lost();
    match lost.lines.load(Ordering::Relaxed) {
        0 => None,
        lines => Some(TraceLost {
            lines,
            errno: Errno::from_raw(lost.errno.load(Ordering::Relaxed)),
        }),
    }
}

/// The lowest descriptor the trace file is moved to, so the numbers a program
/// prints for its own descriptors (`fd = 3`) stay those of a run without it.
const HIGH_FD: libc::c_int = 200;

/// Starts tracing every narrated call to `path`, for this process and the
/// children it forks: one JSON object per line, appended (the file is created
/// with mode 0644 if missing). Independent of [`super::enable`].
///
/// The open never blocks: a FIFO without a reader is refused at once (an open
/// for writing would wait for one forever). Writes then block as usual.
///
/// # Errors
/// Opening the file failed, or it is a FIFO that no process has open for reading.
pub fn trace_to(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o644)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ENXIO) => std::io::Error::new(
                e.kind(),
                "a FIFO that no process has open for reading (start its reader first)",
            ),
            _ => e,
        })?;
    let low = file.into_raw_fd();
    // SAFETY: `low` is an open descriptor we own; F_SETFL with these flags (the
    // open's, without O_NONBLOCK) changes only how its writes wait.
    if unsafe { libc::fcntl(low, libc::F_SETFL, libc::O_APPEND) } < 0 {
        let e = std::io::Error::last_os_error();
        // SAFETY: `low` is ours and not used after this.
        unsafe { libc::close(low) };
        return Err(e);
    }
    // SAFETY: `low` is an open descriptor we own; F_DUPFD_CLOEXEC makes a new one.
    let high = unsafe { libc::fcntl(low, libc::F_DUPFD_CLOEXEC, HIGH_FD) };
    let fd = if high >= 0 {
        // SAFETY: `low` is ours and no longer needed: `high` refers to the file.
        unsafe { libc::close(low) };
        high
    } else {
        // A descriptor limit below HIGH_FD: keep the low one.
        low
    };
    // One switch at a time, so two first calls do not both install a descriptor.
    static SWITCH: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = SWITCH
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    share_lost();
    let old = FD.load(Ordering::SeqCst);
    if old < 0 {
        FD.store(fd, Ordering::SeqCst);
        return Ok(());
    }
    // The trace descriptor is never closed: another thread (or a signal handler)
    // may have read its number and be about to write, and a closed number is the
    // next `open`'s, which would get the line. `dup3` makes that number refer to
    // the new file in one step instead, so such a write lands in one trace file or
    // the other.
    // SAFETY: `fd` and `old` are open descriptors of ours (`old` is the trace
    // descriptor this function installed); dup3 replaces what `old` refers to
    // atomically and touches no memory.
    let rc = unsafe { libc::dup3(fd, old, libc::O_CLOEXEC) };
    let error = std::io::Error::last_os_error();
    // SAFETY: `fd` is ours, and no longer needed: `old` refers to its file now
    // (or the call failed and the trace stays where it was).
    unsafe { libc::close(fd) };
    if rc < 0 {
        return Err(error);
    }
    Ok(())
}

/// Whether calls are traced.
#[inline]
pub(super) fn on() -> bool {
    FD.load(Ordering::Relaxed) >= 0
}

/// Which line of a call this is.
#[derive(Clone, Copy)]
pub(super) enum Phase {
    /// A call narrated once, after it returned.
    Call,
    /// A call that may block, before it is made.
    Start,
    /// Its return.
    End,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Call => "call",
            Phase::Start => "start",
            Phase::End => "end",
        }
    }
}

/// Writes the line of a narrated call.
pub(super) fn call(
    phase: Phase,
    call: &str,
    args: &str,
    object: Option<&Object>,
    result: Option<&dyn Returned>,
) {
    let mut line = String::with_capacity(256);
    let _ = head(&mut line, phase.name());
    let _ = write!(
        line,
        ",\"call\":{},\"args\":{}",
        Json(call.as_bytes()),
        Json(args.as_bytes())
    );
    if let Some(object) = object {
        let _ = write!(
            line,
            ",\"object\":{},\"kind\":{}",
            Json(object.name.as_bytes()),
            Json(object.kind.as_bytes())
        );
    }
    if let Some(result) = result {
        let _ = match result.errno() {
            None => write!(line, ",\"result\":{}", Json(result.to_string().as_bytes())),
            Some(errno) => write!(line, ",\"result\":\"-1\",\"errno\":\"{errno:?}\""),
        };
    }
    line.push_str("}\n");
    emit(line.as_bytes());
}

/// Writes `unlink(PATH)` made by the in-handler cleanup. Async-signal-safe.
pub(super) fn unlink_in_handler(path: &[u8], rc: libc::c_int, errno: libc::c_int) {
    if !on() {
        return;
    }
    let (name, kind) = if let Some(name) = path.strip_prefix(b"/dev/shm/sem.") {
        (name, "sem")
    } else {
        (path.strip_prefix(b"/dev/shm/").unwrap_or(path), "shm")
    };
    let mut line = StackLine::<1536>::new();
    let _ = head(&mut line, "call");
    let _ = write!(
        line,
        ",\"call\":\"unlink\",\"args\":\"\\\"{}\\\"\",\"object\":\"/{}\",\"kind\":\"{kind}\"",
        JsonInner(path),
        JsonInner(name)
    );
    let _ = match rc {
        0 => write!(line, ",\"result\":\"0\"}}"),
        _ => write!(
            line,
            ",\"result\":\"-1\",\"errno\":\"{:?}\"}}",
            Errno::from_raw(errno)
        ),
    };
    end_line(line);
}

/// Writes that this process exits with `code`. Async-signal-safe.
pub(super) fn exit(code: i32) {
    if !on() {
        return;
    }
    let mut line = StackLine::<256>::new();
    let _ = head(&mut line, "exit");
    let _ = write!(line, ",\"status\":{code}}}");
    end_line(line);
}

/// Writes that the cleanup caught `signal`. Async-signal-safe.
pub(super) fn signal(signal: libc::c_int) {
    if !on() {
        return;
    }
    let mut line = StackLine::<256>::new();
    let _ = head(&mut line, "signal");
    let _ = match nix::sys::signal::Signal::try_from(signal) {
        Ok(known) => write!(line, ",\"signal\":\"{}\"}}", known.as_str()),
        Err(_) => write!(line, ",\"signal\":\"{signal}\"}}"),
    };
    end_line(line);
}

/// Ends a line built on the stack and writes it, unless it was cut short (a
/// line without its end would not be JSON).
fn end_line<const N: usize>(mut line: StackLine<N>) {
    line.push(b"\n");
    if line.len < N {
        emit(line.as_bytes());
    }
}

/// `{"time_ns":..,"pid":..,"tid":..,"event":"EVENT"`, from async-signal-safe calls.
fn head(out: &mut impl fmt::Write, event: &str) -> fmt::Result {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec to write; clock_gettime is
    // async-signal-safe and cannot fail for CLOCK_REALTIME.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut now) };
    let time_ns = now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64;
    // SAFETY: getpid and gettid are async-signal-safe and cannot fail.
    let (pid, tid) = unsafe { (libc::getpid(), libc::gettid()) };
    write!(
        out,
        "{{\"time_ns\":{time_ns},\"pid\":{pid},\"tid\":{tid},\"event\":\"{event}\""
    )
}

/// One `write` of a whole line (regular files take an `O_APPEND` write whole).
fn emit(line: &[u8]) {
    let fd = FD.load(Ordering::Relaxed);
    if fd >= 0 {
        if let Err(errno) = write_all(fd, line) {
            // Atomics only: this may run in a signal handler.
            let lost = lost();
            let _ =
                lost.errno
                    .compare_exchange(0, errno as i32, Ordering::Relaxed, Ordering::Relaxed);
            lost.lines.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Bytes as a JSON string, quotes included.
struct Json<'a>(&'a [u8]);

impl fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", JsonInner(self.0))
    }
}

/// Bytes escaped for the inside of a JSON string: valid UTF-8 kept as it is,
/// other bytes (and control characters) as `\u00XX`. Allocates nothing.
struct JsonInner<'a>(&'a [u8]);

impl fmt::Display for JsonInner<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let utf8 = std::str::from_utf8(self.0).is_ok();
        let mut start = 0;
        for (i, &b) in self.0.iter().enumerate() {
            let plain = match b {
                b'"' | b'\\' => false,
                0x20..=0x7e => true,
                0x80.. => utf8,
                _ => false,
            };
            if plain {
                continue;
            }
            write_utf8(f, &self.0[start..i])?;
            match b {
                b'"' => f.write_str("\\\"")?,
                b'\\' => f.write_str("\\\\")?,
                b'\n' => f.write_str("\\n")?,
                _ => write!(f, "\\u{:04x}", b)?,
            }
            start = i + 1;
        }
        write_utf8(f, &self.0[start..])
    }
}

/// Writes bytes known to be UTF-8 (a run of plain bytes of a valid string).
fn write_utf8(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    match std::str::from_utf8(bytes) {
        Ok(text) => f.write_str(text),
        Err(_) => Err(fmt::Error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::OpenOptionsExt;

    #[test]
    fn a_fifo_without_reader_is_refused_at_once() {
        let dir = std::env::temp_dir().join(format!("ipc_core_trace_fifo_{}", std::process::id()));
        std::fs::create_dir(&dir).unwrap();
        let fifo = dir.join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let path = fifo.clone();
        std::thread::spawn(move || {
            let _ = tx.send(trace_to(&path).map_err(|e| e.to_string()));
        });
        let answer = rx.recv_timeout(std::time::Duration::from_secs(5));
        // Unblocks a trace_to still waiting, so the directory can go.
        let _reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo);
        std::fs::remove_file(&fifo).unwrap();
        std::fs::remove_dir(&dir).unwrap();
        let answer = answer.expect("trace_to on a FIFO without a reader did not return in 5 s");
        let error = answer.expect_err("trace_to on a FIFO without a reader succeeded");
        assert!(error.contains("no process has open for reading"), "{error}");
        assert!(!on(), "a refused trace file must not be traced to");
    }
}
