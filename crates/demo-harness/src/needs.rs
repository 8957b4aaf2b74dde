//! What some tests need beyond a build: root's powers, a second user, a program
//! such as `strace`. Each is got the way an ordinary user can, or the test is
//! skipped with one line saying what and why.
//!
//! Some tests mount a small tmpfs on `/dev/shm`, set `/proc/sys/fs/mqueue` limits,
//! mount an mqueue filesystem, or must see every process on the machine. Root can
//! (in the project's `iso` or on CI); an ordinary user can too, inside a user
//! namespace of its own with private IPC, mount and PID namespaces
//! (`unshare --user --map-root-user --ipc --mount --pid --fork --mount-proc`) and a
//! private tmpfs on `/dev/shm`, where the kernel allows that. [`as_root`] runs the calling test there, in a new
//! process of the same test binary; where neither is possible, it prints one line
//! (`skipped TEST: ...`) on stderr, which the test runner shows, and the test's
//! body does not run: nothing is asserted, and the line says so.

use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use nix::errno::Errno;
use nix::unistd::{geteuid, setuid, Uid};

use crate::process::{Io, Process};

/// Set, to the test's name, in the test binary run inside the namespaces.
const INSIDE: &str = "DEMO_HARNESS_NAMESPACES";

/// The namespaces an ordinary user's privileged test runs in.
const UNSHARE: [&str; 7] = [
    "--user",
    "--map-root-user",
    "--ipc",
    "--mount",
    "--pid",
    "--fork",
    "--mount-proc",
];

/// What a test inside the namespaces does, checked once before any test goes there:
/// set an mqueue limit of its own IPC namespace, mount a tmpfs and an mqueue
/// filesystem.
const PROBE: &str = "cat /proc/sys/fs/mqueue/queues_max > /proc/sys/fs/mqueue/queues_max \
                     && mount -t tmpfs -o size=1m none /dev/shm && mount -t mqueue none /dev/shm";

/// Whether the calling test's body runs now, as root. `test` is the test's name
/// (as `cargo test` shows it); `needs` says what it needs root for ("a 1 MiB tmpfs
/// on /dev/shm").
///
/// - Root, or already inside the namespaces: `true`, run the body.
/// - Otherwise, when the kernel allows a user namespace: runs this one test again,
///   inside the namespaces (see the [module](self) docs) and waits for it (bounded);
///   panics with its output if it failed. Returns `false`: the body has run there.
/// - Otherwise: prints one line saying the test was skipped, what it needs and
///   why it cannot have it here, and returns `false`.
#[must_use = "run the test's body only when this returns true"]
pub fn as_root(test: &str, needs: &str) -> bool {
    if std::env::var_os(INSIDE).is_some_and(|inside| inside == test) || geteuid().is_root() {
        return true;
    }
    match namespaces() {
        Ok(()) => run_inside(test),
        Err(why) => skip(
            test,
            &format!("needs {needs}, as root or in a user namespace; {why}"),
        ),
    }
    false
}

/// Whether the calling test's body runs now: only root can take a second user id
/// (an ordinary user's namespace maps just one). Otherwise prints one line saying
/// the test was skipped and why, and returns `false`.
#[must_use = "run the test's body only when this returns true"]
pub fn as_two_users(test: &str, needs: &str) -> bool {
    if geteuid().is_root() && std::env::var_os(INSIDE).is_none() {
        return true;
    }
    skip(
        test,
        &format!("needs {needs}: a second user id, which only root can take (.ci/run does)"),
    );
    false
}

/// Whether `program` is installed (found in `$PATH`); if not, prints one line
/// saying `test` is skipped because it needs it `for_what`.
#[must_use = "run the test's body only when this returns true"]
pub fn program(test: &str, program: &str, for_what: &str) -> bool {
    let found = on_path(program);
    if !found {
        skip(
            test,
            &format!("needs {program} {for_what}, which is not installed"),
        );
    }
    found
}

/// Prints the one line of a skipped test, on stderr, past the test runner's
/// capture (so it shows up under `cargo test`).
pub fn skip(test: &str, why: &str) {
    let _ = writeln!(std::io::stderr(), "skipped {test}: {why}");
}

/// For a forked child that must have no privilege past a limit (no
/// `CAP_SYS_RESOURCE`): becomes `uid` if it is root. An ordinary user, or root of a
/// user namespace (whose capabilities do not reach limits checked in the initial
/// namespace), is unprivileged already. Returns whether it now is. Makes only
/// system calls: fit for a child forked from a threaded test.
pub fn drop_root(uid: u32) -> bool {
    if !geteuid().is_root() {
        return true;
    }
    match setuid(Uid::from_raw(uid)) {
        Ok(()) => true,
        // `uid` is not mapped: root of a user namespace.
        Err(Errno::EINVAL) => true,
        Err(_) => false,
    }
}

/// Whether this user can have the namespaces, checked once: `Err` says why not.
fn namespaces() -> Result<(), String> {
    static CHECKED: OnceLock<Result<(), String>> = OnceLock::new();
    CHECKED
        .get_or_init(|| {
            if !on_path("unshare") {
                return Err("unshare (util-linux) is not installed".to_owned());
            }
            let mut args = UNSHARE.to_vec();
            args.extend(["sh", "-c", PROBE]);
            let out =
                Process::start("unshare", &args, Io::Captured, Duration::from_secs(10)).output();
            if out.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "this kernel refuses it: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
            }
        })
        .clone()
}

/// Runs the test `test` of this binary inside the namespaces; panics with its
/// output unless it ran and passed.
fn run_inside(test: &str) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let exe = exe.to_str().expect("a UTF-8 path to the test binary");
    let inside = format!("{INSIDE}={test}");
    let mut args = vec![inside.as_str(), "unshare"];
    args.extend(UNSHARE);
    // A /dev/shm of its own too, like its own queues: the names of two users' runs
    // (their pids, 1 in a PID namespace) never meet.
    args.extend([
        "--",
        "sh",
        "-c",
        "mount -t tmpfs -o mode=1777 tmpfs /dev/shm && exec \"$@\"",
        "sh",
        exe,
        test,
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ]);
    let out = Process::start("env", &args, Io::Captured, crate::PATIENCE * 3).output();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "{test}, run in a user namespace, failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether `program` is found in `$PATH`.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| Path::new(&dir).join(program).is_file())
    })
}
