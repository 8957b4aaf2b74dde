//! `posix-ipc watch` used as a person uses it: beside a demo paused at each
//! step, on a real terminal (tmux: keys in, screen out), and as an event
//! stream read line by line.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use demo_harness::{Objects, Stepped};
use ipc_core::ObjectKind;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_posix-ipc");

/// Who runs the tests, as `watch` names an owner.
fn me() -> String {
    ipc_core::holders::user_name(nix::unistd::geteuid().as_raw())
}

/// What `ls` says of a queue's orphan state (`true`, or `null` when not every
/// process could be examined, as for an ordinary user): what the screen must say too.
fn orphan_as_ls_says(name: &str) -> &'static str {
    let out = demo_harness::command(BIN)
        .args([
            "ls",
            "--json",
            "--trust-pid-namespace",
            "--type",
            "mq",
            "--prefix",
            name,
        ])
        .output()
        .unwrap();
    let objects: Value = serde_json::from_slice(&out.stdout).unwrap();
    match &objects[0]["orphan"] {
        Value::Bool(true) => "yes",
        Value::Null => "unknown",
        other => panic!("{name} is not an orphan: {other}"),
    }
}

/// Whether message queues can be listed here (as for `ls`: an ordinary user
/// needs an mqueue filesystem mounted); if not, says so in one line.
fn queues_listable(test: &str) -> bool {
    let out = demo_harness::command(BIN)
        .args(["ls", "--type", "mq"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let listable = !err.contains("message queues not listed");
    if !listable {
        eprintln!("{test}: skipped: no mqueue filesystem is mounted and this user cannot mount one, so no queue can be listed (posix-ipc ls says the same)");
    }
    listable
}

/// How long anything may take to show up.
const PATIENCE: Duration = Duration::from_secs(20);

const MQ_OBJECTS: Objects = Objects(&[(ObjectKind::MessageQueue, "/ep_mq_lifecycle")]);
const SEM_OBJECTS: Objects = Objects(&[
    (ObjectKind::Semaphore, "/ep_sem_empty"),
    (ObjectKind::Semaphore, "/ep_sem_full"),
]);

/// A demo's binary, built beside this one (`cargo test --workspace` builds it;
/// with `-p posix-ipc` it is built here).
fn demo(name: &str) -> String {
    let path = Path::new(BIN).with_file_name(name);
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = demo_harness::command(cargo)
            .args(["build", "--quiet", "-p", name])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build -p {name} failed");
    }
    path.to_str().unwrap().to_owned()
}

/// A shared memory object whose name starts like the demo's, created before the
/// watch starts so that its `exists` line says the watch is looking; removed on drop.
struct Marker(String);

impl Marker {
    fn new(prefix: &str) -> Marker {
        let name = format!("{prefix}_watch_marker_{}", std::process::id());
        let out = demo_harness::command(BIN)
            .args(["shm", "create", &name, "--size", "1"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        Marker(name)
    }
}

impl Drop for Marker {
    fn drop(&mut self) {
        let _ = demo_harness::command(BIN).args(["rm", &self.0]).output();
    }
}

/// `posix-ipc watch ARGS` with stdout a pipe: the event stream.
struct Stream {
    child: Child,
    lines: Receiver<String>,
}

impl Stream {
    fn spawn(args: &[&str]) -> Stream {
        let mut child = demo_harness::command(BIN)
            .arg("watch")
            .args(args)
            .arg("--trust-pid-namespace")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start posix-ipc watch");
        let (tx, lines) = channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Stream { child, lines }
    }

    /// The next line, or a failure naming `what` was awaited.
    fn next(&self, what: &str) -> String {
        self.lines
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|_| panic!("no event line within {PATIENCE:?}, waiting for {what}"))
    }

    /// Ends it with `signal`; returns its exit status and the lines it printed
    /// after those already read.
    fn stop(mut self, signal: Signal) -> (Option<i32>, Vec<String>) {
        kill(Pid::from_raw(self.child.id() as i32), signal).unwrap();
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(start.elapsed() < PATIENCE, "watch ignored {signal}");
            std::thread::sleep(Duration::from_millis(20));
        };
        let rest = self.lines.try_iter().collect();
        (status.code(), rest)
    }
}

/// The line without its timestamp, with runs of spaces made one.
fn words(line: &str) -> String {
    let (time, rest) = line.split_once(' ').expect("a timestamp first");
    assert!(
        time.len() == 24 && time.ends_with('Z') && time.as_bytes()[10] == b'T',
        "not a timestamp: {line}"
    );
    rest.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads lines until one satisfies `last`; every line before it must start with
/// `between` (the same kind of event, seen at more than one refresh).
fn until(stream: &Stream, between: &str, last: impl Fn(&str) -> bool) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let line = words(&stream.next(between));
        let done = last(&line);
        assert!(
            done || line.starts_with(between),
            "unexpected event {line:?} (after {seen:?})"
        );
        seen.push(line);
        if done {
            return seen;
        }
    }
}

#[test]
fn event_lines_follow_mq_lifecycle_step_by_step() {
    if !queues_listable("event_lines_follow_mq_lifecycle_step_by_step") {
        return;
    }
    let _lock = demo_harness::NamesLock::take("mq_lifecycle");
    MQ_OBJECTS.remove_all();
    let bin = demo("mq_lifecycle");
    let marker = Marker::new("/ep_mq_lifecycle");
    let stream = Stream::spawn(&["--prefix", "/ep_mq_lifecycle"]);
    let first = words(&stream.next("the marker"));
    assert!(
        first.starts_with(&format!("exists shm {} 1B, mode 0600, owner ", marker.0)),
        "{first}"
    );
    let mut run = Stepped::start(&bin, &[], MQ_OBJECTS, demo_harness::PATIENCE * 3);
    let holder = format!("pid {} ({bin} --step)", run.pid());
    run.advance_to(2); // mq_open
    assert_eq!(
        words(&stream.next("created")),
        format!(
            "created mq /ep_mq_lifecycle 0/5 msgs, 0B, mode 0644, owner {}",
            me()
        )
    );
    assert_eq!(
        words(&stream.next("opened")),
        format!("opened mq /ep_mq_lifecycle {holder}")
    );
    run.advance_to(3); // mq_send x3 (a refresh may fall between two sends)
    until(&stream, "message-in mq /ep_mq_lifecycle ", |l| {
        l == "message-in mq /ep_mq_lifecycle 0 -> 3 messages, 58 B queued"
            || l.ends_with("-> 3 messages, 58 B queued") && l.starts_with("message-in")
    });
    run.advance_to(4); // mq_receive x3
    until(&stream, "message-out mq /ep_mq_lifecycle ", |l| {
        l.starts_with("message-out") && l.ends_with("-> 0 messages, 0 B queued")
    });
    run.advance_to(5); // mq_close
    assert_eq!(
        words(&stream.next("closed")),
        format!("closed mq /ep_mq_lifecycle {holder}")
    );
    let (steps, status) = run.finish(); // mq_unlink
    assert_eq!((steps, status.code()), (5, Some(0)));
    assert_eq!(
        words(&stream.next("unlinked")),
        "unlinked mq /ep_mq_lifecycle"
    );
    std::thread::sleep(Duration::from_millis(300));
    let (code, rest) = stream.stop(Signal::SIGTERM);
    assert_eq!(code, Some(0), "SIGTERM ends the stream cleanly");
    assert!(rest.is_empty(), "events after the last step: {rest:?}");
    MQ_OBJECTS.assert_none_left();
}

#[test]
fn json_events_follow_sem_producer_consumer() {
    let _lock = demo_harness::NamesLock::take("sem_producer_consumer");
    SEM_OBJECTS.remove_all();
    let bin = demo("sem_producer_consumer");
    let marker = Marker::new("/ep_sem");
    let stream = Stream::spawn(&["--prefix", "/ep_sem", "--json"]);
    let first: Value = serde_json::from_str(&stream.next("the marker")).unwrap();
    assert_eq!(
        (&first["event"], &first["name"]),
        (&"exists".into(), &marker.0.clone().into())
    );
    let mut run = Stepped::start(&bin, &[], SEM_OBJECTS, demo_harness::PATIENCE * 3);
    let parent = run.pid().as_raw();
    // sem_open both, fork, produce, waitpid, sem_close: each step given time
    // for a few refreshes, as a person reading the screen would.
    for step in 2..=6 {
        run.advance_to(step);
        std::thread::sleep(Duration::from_millis(400));
    }
    let (steps, status) = run.finish(); // sem_unlink both
    assert_eq!((steps, status.code()), (6, Some(0)));
    std::thread::sleep(Duration::from_millis(300));
    let (code, rest) = stream.stop(Signal::SIGINT);
    assert_eq!(code, Some(0), "SIGINT ends the stream cleanly");
    let events: Vec<Value> = rest
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    for event in &events {
        assert!(
            event["time"].as_str().is_some_and(|t| t.len() == 24),
            "{event}"
        );
        assert_eq!(event["type"], "sem", "{event}");
    }
    drop(marker);
    let child = events
        .iter()
        .find(|e| e["event"] == "opened" && e["pid"] != parent)
        .unwrap_or_else(|| panic!("the consumer never shows as a holder: {events:#?}"))["pid"]
        .as_i64()
        .unwrap();
    for (name, initial) in [("/ep_sem_empty", 1), ("/ep_sem_full", 0)] {
        let story: Vec<String> = events
            .iter()
            .filter(|e| e["name"] == name)
            .filter_map(|e| {
                let word = e["event"].as_str()?;
                Some(match word {
                    "created" => format!("created {}", e["object"]["value"]),
                    "value" => {
                        let (from, to) = (e["from"].as_i64()?, e["to"].as_i64()?);
                        assert!(from <= 1 && to <= 1, "{e}");
                        return None; // how many a 10 Hz view catches depends on timing
                    }
                    "opened" | "closed" | "exited" => {
                        let who = if e["pid"] == parent {
                            "parent"
                        } else if e["pid"] == child {
                            "child"
                        } else {
                            panic!("a holder that is neither: {e}")
                        };
                        format!("{word} {who}")
                    }
                    other => other.to_owned(),
                })
            })
            .collect();
        assert_eq!(
            story,
            [
                format!("created {initial}"),
                "opened parent".into(),
                "opened child".into(),
                "exited child".into(),
                "closed parent".into(),
                "unlinked".into(),
            ],
            "{name}"
        );
    }
    SEM_OBJECTS.assert_none_left();
}

#[test]
fn a_closed_pipe_ends_the_stream_quietly() {
    let marker = Marker::new("/pipc_watch_pipe");
    let mut child = demo_harness::command(BIN)
        .args(["watch", "--prefix", &marker.0])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(first.contains(" exists "), "{first}");
    drop(out); // the reader goes away; nothing more happens to the object
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "watch kept running with nobody reading"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(!err.contains("panic"), "{err}");
}

// ---- On a terminal, in tmux ----

/// A private tmux server (its own socket, in the temporary directory), killed
/// and its socket removed on drop: `tmux -L` would leave its socket behind in
/// `/tmp/tmux-UID` after `kill-server`.
struct Tmux {
    socket: std::path::PathBuf,
}

impl Tmux {
    /// `None` (and one line saying so) if tmux is not installed.
    fn start(tag: &str) -> Option<Tmux> {
        if demo_harness::command("tmux").arg("-V").output().is_err() {
            eprintln!("tmux is not installed: the terminal tests of posix-ipc watch are skipped");
            return None;
        }
        let tmux = Tmux {
            socket: std::env::temp_dir()
                .join(format!("pipc_watch_{}_{tag}.tmux", std::process::id())),
        };
        tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "160",
            "-y",
            "45",
            "sh",
        ]);
        tmux.run(&["set-option", "-g", "remain-on-exit", "off"]);
        tmux.run(&["new-window", "-d", "-t", "t:1", "sh"]);
        Some(tmux)
    }

    fn run(&self, args: &[&str]) -> String {
        let out = demo_harness::command("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .env_remove("TMUX")
            // tmux refuses to start a session without a usable TERM (a test
            // runner may have none, or an empty one).
            .env("TERM", "xterm-256color")
            .output()
            .expect("run tmux");
        assert!(out.status.success(), "tmux {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types `text` then Enter in window `window`.
    fn type_line(&self, window: u8, text: &str) {
        let target = format!("t:{window}");
        self.run(&["send-keys", "-t", &target, "-l", text]);
        self.run(&["send-keys", "-t", &target, "Enter"]);
    }

    fn keys(&self, window: u8, keys: &[&str]) {
        let target = format!("t:{window}");
        for key in keys {
            self.run(&["send-keys", "-t", &target, key]);
        }
    }

    /// What window `window` shows, runs of spaces made one on each line.
    fn screen(&self, window: u8) -> String {
        let screen = self.run(&["capture-pane", "-p", "-t", &format!("t:{window}")]);
        screen
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Waits until window `window` shows what `ok` wants; returns that screen.
    fn wait_for(&self, window: u8, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen(window);
            if ok(&screen) {
                return screen;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "the screen never showed {what}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = demo_harness::command("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// The table row of `name` on the screen (`│ TYPE NAME ...`, or `│* TYPE NAME
/// ...` while highlighted), with runs of spaces made one and without the marker.
fn row(screen: &str, kind: &str, name: &str) -> Option<String> {
    screen.lines().find_map(|line| {
        let inner = line.strip_prefix('│')?.trim_end_matches(['│', ' ']);
        let mut cells: Vec<&str> = inner.split_whitespace().collect();
        if cells.first() == Some(&"*") {
            cells.remove(0);
        }
        (cells.len() > 2 && cells[0] == kind && cells[1] == name).then(|| cells.join(" "))
    })
}

#[test]
fn the_screen_follows_mq_lifecycle_and_keys_work() {
    if !queues_listable("the_screen_follows_mq_lifecycle_and_keys_work") {
        return;
    }
    let Some(tmux) = Tmux::start("mq") else {
        return;
    };
    let _lock = demo_harness::NamesLock::take("mq_lifecycle");
    MQ_OBJECTS.remove_all();
    let bin = demo("mq_lifecycle");
    tmux.type_line(
        0,
        &format!(
            "b=$(stty -g); {BIN} watch --prefix /ep_mq_lifecycle --trust-pid-namespace; \
             echo WATCH-EXIT=$?; [ \"$(stty -g)\" = \"$b\" ] && echo TTY-RESTORED"
        ),
    );
    tmux.wait_for(0, "an empty view", |s| {
        s.contains("posix-ipc watch") && s.contains("0 objects")
    });
    tmux.type_line(1, &format!("{bin} --step"));
    tmux.wait_for(1, "step 1", |s| s.contains("press Enter"));
    tmux.keys(1, &["Enter"]); // mq_open
    let screen = tmux.wait_for(0, "the new queue", |s| {
        row(s, "mq", "/ep_mq_lifecycle").is_some()
    });
    let queue = row(&screen, "mq", "/ep_mq_lifecycle").unwrap();
    assert!(
        queue.contains(&format!("0/5 msgs, 0B 0644 {} no", me()))
            && queue.contains("(mq_lifecycle)"),
        "{queue}"
    );
    assert!(screen.contains("created mq /ep_mq_lifecycle"), "{screen}");
    tmux.keys(1, &["Enter"]); // mq_send x3: the depth grows
    tmux.wait_for(0, "three messages", |s| {
        row(s, "mq", "/ep_mq_lifecycle").is_some_and(|r| r.contains("3/5 msgs, 58B"))
    });
    // Filter by a name that matches nothing, then clear it.
    tmux.keys(0, &["/", "n", "o", "p", "e", "Enter"]);
    tmux.wait_for(0, "the filter hiding the queue", |s| {
        s.contains("filter: nope") && row(s, "mq", "/ep_mq_lifecycle").is_none()
    });
    tmux.keys(0, &["Escape"]);
    tmux.wait_for(0, "the queue again", |s| {
        !s.contains("filter:") && row(s, "mq", "/ep_mq_lifecycle").is_some()
    });
    // Paused, the view does not follow the receive.
    tmux.keys(0, &["Space"]);
    tmux.wait_for(0, "PAUSED", |s| s.contains("PAUSED"));
    tmux.keys(1, &["Enter"]); // mq_receive x3: the depth shrinks
    tmux.wait_for(1, "step 4", |s| s.contains("[step 4]"));
    std::thread::sleep(Duration::from_millis(400));
    let paused = tmux.screen(0);
    assert!(
        row(&paused, "mq", "/ep_mq_lifecycle").is_some_and(|r| r.contains("3/5 msgs")),
        "{paused}"
    );
    tmux.keys(0, &["Space"]);
    tmux.wait_for(0, "an empty queue", |s| {
        !s.contains("PAUSED")
            && row(s, "mq", "/ep_mq_lifecycle").is_some_and(|r| r.contains("0/5 msgs, 0B"))
    });
    tmux.keys(1, &["Enter"]); // mq_close: nobody holds it
    tmux.wait_for(1, "step 5", |s| s.contains("[step 5]"));
    let orphan = format!("0644 {} {} -", me(), orphan_as_ls_says("/ep_mq_lifecycle"));
    tmux.wait_for(0, "an orphan", |s| {
        row(s, "mq", "/ep_mq_lifecycle").is_some_and(|r| r.contains(&orphan))
    });
    tmux.keys(1, &["C-c"]); // the demo unlinks it on its way out
    let screen = tmux.wait_for(0, "the queue gone", |s| {
        row(s, "mq", "/ep_mq_lifecycle").is_none() && s.contains("unlinked mq /ep_mq_lifecycle")
    });
    assert!(screen.contains("0 objects"), "{screen}");
    tmux.keys(0, &["q"]);
    tmux.wait_for(0, "the shell back, the terminal as it was", |s| {
        s.contains("WATCH-EXIT=0") && s.contains("TTY-RESTORED")
    });
    MQ_OBJECTS.assert_none_left();
}

#[test]
fn the_screen_shows_the_semaphores_and_both_holders() {
    let Some(tmux) = Tmux::start("sem") else {
        return;
    };
    let _lock = demo_harness::NamesLock::take("sem_producer_consumer");
    SEM_OBJECTS.remove_all();
    let bin = demo("sem_producer_consumer");
    tmux.type_line(
        0,
        &format!("{BIN} watch --prefix /ep_sem --trust-pid-namespace; echo WATCH-EXIT=$?"),
    );
    tmux.wait_for(0, "the view", |s| s.contains("posix-ipc watch"));
    tmux.type_line(1, &format!("{bin} --step"));
    tmux.wait_for(1, "step 1", |s| s.contains("press Enter"));
    tmux.keys(1, &["Enter"]); // sem_open both
    tmux.wait_for(0, "two semaphores", |s| {
        row(s, "sem", "/ep_sem_empty")
            .is_some_and(|r| r.contains(&format!("value 1 0644 {} no", me())))
            && row(s, "sem", "/ep_sem_full")
                .is_some_and(|r| r.contains(&format!("value 0 0644 {} no", me())))
    });
    tmux.wait_for(1, "step 2", |s| s.contains("[step 2]"));
    tmux.keys(1, &["Enter"]); // fork: two holders
    let screen = tmux.wait_for(0, "two holders of each", |s| {
        ["/ep_sem_empty", "/ep_sem_full"].iter().all(|name| {
            row(s, "sem", name).is_some_and(|r| r.matches("(sem_producer_consumer)").count() == 2)
        })
    });
    let empty = row(&screen, "sem", "/ep_sem_empty").unwrap();
    let pids: Vec<&str> = empty
        .split_whitespace()
        .filter_map(|w| w.strip_suffix("(sem_producer_consumer)"))
        .collect();
    assert_eq!(pids.len(), 2, "{empty}");
    assert_ne!(pids[0], pids[1], "{empty}");
    tmux.keys(1, &["C-c"]); // both processes stop, both semaphores go
    tmux.wait_for(0, "the semaphores gone", |s| {
        row(s, "sem", "/ep_sem_empty").is_none()
            && row(s, "sem", "/ep_sem_full").is_none()
            && s.contains("unlinked sem /ep_sem_full")
    });
    // SIGTERM from elsewhere ends the view and gives the terminal back.
    let pid = tmux.run(&["list-panes", "-t", "t:0", "-F", "#{pane_pid}"]);
    let shell: i32 = pid.trim().parse().unwrap();
    let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).unwrap();
    let watch: i32 = children.split_whitespace().next().unwrap().parse().unwrap();
    kill(Pid::from_raw(watch), Signal::SIGTERM).unwrap();
    tmux.wait_for(0, "the shell back", |s| s.contains("WATCH-EXIT=0"));
    SEM_OBJECTS.assert_none_left();
}

#[test]
fn hanging_up_the_terminal_ends_the_view() {
    let Some(tmux) = Tmux::start("hup") else {
        return;
    };
    tmux.type_line(0, &format!("exec {BIN} watch --prefix /pipc_watch_hup"));
    tmux.wait_for(0, "the view", |s| s.contains("posix-ipc watch"));
    let pid: i32 = tmux
        .run(&["list-panes", "-t", "t:0", "-F", "#{pane_pid}"])
        .trim()
        .parse()
        .unwrap();
    tmux.run(&["kill-window", "-t", "t:0"]); // SIGHUP to the pane's process
    let start = Instant::now();
    while PathBuf::from(format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
    {
        assert!(
            start.elapsed() < PATIENCE,
            "watch kept running after SIGHUP"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
