//! `--trace FILE`: one JSON object per line, from both processes, with each
//! blocking call's start and end paired, and the exits and signals the library
//! sees recorded.

mod common;

use common::DEMO;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use demo_harness::{Target, PATIENCE};
use nix::sys::signal::Signal;
use serde_json::Value;

/// A fresh trace file's path, removed when dropped.
struct TraceFile(PathBuf);

impl TraceFile {
    fn new(what: &str) -> TraceFile {
        let path = std::env::temp_dir().join(format!(
            "sem_producer_consumer-{what}-{}.jsonl",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        TraceFile(path)
    }

    fn arg(&self) -> &str {
        self.0.to_str().unwrap()
    }

    /// Every line, parsed: each must be one JSON object with the common fields.
    fn events(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.0).expect("the trace file was written");
        text.lines()
            .map(|line| {
                let event: Value =
                    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                for field in ["time_ns", "pid", "tid"] {
                    assert!(event[field].is_u64(), "no {field}: {line}");
                }
                assert!(event["event"].is_string(), "no event: {line}");
                event
            })
            .collect()
    }
}

impl Drop for TraceFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn text<'a>(event: &'a Value, field: &str) -> &'a str {
    event[field].as_str().unwrap_or("")
}

/// Checks that on every thread each `start` is followed by the `end` of the same
/// call before anything else of that thread, unless the thread ends there (a
/// signal or an exit); times never go back on one thread. Returns the calls
/// left unfinished, as `(tid, call)`.
fn assert_paired(events: &[Value]) -> Vec<(u64, String)> {
    let mut open: HashMap<u64, String> = HashMap::new();
    let mut last_time: HashMap<u64, u64> = HashMap::new();
    let mut unfinished = Vec::new();
    for event in events {
        let tid = event["tid"].as_u64().unwrap();
        let time = event["time_ns"].as_u64().unwrap();
        let before = last_time.insert(tid, time).unwrap_or(0);
        assert!(time >= before, "time went back on thread {tid}: {event}");
        let call = text(event, "call").to_owned();
        match text(event, "event") {
            "start" => {
                assert!(
                    !open.contains_key(&tid),
                    "{call} started on {tid} while {:?} runs",
                    open[&tid]
                );
                open.insert(tid, call);
            }
            "end" => {
                assert_eq!(open.remove(&tid).as_deref(), Some(call.as_str()), "{event}");
                assert!(event["result"].is_string(), "an end has a result: {event}");
            }
            "call" => {
                assert!(!open.contains_key(&tid), "{call} inside {:?}", open[&tid]);
                assert!(event["result"].is_string(), "a call has a result: {event}");
            }
            "signal" | "exit" => {
                if let Some(call) = open.remove(&tid) {
                    unfinished.push((tid, call));
                }
            }
            other => panic!("unknown event {other}: {event}"),
        }
    }
    assert!(open.is_empty(), "started, never ended: {open:?}");
    unfinished
}

#[test]
fn a_plain_run_traces_both_processes_in_pairs() {
    let _lock = DEMO.lock();
    let trace = TraceFile::new("plain");
    let out = demo_harness::command(DEMO.bin())
        .args(["--trace", trace.arg()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    // The trace works without --explain, and says nothing on stderr.
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events = trace.events();
    assert!(assert_paired(&events).is_empty());

    let parent = events[0]["pid"].as_u64().unwrap();
    let fork = events
        .iter()
        .find(|e| text(e, "call") == "fork" && text(e, "event") == "end")
        .expect("the fork's end");
    let child: u64 = text(fork, "result").parse().unwrap();
    assert_eq!(text(fork, "object"), child.to_string());
    assert_eq!(text(fork, "kind"), "process");
    for pid in [parent, child] {
        let of = |call: &str, event: &str| {
            events
                .iter()
                .filter(|e| e["pid"] == pid && text(e, "call") == call && text(e, "event") == event)
                .count()
        };
        // The producer waits in bounded slices (sem_timedwait, retried until its
        // partner posts or is gone): count the waits that took one.
        let taken = events
            .iter()
            .filter(|e| {
                e["pid"] == pid
                    && matches!(text(e, "call"), "sem_wait" | "sem_timedwait")
                    && text(e, "event") == "end"
                    && text(e, "result") == "0"
            })
            .count();
        assert_eq!(taken, 4, "pid {pid}");
        assert_eq!(of("sem_post", "start"), 4, "pid {pid}");
        let exits: Vec<&Value> = events
            .iter()
            .filter(|e| e["pid"] == pid && text(e, "event") == "exit")
            .collect();
        assert_eq!(exits.len(), 1, "one exit for {pid}");
        assert_eq!(exits[0]["status"], 0);
        assert_eq!(
            events.iter().rposition(|e| e["pid"] == pid),
            events.iter().position(|e| std::ptr::eq(e, exits[0])),
            "nothing of {pid} after its exit"
        );
    }
    // Every semaphore call names its semaphore apart from its arguments.
    for event in events
        .iter()
        .filter(|e| text(e, "call").starts_with("sem_"))
    {
        assert_eq!(text(event, "kind"), "sem", "{event}");
        assert!(
            ["/ep_sem_empty", "/ep_sem_full"].contains(&text(event, "object")),
            "{event}"
        );
    }
    // The waitpid ends after the child's exit line.
    let child_exit = events
        .iter()
        .position(|e| e["pid"] == child && text(e, "event") == "exit")
        .unwrap();
    let reaped = events
        .iter()
        .position(|e| text(e, "call") == "waitpid" && text(e, "event") == "end")
        .unwrap();
    assert!(child_exit < reaped);
    DEMO.objects().assert_none_left();
}

#[test]
fn ctrl_c_reaches_the_trace_from_the_signal_handlers() {
    let _lock = DEMO.lock();
    let trace = TraceFile::new("sigint");
    let mut demo = DEMO.step(&["--trace", trace.arg()]);
    // Step 3: the consumer is forked; signal once the trace shows it waiting on
    // /ep_sem_full (it may not have got there when the parent pauses).
    demo.advance_to(3);
    let parent = demo.pid().as_raw() as u64;
    let start = Instant::now();
    // Read leniently here: the last line may be being written.
    let consumer_waits = || {
        let lines = std::fs::read_to_string(&trace.0).unwrap_or_default();
        lines
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .any(|e| {
                e["pid"] != parent && text(&e, "event") == "start" && text(&e, "call") == "sem_wait"
            })
    };
    while !consumer_waits() {
        assert!(
            start.elapsed() < PATIENCE,
            "the consumer never started waiting"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    demo.signal(Signal::SIGINT, Target::Group);
    assert_eq!(demo.wait().code(), Some(130));
    demo.assert_group_gone();
    DEMO.objects().assert_none_left();

    let events = trace.events();
    let unfinished = assert_paired(&events);
    let pids: Vec<u64> = {
        let mut pids: Vec<u64> = events.iter().map(|e| e["pid"].as_u64().unwrap()).collect();
        pids.dedup();
        pids.sort();
        pids.dedup();
        pids
    };
    assert_eq!(pids.len(), 2, "{pids:?}");
    for pid in &pids {
        let mine: Vec<&Value> = events.iter().filter(|e| e["pid"] == *pid).collect();
        assert!(
            mine.iter()
                .any(|e| text(e, "event") == "signal" && text(e, "signal") == "SIGINT"),
            "pid {pid} records the SIGINT it caught"
        );
        let last = mine.last().unwrap();
        assert_eq!(text(last, "event"), "exit", "{last}");
        assert_eq!(last["status"], 130);
    }
    // The parent's handler unlinked both semaphores' files, and said so.
    let unlinked: Vec<&str> = events
        .iter()
        .filter(|e| e["pid"] == parent && text(e, "call") == "unlink")
        .map(|e| {
            assert_eq!(text(e, "kind"), "sem");
            assert_eq!(text(e, "result"), "0");
            text(e, "object")
        })
        .collect();
    assert_eq!(unlinked, ["/ep_sem_empty", "/ep_sem_full"]);
    // The consumer was waiting when the signal came: its wait never ended.
    assert!(
        unfinished
            .iter()
            .any(|(tid, call)| *tid != parent && call == "sem_wait"),
        "{unfinished:?}"
    );
}

/// `--trace /dev/full`: every line is lost, the child's too (it ends with
/// `_exit`, saying nothing), and the count the demo gives is all of them: as
/// many as a written trace holds.
#[test]
fn lines_the_child_could_not_write_are_counted_too() {
    let _lock = DEMO.lock();
    let trace = TraceFile::new("counted");
    let written = DEMO.run(&["--trace", trace.arg()]);
    assert!(written.status.success(), "{written:?}");
    let events = trace.events();
    let parent = &events[0]["pid"];
    assert!(
        events.iter().any(|e| &e["pid"] != parent),
        "no line from the child"
    );
    let lost = DEMO.run(&["--trace", "/dev/full"]);
    let stderr = String::from_utf8_lossy(&lost.stderr);
    assert_eq!(lost.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "No space left on device: {} lines of the trace could not be written",
            events.len()
        )),
        "{stderr}"
    );
}
