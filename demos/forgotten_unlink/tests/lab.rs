//! What SIGKILL leaves behind, and the recovery: checked from the verdict. A child
//! that cannot create its objects ends the lab with a clear failure, never a hang.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use demo_harness::{assert_lab_left_nothing, numbers, run_lab, PATIENCE};
use ipc_core::ObjectKind;

const BIN: &str = env!("CARGO_BIN_EXE_forgotten_unlink");
const TAGS: &[(ObjectKind, &str)] = &[
    (ObjectKind::SharedMemory, "shm"),
    (ObjectKind::Semaphore, "sem"),
    (ObjectKind::MessageQueue, "mq"),
];

#[test]
fn objects_outlive_a_killed_creator_and_unlink_retry_recovers() {
    let lab = run_lab(BIN, &[], "forgotten_unlink", TAGS);
    // "S/3 objects outlived ...; EEXIST E/3; recovered R/3; L left at the end"
    assert_eq!(
        numbers(&lab.verdict),
        [3, 3, 3, 3, 3, 3, 0],
        "{}",
        lab.verdict
    );
    assert!(lab
        .stdout
        .starts_with("the child created 3 objects and was killed: Signaled(SIGKILL)"));
}

/// Runs `sh -c script` (which runs the lab and then prints `status N PID` and the
/// contents of /dev/shm), bounded. `None` if the script could not set up its
/// conditions (exit 99).
fn in_shell(wrapper: &[&str], script: &str) -> Option<(String, String)> {
    let mut child = Command::new(wrapper[0])
        .args(&wrapper[1..])
        .args(["sh", "-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > PATIENCE {
            let _ = child.kill();
            panic!("the lab hung: {script}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    if out.status.code() != Some(0) {
        println!(
            "skipped: could not set up {script}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return None;
    }
    Some((
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// Runs the lab in the background (so its pid is known) and prints `status N PID`,
/// then the contents of /dev/shm.
const RUN: &str = "& p=$!; wait $p; echo \"status $? $p\"; ls -A /dev/shm";

fn assert_failed_cleanly(stdout: &str, stderr: &str, reason: &str) {
    let mut lines = stdout.lines();
    let status = lines.next().unwrap_or_default();
    let pid = status.rsplit(' ').next().unwrap_or_default();
    assert_eq!(status, format!("status 1 {pid}"), "{stdout}\n{stderr}");
    let mine = format!("forgotten_unlink_{pid}_");
    let left: Vec<&str> = lines.filter(|l| l.contains(&mine)).collect();
    assert!(left.is_empty(), "left in /dev/shm: {left:?}");
    assert!(
        stderr.contains("forgotten_unlink: the child could not create its")
            && stderr.contains(reason),
        "{stderr}"
    );
}

/// `ulimit -n 4`: the child's `sem_open` fails with EMFILE; the lab says so and
/// removes the shared memory object the child did create.
#[test]
fn a_child_out_of_descriptors_ends_the_lab_with_the_reason() {
    let script = format!("ulimit -n 4 || exit 99; {BIN} {RUN}");
    let (stdout, stderr) = in_shell(&["env"], &script).expect("ulimit -n works for anyone");
    assert_failed_cleanly(&stdout, &stderr, "Too many open files (RLIMIT_NOFILE is 4");
}

/// `queues_max` 0 (in an IPC namespace of its own), as an ordinary user: the
/// child's `mq_open` fails with ENOSPC naming the limit.
#[test]
fn a_child_out_of_queues_ends_the_lab_with_the_reason() {
    let script = format!(
        "echo 0 > /proc/sys/fs/mqueue/queues_max || exit 99; \
         setpriv --reuid=65534 --regid=65534 --clear-groups {BIN} {RUN}"
    );
    if let Some((stdout, stderr)) = in_shell(&["unshare", "--ipc"], &script) {
        assert_failed_cleanly(&stdout, &stderr, "(queues_max is 0");
    }
}

/// A full /dev/shm (a 4 KiB tmpfs with 3 inodes, in a mount namespace of its own).
#[test]
fn a_child_on_a_full_dev_shm_ends_the_lab_with_the_reason() {
    let script =
        format!("mount -t tmpfs -o size=4k,nr_inodes=3 tmpfs /dev/shm || exit 99; {BIN} {RUN}");
    if let Some((stdout, stderr)) = in_shell(&["unshare", "--mount"], &script) {
        assert_failed_cleanly(&stdout, &stderr, "No space left on device");
    }
}

/// stdout to `/dev/full` or into a closed pipe: exit 1 with the reason, no panic,
/// nothing left.
#[test]
fn an_unwritable_stdout_is_a_clean_failure() {
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
        assert_lab_left_nothing(pid, "forgotten_unlink", TAGS);
    }
}
