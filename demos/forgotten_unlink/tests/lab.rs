//! What SIGKILL leaves behind, and the recovery: checked from the verdict. A child
//! that cannot create its objects ends the lab with a clear failure, never a hang.

use demo_harness::{needs, numbers, Io, Lab, Process, PATIENCE};
use ipc_core::ObjectKind;

const BIN: &str = env!("CARGO_BIN_EXE_forgotten_unlink");
const LAB: Lab = Lab::new(
    "forgotten_unlink",
    BIN,
    &[
        (ObjectKind::SharedMemory, "shm"),
        (ObjectKind::Semaphore, "sem"),
        (ObjectKind::MessageQueue, "mq"),
    ],
);

#[test]
fn objects_outlive_a_killed_creator_and_unlink_retry_recovers() {
    let lab = LAB.run(&[]);
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

/// Runs `WRAPPER... sh -c script` (which sets up its conditions, runs the lab, then
/// prints `status N PID` and the contents of /dev/shm), bounded; returns its stdout
/// and stderr. The script exits 99 if it could not set up its conditions: the
/// test fails saying so.
fn in_shell(wrapper: &[&str], script: &str) -> (String, String) {
    let mut args = wrapper[1..].to_vec();
    args.extend(["sh", "-c", script]);
    let out = Process::start(wrapper[0], &args, Io::Captured, PATIENCE).output();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "could not set up {script}: {stderr}"
    );
    (stdout, stderr)
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
    let (stdout, stderr) = in_shell(&["env"], &script);
    assert_failed_cleanly(&stdout, &stderr, "Too many open files (RLIMIT_NOFILE is 4");
}

/// `queues_max` 0 (in an IPC namespace of its own), as an ordinary user: the
/// child's `mq_open` fails with ENOSPC naming the limit. Root (of the initial user
/// namespace, whose `uid_map` maps every id) runs the lab as `nobody`; root of a
/// user namespace of its own is no root to the limit, which the kernel checks
/// against the initial namespace, and runs it as itself.
#[test]
fn a_child_out_of_queues_ends_the_lab_with_the_reason() {
    if !needs::as_root(
        "a_child_out_of_queues_ends_the_lab_with_the_reason",
        "queues_max set in a private IPC namespace",
    ) {
        return;
    }
    let script = format!(
        "echo 0 > /proc/sys/fs/mqueue/queues_max || exit 99; as_nobody=; \
         if [ \"$(tr -s ' ' < /proc/self/uid_map)\" = ' 0 0 4294967295' ]; then \
         as_nobody='setpriv --reuid=65534 --regid=65534 --clear-groups'; fi; \
         $as_nobody {BIN} {RUN}"
    );
    let (stdout, stderr) = in_shell(&["unshare", "--ipc"], &script);
    assert_failed_cleanly(&stdout, &stderr, "(queues_max is 0");
}

/// A full /dev/shm (a 4 KiB tmpfs with 3 inodes, in a mount namespace of its own).
#[test]
fn a_child_on_a_full_dev_shm_ends_the_lab_with_the_reason() {
    if !needs::as_root(
        "a_child_on_a_full_dev_shm_ends_the_lab_with_the_reason",
        "a 4 KiB tmpfs with 3 inodes mounted on /dev/shm",
    ) {
        return;
    }
    let script =
        format!("mount -t tmpfs -o size=4k,nr_inodes=3 tmpfs /dev/shm || exit 99; {BIN} {RUN}");
    let (stdout, stderr) = in_shell(&["unshare", "--mount"], &script);
    assert_failed_cleanly(&stdout, &stderr, "No space left on device");
}

/// stdout to `/dev/full` or into a closed pipe: exit 1 with the reason, no panic,
/// nothing left.
#[test]
fn an_unwritable_stdout_is_a_clean_failure() {
    LAB.assert_unwritable_stdout_fails_cleanly(&[]);
}
