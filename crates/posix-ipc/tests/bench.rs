//! `posix-ipc bench` at a small size: every mechanism carries its messages intact
//! and in order (every byte checked), the JSON has every figure, spinning on one
//! core ends within its bound with a clear note, and nothing is left behind.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_posix-ipc");

/// One bench at a time, across threads (`cargo test`) and processes (`cargo
/// nextest`): they compete for the CPUs, and each checks that no bench object is
/// left in /dev/shm.
fn serial() -> demo_harness::NamesLock {
    demo_harness::NamesLock::take("posix-ipc-bench")
}

/// Runs the bench with `args` (and `--json`), optionally on CPU 0 only.
fn bench(args: &[&str], one_cpu: bool) -> (Value, Duration) {
    let mut command = if one_cpu {
        let mut c = demo_harness::command("taskset");
        c.args(["-c", "0", BIN]);
        c
    } else {
        demo_harness::command(BIN)
    };
    command
        .arg("bench")
        .args(args)
        .arg("--json")
        .stdin(Stdio::null());
    let start = Instant::now();
    let out = command.output().expect("run posix-ipc bench");
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "bench {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (serde_json::from_slice(&out.stdout).expect("JSON"), took)
}

/// The bench's objects are named /pipc_bench_PID_*: none may be left in /dev/shm.
fn nothing_left() {
    let left: Vec<String> = std::fs::read_dir("/dev/shm")
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("pipc_bench_"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn every_mechanism_carries_its_messages_intact() {
    let _serial = serial();
    let (report, _) = bench(
        &[
            "--iterations",
            "300",
            "--warmup",
            "20",
            "--messages",
            "2000",
            "--size",
            "64,4096",
            "--placement",
            "unpinned",
            "--verify",
            "--max-seconds",
            "20",
        ],
        false,
    );
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 7 * 2, "7 mechanisms x 2 sizes");
    for row in results {
        let what = format!("{} {}", row["mechanism"], row["size"]);
        assert!(row["note"].is_null(), "{what}: {}", row["note"]);
        let latency = &row["latency"];
        assert_eq!(latency["round_trips"], 300, "{what}");
        let (min, p50, p99, max) = (
            latency["min"].as_u64().unwrap(),
            latency["p50"].as_u64().unwrap(),
            latency["p99"].as_u64().unwrap(),
            latency["max"].as_u64().unwrap(),
        );
        assert!(
            0 < min && min <= p50 && p50 <= p99 && p99 <= max,
            "{what}: {latency}"
        );
        assert_eq!(row["throughput"]["messages"], 2000, "{what}");
        assert!(
            row["throughput"]["messages_per_second"].as_f64().unwrap() > 0.0,
            "{what}"
        );
    }
    assert!(report["machine"]["cpus"].as_u64().unwrap() >= 1);
    assert!(report["command"]
        .as_str()
        .unwrap()
        .starts_with("posix-ipc bench"));
    nothing_left();
}

#[test]
fn spinning_on_one_core_ends_with_a_clear_note_within_its_bound() {
    let _serial = serial();
    let (report, took) = bench(
        &[
            "--mechanism",
            "spin",
            "--placement",
            "unpinned",
            "--iterations",
            "100",
            // More round trips than one core can hand over in 1 s (each handover
            // waits for a time slice), whatever the load.
            "--warmup",
            "100000",
            "--max-seconds",
            "1",
        ],
        true,
    );
    let row = &report["results"][0];
    assert!(row["latency"].is_null());
    let note = row["note"].as_str().unwrap();
    assert!(
        note.starts_with("spin:") && note.contains("own core"),
        "{note}"
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
    // With one CPU, cross-core is not attempted at all.
    let (report, _) = bench(
        &[
            "--mechanism",
            "pipe",
            "--placement",
            "cross-core",
            "--iterations",
            "10",
        ],
        true,
    );
    assert_eq!(report["results"][0]["note"], "needs two CPUs");
    nothing_left();
}

#[test]
fn bad_bench_options_are_usage_errors() {
    let _serial = serial();
    for args in [
        &["--size", "4"][..],
        &["--iterations", "0"],
        &["--mechanism", "carrier-pigeon"],
        &["--depth", "0"],
    ] {
        let out = demo_harness::command(BIN)
            .arg("bench")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn ctrl_c_mid_bench_reaps_the_partner_and_unlinks_everything() {
    use std::os::unix::process::CommandExt;
    let _serial = serial();
    for mechanism in ["mq", "sem"] {
        let mut child = demo_harness::command(BIN)
            .args([
                "bench",
                "--mechanism",
                mechanism,
                "--placement",
                "unpinned",
                "--iterations",
                "100000000",
            ])
            .args(["--max-seconds", "60", "--json"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        std::thread::sleep(Duration::from_millis(500));
        nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGINT,
        )
        .unwrap();
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{mechanism}: still running after Ctrl+C"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(status.code(), Some(130), "{mechanism}");
        // No process of its group is left (the partner was reaped).
        let members = std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
            .filter(|stat| {
                let fields: Vec<&str> = stat
                    .rsplit_once(')')
                    .map_or("", |x| x.1)
                    .split_whitespace()
                    .collect();
                fields.len() > 2 && fields[2] == pid.to_string() && fields[0] != "Z"
            })
            .count();
        assert_eq!(members, 0, "{mechanism}: a process of the bench is left");
        nothing_left();
        for tag in ["ab", "ba"] {
            let name = ipc_core::Name::new(&format!("/pipc_bench_{pid}_{tag}")).unwrap();
            let open = ipc_core::MessageQueue::open(&name, &ipc_core::MqOptions::default());
            assert_eq!(
                open.unwrap_err().errno(),
                ipc_core::Errno::ENOENT,
                "queue {name} left"
            );
        }
    }
}
