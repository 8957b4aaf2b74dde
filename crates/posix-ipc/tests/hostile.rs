//! `posix-ipc` on a machine where others create objects and processes: malformed
//! files, hostile names, hidden processes, racing creators, signals. Each test sets
//! up the hostile case itself; the ones that need root (mounts, namespaces, another
//! uid) print one line and return where they cannot run.
//!
//! `POSIX_IPC_UNDER_TEST` names another binary to test (an older build, to see
//! these tests fail without the fixes).

mod common;

use common::{bin, run};

use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// Runs `sh -c script` with `$B` set to the binary under test.
fn sh(script: &str) -> Output {
    demo_harness::command("sh")
        .arg("-c")
        .arg(script)
        .env("B", bin())
        .stdin(Stdio::null())
        .output()
        .expect("run sh")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn shm(file: &[u8]) -> PathBuf {
    Path::new("/dev/shm").join(std::ffi::OsStr::from_bytes(file))
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Whether this test may mount and make namespaces (root, and `unshare` works).
fn can_isolate(test: &str) -> bool {
    let works = is_root()
        && demo_harness::command("unshare")
            .args(["-m", "true"])
            .status()
            .is_ok_and(|s| s.success());
    if !works {
        println!("{test}: skipped: needs root and unshare(1) to build its namespace");
    }
    works
}

/// A process that holds `path` open until killed (killed on drop).
struct Holder(Child);

impl Holder {
    fn open(path: &Path, user: Option<&str>) -> Holder {
        let mut command = match user {
            Some(uid) => {
                let mut c = demo_harness::command("setpriv");
                c.args([
                    &format!("--reuid={uid}"),
                    &format!("--regid={uid}"),
                    "--clear-groups",
                    "sh",
                ]);
                c
            }
            None => demo_harness::command("sh"),
        };
        let child = command
            .arg("-c")
            .arg("exec 3<\"$1\"; echo ready; exec sleep 60")
            .arg("sh")
            .arg(path)
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn holder");
        let mut holder = Holder(child);
        let mut ready = [0u8; 6];
        holder
            .0
            .stdout
            .as_mut()
            .unwrap()
            .read_exact(&mut ready)
            .expect("the holder opened the object");
        holder
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_zero_byte_semaphore_file_crashes_nothing() {
    let tag = format!("hostile_{}_zero", std::process::id());
    let file = shm(format!("sem.{tag}").as_bytes());
    std::fs::write(&file, b"").unwrap();
    let short = shm(format!("sem.{tag}3").as_bytes());
    std::fs::write(&short, b"abc").unwrap();
    let name = format!("/{tag}");
    for args in [
        vec!["ls"],
        vec!["ls", "--json"],
        vec!["ls", "--type", "sem", "--prefix", &name],
        vec!["stat", &name],
        vec!["clean", "--prefix", &name, "--dry-run"],
    ] {
        let out = run(&args);
        assert_eq!(out.status.signal(), None, "posix-ipc {args:?} was killed");
        assert!(
            out.status.success(),
            "posix-ipc {args:?}: {}",
            text(&out.stderr)
        );
        if args[0] != "clean" {
            assert!(
                text(&out.stdout).contains("malformed"),
                "{args:?}: {}",
                text(&out.stdout)
            );
        }
    }
    let out = run(&["rm", &name, &format!("{name}3")]);
    assert_eq!(out.status.signal(), None, "rm was killed");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!file.exists() && !short.exists());
}

/// `sem value`, `post`, `trywait`, `wait` and `create` map a semaphore file with
/// `sem_open`: a 0-byte or short `sem.NAME` (anyone can make one) faulted them with
/// `SIGBUS`, and 32 garbage bytes aborted `sem post` in the C library. Refused now,
/// before the mapping; a real semaphore still works.
#[test]
fn sem_commands_refuse_a_semaphore_file_that_is_no_semaphore() {
    let tag = format!("hostile_{}_semcmd", std::process::id());
    let files: [(&str, Vec<u8>); 3] = [
        ("zero", vec![]),
        ("short", vec![0; 16]),
        ("garbage", [[0u8; 4].as_slice(), &[0x5a; 28]].concat()),
    ];
    for (what, bytes) in &files {
        let name = format!("/{tag}_{what}");
        let file = shm(format!("sem.{tag}_{what}").as_bytes());
        for args in [
            vec!["sem", "value", &name],
            vec!["sem", "post", &name],
            vec!["sem", "trywait", &name],
            vec!["sem", "wait", "--timeout", "1", &name],
            vec!["sem", "create", &name],
        ] {
            std::fs::write(&file, bytes).unwrap();
            let out = run(&args);
            assert_eq!(
                out.status.signal(),
                None,
                "posix-ipc {args:?} ({what}) was killed"
            );
            assert_eq!(out.status.code(), Some(1), "posix-ipc {args:?} ({what})");
            assert!(
                text(&out.stderr).contains("malformed semaphore"),
                "{args:?} ({what}): {}",
                text(&out.stderr)
            );
        }
        std::fs::remove_file(&file).unwrap();
    }
    let name = format!("/{tag}_real");
    assert!(run(&["sem", "create", "--value", "2", &name])
        .status
        .success());
    assert!(run(&["sem", "post", &name]).status.success());
    let out = run(&["sem", "value", &name]);
    assert_eq!(text(&out.stdout), "3\n", "{}", text(&out.stderr));
    assert!(run(&["sem", "unlink", &name]).status.success());
}

/// The names `mq`, `sem` and `shm` take are spelled as `ls` shows them, as for
/// `rm` and `stat`: a non-UTF-8 name `ls` lists as `/x\xc3` can be read and
/// unlinked by that spelling, and `shm create '/a\x41'` makes the object `stat
/// '/a\x41'` finds (it made `a\x41`, literally, which `rm '/a\x41'` did not remove,
/// and would have removed `/aA` instead).
#[test]
fn drive_commands_take_names_as_ls_shows_them() {
    let tag = format!("hs{}_", std::process::id());
    let raw = [tag.as_bytes(), b"x\xc3"].concat();
    std::fs::write(shm(&raw), b"hi").unwrap();
    let shown = format!("/{tag}x\\xc3");
    let out = run(&["shm", "read", &shown]);
    assert!(
        out.status.success(),
        "shm read {shown}: {}",
        text(&out.stderr)
    );
    assert_eq!(out.stdout, b"hi");
    let out = run(&["shm", "unlink", &shown]);
    assert!(
        out.status.success(),
        "shm unlink {shown}: {}",
        text(&out.stderr)
    );
    assert!(!shm(&raw).exists());

    let spelled = format!("/{tag}a\\x41");
    for kind in ["shm", "sem", "mq"] {
        let mut create = vec![kind, "create", &spelled];
        if kind == "shm" {
            create.extend(["--size", "8"]);
        }
        let out = run(&create);
        assert!(out.status.success(), "{create:?}: {}", text(&out.stderr));
        let out = run(&["stat", "--type", kind, &spelled]);
        assert!(
            out.status.success(),
            "stat {spelled} after {kind} create: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stdout).contains(&format!("/{tag}aA")),
            "{}",
            text(&out.stdout)
        );
        let out = run(&[kind, "unlink", &spelled]);
        assert!(
            out.status.success(),
            "{kind} unlink {spelled}: {}",
            text(&out.stderr)
        );
    }
}

/// `shm read` opened a named pipe someone made in `/dev/shm` with `O_RDONLY`, which
/// waits for a writer: it hung forever. A pipe or a directory is refused at once.
#[test]
fn shm_read_and_write_refuse_a_named_pipe_or_directory() {
    let tag = format!("hostile_{}_shmodd", std::process::id());
    let fifo = shm(format!("{tag}_fifo").as_bytes());
    let dir = shm(format!("{tag}_dir").as_bytes());
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o666)).unwrap();
    std::fs::create_dir(&dir).unwrap();
    for (what, words) in [("fifo", "a named pipe"), ("dir", "a directory")] {
        for command in ["read", "write"] {
            let data = if command == "write" { " hi" } else { "" };
            let out = sh(&format!(
                "timeout 10 \"$B\" shm {command} /{tag}_{what}{data}"
            ));
            assert_ne!(out.status.code(), Some(124), "shm {command} on {what} hung");
            assert_eq!(out.status.code(), Some(1), "shm {command} on {what}");
            assert!(
                text(&out.stderr).contains(words),
                "shm {command} on {what}: {}",
                text(&out.stderr)
            );
        }
    }
    std::fs::remove_file(&fifo).unwrap();
    std::fs::remove_dir(&dir).unwrap();
}

#[test]
fn hostile_names_are_escaped_listed_and_removable() {
    let tag = format!("hn{}_", std::process::id());
    let names: Vec<Vec<u8>> = vec![
        [tag.as_bytes(), b"\x1b]0;owned\x07\x1b[31mred"].concat(),
        [tag.as_bytes(), b"two\nshm   forged  0 B"].concat(),
        [tag.as_bytes(), b"caf\xe9"].concat(),
        [tag.as_bytes(), "r\u{202e}gnp.exe".as_bytes()].concat(),
    ];
    for name in &names {
        std::fs::write(shm(name), b"x").unwrap();
    }
    let prefix = format!("/{tag}");
    let out = run(&["ls", "--type", "shm", "--prefix", &prefix]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = out.stdout;
    assert!(
        !table.iter().any(|&b| b < 0x20 && b != b'\n' || b == 0x7f),
        "raw control bytes in the table: {table:?}"
    );
    let table = String::from_utf8(table).expect("the table is UTF-8");
    assert!(!table.contains('\u{202e}'), "{table}");
    assert_eq!(
        table.lines().count(),
        names.len() + 1,
        "one line per object:\n{table}"
    );
    assert!(table.contains("\\xe9"), "{table}");

    let json: serde_json::Value =
        serde_json::from_slice(&run(&["ls", "--json", "--prefix", &prefix]).stdout).unwrap();
    let listed = json.as_array().unwrap();
    assert_eq!(listed.len(), names.len(), "{json}");
    let raw = listed
        .iter()
        .find(|o| o.get("name_bytes").is_some())
        .expect("the non-UTF-8 name has its bytes");
    let bytes: Vec<u8> = raw["name_bytes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_u64().unwrap() as u8)
        .collect();
    assert_eq!(bytes, [b"/", &names[2][..]].concat());

    // What the table shows is what rm and stat take.
    for line in table.lines().skip(1) {
        let shown = line.split_whitespace().nth(1).unwrap();
        let out = run(&["stat", shown]);
        assert!(out.status.success(), "stat {shown}: {}", text(&out.stderr));
    }
    let shown: Vec<&str> = table
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    let mut args = vec!["rm", "--type", "shm"];
    args.extend(&shown);
    let out = run(&args);
    assert!(out.status.success(), "rm {shown:?}: {}", text(&out.stderr));
    for name in &names {
        assert!(!shm(name).exists(), "{name:?} is left");
    }
}

#[test]
fn odd_entries_are_named_for_what_they_are() {
    let tag = format!("odd{}", std::process::id());
    let target = shm(format!("{tag}_target").as_bytes());
    std::fs::write(&target, vec![0u8; 4096]).unwrap();
    let link = shm(format!("{tag}_link").as_bytes());
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = run(&["stat", &format!("/{tag}_link"), "--type", "shm"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("symbolic link"), "{stdout}");
    assert!(!stdout.contains("4096"), "the link was followed: {stdout}");

    // `sem.` and `sem..` are files, not the semaphores `/` and `/.`.
    let out = run(&["ls", "--json", "--prefix", "/sem."]);
    let before: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(before
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["name"] != "/" && o["name"] != "/."));
    let _ = std::fs::remove_file(&link);
    let _ = std::fs::remove_file(&target);
}

#[test]
fn clean_with_an_empty_prefix_needs_all() {
    let tag = format!("/hostile_{}_all", std::process::id());
    std::fs::write(shm(&tag.as_bytes()[1..]), b"x").unwrap();
    for prefix in ["", "/"] {
        let out = run(&["clean", "--prefix", prefix]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "clean --prefix '{prefix}': {}",
            text(&out.stderr)
        );
        assert!(text(&out.stderr).contains("--all"), "{}", text(&out.stderr));
        assert!(
            shm(&tag.as_bytes()[1..]).exists(),
            "clean --prefix '{prefix}' removed it"
        );
    }
    let out = run(&["clean", "--prefix", "", "--all", "--dry-run"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains(&tag));
    let _ = std::fs::remove_file(shm(&tag.as_bytes()[1..]));
}

#[test]
fn ls_and_stat_show_queued_bytes() {
    let name = format!("/hostile_{}_qsize", std::process::id());
    let ok = |args: &[&str]| {
        let out = run(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    ok(&["mq", "create", &name]);
    ok(&["mq", "send", &name, "hello"]);
    ok(&["mq", "send", &name, "world!"]);
    let table = ok(&["ls", "--type", "mq", "--prefix", &name]);
    let out = run(&["ls", "--type", "mq", "--prefix", &name]);
    if text(&out.stderr).contains("not listed") {
        println!(
            "ls_and_stat_show_queued_bytes: skipped the table: {}",
            text(&out.stderr)
        );
    } else {
        assert!(
            table.contains("2/10 msgs, 11B") || table.contains(", 11B"),
            "{table}"
        );
        let stat = ok(&["stat", &name, "--type", "mq"]);
        assert!(stat.contains("queued bytes  11"), "{stat}");
    }
    ok(&["mq", "unlink", &name]);
}

/// Creates a shared memory object owned by `uid` (mode 0666), returns its path.
fn object_of(tag: &str, uid: u32) -> PathBuf {
    let path = shm(format!("hostile_{}_{tag}", std::process::id()).as_bytes());
    std::fs::write(&path, b"x").unwrap();
    std::os::unix::fs::chown(&path, Some(uid), Some(uid)).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o666)).unwrap();
    path
}

#[test]
fn a_hidepid_proc_hides_no_holder_from_clean() {
    if !can_isolate("a_hidepid_proc_hides_no_holder_from_clean") {
        return;
    }
    let path = object_of("hidepid", 65534);
    let _holder = Holder::open(&path, None); // root holds nobody's object
    let name = format!("/{}", path.file_name().unwrap().to_str().unwrap());
    let out = sh(&format!(
        "unshare -m --propagation private sh -c 'mount -t proc -o hidepid=2 proc /proc && \
         exec setpriv --reuid=65534 --regid=65534 --clear-groups \"$B\" clean --orphans \
         --trust-pid-namespace --prefix {name}'"
    ));
    assert!(
        path.exists(),
        "an object root's process holds was removed: {}",
        text(&out.stderr)
    );
    // The kernel's lease names the holder that /proc hides, and says why it hides it.
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("kept") && stderr.contains("hidepid"),
        "{stderr}"
    );
    let _ = std::fs::remove_file(&path);
}

#[test]
fn the_kernel_tells_orphans_that_a_hidepid_proc_cannot() {
    if !can_isolate("the_kernel_tells_orphans_that_a_hidepid_proc_cannot") {
        return;
    }
    // Nobody's own object, held by no one; and another user's, held by no one.
    let own = object_of("own", 65534);
    let other = object_of("other", 65533);
    let hidden = |command: &str| {
        sh(&format!(
            "unshare -m --propagation private sh -c 'mount -t proc -o hidepid=2 proc /proc && \
             exec setpriv --reuid=65534 --regid=65534 --clear-groups \"$B\" {command} \
             --trust-pid-namespace --prefix /hostile_{}_'",
            std::process::id()
        ))
    };
    let listed = hidden("ls -t shm --json");
    let objects: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let orphan = |tag: &str| {
        objects
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"].as_str().unwrap().ends_with(tag))
            .map(|o| o["orphan"].clone())
    };
    assert_eq!(
        orphan("_own"),
        Some(serde_json::Value::Bool(true)),
        "{objects}"
    );
    assert_eq!(orphan("_other"), Some(serde_json::Value::Null), "{objects}");
    let out = hidden("clean --orphans");
    let stderr = text(&out.stderr);
    assert!(!own.exists(), "its own orphan was kept: {stderr}");
    assert!(
        other.exists(),
        "another user's object was removed: {stderr}"
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("left 1 object alone") && stderr.contains("hidepid"),
        "{stderr}"
    );
    // Which object, and the kernel's own reason.
    let other_name = other.file_name().unwrap().to_str().unwrap();
    assert!(
        stderr.contains(&format!("left /{other_name} alone: no holder was seen"))
            && stderr.contains("lease only to the object's owner"),
        "{stderr}"
    );
    let _ = std::fs::remove_file(&own);
    let _ = std::fs::remove_file(&other);
}

#[test]
fn a_nested_pid_namespace_hides_no_holder_from_clean() {
    if !can_isolate("a_nested_pid_namespace_hides_no_holder_from_clean") {
        return;
    }
    let path = object_of("nested", 0);
    let _holder = Holder::open(&path, None); // outside the namespace below
    let name = format!("/{}", path.file_name().unwrap().to_str().unwrap());
    for trust in ["", "--trust-pid-namespace"] {
        let out = sh(&format!(
            "unshare -pf --mount-proc \"$B\" clean --orphans {trust} --prefix {name}"
        ));
        let stderr = text(&out.stderr);
        assert!(path.exists(), "removed an object held outside: {stderr}");
        assert!(stderr.contains("kept"), "{stderr}");
        if trust.is_empty() {
            assert!(stderr.contains("nested PID namespace"), "{stderr}");
        }
    }
    let _ = std::fs::remove_file(&path);
}

#[test]
fn an_ordinary_user_never_removes_what_another_user_holds() {
    if !can_isolate("an_ordinary_user_never_removes_what_another_user_holds") {
        return;
    }
    let path = object_of("user", 65534);
    let _holder = Holder::open(&path, Some("65533"));
    let name = format!("/{}", path.file_name().unwrap().to_str().unwrap());
    let out = sh(&format!(
        "exec setpriv --reuid=65534 --regid=65534 --clear-groups \"$B\" clean --orphans \
         --trust-pid-namespace --prefix {name}"
    ));
    let stderr = text(&out.stderr);
    assert!(
        path.exists(),
        "removed an object another user holds: {stderr}"
    );
    assert!(stderr.contains("kept"), "{stderr}");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_leased_descriptor_in_flight_keeps_its_object() {
    if !can_isolate("a_leased_descriptor_in_flight_keeps_its_object") {
        return;
    }
    // This process leases the object, sends its only descriptor over a socket
    // and closes it: no process shows it in /proc, but the open file description
    // lives on in flight, lease and all, so any non-blocking open of the object
    // fails with EAGAIN and no lease can be had to check it.
    let path = object_of("inflight", 0);
    let name = format!("/{}", path.file_name().unwrap().to_str().unwrap());
    let (tx, _rx) = std::os::unix::net::UnixDatagram::pair().unwrap();
    {
        use std::os::fd::{AsFd, AsRawFd};
        let file = std::fs::File::open(&path).unwrap();
        let lease = ipc_core::holders::Lease::take(file.as_fd()).unwrap();
        std::mem::forget(lease); // the lease goes with the open file description
        let fds = [file.as_raw_fd()];
        nix::sys::socket::sendmsg::<()>(
            tx.as_raw_fd(),
            &[std::io::IoSlice::new(b"x")],
            &[nix::sys::socket::ControlMessage::ScmRights(&fds)],
            nix::sys::socket::MsgFlags::empty(),
            None,
        )
        .unwrap();
    }
    for trust in ["--trust-pid-namespace", ""] {
        let out = sh(&format!(
            "\"$B\" clean --orphans {trust} --prefix {name}; \"$B\" ls {trust} --json --prefix {name}"
        ));
        let stderr = text(&out.stderr);
        assert!(path.exists(), "removed an object held in flight: {stderr}");
        assert!(stderr.contains("kept"), "{trust}: {stderr}");
        let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            listed[0]["orphan"],
            serde_json::Value::Bool(false),
            "{listed}"
        );
    }
    drop(tx);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_directory_named_like_an_object_is_no_unknown_orphan() {
    if !can_isolate("a_directory_named_like_an_object_is_no_unknown_orphan") {
        return;
    }
    // A nested PID namespace: no orphan without the kernel's word. A directory
    // (anyone can make one in /dev/shm) is no object: it is left alone, as with a
    // complete scan, and does not make `clean --orphans` fail.
    let prefix = format!("/hostile_{}_dir", std::process::id());
    let dir = shm(&prefix.as_bytes()[1..]);
    std::fs::create_dir(&dir).unwrap();
    let orphan = object_of("dir_orphan", 0);
    let out = sh(&format!(
        "unshare -pf --mount-proc \"$B\" clean --orphans --prefix {prefix}"
    ));
    let stderr = text(&out.stderr);
    assert!(dir.exists() && !orphan.exists(), "{stderr}");
    assert!(stderr.contains("a directory, not an object"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let _ = std::fs::remove_dir(&dir);
    let _ = std::fs::remove_file(&orphan);
}

#[test]
fn an_owners_lease_on_a_semaphore_is_no_oddity() {
    // This process owns a semaphore file and holds a lease on it: every
    // non-blocking open of it fails with EAGAIN until the lease is released.
    let tag = format!("hostile_{}_leased", std::process::id());
    let path = shm(format!("sem.{tag}").as_bytes());
    std::fs::write(&path, [0u8; 32]).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let lease = ipc_core::holders::Lease::take(std::os::fd::AsFd::as_fd(&file));
    if lease.is_err() {
        println!("an_owners_lease_on_a_semaphore_is_no_oddity: skipped: no lease here ({lease:?})");
        let _ = std::fs::remove_file(&path);
        return;
    }
    let out = run(&[
        "ls",
        "--json",
        "--type",
        "sem",
        "--prefix",
        &format!("/{tag}"),
    ]);
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["odd"], serde_json::Value::Null, "{listed}");
    assert_eq!(
        listed[0]["orphan"],
        serde_json::Value::Bool(false),
        "{listed}"
    );
    drop(lease);
    drop(file);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_racing_creator_loses_no_object() {
    if !can_isolate("a_racing_creator_loses_no_object") {
        return;
    }
    let tag = format!("race{}_", std::process::id());
    let count = 3000;
    // Idle processes make each scan of /proc take longer, as on a busy machine.
    let idle: Vec<Holder> = (0..150)
        .map(|_| Holder::open(Path::new("/dev/null"), None))
        .collect();
    // Creates and holds (one open call each) `count` objects, writes each name to
    // stdout once it holds it, then waits.
    let mut creator = demo_harness::command("bash")
        .arg("-c")
        .arg(format!(
            "ulimit -n 8192; for i in $(seq 1 {count}); do exec {{fd}}<>/dev/shm/{tag}$i; \
             echo $i; (( i % 20 )) || sleep 0.005; done; exec sleep 60"
        ))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut runs = 0;
    let mut kept = 0;
    while runs < 200 && Instant::now() < deadline {
        let out = run(&[
            "clean",
            "--orphans",
            "--trust-pid-namespace",
            "--prefix",
            &format!("/{tag}"),
        ]);
        assert_eq!(out.status.signal(), None);
        kept += text(&out.stderr).matches("kept").count();
        runs += 1;
        let created = std::fs::read_dir("/dev/shm")
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(&tag))
            .count();
        if created >= count && runs >= 40 {
            break;
        }
    }
    // Killed, the creator's objects stay (only an unlink removes them), and the
    // pipe holds every name it said it held.
    let _ = creator.kill();
    let _ = creator.wait();
    let mut held = String::new();
    creator
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut held)
        .unwrap();
    let mut missing = Vec::new();
    for i in held.lines() {
        if !shm(format!("{tag}{i}").as_bytes()).exists() {
            missing.push(i.to_owned());
        }
    }
    for entry in std::fs::read_dir("/dev/shm").unwrap().flatten() {
        if entry.file_name().to_string_lossy().starts_with(&tag) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    drop(idle);
    println!("a_racing_creator_loses_no_object: {runs} clean runs, {} objects held, {kept} kept on the final check", held.lines().count());
    assert!(held.lines().count() > 0, "the creator created nothing");
    assert!(
        missing.is_empty(),
        "{} held objects were removed: {missing:?}",
        missing.len()
    );
}

#[test]
fn sigterm_never_leaks_an_mqueue_mount_point() {
    if !can_isolate("sigterm_never_leaks_an_mqueue_mount_point") {
        return;
    }
    let mounted = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .any(|l| l.contains(" - mqueue "));
    if mounted {
        println!("sigterm_never_leaks_an_mqueue_mount_point: skipped: an mqueue filesystem is mounted here, so ls mounts none");
        return;
    }
    let tmp = std::env::temp_dir().join(format!("hostile_{}_tmp", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    for i in 0..300u64 {
        let mut child = demo_harness::command(bin())
            .args(["ls", "--type", "mq"])
            .env("TMPDIR", &tmp)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Anywhere in its first milliseconds, where it mounts.
        std::thread::sleep(Duration::from_micros((i * 13) % 4_000));
        let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
        let start = Instant::now();
        while child.try_wait().unwrap().is_none() {
            assert!(start.elapsed() < Duration::from_secs(10), "ls did not end");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    let _ = std::fs::remove_dir(&tmp);
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");
}

/// Where no mqueue filesystem can be read (none mounted, and an ordinary user may
/// not mount one), `stat` of a queue that user may not open says so: the queue
/// exists, and "No such file or directory" would say it does not.
#[test]
fn stat_of_a_queue_an_ordinary_user_may_not_open_does_not_call_it_missing() {
    if !can_isolate("stat_of_a_queue_an_ordinary_user_may_not_open_does_not_call_it_missing") {
        return;
    }
    let name = format!("/hostile_{}_closed_q", std::process::id());
    let created = run(&["mq", "create", &name, "-m", "0600"]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    let out = sh(&format!(
        "exec setpriv --reuid=65534 --regid=65534 --clear-groups \"$B\" stat {name}"
    ));
    let removed = run(&["mq", "unlink", &name]);
    assert!(removed.status.success(), "{}", text(&removed.stderr));
    let stderr = text(&out.stderr);
    if out.status.success() {
        // An mqueue filesystem is mounted here: the queue was read from it.
        assert!(text(&out.stdout).contains(&name), "{}", text(&out.stdout));
        return;
    }
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("No such file"), "{stderr}");
    assert!(stderr.contains("Permission denied"), "{stderr}");
}

/// `stat` of an object whose holders cannot all be seen, and on which the kernel
/// grants this user no lease, says why the kernel would not answer (as `clean`
/// does), not only "none seen".
#[test]
fn stat_says_why_the_kernel_would_not_answer() {
    if !can_isolate("stat_says_why_the_kernel_would_not_answer") {
        return;
    }
    let path = object_of("silent", 0);
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let name = format!("/{}", path.file_name().unwrap().to_str().unwrap());
    let out = sh(&format!(
        "exec setpriv --reuid=65534 --regid=65534 --clear-groups \"$B\" stat -t shm {name}"
    ));
    std::fs::remove_file(&path).unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("none seen"), "{stdout}");
    assert!(
        stdout.contains("kernel        would not say whether it is held: it could not be opened (Permission denied)"),
        "{stdout}"
    );
}
