//! Events as text: one line each (for people and `grep`), or one JSON object per
//! line (for scripts); and the stream that prints them when stdout is not a
//! terminal, or with `--events`.
//!
//! A line is `TIME EVENT TYPE NAME DETAILS`, such as
//! `2026-11-28T10:00:01.250Z message-in mq /jobs 0 -> 3 messages, 58 B queued`.
//! Names and commands are escaped as `ls` shows them, so a line is one line.

use std::io::Write;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::model::{diff, initial, Event, Process, Session, Snapshot, What};
use super::Stop;
use crate::columns::detail;
use crate::failure::Failure;
use crate::inventory::iso8601;
use crate::render::{escape_name, escape_text};

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC).
pub fn timestamp(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = iso8601(i64::try_from(since.as_secs()).unwrap_or(i64::MAX));
    format!(
        "{}.{:03}Z",
        seconds.trim_end_matches('Z'),
        since.subsec_millis()
    )
}

fn process(p: &Process) -> String {
    format!("pid {} ({})", p.pid, escape_text(p.command.as_bytes()))
}

/// `EVENT TYPE NAME DETAILS`: the line without its time.
pub fn describe(event: &Event) -> String {
    let object = &event.object;
    let details = match &event.what {
        What::Exists | What::Created => {
            let mut text = format!(
                "{}, mode {:04o}, owner {}",
                detail(object, false),
                object.mode,
                escape_name(object.owner.as_bytes())
            );
            for odd in &object.odd {
                text.push_str(&format!(" [odd: {odd}]"));
            }
            text
        }
        What::Unlinked => String::new(),
        What::Value { from, to } => {
            let shown = |v: &Option<u32>| v.map_or_else(|| "?".to_owned(), |v| v.to_string());
            format!("{} -> {}", shown(from), shown(to))
        }
        What::Messages { from, to } => match object.queued_bytes {
            Some(bytes) => format!("{from} -> {to} messages, {bytes} B queued"),
            None => format!("{from} -> {to} messages"),
        },
        What::Resized { from, to } => format!("{from} -> {to} B"),
        What::Mode { from, to } => format!("{from} -> {to}"),
        What::Owner { from, to } => format!(
            "{} -> {}",
            escape_name(from.as_bytes()),
            escape_name(to.as_bytes())
        ),
        What::Opened(p) | What::Closed(p) | What::Exited(p) => process(p),
    };
    let line = format!(
        "{:<11} {:<3} {} {details}",
        event.what.word(),
        object.kind.label(),
        object.shown_name()
    );
    line.trim_end().to_owned()
}

/// One line: `TIME EVENT TYPE NAME DETAILS`.
pub fn line(event: &Event) -> String {
    format!("{} {}", timestamp(event.time), describe(event))
}

/// One JSON object: `time`, `event`, `type`, `name` (and `name_bytes` when the
/// name is not UTF-8), then what the event is about.
pub fn json_line(event: &Event) -> String {
    let object = &event.object;
    let mut value = json!({
        "time": timestamp(event.time),
        "event": event.what.word(),
        "type": object.kind.label(),
        // Exactly, if it is UTF-8; escaped otherwise, with its bytes in name_bytes.
        "name": std::str::from_utf8(&object.raw).map_or_else(|_| object.shown_name(), str::to_owned),
    });
    let fields = value.as_object_mut().expect("an object");
    if std::str::from_utf8(&object.raw).is_err() {
        fields.insert("name_bytes".into(), json!(object.raw));
    }
    let mut put = |key: &str, v: Value| {
        fields.insert(key.into(), v);
    };
    match &event.what {
        What::Exists | What::Created => {
            put(
                "object",
                serde_json::to_value(object).unwrap_or(Value::Null),
            );
        }
        What::Unlinked => {}
        What::Value { from, to } => {
            put("from", json!(from));
            put("to", json!(to));
        }
        What::Messages { from, to } => {
            put("from", json!(from));
            put("to", json!(to));
            put("queued_bytes", json!(object.queued_bytes));
        }
        What::Resized { from, to } => {
            put("from", json!(from));
            put("to", json!(to));
        }
        What::Mode { from, to } | What::Owner { from, to } => {
            put("from", json!(from));
            put("to", json!(to));
        }
        What::Opened(p) | What::Closed(p) | What::Exited(p) => {
            put("pid", json!(p.pid));
            put("command", json!(p.command));
        }
    }
    value.to_string()
}

/// Whether the reader of stdout has gone (a pipe whose read end is closed
/// polls as an error), so the stream can end before it has anything to write.
fn reader_gone() -> bool {
    let mut fd = libc::pollfd {
        fd: libc::STDOUT_FILENO,
        events: 0,
        revents: 0,
    };
    // SAFETY: `fd` is one valid pollfd that outlives the call, and the count
    // says one; a zero timeout never blocks.
    let ready = unsafe { libc::poll(&mut fd, 1, 0) };
    ready == 1 && fd.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0
}

/// Writes the lines; `Ok(false)` when the reader has gone (a broken pipe).
fn emit(out: &mut impl Write, events: &[Event], as_json: bool) -> Result<bool, Failure> {
    let mut text = String::new();
    for event in events {
        text.push_str(&if as_json {
            json_line(event)
        } else {
            line(event)
        });
        text.push('\n');
    }
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(Failure::Other(format!("write to stdout: {e}"))),
    }
}

/// Says on stderr, once and whenever it changes, what the watch cannot see.
fn notes(before: Option<&Snapshot>, now: &Snapshot) {
    let mut err = std::io::stderr().lock();
    for note in notes_to_say(before, now) {
        let _ = writeln!(err, "posix-ipc: {note}");
    }
}

/// The notes for `now`, if they differ from those of `before`: why queues are
/// missing, and each kind of blind spot. The processes that could not be
/// examined come and go all the time (another user's commands); only the kinds
/// of blind spot changing is news worth a line.
fn notes_to_say(before: Option<&Snapshot>, now: &Snapshot) -> Vec<String> {
    let kinds =
        |s: &Snapshot| -> Vec<_> { s.blind_spots.iter().map(std::mem::discriminant).collect() };
    let same = before
        .is_some_and(|b| b.queues_unavailable == now.queues_unavailable && kinds(b) == kinds(now));
    if same {
        return Vec::new();
    }
    let mut notes = Vec::new();
    if let Some(why) = &now.queues_unavailable {
        notes.push(format!("message queues not listed: {why}"));
    }
    for blind in &now.blind_spots {
        notes.push(format!("holders may be missing: {blind}"));
    }
    notes
}

/// Prints every event, refreshing every `period`, until a termination signal
/// or until the reader of stdout goes away (both end it with status 0).
pub fn stream(
    session: &mut Session,
    period: Duration,
    as_json: bool,
    stop: &Stop,
) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    let mut now = session.refresh(None);
    notes(None, &now);
    if !emit(&mut out, &initial(&now), as_json)? {
        return Ok(());
    }
    let mut next = Instant::now() + period;
    loop {
        while Instant::now() < next {
            if stop.requested() || reader_gone() {
                return Ok(());
            }
            std::thread::sleep(next.saturating_duration_since(Instant::now()).min(period));
        }
        next = super::next_tick(next, period);
        if stop.requested() {
            return Ok(());
        }
        let later = session.refresh(Some(&now));
        notes(Some(&now), &later);
        let events = diff(&now, &later);
        now = later;
        if !events.is_empty() && !emit(&mut out, &events, as_json)? {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::holders::BlindSpot;
    use ipc_core::holders::Unexamined;

    fn snapshot(blind_spots: Vec<BlindSpot>) -> Snapshot {
        Snapshot {
            objects: Vec::new(),
            queues_unavailable: Some("no mqueue".into()),
            blind_spots,
            taken: std::time::SystemTime::UNIX_EPOCH,
            cost: Duration::ZERO,
            scan: Default::default(),
        }
    }

    fn unreadable(pids: &[i32]) -> BlindSpot {
        BlindSpot::Unreadable(pids.iter().map(|&p| Unexamined::new(p, Some(0))).collect())
    }

    #[test]
    fn notes_are_said_once_not_each_time_another_users_process_comes_or_goes() {
        let first = snapshot(vec![unreadable(&[1, 40])]);
        let said = notes_to_say(None, &first);
        assert_eq!(said.len(), 2, "{said:?}");
        assert!(
            said[0].contains("no mqueue") && said[1].contains("pid 40"),
            "{said:?}"
        );
        let churned = snapshot(vec![unreadable(&[1, 41, 42])]);
        assert_eq!(notes_to_say(Some(&first), &churned), Vec::<String>::new());
        let hidden = snapshot(vec![
            unreadable(&[1]),
            BlindSpot::HiddenProcesses("hidepid=2".into()),
        ]);
        let said = notes_to_say(Some(&churned), &hidden);
        assert!(said.iter().any(|n| n.contains("hidepid=2")), "{said:?}");
    }
}
