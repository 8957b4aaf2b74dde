//! `--explain` narrates the calls `ipc-core` really makes: checked against what
//! `strace` sees the same run make.

mod common;

use common::DEMO;
use demo_harness::{needs, private_dir, Io, Process, PATIENCE};

/// The narration's lines with each blocking call's `<unfinished ...>` start and
/// `<... CALL resumed>` end joined into one line, as strace would have printed it
/// had nothing come between (lines of one thread only, so the pairs never nest).
fn join_resumed(text: &str) -> Vec<String> {
    let mut open: Option<String> = None;
    let mut lines = Vec::new();
    for line in text.lines() {
        if let Some(start) = line.strip_suffix(" <unfinished ...>") {
            open = Some(start.to_owned());
        } else if let Some(rest) = line.strip_prefix("<... ") {
            let (_, rest) = rest.split_once(" resumed>").expect("a resumed line");
            lines.push(format!(
                "{}{rest}",
                open.take().expect("its start came first")
            ));
        } else {
            lines.push(line.to_owned());
        }
    }
    lines
}

/// One queue call, reduced to what both narrations show: the call (in its kernel
/// name), the arguments that matter, the result.
fn normalise_explain(line: &str) -> Option<String> {
    let (call, rest) = line.split_once('(')?;
    let (args, result) = rest.rsplit_once(") = ")?;
    let args: Vec<&str> = args.split(", ").collect();
    Some(match call {
        "mq_open" => format!("mq_open {} = {result}", args[0].replacen("\"/", "\"", 1)),
        "mq_send" => format!(
            "mq_timedsend {} {} {} {} = {result}",
            args[0], args[1], args[2], args[3]
        ),
        "mq_receive" => format!(
            "mq_timedreceive {} {} {} {} = {result}",
            args[0], args[1], args[2], args[3]
        ),
        "mq_close" => format!("close {} = {result}", args[0]),
        "mq_unlink" => format!("mq_unlink {} = {result}", args[0].replacen("\"/", "\"", 1)),
        _ => return None,
    })
}

fn normalise_strace(line: &str) -> Option<String> {
    let line = line.trim();
    let (call, rest) = line.split_once('(')?;
    // strace pads the result: `close(3)          = 0`.
    let (args, result) = rest.rsplit_once(')')?;
    let result = result
        .trim()
        .strip_prefix("= ")?
        .split_whitespace()
        .next()?;
    let args: Vec<&str> = args.split(", ").collect();
    Some(match call {
        "mq_open" => format!("mq_open {} = {result}", args[0]),
        "mq_timedsend" | "mq_timedreceive" => {
            format!(
                "{call} {} {} {} {} = {result}",
                args[0], args[1], args[2], args[3]
            )
        }
        "close" => format!("close {} = {result}", args[0]),
        "mq_unlink" => format!("mq_unlink {} = {result}", args[0]),
        _ => return None,
    })
}

#[test]
fn explain_matches_the_system_calls_strace_sees() {
    if !needs::program(
        "explain_matches_the_system_calls_strace_sees",
        "strace",
        "to see the system calls",
    ) {
        return;
    }
    let _lock = DEMO.lock();
    let trace = private_dir().join(format!(
        "mq_lifecycle-explain-{}.strace",
        std::process::id()
    ));
    let trace_arg = trace.to_str().expect("a UTF-8 path");
    let calls = "trace=mq_open,mq_timedsend,mq_timedreceive,mq_unlink,close";
    let out = Process::start(
        "strace",
        &["-qq", "-e", calls, "-o", trace_arg, DEMO.bin(), "--explain"],
        Io::Captured,
        PATIENCE,
    )
    .output();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let traced = std::fs::read_to_string(&trace).unwrap();
    let _ = std::fs::remove_file(&trace);

    let explained: Vec<String> = join_resumed(&String::from_utf8_lossy(&out.stderr))
        .iter()
        .filter_map(|line| normalise_explain(line))
        .collect();
    // Only the descriptor of the queue: the run's other closes are not IPC calls.
    let queue_fd = explained[0].rsplit(' ').next().unwrap().to_owned();
    let seen: Vec<String> = traced
        .lines()
        .filter_map(normalise_strace)
        .filter(|call| {
            !call.starts_with("close ") || call.starts_with(&format!("close {queue_fd} "))
        })
        .skip_while(|call| !call.starts_with("mq_open"))
        .collect();
    assert_eq!(
        explained.len(),
        9,
        "open, 3 sends, 3 receives, close, unlink: {explained:#?}"
    );
    assert_eq!(explained, seen);
    DEMO.objects().assert_none_left();
}

/// The same run checked by `demo_harness::strace`: each line is written by the
/// thread it names, around the system call it narrates.
#[test]
fn explain_agrees_with_strace_in_order() {
    let _lock = DEMO.lock();
    let Some(checked) = demo_harness::strace::assert_explain_order(DEMO.bin(), &[]) else {
        return;
    };
    // mq_open, 3 sends, 3 receives, mq_close, mq_unlink.
    assert_eq!(checked.placed, 9, "{checked:?}");
    DEMO.objects().assert_none_left();
}
