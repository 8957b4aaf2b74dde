//! Checks that `--explain` tells the story `strace -f` sees, in the same order.
//!
//! The narration's own lines are `write(2, ...)` calls, so `strace -f` records
//! each of them in its place among the run's real system calls, under the pid
//! (thread id) that wrote it. [`assert_explain_order`] runs a demo with
//! `--explain` under `strace -f` and checks, from that one log:
//!
//! - **who**: each process's narration lines, in order, are exactly the lines
//!   that pid wrote, so a line's `[pid N]` (or no prefix, for the first process)
//!   names the thread that made the call;
//! - **where**: each narrated call whose system call strace sees (`mq_open`,
//!   `mq_timedsend`, `ftruncate`, `mmap`, `unlink`, `close`, `clone`, `wait4`, ...)
//!   is narrated after that call returned (a one-line call), or around it (a
//!   start line before it, the resumed line after it);
//! - **causal order**: when a process waits in the kernel (a `futex` wait in
//!   `sem_wait` or a mutex lock, `wait4` in `waitpid`) and another wakes it (a
//!   `futex` wake in `sem_post` or an unlock, its exit), the waker's narration
//!   line was written before the wake and the waiter's resumed line after it, so
//!   in the narration the cause comes before the effect; a forked child's lines
//!   all come after its parent's `fork` line.

use std::collections::HashMap;
use std::process::Stdio;

/// What one check saw: how many wake-ups (futex or child exit) and forks it
/// checked the order of.
#[derive(Debug, Default)]
pub struct Checked {
    /// Waits ended by another process's futex wake, whose order was checked.
    pub futex_wakes: usize,
    /// `waitpid`s ended by a child's exit, whose order was checked.
    pub child_exits: usize,
    /// Forks whose child's lines were checked to follow the parent's fork line.
    pub forks: usize,
    /// Narrated calls whose system call was found in its place.
    pub placed: usize,
}

/// One event of the strace log, in log order.
#[derive(Debug)]
enum Seen {
    /// `write(2, TEXT, ..)`: a narration line.
    Narration(String),
    /// A system call that a narrated call makes, with its result.
    Call(String, String),
    /// A futex wait began on an address (unfinished: it blocked).
    WaitStart(String),
    /// The blocked futex wait returned.
    WaitEnd(String),
    /// A futex wake on an address that woke `n` waiters.
    Wake(String, u64),
    /// A blocking `wait4` began.
    Wait4Start,
    /// It returned the pid it reaped.
    Wait4End(String),
    /// `clone` returned the child's pid.
    Clone(String),
    /// The process exited.
    Exit,
}

/// The system call a narrated call makes, where strace sees one.
fn syscall_of(call: &str) -> Option<&'static str> {
    Some(match call {
        "mq_open" => "mq_open",
        "mq_send" | "mq_timedsend" => "mq_timedsend",
        "mq_receive" | "mq_timedreceive" => "mq_timedreceive",
        "mq_unlink" => "mq_unlink",
        "mq_getattr" | "mq_setattr" => "mq_getsetattr",
        "mq_close" | "close" => "close",
        "shm_open" => "openat",
        "ftruncate" => "ftruncate",
        "mmap" => "mmap",
        "munmap" | "sem_close" => "munmap",
        "shm_unlink" | "sem_unlink" | "unlink" => "unlink",
        "kill" => "kill",
        "waitpid" => "wait4",
        "fork" => "clone",
        _ => return None,
    })
}

/// The calls strace is asked to show.
const TRACED: &str = "trace=write,futex,wait4,clone,clone3,mq_open,mq_timedsend,mq_timedreceive,\
mq_unlink,mq_getsetattr,close,openat,ftruncate,mmap,munmap,unlink,kill";

/// Runs `bin --explain ARGS` under `strace -f` and checks the narration against
/// the log (see the module documentation). Returns `None`, after printing one
/// line saying why, where strace is missing or cannot trace here.
///
/// # Panics
/// When the narration disagrees with strace, or the run fails.
pub fn assert_explain_order(bin: &str, args: &[&str]) -> Option<Checked> {
    let log = std::env::temp_dir().join(format!(
        "explain-order-{}-{}.strace",
        std::process::id(),
        bin.rsplit('/').next().unwrap_or("demo")
    ));
    let out = match crate::command("strace")
        .args([
            "-f",
            "-q",
            "-s",
            "4096",
            "-e",
            "signal=none",
            "-e",
            TRACED,
            "-o",
        ])
        .arg(&log)
        .arg(bin)
        .arg("--explain")
        .args(args)
        .stdin(Stdio::null())
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            println!(
                "skipped: strace could not be run ({e}); install it with apt-get install strace"
            );
            return None;
        }
    };
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if text.is_empty() && stderr.contains("ptrace") {
        println!("skipped: strace cannot trace here: {}", stderr.trim());
        return None;
    }
    assert!(
        out.status.success(),
        "{bin} {args:?} under strace: {stderr}"
    );
    Some(check(&text, &stderr))
}

/// The checks, on a strace log and the narration the same run wrote.
fn check(log: &str, narration: &str) -> Checked {
    let seen = parse(log);
    let first = seen
        .first()
        .map(|(pid, _)| *pid)
        .expect("an empty strace log");
    let mut checked = Checked::default();

    // Who: the narration's lines per thread, as strace saw them written.
    let lines: Vec<(u64, &str)> = narration
        .lines()
        .map(
            |line| match line.strip_prefix("[pid ").and_then(|l| l.split_once("] ")) {
                Some((tid, rest)) => (tid.parse().expect("a [pid N] prefix"), rest),
                None => (first, line),
            },
        )
        .collect();
    // For each strace event of a narration write: its index in `lines`.
    let mut line_of: HashMap<usize, usize> = HashMap::new();
    let mut next_of: HashMap<u64, usize> = HashMap::new();
    for (k, (pid, event)) in seen.iter().enumerate() {
        if let Seen::Narration(text) = event {
            let from = next_of.get(pid).copied().unwrap_or(0);
            let at = (from..lines.len())
                .find(|&n| lines[n].0 == *pid)
                .unwrap_or_else(|| {
                    panic!("pid {pid} wrote {text:?}, which the narration does not give it")
                });
            let full = if *pid == first {
                lines[at].1.to_owned()
            } else {
                format!("[pid {pid}] {}", lines[at].1)
            };
            assert_eq!(
                &full, text,
                "line {at} of the narration, as pid {pid} wrote it"
            );
            line_of.insert(k, at);
            next_of.insert(*pid, at + 1);
        }
    }
    for (n, (pid, line)) in lines.iter().enumerate() {
        assert!(
            line_of.values().any(|&at| at == n),
            "narration line {n} ({line}) was not written by pid {pid}"
        );
    }

    // Where: each call's system call in its place.
    let mut since: HashMap<u64, Vec<(String, String)>> = HashMap::new();
    let mut started: HashMap<u64, &str> = HashMap::new();
    for (k, (pid, event)) in seen.iter().enumerate() {
        match event {
            Seen::Call(name, result) => since
                .entry(*pid)
                .or_default()
                .push((name.clone(), result.clone())),
            Seen::Clone(child) => since
                .entry(*pid)
                .or_default()
                .push(("clone".into(), child.clone())),
            Seen::Wait4End(reaped) => since
                .entry(*pid)
                .or_default()
                .push(("wait4".into(), reaped.clone())),
            Seen::Narration(_) => {
                let line = lines[line_of[&k]].1;
                let calls = since.remove(pid).unwrap_or_default();
                if let Some(rest) = line.strip_prefix("<... ") {
                    let (call, result) = rest.split_once(" resumed>").expect("a resumed line");
                    assert_eq!(started.remove(pid), Some(call), "{line}");
                    checked.placed += placed(call, result, &calls, line);
                } else if let Some(start) = line.strip_suffix(" <unfinished ...>") {
                    let call = start.split('(').next().unwrap_or("");
                    started.insert(*pid, call);
                } else if let Some((call, result)) =
                    line.split_once('(').zip(line.rsplit_once(") = "))
                {
                    checked.placed += placed(call.0, &format!(") = {}", result.1), &calls, line);
                }
            }
            _ => {}
        }
    }

    // Causal order.
    let write_before = |pid: u64, k: usize| {
        (0..k)
            .rev()
            .find(|&j| seen[j].0 == pid && matches!(seen[j].1, Seen::Narration(_)))
            .map(|j| line_of[&j])
    };
    let write_after = |pid: u64, k: usize| {
        (k + 1..seen.len())
            .find(|&j| seen[j].0 == pid && matches!(seen[j].1, Seen::Narration(_)))
            .map(|j| line_of[&j])
    };
    for (k, (pid, event)) in seen.iter().enumerate() {
        match event {
            Seen::WaitEnd(result) if result == "0" => {
                let start = (0..k)
                    .rev()
                    .find(|&j| seen[j].0 == *pid && matches!(seen[j].1, Seen::WaitStart(_)))
                    .expect("a futex wait's start");
                let Seen::WaitStart(addr) = &seen[start].1 else {
                    unreachable!()
                };
                let Some(wake) = (start + 1..k).rev().find(|&j| {
                    seen[j].0 != *pid
                        && matches!(&seen[j].1, Seen::Wake(a, n) if a == addr && *n > 0)
                }) else {
                    continue;
                };
                let waker = seen[wake].0;
                let cause = write_before(waker, wake).expect("the waker narrated its call");
                let began = write_before(*pid, start).expect("the waiter narrated its wait");
                let effect = write_after(*pid, k).expect("the waiter narrated its return");
                let (cause_line, began_line, effect_line) =
                    (lines[cause].1, lines[began].1, lines[effect].1);
                assert!(
                    ["sem_post(", "pthread_mutex_unlock(", "pthread_cond_signal(", "pthread_cond_broadcast("]
                        .iter()
                        .any(|c| cause_line.starts_with(c))
                        && cause_line.ends_with("<unfinished ...>"),
                    "pid {waker} woke pid {pid}, but its last line before the wake is not a wake-up's start: {cause_line}"
                );
                assert!(
                    began_line.ends_with("<unfinished ...>"),
                    "pid {pid} blocked after {began_line}"
                );
                assert!(
                    effect_line.contains(" resumed>"),
                    "pid {pid} woke and then wrote {effect_line}"
                );
                assert!(
                    cause < effect,
                    "the narration shows pid {pid}'s return (line {effect}: {effect_line}) before the call that woke it (line {cause}: {cause_line})"
                );
                checked.futex_wakes += 1;
            }
            Seen::Wait4End(reaped) => {
                let Ok(child) = reaped.parse::<u64>() else {
                    continue;
                };
                let start = (0..k)
                    .rev()
                    .find(|&j| seen[j].0 == *pid && matches!(seen[j].1, Seen::Wait4Start));
                let exit = (0..k)
                    .rev()
                    .find(|&j| seen[j].0 == child && matches!(seen[j].1, Seen::Exit));
                let (Some(start), Some(exit)) = (start, exit) else {
                    continue;
                };
                if exit < start {
                    continue; // The child had ended before the wait: nothing woke it.
                }
                let effect = write_after(*pid, k).expect("the parent narrated waitpid's return");
                if let Some(last) = write_before(child, exit) {
                    assert!(
                        last < effect,
                        "the narration shows waitpid's return (line {effect}) before the child's last line (line {last})"
                    );
                }
                checked.child_exits += 1;
            }
            Seen::Clone(child) => {
                let Ok(child) = child.parse::<u64>() else {
                    continue;
                };
                let fork = write_before(*pid, k).expect("the parent narrated its fork");
                assert!(
                    lines[fork].1.starts_with("fork("),
                    "the line before clone: {}",
                    lines[fork].1
                );
                if let Some(first_of_child) = lines.iter().position(|(p, _)| *p == child) {
                    assert!(
                        fork < first_of_child,
                        "the child's first line comes before the fork's"
                    );
                }
                checked.forks += 1;
            }
            _ => {}
        }
    }
    checked
}

/// Checks that `calls` (the system calls made since the thread's previous line)
/// hold the one `call` makes, with its result; 1 if checked, 0 if strace cannot
/// see that call.
fn placed(call: &str, result: &str, calls: &[(String, String)], line: &str) -> usize {
    let Some(syscall) = syscall_of(call) else {
        return 0;
    };
    let value = result
        .rsplit_once(") = ")
        .map_or("", |(_, r)| r.split_whitespace().next().unwrap_or(""));
    assert!(
        calls.iter().rev().any(|(name, got)| name == syscall && got == value),
        "{line}: no {syscall} returning {value} since the previous line of that thread; strace saw {calls:?}"
    );
    1
}

/// The log's events, each with the pid (thread id) that made it.
fn parse(log: &str) -> Vec<(u64, Seen)> {
    let mut seen = Vec::new();
    // Per pid: the call it began and has not finished, with its arguments.
    let mut open: HashMap<u64, (String, String)> = HashMap::new();
    for line in log.lines() {
        let Some((pid, rest)) = line.split_once(' ') else {
            continue;
        };
        let Ok(pid) = pid.parse::<u64>() else {
            continue;
        };
        let rest = rest.trim_start();
        if rest.starts_with("+++ exited") || rest.starts_with("+++ killed") {
            seen.push((pid, Seen::Exit));
            continue;
        }
        let (call, args, result) = if let Some(start) = rest.strip_suffix(" <unfinished ...>") {
            let (call, args) = start.split_once('(').unwrap_or((start, ""));
            match call {
                "futex" if args.contains("WAIT") && !args.contains("PRIVATE") => {
                    seen.push((pid, Seen::WaitStart(first_arg(args))));
                }
                "wait4" => seen.push((pid, Seen::Wait4Start)),
                _ => {}
            }
            open.insert(pid, (call.to_owned(), args.to_owned()));
            continue;
        } else if let Some(resumed) = rest.strip_prefix("<... ") {
            let Some((call, tail)) = resumed.split_once(" resumed>") else {
                continue;
            };
            let (begun, args) = open.remove(&pid).unwrap_or_default();
            assert_eq!(begun, call, "strace log: {line}");
            let (more, result) = split_result(tail).unwrap_or((tail, ""));
            match call {
                "futex" if args.contains("WAIT") && !args.contains("PRIVATE") => {
                    seen.push((pid, Seen::WaitEnd(token(result))));
                    continue;
                }
                "wait4" => {
                    seen.push((pid, Seen::Wait4End(token(result))));
                    continue;
                }
                _ => {}
            }
            (call.to_owned(), format!("{args}{more}"), result.to_owned())
        } else {
            let Some((call, tail)) = rest.split_once('(') else {
                continue;
            };
            let Some((args, result)) = split_result(tail) else {
                continue;
            };
            (call.to_owned(), args.to_owned(), result.to_owned())
        };
        let result = token(&result);
        match call.as_str() {
            "write" if args.starts_with("2, \"") => {
                let text = unescape(&args[4..]);
                seen.push((pid, Seen::Narration(text.trim_end_matches('\n').to_owned())));
            }
            "write" => {}
            "futex" if args.contains("WAKE") && !args.contains("PRIVATE") => {
                seen.push((
                    pid,
                    Seen::Wake(first_arg(&args), result.parse().unwrap_or(0)),
                ));
            }
            "futex" => {}
            "wait4" => seen.push((pid, Seen::Wait4End(result))),
            // A new thread (the cleanup's helper), not a fork.
            "clone" | "clone3" if args.contains("CLONE_THREAD") => {}
            "clone" | "clone3" => seen.push((pid, Seen::Clone(result))),
            _ => seen.push((pid, Seen::Call(call, result))),
        }
    }
    seen
}

/// `ARGS) = RESULT` as strace prints it (padded: `close(3)      = 0`) into
/// the arguments and the result.
fn split_result(tail: &str) -> Option<(&str, &str)> {
    let (args, result) = tail.rsplit_once(" = ")?;
    let args = args.trim_end().strip_suffix(')')?;
    Some((args, result))
}

fn first_arg(args: &str) -> String {
    args.split(',').next().unwrap_or("").trim().to_owned()
}

fn token(result: &str) -> String {
    result.split_whitespace().next().unwrap_or("").to_owned()
}

/// A string as strace prints it, `"..."` with C escapes, back to its text.
fn unescape(quoted: &str) -> String {
    let body = quoted.strip_prefix('"').unwrap_or(quoted);
    let end = body.rfind('"').unwrap_or(body.len());
    let mut out = Vec::new();
    let mut bytes = body[..end].bytes().peekable();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match bytes.next() {
            Some(b'n') => out.push(b'\n'),
            Some(b't') => out.push(b'\t'),
            Some(b'r') => out.push(b'\r'),
            Some(b'v') => out.push(0x0b),
            Some(b'f') => out.push(0x0c),
            Some(b'x') => {
                let hex: String = (0..2)
                    .filter_map(|_| bytes.next().map(char::from))
                    .collect();
                out.push(u8::from_str_radix(&hex, 16).unwrap_or(b'?'));
            }
            Some(d @ b'0'..=b'7') => {
                let mut value = u32::from(d - b'0');
                for _ in 0..2 {
                    match bytes.peek() {
                        Some(&n @ b'0'..=b'7') => {
                            value = value * 8 + u32::from(n - b'0');
                            bytes.next();
                        }
                        _ => break,
                    }
                }
                out.push(value as u8);
            }
            Some(other) => out.push(other),
            None => out.push(b'\\'),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strace_strings_unescape() {
        assert_eq!(unescape(r#""a\\0\"b\n""#), "a\\0\"b\n");
        assert_eq!(unescape(r#""\0\x41\101""#), "\0AA");
    }

    /// Process 10 posts while 11 waits; `post_first` says whether 10 narrates
    /// its post before making it (as it must) or after.
    fn run(post_first: bool) -> Checked {
        let (before, after) = if post_first {
            (
                "10 write(2, \"sem_post(0x1 /* /s */ <unfinished ...>\\n\", 40) = 40\n",
                "10 write(2, \"<... sem_post resumed>) = 0\\n\", 28) = 28\n",
            )
        } else {
            (
                "",
                "10 write(2, \"sem_post(0x1 /* /s */) = 0\\n\", 28) = 28\n",
            )
        };
        let log = format!(
            "10 write(2, \"sem_open(\\\"/s\\\", 0) = 0x1\\n\", 26) = 26\n\
             11 write(2, \"[pid 11] sem_wait(0x1 /* /s */ <unfinished ...>\\n\", 48) = 48\n\
             {before}\
             11 futex(0x1, FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME, 0, NULL, FUTEX_BITSET_MATCH_ANY <unfinished ...>\n\
             10 futex(0x1, FUTEX_WAKE, 1) = 1\n\
             11 <... futex resumed>) = 0\n\
             11 write(2, \"[pid 11] <... sem_wait resumed>) = 0\\n\", 36) = 36\n\
             {after}"
        );
        let narration: String = log
            .lines()
            .filter_map(|l| l.split_once("write(2, "))
            .map(|(_, args)| unescape(args))
            .collect();
        check(&log, &narration)
    }

    #[test]
    fn a_wake_narrated_after_its_effect_is_refused() {
        assert_eq!(run(true).futex_wakes, 1);
        assert!(std::panic::catch_unwind(|| run(false)).is_err());
    }
}
