//! What a class expects of a command-line program: `--version`, `--steps` (and the
//! steps at the end of `--help`), a `--step` that reads a bounded line however
//! endless its input, signals ignored at start (`nohup`, a script's `cmd &`)
//! that stay ignored, and a `--trace` file that cannot be written said so.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::mpsc::channel;
use std::time::Instant;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use crate::{live_members, Demo, PATIENCE};

/// `--version` prints `NAME VERSION` and exits 0.
pub fn assert_version(demo: &Demo) {
    let out = demo.run(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let (name, version) = text
        .trim_end()
        .split_once(' ')
        .unwrap_or_else(|| panic!("--version printed {text:?}"));
    assert_eq!(name, demo.name());
    assert!(
        version.split('.').count() == 3 && version.split('.').all(|n| n.parse::<u32>().is_ok()),
        "--version printed {text:?}"
    );
}

/// `--steps` lists `count` numbered steps and exits 0 without running (nothing is
/// created); `--help` ends with the same list.
pub fn assert_steps_listed(demo: &Demo, count: usize) {
    let out = demo.run(&["--steps"]);
    assert_eq!(out.status.code(), Some(0));
    demo.objects().assert_none_left();
    let list = String::from_utf8(out.stdout).expect("UTF-8");
    let numbered: Vec<&str> = list
        .lines()
        .filter(|line| !line.trim_start().starts_with("look:"))
        .collect();
    assert_eq!(numbered.len(), count, "--steps:\n{list}");
    for (n, line) in numbered.iter().enumerate() {
        assert!(
            line.trim_start().starts_with(&format!("{}. ", n + 1)),
            "--steps line {line:?}"
        );
    }
    let help = demo.run(&["--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--steps"), "{help}");
    assert!(
        help.ends_with(&list),
        "--help does not end with the steps:\n{help}"
    );

    // With a prefix of one's own, the steps name the objects this run makes: each
    // `ep_` name, and only those, gets the prefix.
    let own = crate::command(demo.bin())
        .arg("--steps")
        .env(crate::LAB_PREFIX_VARIABLE, "zz_")
        .output()
        .expect("run --steps");
    assert_eq!(own.status.code(), Some(0));
    let own = String::from_utf8(own.stdout).expect("UTF-8");
    assert!(own.contains("zz_ep_"), "--steps with a prefix:\n{own}");
    assert_eq!(
        own.matches("ep_").count(),
        own.matches("zz_ep_").count(),
        "a C name left in --steps with a prefix:\n{own}"
    );
    assert_eq!(own.replace("zz_ep_", "ep_"), list, "--steps with a prefix");
}

/// Caps the address space of the process about to exec at 1 GiB.
fn cap_memory(command: &mut Command) {
    // SAFETY: `setrlimit` is a plain system call, async-signal-safe, and touches no
    // memory but the struct on this stack frame: it may run between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 1 << 30,
                rlim_max: 1 << 30,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
}

/// `--step` with stdin at `/dev/zero` (no newline, ever) and memory capped at
/// 1 GiB: the demo reads a bounded amount, says on stderr that it goes on without
/// pausing, and finishes with its transcript, status 0 and nothing left.
pub fn assert_endless_step_input_is_bounded(demo: &Demo, transcript: &[u8]) {
    let zero = std::fs::File::open("/dev/zero").expect("open /dev/zero");
    let mut command = crate::command(demo.bin());
    command
        .arg("--step")
        .stdin(zero)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    cap_memory(&mut command);
    let out = output_bounded(command);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "status; stderr:\n{stderr}");
    assert!(stderr.contains("going on without pausing"), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(transcript)
    );
    if demo.name() != "excl_demo" {
        demo.objects().assert_none_left();
    }
}

/// Spawns `command` (in its own process group) and collects its output, killing
/// the group and panicking after [`PATIENCE`].
fn output_bounded(mut command: Command) -> std::process::Output {
    let child = command.spawn().expect("spawn");
    let pgid = Pid::from_raw(child.id() as i32);
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(PATIENCE) {
        Ok(out) => out.expect("wait"),
        Err(_) => {
            let _ = killpg(pgid, Signal::SIGKILL);
            panic!("the demo did not end within {PATIENCE:?}");
        }
    }
}

/// Runs `demo --step` with SIGINT and SIGHUP ignored from the start (as `nohup` and
/// a script's `cmd &` do); at the first pause sends both to its whole group, then
/// goes on: the run must finish as usual (status 0, the transcript, nothing left).
pub fn assert_ignored_signals_stay_ignored(demo: &Demo, transcript: &[u8]) {
    let mut command = crate::command(demo.bin());
    command
        .arg("--step")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    // SAFETY: `signal(.., SIG_IGN)` is async-signal-safe and installs no code: it
    // may run between fork and exec, and the ignoring survives exec.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_IGN);
            libc::signal(libc::SIGHUP, libc::SIG_IGN);
            Ok(())
        });
    }
    let mut child = command.spawn().expect("spawn");
    let pgid = Pid::from_raw(child.id() as i32);
    let mut stdin = child.stdin.take().expect("piped");
    let mut stdout = child.stdout.take().expect("piped");
    let stdout = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let (tx, rx) = channel();
    let stderr = child.stderr.take().expect("piped");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let start = Instant::now();
    let mut pauses = 0;
    let mut seen = String::new();
    while let Ok(line) = rx.recv_timeout(PATIENCE.saturating_sub(start.elapsed())) {
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("press Enter") {
            pauses += 1;
            if pauses == 1 {
                let _ = killpg(pgid, Signal::SIGINT);
                let _ = killpg(pgid, Signal::SIGHUP);
                // Give a wrongly installed handler the time to act before going on.
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            let _ = stdin.write_all(b"\n").and_then(|()| stdin.flush());
        }
    }
    if start.elapsed() >= PATIENCE {
        let _ = killpg(pgid, Signal::SIGKILL);
        let _ = child.wait();
        panic!("the demo did not end within {PATIENCE:?}:\n{seen}");
    }
    let status = child.wait().expect("wait");
    assert_eq!(
        status.code(),
        Some(0),
        "ignored SIGINT/SIGHUP stopped it:\n{seen}"
    );
    assert_eq!(
        String::from_utf8_lossy(&stdout.join().expect("stdout reader")),
        String::from_utf8_lossy(transcript)
    );
    assert!(live_members(pgid).is_empty(), "processes left");
    if demo.name() != "excl_demo" {
        demo.objects().assert_none_left();
    }
}

/// `--trace /dev/full`: the run itself is the plain one (same stdout), but the
/// trace asked for could not be written, which the demo says on stderr, with the
/// error, ending with status 1 instead of 0.
pub fn assert_unwritable_trace_is_reported(demo: &Demo, transcript: &[u8]) {
    let out = demo.run(&["--trace", "/dev/full"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(transcript),
        "stderr: {stderr}"
    );
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains("--trace /dev/full: No space left on device"),
        "stderr: {stderr}"
    );
    if demo.name() != "excl_demo" {
        demo.objects().assert_none_left();
    }
}
