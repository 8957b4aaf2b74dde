//! What some tests need beyond a build: root's powers, a second user, a program
//! such as `strace`. Each is got the way an ordinary user can, or the test is
//! skipped with one line saying what and why.
//!
//! Some tests mount a small tmpfs on `/dev/shm`, set `/proc/sys/fs/mqueue` limits,
//! mount an mqueue filesystem, must see every process on the machine, or need a
//! second user. Root can (in the project's `iso` or on CI); an ordinary user can
//! too, inside a user namespace of its own with private IPC, mount and PID
//! namespaces (`unshare --user --map-root-user --ipc --mount --pid --fork
//! --mount-proc`) and a private tmpfs on `/dev/shm`, where the kernel allows that.
//! [`as_root`] runs the calling test there, in a new process of the same test
//! binary ([`as_two_users`] also maps the user's subordinate ids, for a second
//! user). Where neither is possible, it prints one line (`skipped TEST: ...`) on
//! stderr, which the test runner shows, and the test's body does not run: nothing
//! is asserted, and the line says so.

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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Namespaces {
    /// The user is root of a user namespace of its own (`--map-root-user`), with
    /// private IPC, mount and PID namespaces.
    Root,
    /// As [`Namespaces::Root`], and the user's subordinate ids (`/etc/subuid`,
    /// `/etc/subgid`, mapped by `newuidmap`) are the namespace's other users.
    TwoUsers,
}

impl Namespaces {
    /// The `unshare` options that make them.
    fn unshare(self) -> Vec<&'static str> {
        let mut options = vec![
            "--user",
            "--map-root-user",
            "--ipc",
            "--mount",
            "--pid",
            "--fork",
            "--mount-proc",
        ];
        if self == Namespaces::TwoUsers {
            options.extend(["--map-users=auto", "--map-groups=auto"]);
        }
        options
    }

    /// Whether this user can have them, checked once: `Err` says why not.
    fn available(self) -> Result<(), String> {
        static ROOT: OnceLock<Result<(), String>> = OnceLock::new();
        static TWO_USERS: OnceLock<Result<(), String>> = OnceLock::new();
        let checked = match self {
            Namespaces::Root => &ROOT,
            Namespaces::TwoUsers => &TWO_USERS,
        };
        checked.get_or_init(|| self.probe()).clone()
    }

    fn probe(self) -> Result<(), String> {
        if !on_path("unshare") {
            return Err("unshare (util-linux) is not installed".to_owned());
        }
        if self == Namespaces::TwoUsers && !(on_path("newuidmap") && on_path("newgidmap")) {
            return Err("newuidmap and newgidmap (package uidmap) are not installed".to_owned());
        }
        let mut args = self.unshare();
        args.extend(["sh", "-c", PROBE]);
        let out = Process::start("unshare", &args, Io::Captured, Duration::from_secs(10)).output();
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "this system refuses it: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    /// Runs the test `test` of this binary inside them, with a private tmpfs on
    /// `/dev/shm`; panics with its output unless it ran and passed.
    fn run(self, test: &str) {
        let exe = std::env::current_exe().expect("the test binary's path");
        let exe = exe.to_str().expect("a UTF-8 path to the test binary");
        let inside = format!("{INSIDE}={test}");
        // Inside, this user is uid 0, whose lock and scratch directory in /tmp would
        // be the real root's: the test's private directory goes inside this user's
        // own (which the namespace shows as uid 0's).
        let tmpdir = format!("TMPDIR={}", crate::lock::private_dir().display());
        let mut args = vec![inside.as_str(), tmpdir.as_str(), "unshare"];
        args.extend(self.unshare());
        // A /dev/shm of its own too, like its own queues: the names of two users'
        // runs (their pids, 1 in a PID namespace) never meet.
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
}

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
    run_as(Namespaces::Root, test, needs)
}

/// As [`as_root`], for a test that also needs a second user (uid and gid 65534,
/// `nobody`): an ordinary user's namespace has one only with subordinate ids
/// (`/etc/subuid`, `/etc/subgid`) and `newuidmap` (package `uidmap`).
#[must_use = "run the test's body only when this returns true"]
pub fn as_two_users(test: &str, needs: &str) -> bool {
    run_as(Namespaces::TwoUsers, test, needs)
}

fn run_as(namespaces: Namespaces, test: &str, needs: &str) -> bool {
    if std::env::var_os(INSIDE).is_some_and(|inside| inside == test) || geteuid().is_root() {
        return true;
    }
    match namespaces.available() {
        Ok(()) => namespaces.run(test),
        Err(why) => skip(
            test,
            &format!("needs {needs}, as root or in a user namespace; {why}"),
        ),
    }
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

/// Whether `program` is found in `$PATH`.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| Path::new(&dir).join(program).is_file())
    })
}
