//! `posix-ipc diagram TRACE --svg OUT`: a sequence diagram drawn from a
//! `--trace` file of a demo or lab run.
//!
//! One lifeline per process (A, B, ... in the order they appear; a forked one
//! starts at its fork) and one per kernel object (named after its kind in plain
//! words and its name). Each call is an arrow from its process to its object,
//! labelled with the C call and what it did in plain words; a call that blocked
//! is a shaded span on its process, from the arrow that starts it to the dashed
//! arrow of its return, and the call that woke it (a `sem_post`, an unlock, a
//! send, a child's exit) sends an orange dashed arrow to the waiting process.
//! Exits and caught signals are marked on their process.
//!
//! `--summary FILE` writes the diagram's structure as text, with no pid, address
//! or time: its lifelines and, for each process, its calls in order with their
//! labels. It is what the test of the committed diagrams compares, since the
//! interleaving of two processes (and so the arrows' vertical order and the
//! wake-ups) varies from run to run.
//!
//! The SVG is written by hand: a sequence diagram is text, lines and boxes.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use serde::Deserialize;

use crate::failure::Failure;

/// `posix-ipc diagram`.
#[derive(Debug, Args)]
pub struct DiagramArgs {
    /// The trace: a file written by a demo's --trace FILE.
    pub trace: PathBuf,
    /// Where to write the diagram (SVG).
    #[arg(long)]
    pub svg: PathBuf,
    /// Also write the diagram's structure, without pids, addresses or times.
    #[arg(long)]
    pub summary: Option<PathBuf>,
    /// The title above the diagram (default: the trace's file name).
    #[arg(long)]
    pub title: Option<String>,
    /// Draw at most this many trace lines (a lab's run can trace millions).
    #[arg(long, default_value_t = 2000)]
    pub max_lines: usize,
}

/// Reads the trace, draws it, writes the SVG (and the summary).
pub fn diagram(args: DiagramArgs) -> Result<(), Failure> {
    let file = std::fs::File::open(&args.trace)
        .map_err(|e| Failure::Other(format!("{}: {e}", args.trace.display())))?;
    let (events, total) = read(std::io::BufReader::new(file), args.max_lines)
        .map_err(|e| Failure::Other(format!("{}: {e}", args.trace.display())))?;
    if events.is_empty() {
        return Err(Failure::Other(format!(
            "{}: no call was traced (run a demo with --trace FILE)",
            args.trace.display()
        )));
    }
    let mut title = args.title.unwrap_or_else(|| {
        args.trace
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    });
    if total > events.len() {
        title = format!(
            "{title} (its first {} of {total} trace lines)",
            events.len()
        );
    }
    let model = Model::build(&events);
    write_file(&args.svg, &model.svg(&title))?;
    if let Some(summary) = &args.summary {
        write_file(summary, &model.summary(&title))?;
    }
    Ok(())
}

fn write_file(path: &std::path::Path, text: &str) -> Result<(), Failure> {
    std::fs::write(path, text).map_err(|e| Failure::Other(format!("{}: {e}", path.display())))
}

/// One line of a trace (see `ipc_core::explain`).
#[derive(Debug, Deserialize)]
struct Event {
    pid: u64,
    tid: u64,
    event: String,
    #[serde(default)]
    call: String,
    #[serde(default)]
    args: String,
    object: Option<String>,
    kind: Option<String>,
    result: Option<String>,
    errno: Option<String>,
    status: Option<i64>,
    signal: Option<String>,
}

/// Longest trace line read: a demo writes a few hundred bytes per call, so a longer
/// line is no trace (and reading it whole, `/dev/zero` say, would take all memory).
const MAX_LINE: usize = 1 << 20;

/// The first `max` events of a trace, and how many lines it has in all; an
/// error names the first bad line (or one longer than [`MAX_LINE`]).
fn read(mut input: impl std::io::BufRead, max: usize) -> Result<(Vec<Event>, usize), String> {
    use std::io::{BufRead as _, Read as _};
    let mut events = Vec::new();
    let mut total = 0;
    let mut line = Vec::new();
    for n in 1.. {
        line.clear();
        let read = (&mut input)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| e.to_string())?;
        if read == 0 {
            break;
        }
        if line.len() > MAX_LINE && line.last() != Some(&b'\n') {
            return Err(format!(
                "line {n}: longer than {MAX_LINE} bytes: not a trace"
            ));
        }
        let line = std::str::from_utf8(&line).map_err(|e| format!("line {n}: {e}"))?;
        if line.trim().is_empty() {
            continue;
        }
        total += 1;
        if events.len() < max {
            events.push(serde_json::from_str(line).map_err(|e| format!("line {n}: {e}"))?);
        }
    }
    Ok((events, total))
}

/// Every line of a trace, parsed.
#[cfg(test)]
fn parse(text: &str) -> Result<Vec<Event>, String> {
    read(text.as_bytes(), usize::MAX).map(|(events, _)| events)
}

/// A lifeline: a process or an object.
#[derive(Debug)]
struct Lifeline {
    /// `process A`, `named semaphore`.
    title: String,
    /// `pid 40`, `/ep_sem_full`.
    subtitle: String,
    /// For the summary: no pid.
    summary: String,
    /// The row its box is drawn at (a forked process starts at its fork).
    starts: Option<usize>,
    /// The row it ends at (its exit).
    ends: Option<usize>,
    process: bool,
}

/// How a row is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    /// A call that returned at once: a solid arrow.
    Call,
    /// The start of a call that blocked: a solid arrow, the span begins.
    Start,
    /// Its return: a dashed arrow back, the span ends.
    End,
    /// A mark on the process: its exit.
    Exit,
    /// A mark on the process: a signal it caught.
    Signal,
}

/// One row of the diagram.
#[derive(Debug)]
struct Row {
    /// The process's lifeline.
    process: usize,
    /// The object's (or other process's) lifeline, if the call names one.
    object: Option<usize>,
    style: Style,
    /// The C call, or the mark's text.
    call: String,
    /// What it did, in plain words.
    words: String,
    failed: bool,
}

/// The diagram before it is drawn.
#[derive(Debug, Default)]
struct Model {
    lifelines: Vec<Lifeline>,
    rows: Vec<Row>,
    /// Blocked spans: lifeline, first row, last row.
    spans: Vec<(usize, usize, usize)>,
    /// Wake-ups: from (lifeline, row) to (lifeline, row).
    wakes: Vec<((usize, usize), (usize, usize))>,
    /// For the summary: each process's calls, in order.
    calls: Vec<(usize, String)>,
    /// For the summary: the line of each process's call under way.
    pending: HashMap<usize, usize>,
}

/// Calls narrated with a start and an end that never wait themselves.
fn never_waits(call: &str) -> bool {
    matches!(
        call,
        "sem_post"
            | "pthread_mutex_unlock"
            | "pthread_cond_signal"
            | "pthread_cond_broadcast"
            | "fork"
    )
}

/// The calls that may end a blocked `call` of another thread on the same object.
fn wakers(call: &str) -> &'static [&'static str] {
    match call {
        "sem_wait" | "sem_timedwait" => &["sem_post"],
        "pthread_mutex_lock" | "pthread_mutex_timedlock" => &["pthread_mutex_unlock"],
        "pthread_cond_wait" | "pthread_cond_timedwait" => {
            &["pthread_cond_signal", "pthread_cond_broadcast"]
        }
        "mq_receive" | "mq_timedreceive" => &["mq_send", "mq_timedsend"],
        "mq_send" | "mq_timedsend" => &["mq_receive", "mq_timedreceive"],
        _ => &[],
    }
}

impl Model {
    fn build(events: &[Event]) -> Model {
        let mut model = Model::default();
        let mut processes: HashMap<u64, usize> = HashMap::new();
        let mut objects: HashMap<(String, String), usize> = HashMap::new();
        // Every process first, in order of appearance, so letters follow it.
        let mut pids: Vec<u64> = Vec::new();
        for event in events {
            if !pids.contains(&event.pid) {
                pids.push(event.pid);
            }
        }
        let mut parents: HashMap<u64, u64> = HashMap::new();
        for event in events
            .iter()
            .filter(|e| e.call == "fork" && e.errno.is_none())
        {
            if let Some(child) = event.result.as_deref().and_then(|r| r.parse().ok()) {
                parents.insert(child, event.pid);
            }
        }
        for (n, pid) in pids.iter().enumerate() {
            let letter = letter(n);
            let parent = parents
                .get(pid)
                .and_then(|p| pids.iter().position(|q| q == p))
                .map(self::letter);
            processes.insert(*pid, model.lifelines.len());
            model.lifelines.push(Lifeline {
                title: format!("process {letter}"),
                subtitle: match &parent {
                    Some(parent) => format!("pid {pid}, forked by {parent}"),
                    None => format!("pid {pid}"),
                },
                summary: match &parent {
                    Some(parent) => format!("process {letter}, forked by {parent}"),
                    None => format!("process {letter}"),
                },
                starts: None,
                ends: None,
                process: true,
            });
        }
        let letter_of = |pid: &str| -> String {
            pid.parse::<u64>()
                .ok()
                .and_then(|p| pids.iter().position(|q| *q == p))
                .map_or_else(|| format!("process {pid}"), |n| letter(n).to_string())
        };

        // Where each event was drawn, for the wake-ups.
        let mut row_of: Vec<Option<usize>> = vec![None; events.len()];
        // Per thread: the event index and row of the call it started.
        let mut open: HashMap<u64, (usize, usize)> = HashMap::new();
        let mut skip = vec![false; events.len()];
        let mut i = 0;
        while i < events.len() {
            let event = &events[i];
            if skip[i] {
                i += 1;
                continue;
            }
            let process = processes[&event.pid];
            let object = match (&event.object, &event.kind) {
                (Some(name), Some(kind)) if kind == "process" => name
                    .parse()
                    .ok()
                    .and_then(|pid: u64| processes.get(&pid).copied()),
                (Some(name), Some(kind)) => Some(
                    *objects
                        .entry((kind.clone(), name.clone()))
                        .or_insert_with(|| {
                            model.lifelines.push(Lifeline {
                                title: kind_words(kind).to_owned(),
                                subtitle: name.clone(),
                                summary: format!("{} {name}", kind_words(kind)),
                                starts: None,
                                ends: None,
                                process: false,
                            });
                            model.lifelines.len() - 1
                        }),
                ),
                _ => None,
            };
            let row = model.rows.len();
            row_of[i] = Some(row);
            let failed = event.errno.is_some();
            if matches!(event.event.as_str(), "exit" | "signal") {
                // A call it was in that never returned: its span ends here.
                if let Some((_, first_row)) = open.remove(&event.tid) {
                    model.spans.push((process, first_row, row));
                }
            }
            match event.event.as_str() {
                "start" => {
                    // Drawn as one call: a call nothing came between the start and
                    // the end of, and one that never waits (a post, an unlock, a
                    // signal, a fork: narrated in two lines only so that what it
                    // wakes comes after it).
                    let end = (i + 1..events.len())
                        .find(|&k| events[k].tid == event.tid)
                        .filter(|&k| events[k].event == "end" && events[k].call == event.call)
                        .filter(|&k| k == i + 1 || never_waits(&event.call));
                    if let Some(k) = end {
                        row_of[k] = Some(row);
                        skip[k] = true;
                        let args = format!("{}{}", event.args, events[k].args);
                        // A fork's child is known at its end.
                        let object = object.or_else(|| {
                            let child = events[k].object.as_deref()?.parse::<u64>().ok()?;
                            processes.get(&child).copied()
                        });
                        model.call_row(process, object, Style::Call, &events[k], &args, &letter_of);
                        i += 1;
                        continue;
                    }
                    open.insert(event.tid, (i, row));
                    model.call_row(
                        process,
                        object,
                        Style::Start,
                        event,
                        &event.args,
                        &letter_of,
                    );
                }
                "end" => {
                    let started = open.remove(&event.tid);
                    let args = format!(
                        "{}{}",
                        started.map_or("", |(s, _)| events[s].args.as_str()),
                        event.args
                    );
                    model.call_row(process, object, Style::End, event, &args, &letter_of);
                    if let Some((start, first_row)) = started {
                        model.spans.push((process, first_row, row));
                        if let Some(waker) = waker(events, start, i) {
                            if let Some(from) = row_of[waker] {
                                let from_line = processes[&events[waker].pid];
                                model.wakes.push(((from_line, from), (process, row)));
                            }
                        }
                    }
                }
                "exit" => {
                    let status = event.status.unwrap_or(0);
                    let words = match status {
                        0 => "ends (exit status 0)".to_owned(),
                        s if s > 128 => {
                            format!("ends (exit status {s} = 128 + signal {})", s - 128)
                        }
                        s => format!("ends (exit status {s})"),
                    };
                    model.mark(process, Style::Exit, "exit", words, status != 0);
                    model.lifelines[process].ends = Some(row);
                }
                "signal" => {
                    let signal = event.signal.clone().unwrap_or_default();
                    let words = match signal.as_str() {
                        "SIGINT" => "caught SIGINT (Ctrl+C): cleans up".to_owned(),
                        other => format!("caught {other}: cleans up"),
                    };
                    model.mark(process, Style::Signal, &signal, words, true);
                }
                _ => {
                    let _ = failed;
                    model.call_row(process, object, Style::Call, event, &event.args, &letter_of);
                }
            }
            i += 1;
        }
        // A forked process's box is drawn at its fork.
        for (n, row) in model.rows.iter().enumerate() {
            if row.call == "fork" && row.style != Style::Start {
                if let Some(child) = row.object {
                    model.lifelines[child].starts.get_or_insert(n);
                }
            }
        }
        model
    }

    fn call_row(
        &mut self,
        process: usize,
        object: Option<usize>,
        style: Style,
        event: &Event,
        args: &str,
        letter_of: &dyn Fn(&str) -> String,
    ) {
        let words = words(event, args, style, letter_of);
        // The summary says what the call did whether or not it had to wait, which
        // depends on timing: its end's line replaces its start's.
        let to = object.map_or_else(String::new, |o| {
            let line = &self.lifelines[o];
            match line.process {
                true => format!(" {}", line.title),
                false => format!(" {}", line.summary),
            }
        });
        let line = format!(
            "{}{to}: {} = {}",
            event.call,
            self::words(event, args, Style::Call, letter_of),
            summary_result(event, letter_of)
        );
        match style {
            Style::Start => {
                let line = format!("{}{to}: {words} (did not return)", event.call);
                self.pending.insert(process, self.calls.len());
                self.calls.push((process, line));
            }
            Style::End => match self.pending.remove(&process) {
                Some(at) => self.calls[at].1 = line,
                None => self.calls.push((process, line)),
            },
            _ => self.calls.push((process, line)),
        }
        self.rows.push(Row {
            process,
            object,
            style,
            call: event.call.clone(),
            words,
            failed: event.errno.is_some(),
        });
    }

    fn mark(&mut self, process: usize, style: Style, call: &str, words: String, failed: bool) {
        self.calls.push((process, format!("{call}: {words}")));
        self.rows.push(Row {
            process,
            object: None,
            style,
            call: call.to_owned(),
            words,
            failed,
        });
    }
}

/// The event that woke the call started at `start` and ended at `end`: the last
/// call of another thread, on the same object, that can wake it (for `waitpid`,
/// the child's exit).
fn waker(events: &[Event], start: usize, end: usize) -> Option<usize> {
    let waiting = &events[end];
    let starting = &events[start];
    (start + 1..end).rev().find(|&k| {
        let e = &events[k];
        if e.tid == waiting.tid {
            return false;
        }
        if starting.call == "waitpid" {
            return e.event == "exit" && starting.object.as_deref() == Some(&e.pid.to_string());
        }
        e.event != "end"
            && e.errno.is_none()
            && wakers(&starting.call).contains(&e.call.as_str())
            && e.object.is_some()
            && e.object == starting.object
    })
}

/// `A`, `B`, ... `Z`, `AA`, ...
fn letter(n: usize) -> String {
    let mut text = String::new();
    let mut n = n + 1;
    while n > 0 {
        text.insert(0, (b'A' + ((n - 1) % 26) as u8) as char);
        n = (n - 1) / 26;
    }
    text
}

/// A kind of object in plain words.
fn kind_words(kind: &str) -> &str {
    match kind {
        "mq" => "message queue",
        "sem" => "named semaphore",
        "shm" => "shared memory",
        "mutex" => "mutex",
        "condvar" => "condition variable",
        "unnamed sem" => "unnamed semaphore",
        other => other,
    }
}

/// An error in plain words.
fn errno_words(errno: &str) -> String {
    let what = match errno {
        "EEXIST" => "it exists already",
        "ENOENT" => "no such object",
        "EAGAIN" => "would have to wait",
        "EACCES" => "permission denied",
        "ETIMEDOUT" => "timed out",
        "EINTR" => "interrupted by a signal",
        "EMSGSIZE" => "message too long",
        "EBADF" => "bad handle",
        "EINVAL" => "invalid argument",
        "ENOSPC" | "EMFILE" => "out of room",
        _ => return format!("failed: {errno}"),
    };
    format!("failed: {what} ({errno})")
}

/// The `n`th argument (counting from 0) of a narrated argument list.
fn arg(args: &str, n: usize) -> &str {
    args.split(", ").nth(n).unwrap_or("").trim()
}

/// A narrated C string `"text\0"` shown without its NUL.
fn message(quoted: &str) -> String {
    quoted.replace("\\0\"", "\"")
}

/// What a call did, in plain words.
fn words(event: &Event, args: &str, style: Style, letter_of: &dyn Fn(&str) -> String) -> String {
    let result = event.result.as_deref().unwrap_or("");
    if let Some(errno) = &event.errno {
        if style == Style::End || style == Style::Call {
            let what = match (event.call.as_str(), errno.as_str()) {
                ("mq_receive" | "mq_timedreceive", "EAGAIN") => {
                    "nothing to receive: the queue is empty (EAGAIN)".to_owned()
                }
                ("mq_send" | "mq_timedsend", "EAGAIN") => {
                    "no room: the queue is full (EAGAIN)".to_owned()
                }
                _ => errno_words(errno),
            };
            return what;
        }
    }
    let creates = args.contains("O_CREAT");
    let exclusive = args.contains("O_EXCL");
    let opening = match (creates, exclusive) {
        (true, true) => "create (must be new)",
        (true, false) => "open, create if missing",
        _ => "open",
    };
    match (event.call.as_str(), style) {
        ("mq_open", _) => format!("{opening} → handle {result}"),
        ("shm_open", _) => format!("{opening} → descriptor {result}"),
        ("sem_open", _) if creates => format!("{opening}, value {}", arg(args, 3)),
        ("sem_open", _) => opening.to_owned(),
        ("mq_send" | "mq_timedsend", Style::End) => "there was room: sent".to_owned(),
        ("mq_send" | "mq_timedsend", _) => {
            format!("send {} (priority {})", message(arg(args, 1)), arg(args, 3))
        }
        ("mq_receive" | "mq_timedreceive", Style::Start) => {
            "receive (waits while empty)".to_owned()
        }
        ("mq_receive" | "mq_timedreceive", Style::End) => format!(
            "got {} (priority {})",
            message(arg(args, 1)),
            arg(args, 3).trim_matches(|c| c == '[' || c == ']')
        ),
        ("mq_receive" | "mq_timedreceive", _) => format!(
            "receive → {} (priority {})",
            message(arg(args, 1)),
            arg(args, 3).trim_matches(|c| c == '[' || c == ']')
        ),
        ("mq_getattr", _) => "read attributes".to_owned(),
        ("mq_setattr", _) => "set attributes".to_owned(),
        ("mq_close", _) | ("sem_close", _) => "close this process's handle".to_owned(),
        ("close", _) => format!("close descriptor {}", arg(args, 0)),
        ("mq_unlink" | "sem_unlink" | "shm_unlink", _) => "unlink: remove the name".to_owned(),
        ("unlink", _) => "cleanup: remove the name (unlink its file)".to_owned(),
        ("sem_wait" | "sem_timedwait", Style::End) => "woken: took one".to_owned(),
        ("sem_wait" | "sem_timedwait", Style::Start) => "wait: take one (waits while 0)".to_owned(),
        ("sem_wait" | "sem_timedwait", _) => "take one".to_owned(),
        ("sem_trywait", _) => "take one if any".to_owned(),
        ("sem_post", Style::End) => "done".to_owned(),
        ("sem_post", _) => "post: give one back".to_owned(),
        ("sem_getvalue", _) => format!("read the value: {}", arg(args, 1)),
        ("sem_init", _) => format!("initialise, value {}", arg(args, 2)),
        ("ftruncate", _) => format!("set the size to {} bytes", arg(args, 1)),
        ("posix_fallocate", _) => format!("reserve {} bytes", arg(args, 2)),
        ("mmap", _) => format!("map {} bytes into memory", arg(args, 1)),
        ("munmap", _) => "unmap".to_owned(),
        ("pread", _) => format!("read {result} bytes"),
        ("pwrite", _) => format!("write {result} bytes"),
        ("fork", Style::Start) => "fork: make a child".to_owned(),
        ("fork", _) => format!("fork → child {}", letter_of(result)),
        ("waitpid", Style::Start) => format!("wait for {} to end", letter_of(arg(args, 0))),
        ("waitpid", _) => format!(
            "{} ended: {}",
            letter_of(arg(args, 0)),
            arg(args, 1).trim_matches(|c| c == '[' || c == ']')
        ),
        ("kill", _) => format!("send {} to {}", arg(args, 1), letter_of(arg(args, 0))),
        ("pthread_mutex_lock" | "pthread_mutex_timedlock", Style::End) => "got the lock".to_owned(),
        ("pthread_mutex_lock" | "pthread_mutex_timedlock", _) => {
            "lock (waits while held)".to_owned()
        }
        ("pthread_mutex_trylock", _) => "lock if free".to_owned(),
        ("pthread_mutex_unlock", Style::End) => "done".to_owned(),
        ("pthread_mutex_unlock", _) => "unlock".to_owned(),
        ("pthread_cond_wait" | "pthread_cond_timedwait", Style::End) => "woken".to_owned(),
        ("pthread_cond_wait" | "pthread_cond_timedwait", _) => {
            "wait for a signal (releases the lock meanwhile)".to_owned()
        }
        ("pthread_cond_signal", Style::End) | ("pthread_cond_broadcast", Style::End) => {
            "done".to_owned()
        }
        ("pthread_cond_signal", _) => "signal one waiter".to_owned(),
        ("pthread_cond_broadcast", _) => "signal every waiter".to_owned(),
        (_, Style::End) => format!("returned {result}"),
        (call, _) => call.to_owned(),
    }
}

/// A result for the summary: the same from run to run (no address, no pid).
fn summary_result(event: &Event, letter_of: &dyn Fn(&str) -> String) -> String {
    if let Some(errno) = &event.errno {
        return errno.clone();
    }
    let result = event.result.as_deref().unwrap_or("");
    match event.call.as_str() {
        "fork" | "waitpid" => letter_of(result),
        _ if result.starts_with("0x") => "an address".to_owned(),
        _ => result.to_owned(),
    }
}

/// Drawing sizes, in pixels.
const COLUMN: usize = 230;
const ROW: usize = 30;
const MARGIN: usize = 20;
const HEAD: usize = 46;
const TOP: usize = 80;
const SPAN: usize = 10;

/// Characters escaped for SVG text.
fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Model {
    /// The left-to-right order: the first process, the objects, the other processes.
    fn columns(&self) -> Vec<usize> {
        let mut order = vec![0];
        order.extend((1..self.lifelines.len()).filter(|&l| !self.lifelines[l].process));
        order.extend((1..self.lifelines.len()).filter(|&l| self.lifelines[l].process));
        let mut column = vec![0; self.lifelines.len()];
        for (n, l) in order.into_iter().enumerate() {
            column[l] = n;
        }
        column
    }

    fn svg(&self, title: &str) -> String {
        let column = self.columns();
        let x = |l: usize| MARGIN + column[l] * COLUMN + COLUMN / 2;
        let y = |row: usize| TOP + HEAD + 20 + row * ROW;
        // Room on the right for the labels of marks on the last lifeline.
        let width = (MARGIN * 2 + self.lifelines.len().max(1) * COLUMN + 150).max(780);
        let bottom = y(self.rows.len()) + 10;
        let height = bottom + 90;
        let mut svg = String::new();
        let _ = writeln!(
            svg,
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">"##
        );
        let _ = writeln!(svg, "<title>{}</title>", xml(title));
        svg.push_str(
            r##"<defs>
<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker>
<marker id="wake" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#e07000"/></marker>
</defs>
<style>
.label { paint-order: stroke; stroke: white; stroke-width: 4px; stroke-linejoin: round; }
.call { font-family: DejaVu Sans Mono, Menlo, monospace; fill: #555; font-size: 11px; }
.failed { fill: #c00000; }
</style>
<rect width="100%" height="100%" fill="white"/>
"##,
        );
        let _ = writeln!(
            svg,
            r##"<text x="{MARGIN}" y="30" font-size="18" font-weight="bold">{}</text>"##,
            xml(title)
        );
        let _ = writeln!(
            svg,
            r##"<text x="{MARGIN}" y="52" fill="#444">Time runs down. Each arrow is one call from a process to a kernel object; the dashed arrow back is its return.</text>"##
        );
        // Lifelines and their boxes.
        for (l, line) in self.lifelines.iter().enumerate() {
            let cx = x(l);
            // A forked process's box ends just below its fork's arrow.
            let top = line.starts.map_or(TOP, |row| y(row) + 8 - HEAD);
            let end = line.ends.map_or(bottom, y);
            let (fill, stroke) = if line.process {
                ("#dbe9ff", "#3a6db5")
            } else {
                ("#eeeeee", "#777777")
            };
            let _ = writeln!(
                svg,
                r##"<line x1="{cx}" y1="{}" x2="{cx}" y2="{end}" stroke="{stroke}" stroke-dasharray="{}"/>"##,
                top + HEAD,
                if line.process { "none" } else { "4 3" }
            );
            let _ = writeln!(
                svg,
                r##"<rect x="{}" y="{top}" width="{}" height="{HEAD}" rx="6" fill="{fill}" stroke="{stroke}"/>"##,
                cx - COLUMN / 2 + 12,
                COLUMN - 24
            );
            let _ = writeln!(
                svg,
                r##"<text x="{cx}" y="{}" text-anchor="middle" font-weight="bold">{}</text>"##,
                top + 19,
                xml(&line.title)
            );
            let _ = writeln!(
                svg,
                r##"<text x="{cx}" y="{}" text-anchor="middle" fill="#333">{}</text>"##,
                top + 36,
                xml(&line.subtitle)
            );
        }
        // Spans of blocked calls, under the arrows.
        for &(l, from, to) in &self.spans {
            let _ = writeln!(
                svg,
                r##"<rect x="{}" y="{}" width="{SPAN}" height="{}" fill="#ffe2b8" stroke="#e07000"><title>blocked in the call</title></rect>"##,
                x(l) - SPAN / 2,
                y(from),
                y(to) - y(from)
            );
        }
        for (n, row) in self.rows.iter().enumerate() {
            self.row_svg(&mut svg, n, x(row.process), row.object.map(x), y(n));
        }
        for &((from_line, from_row), (to_line, to_row)) in &self.wakes {
            let (x1, y1, x2, y2) = (x(from_line), y(from_row), x(to_line), y(to_row));
            let x2 = if x2 > x1 {
                x2 - SPAN / 2
            } else {
                x2 + SPAN / 2
            };
            let _ = writeln!(
                svg,
                r##"<path d="M{x1},{y1} L{x2},{y2}" stroke="#e07000" stroke-width="1.5" stroke-dasharray="6 4" fill="none" marker-end="url(#wake)"><title>this call woke the waiting process</title></path>"##
            );
            let _ = writeln!(
                svg,
                r##"<text x="{}" y="{}" class="label" fill="#e07000" text-anchor="middle" font-style="italic">wakes</text>"##,
                if x2 > x1 { x1 + 70 } else { x1 - 70 },
                y1 + (y2 - y1) * 70 / x1.abs_diff(x2).max(1) + 14
            );
        }
        // The legend.
        let ly = bottom + 30;
        let _ = writeln!(
            svg,
            r##"<line x1="{MARGIN}" y1="{ly}" x2="{}" y2="{ly}" stroke="#333" marker-end="url(#arrow)"/><text x="{}" y="{}">a call</text>"##,
            MARGIN + 40,
            MARGIN + 48,
            ly + 4
        );
        let _ = writeln!(
            svg,
            r##"<line x1="{}" y1="{ly}" x2="{}" y2="{ly}" stroke="#333" stroke-dasharray="5 4" marker-end="url(#arrow)"/><text x="{}" y="{}">its return, after waiting</text>"##,
            MARGIN + 110,
            MARGIN + 150,
            MARGIN + 158,
            ly + 4
        );
        let _ = writeln!(
            svg,
            r##"<rect x="{}" y="{}" width="{SPAN}" height="20" fill="#ffe2b8" stroke="#e07000"/><text x="{}" y="{}">blocked in the call</text>"##,
            MARGIN + 320,
            ly - 10,
            MARGIN + 338,
            ly + 4
        );
        let _ = writeln!(
            svg,
            r##"<line x1="{}" y1="{ly}" x2="{}" y2="{ly}" stroke="#e07000" stroke-width="1.5" stroke-dasharray="6 4" marker-end="url(#wake)"/><text x="{}" y="{}">woke a waiting process</text>"##,
            MARGIN + 470,
            MARGIN + 510,
            MARGIN + 518,
            ly + 4
        );
        let _ = writeln!(
            svg,
            r##"<text x="{MARGIN}" y="{}" fill="#444">Grey text: the C call. Red: a call that failed, a signal, an exit status other than 0.</text>"##,
            ly + 30
        );
        svg.push_str("</svg>\n");
        svg
    }

    fn row_svg(&self, svg: &mut String, n: usize, px: usize, ox: Option<usize>, y: usize) {
        let row = &self.rows[n];
        let colour = if row.failed { "#c00000" } else { "#222" };
        let class = if row.failed { " failed" } else { "" };
        match (row.style, ox) {
            (Style::Exit, _) => {
                let _ = writeln!(
                    svg,
                    r##"<path d="M{},{} l12,12 m0,-12 l-12,12" stroke="{colour}" stroke-width="2"/>"##,
                    px - 6,
                    y - 6
                );
                self.label(svg, px + 12, y + 4, "start", &row.call, &row.words, class);
            }
            (Style::Signal, _) => {
                let _ = writeln!(
                    svg,
                    r##"<path d="M{},{} l6,-8 l-4,0 l6,-8" stroke="#c00000" stroke-width="2" fill="none"/>"##,
                    px - 3,
                    y + 8
                );
                self.label(
                    svg,
                    px + 12,
                    y + 4,
                    "start",
                    &row.call,
                    &row.words,
                    " failed",
                );
            }
            (style, Some(ox)) if ox != px => {
                // An arrow to a process created here (a fork) ends at its box.
                let ox = match row.object.map(|o| &self.lifelines[o]) {
                    Some(line) if line.process && line.starts == Some(n) && ox > px => {
                        ox - COLUMN / 2 + 12
                    }
                    Some(line) if line.process && line.starts == Some(n) => ox + COLUMN / 2 - 12,
                    _ => ox,
                };
                let back = style == Style::End;
                let (from, to) = if back { (ox, px) } else { (px, ox) };
                let gap = if back || style == Style::Start {
                    SPAN / 2
                } else {
                    0
                };
                let to = if to > from { to - gap } else { to + gap };
                let _ = writeln!(
                    svg,
                    r##"<line x1="{from}" y1="{y}" x2="{to}" y2="{y}" stroke="{colour}" stroke-dasharray="{}" marker-end="url(#arrow)"/>"##,
                    if back { "5 4" } else { "none" }
                );
                // The label sits above the arrow, beside its tail.
                let (lx, anchor) = if to > from {
                    (from + 8, "start")
                } else {
                    (from - 8, "end")
                };
                self.label(svg, lx, y - 5, anchor, &row.call, &row.words, class);
            }
            _ => {
                // No object: a dot on the process, the label beside it.
                let _ = writeln!(
                    svg,
                    r##"<circle cx="{px}" cy="{y}" r="4" fill="{colour}"/>"##
                );
                self.label(svg, px + 10, y + 4, "start", &row.call, &row.words, class);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn label(
        &self,
        svg: &mut String,
        x: usize,
        y: usize,
        anchor: &str,
        call: &str,
        words: &str,
        class: &str,
    ) {
        let _ = writeln!(
            svg,
            r##"<text x="{x}" y="{y}" text-anchor="{anchor}" class="label{class}"><tspan class="call">{}</tspan> {}</text>"##,
            xml(call),
            xml(words)
        );
    }

    /// The structure: lifelines, then each process's calls in order.
    fn summary(&self, title: &str) -> String {
        let mut text =
            format!("# {title}: the structure of the diagram (no pids, addresses or times)\n");
        let column = self.columns();
        let mut order: Vec<usize> = (0..self.lifelines.len()).collect();
        order.sort_by_key(|&l| column[l]);
        for l in order {
            let _ = writeln!(text, "lifeline: {}", self.lifelines[l].summary);
        }
        for (l, line) in self.lifelines.iter().enumerate().filter(|(_, l)| l.process) {
            let _ = writeln!(text, "\n{}:", line.summary);
            for (_, call) in self.calls.iter().filter(|(p, _)| *p == l) {
                let _ = writeln!(text, "  {call}");
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_line_is_refused_not_read_into_memory() {
        use std::io::Read as _;
        // Blanks, so that a reader that takes the whole line in would skip it.
        let endless = std::io::repeat(b' ').take(3 * MAX_LINE as u64);
        let error = read(std::io::BufReader::new(endless), 10).unwrap_err();
        assert!(error.contains("longer than"), "{error}");
        let fits = format!("{}\n{}", " ".repeat(MAX_LINE - 1), TRACE);
        assert_eq!(read(fits.as_bytes(), 100).unwrap().1, 9);
    }

    const TRACE: &str = r#"{"time_ns":1,"pid":40,"tid":40,"event":"call","call":"sem_open","args":"\"/s\", O_CREAT|O_EXCL, 0644, 0","object":"/s","kind":"sem","result":"0x7f00"}
{"time_ns":2,"pid":40,"tid":40,"event":"start","call":"fork","args":""}
{"time_ns":3,"pid":40,"tid":40,"event":"end","call":"fork","args":"","object":"41","kind":"process","result":"41"}
{"time_ns":4,"pid":41,"tid":41,"event":"start","call":"sem_wait","args":"0x7f00 /* /s */","object":"/s","kind":"sem"}
{"time_ns":5,"pid":40,"tid":40,"event":"start","call":"sem_post","args":"0x7f00 /* /s */","object":"/s","kind":"sem"}
{"time_ns":6,"pid":40,"tid":40,"event":"end","call":"sem_post","args":"","object":"/s","kind":"sem","result":"0"}
{"time_ns":7,"pid":41,"tid":41,"event":"end","call":"sem_wait","args":"","object":"/s","kind":"sem","result":"0"}
{"time_ns":8,"pid":41,"tid":41,"event":"exit","status":0}
{"time_ns":9,"pid":40,"tid":40,"event":"call","call":"sem_unlink","args":"\"/s\"","object":"/s","kind":"sem","result":"-1","errno":"ENOENT"}
"#;

    #[test]
    fn a_wait_is_a_span_woken_by_the_post() {
        let model = Model::build(&parse(TRACE).unwrap());
        assert_eq!(model.lifelines.len(), 3);
        assert_eq!(model.lifelines[1].summary, "process B, forked by A");
        assert_eq!(model.lifelines[2].summary, "named semaphore /s");
        // sem_open, fork (collapsed), wait start, post (collapsed), wait end,
        // exit, unlink.
        assert_eq!(model.rows.len(), 7);
        assert_eq!(model.spans, [(1, 2, 4)]);
        assert_eq!(model.wakes, [((0, 3), (1, 4))]);
        assert_eq!(model.lifelines[1].starts, Some(1));
        assert_eq!(model.lifelines[1].ends, Some(5));
        assert!(model.rows[6].failed);
        let summary = model.summary("t");
        assert!(
            summary.contains("fork process B: fork → child B = B"),
            "{summary}"
        );
        assert!(
            summary.contains(
                "sem_unlink named semaphore /s: failed: no such object (ENOENT) = ENOENT"
            ),
            "{summary}"
        );
        assert!(
            !summary.contains("0x7f00") && !summary.contains("41"),
            "{summary}"
        );
        let svg = model.svg("t");
        assert!(svg.contains("wakes") && svg.starts_with("<svg"));
    }

    #[test]
    fn a_bad_line_is_named() {
        assert_eq!(
            parse("{\"pid\":1}\n").unwrap_err().split(':').next(),
            Some("line 1")
        );
    }
}
