//! The umask masks every kind of object's mode: checked from the verdict, against a
//! umask 000 control row, with the mode each create call passed read from
//! `--explain`.

use std::process::{Command, Stdio};

use demo_harness::{assert_lab_left_nothing, run_piped_pid};
use ipc_core::ObjectKind;

const BIN: &str = env!("CARGO_BIN_EXE_umask_mode");

fn tags() -> Vec<(ObjectKind, String)> {
    let mut tags = Vec::new();
    for umask in ["000", "022", "077", "007"] {
        for (kind, tag) in [
            (ObjectKind::SharedMemory, "shm"),
            (ObjectKind::Semaphore, "sem"),
            (ObjectKind::MessageQueue, "mq"),
        ] {
            tags.push((kind, format!("{tag}_{umask}")));
        }
    }
    tags
}

#[test]
fn mode_is_masked_by_the_umask() {
    let tags = tags();
    let tags: Vec<(ObjectKind, &str)> = tags.iter().map(|(k, t)| (*k, t.as_str())).collect();
    let (pid, out) = run_piped_pid(BIN, &["--explain"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_lab_left_nothing(pid, "umask_mode", &tags);
    assert_eq!(
        stdout.lines().last().unwrap_or_default(),
        "verdict: mode 0666 became 0666 under umask 000, 0644 under umask 022, 0600 under \
         umask 077, 0660 under umask 007 (12/12 objects got 0666 & ~umask, the umask read \
         from /proc/self/status at each call)"
    );
    // Every create asked for 0666 itself: the masking is the umask's, not the
    // program's.
    let creates: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("_open(\"/umask_mode_") && l.contains("O_CREAT"))
        .collect();
    assert_eq!(creates.len(), 12, "{stderr}");
    for call in creates {
        assert!(
            call.contains(", 0666"),
            "a create did not ask for 0666: {call}"
        );
    }
}

/// stdout to `/dev/full` or into a closed pipe: exit 1 with the reason, no panic,
/// nothing left.
#[test]
fn an_unwritable_stdout_is_a_clean_failure() {
    let tags = tags();
    let tags: Vec<(ObjectKind, &str)> = tags.iter().map(|(k, t)| (*k, t.as_str())).collect();
    for full in [true, false] {
        let mut command = Command::new(BIN);
        command.stderr(Stdio::piped());
        if full {
            command.stdout(std::fs::File::create("/dev/full").unwrap());
        } else {
            command.stdout(Stdio::piped());
        }
        let mut child = command.spawn().unwrap();
        drop(child.stdout.take()); // the reader is gone: a broken pipe
        let pid = child.id();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("write to stdout failed"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_lab_left_nothing(pid, "umask_mode", &tags);
    }
}
