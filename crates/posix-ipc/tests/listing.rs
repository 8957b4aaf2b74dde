//! `posix-ipc ls` as lsipc does it: chosen columns, forms for scripts (raw,
//! export, JSON with numbers), human sizes and exact ones, sizes with units on
//! input, usage against the limits; and the help, man pages and completions.
//!
//! `POSIX_IPC_UNDER_TEST` names another binary to test (an older build, to see
//! these tests fail without the changes).

mod common;

use common::{bin, run};

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// stdout of a run that must succeed.
fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "posix-ipc {args:?}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn shm_path(file: &[u8]) -> PathBuf {
    Path::new("/dev/shm").join(std::ffi::OsStr::from_bytes(file))
}

/// Objects named `/lst_PID_TAG...`, removed when dropped.
struct Prefix(String);

impl Prefix {
    fn new(tag: &str) -> Prefix {
        Prefix(format!("/lst_{}_{tag}_", std::process::id()))
    }

    fn name(&self, rest: &str) -> String {
        format!("{}{rest}", self.0)
    }
}

impl Drop for Prefix {
    fn drop(&mut self) {
        let _ = run(&["clean", "--prefix", &self.0]);
    }
}

/// Whether `ls` can see queues here (an mqueue filesystem, or the right to mount one).
fn queues_listed(test: &str) -> bool {
    let out = run(&["ls", "--type", "mq", "--prefix", "/lst_none_"]);
    if text(&out.stderr).contains("not listed") {
        println!(
            "{test}: skipped the queue part: {}",
            text(&out.stderr).trim()
        );
        return false;
    }
    true
}

#[test]
fn columns_choose_what_ls_prints_with_human_or_exact_sizes() {
    let p = Prefix::new("cols");
    ok(&["shm", "create", &p.name("big"), "--size", "64K"]);
    ok(&["shm", "create", &p.name("small"), "--size", "100"]);
    ok(&["sem", "create", &p.name("sem"), "--value", "3"]);

    let table = ok(&["ls", "-o", "NAME,size,VALUE", "--prefix", &p.0]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["NAME", "SIZE", "VALUE"],
        "{table}"
    );
    let row = |name: &str| -> Vec<&str> {
        lines
            .iter()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} in\n{table}"))
            .split_whitespace()
            .collect()
    };
    assert_eq!(row(&p.name("big")), [&p.name("big")[..], "64K", "-"]);
    assert_eq!(row(&p.name("small")), [&p.name("small")[..], "100B", "-"]);
    assert_eq!(row(&p.name("sem")), [&p.name("sem")[..], "-", "3"]);

    let exact = ok(&[
        "ls",
        "-o",
        "name,size",
        "--bytes",
        "--noheadings",
        "--prefix",
        &p.0,
    ]);
    assert!(!exact.contains("NAME"), "--noheadings: {exact}");
    assert!(
        exact
            .lines()
            .any(|l| l.split_whitespace().eq([&p.name("big")[..], "65536"])),
        "{exact}"
    );

    // +COLUMN adds to the default columns.
    let more = ok(&["ls", "-o", "+GID,PERMS", "--prefix", &p.name("big")]);
    let header: Vec<&str> = more.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header.first(), Some(&"TYPE"), "{more}");
    assert_eq!(&header[header.len() - 2..], ["GID", "PERMS"], "{more}");
    assert!(more.contains("rw-------"), "{more}");

    let out = run(&["ls", "-o", "NAME,BOGUS"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--list-columns"));

    // Every column --list-columns names is one -o takes.
    let list = ok(&["ls", "--list-columns"]);
    let names: Vec<&str> = list
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(names.len() >= 15, "{list}");
    ok(&["ls", "-o", &names.join(","), "--prefix", &p.0]);
}

#[test]
fn raw_rows_split_into_their_columns() {
    let p = Prefix::new("raw");
    let spaced = p.name("with space");
    std::fs::write(shm_path(&spaced.as_bytes()[1..]), b"xy").unwrap();
    ok(&["shm", "create", &p.name("plain"), "--size", "2K"]);
    let raw = ok(&[
        "ls",
        "--raw",
        "-o",
        "NAME,SIZE,MODE,OWNER",
        "--prefix",
        &p.0,
    ]);
    let lines: Vec<&str> = raw.lines().collect();
    assert_eq!(lines[0], "NAME SIZE MODE OWNER", "{raw}");
    assert_eq!(lines.len(), 3, "{raw}");
    for line in &lines {
        assert_eq!(line.split(' ').count(), 4, "one cell per column: {line:?}");
    }
    let shown = lines
        .iter()
        .find(|l| l.contains("with"))
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    assert_eq!(shown, format!("{}with\\x20space", p.0));
    // What raw shows is what stat and rm take.
    ok(&["stat", shown]);
    assert!(lines
        .iter()
        .any(|l| l.starts_with(&format!("{} 2K 0600 ", p.name("plain")))));
}

#[test]
fn export_pairs_evaluate_to_what_the_table_shows() {
    let p = Prefix::new("exp");
    let hostile = p.name("q\"$(touch pwned)`x`\\");
    std::fs::write(shm_path(&hostile.as_bytes()[1..]), b"abc").unwrap();
    let export = ok(&[
        "ls",
        "--export",
        "-o",
        "NAME,SIZE,VALUE",
        "--bytes",
        "--prefix",
        &p.0,
    ]);
    assert!(export.starts_with("NAME=\""), "{export}");
    assert!(export.contains("SIZE=\"3\" VALUE=\"\""), "{export}");
    let dir = std::env::temp_dir().join(format!("lst_{}_export", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = demo_harness::command("sh")
        .arg("-c")
        .arg("eval \"$1\"; printf '%s|%s' \"$NAME\" \"$SIZE\"")
        .arg("sh")
        .arg(export.trim_end())
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        !dir.join("pwned").exists(),
        "eval ran a command from a name"
    );
    let _ = std::fs::remove_dir_all(&dir);
    let table = ok(&["ls", "--noheadings", "-o", "NAME", "--prefix", &p.0]);
    assert_eq!(text(&out.stdout), format!("{}|3", table.trim_end()));
}

#[test]
fn json_with_columns_has_numbers_in_column_order() {
    let p = Prefix::new("json");
    ok(&["shm", "create", &p.name("a"), "--size", "1M"]);
    ok(&["sem", "create", &p.name("b"), "--value", "2"]);
    let out = ok(&[
        "ls",
        "--json",
        "-o",
        "NAME,SIZE,VALUE,NHOLDERS,MODE",
        "--prefix",
        &p.0,
    ]);
    let listed: Value = serde_json::from_str(&out).unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2, "{out}");
    let shm = listed.iter().find(|o| o["name"] == p.name("a")).unwrap();
    assert_eq!(shm["size"], 1_048_576);
    assert_eq!(shm["value"], Value::Null);
    assert_eq!(shm["nholders"], 0);
    assert_eq!(shm["mode"], "0600");
    let sem = listed.iter().find(|o| o["name"] == p.name("b")).unwrap();
    assert_eq!(sem["value"], 2);
    let first = &out[out.find('{').unwrap()..];
    let at = |key: &str| first.find(&format!("\"{key}\"")).unwrap();
    assert!(at("name") < at("size") && at("size") < at("value") && at("nholders") < at("mode"));
}

#[test]
fn sizes_take_units() {
    let p = Prefix::new("units");
    for (size, bytes) in [
        ("4KiB", 4096),
        ("64k", 65_536),
        ("1M", 1 << 20),
        ("1MB", 1_000_000),
        ("10B", 10),
    ] {
        let name = p.name(size);
        ok(&["shm", "create", &name, "--size", size, "--no-reserve"]);
        let listed: Value = serde_json::from_str(&ok(&["stat", &name, "--json"])).unwrap();
        assert_eq!(listed[0]["size"], bytes, "--size {size}");
    }
    for bad in ["1.5M", "1X", "-1", "9E"] {
        let out = run(&["shm", "create", &p.name("bad"), "--size", bad]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "--size {bad}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn queue_depth_is_singular_or_plural() {
    if !queues_listed("queue_depth_is_singular_or_plural") {
        return;
    }
    let p = Prefix::new("plural");
    ok(&[
        "mq",
        "create",
        &p.name("one"),
        "--max-messages",
        "1",
        "--message-size",
        "16",
    ]);
    ok(&[
        "mq",
        "create",
        &p.name("two"),
        "--max-messages",
        "2",
        "--message-size",
        "16",
    ]);
    ok(&["mq", "send", &p.name("one"), "hi"]);
    let table = ok(&["ls", "-o", "NAME,DETAIL", "--prefix", &p.0]);
    assert!(table.contains("1/1 msg, 2B"), "{table}");
    assert!(table.contains("0/2 msgs, 0B"), "{table}");
}

/// What the kernel charges a queue against RLIMIT_MSGQUEUE (ipc/mqueue.c): the
/// messages, a struct msg_msg (48 bytes) per message, and a tree node (48 bytes)
/// per priority level in use at most.
fn charge(max_messages: u64, message_size: u64) -> u64 {
    max_messages * (48 + message_size) + max_messages.min(32_768) * 48
}

#[test]
fn summary_shows_usage_against_the_limits() {
    let p = Prefix::new("sum");
    ok(&["shm", "create", &p.name("shm"), "--size", "1M"]);
    let queues = queues_listed("summary_shows_usage_against_the_limits");
    if queues {
        ok(&[
            "mq",
            "create",
            &p.name("q1"),
            "--max-messages",
            "3",
            "--message-size",
            "100",
        ]);
        ok(&[
            "mq",
            "create",
            &p.name("q2"),
            "--max-messages",
            "3",
            "--message-size",
            "100",
        ]);
    }
    let out = ok(&["ls", "--summary", "--json"]);
    let lines: Value = serde_json::from_str(&out).unwrap();
    let line = |resource: &str| {
        lines
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["resource"] == resource)
            .unwrap_or_else(|| panic!("{resource} in {out}"))
            .clone()
    };
    let shm = line("SHMBYTES");
    assert!(shm["used"].as_u64().unwrap() >= 1 << 20, "{shm}");
    let statvfs = nix::sys::statvfs::statvfs("/dev/shm").unwrap();
    assert_eq!(
        shm["limit"].as_u64().unwrap(),
        statvfs.blocks() * statvfs.fragment_size()
    );
    assert!(line("SHMS")["used"].as_u64().unwrap() >= 1);
    if queues {
        let mq = line("MQUEUES");
        assert!(mq["used"].as_u64().unwrap() >= 2, "{mq}");
        let queues_max: u64 = std::fs::read_to_string("/proc/sys/fs/mqueue/queues_max")
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(mq["limit"], queues_max);
        assert!(mq["use_percent"].is_u64(), "{mq}");
        let bytes = line("MQBYTES");
        assert!(
            bytes["used"].as_u64().unwrap() >= 2 * charge(3, 100),
            "{bytes}"
        );
        let (soft, _) =
            nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_MSGQUEUE).unwrap();
        assert_eq!(bytes["limit"], soft, "{bytes}");
    }
    let table = ok(&["ls", "--summary"]);
    assert!(table.starts_with("RESOURCE"), "{table}");
    assert!(table.contains("SHMBYTES"), "{table}");
}

/// The charge `--summary` counts is the kernel's: a user whose RLIMIT_MSGQUEUE is
/// two queues' charge gets exactly two queues.
#[test]
fn the_queue_charge_is_the_kernels() {
    let test = "the_queue_charge_is_the_kernels";
    if !nix::unistd::geteuid().is_root() {
        println!("{test}: skipped: needs root (a uid of its own, whose queues are only these)");
        return;
    }
    if demo_harness::command("setpriv")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("{test}: skipped: setpriv (util-linux) is not installed");
        return;
    }
    let p = Prefix::new("charge");
    let uid = (200_000 + std::process::id()).to_string();
    let create = |limit: u64, count: usize| -> usize {
        let script = format!(
            "ulimit -q {limit} || exit 9; n=0; for i in $(seq {count}); do \
             \"$B\" mq create \"$P$n\" --max-messages 3 --message-size 100 -m 0666 \
             >/dev/null 2>&1 || break; n=$((n + 1)); done; echo $n"
        );
        let out = demo_harness::command("setpriv")
            .args([
                "--reuid",
                &uid,
                "--regid",
                &uid,
                "--clear-groups",
                "bash",
                "-c",
                &script,
            ])
            .env("B", bin())
            .env("P", p.name(&format!("{limit}_")))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout).trim().parse().unwrap()
    };
    let two = 2 * charge(3, 100);
    assert_eq!(create(two, 3), 2, "RLIMIT_MSGQUEUE {two}");
    let _ = run(&["clean", "--prefix", &p.0]);
    assert_eq!(create(two - 1, 3), 1, "RLIMIT_MSGQUEUE {}", two - 1);
}

/// The subcommands listed under "Commands:" in a help text.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter(|l| !l.starts_with("   ")) // a wrapped description
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_help_fits_a_terminal_and_shows_no_source_markup() {
    let mut pending = vec![Vec::<String>::new()];
    let mut seen = 0;
    while let Some(path) = pending.pop() {
        for flag in ["-h", "--help"] {
            let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
            args.push(flag);
            let help = ok(&args);
            for line in help.lines() {
                assert!(
                    line.chars().count() <= 100,
                    "posix-ipc {args:?}: a line of {} characters: {line}",
                    line.chars().count()
                );
                assert!(!line.contains('`'), "posix-ipc {args:?}: backticks: {line}");
            }
            if flag == "--help" {
                for sub in subcommands(&help) {
                    let mut next = path.clone();
                    next.push(sub);
                    pending.push(next);
                }
            }
        }
        seen += 1;
    }
    assert!(seen >= 20, "only {seen} commands found");
}

#[test]
fn man_pages_and_completions_come_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("lst_{}_docs", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let man = dir.join("man1");
    ok(&["generate", "man", man.to_str().unwrap()]);
    for page in ["posix-ipc.1", "posix-ipc-ls.1", "posix-ipc-shm-create.1"] {
        let text =
            std::fs::read_to_string(man.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH"), "{page} is no man page");
    }
    let ls = std::fs::read_to_string(man.join("posix-ipc-ls.1")).unwrap();
    assert!(
        ls.contains("list\\-columns"),
        "the ls page lacks --list-columns"
    );
    assert!(
        !man.join("posix-ipc-generate.1").exists(),
        "generate is hidden"
    );
    for (shell, file) in [
        ("bash", "posix-ipc"),
        ("zsh", "_posix-ipc"),
        ("fish", "posix-ipc.fish"),
    ] {
        let out = dir.join(shell);
        ok(&["generate", "completions", shell, out.to_str().unwrap()]);
        let script =
            std::fs::read_to_string(out.join(file)).unwrap_or_else(|e| panic!("{shell}: {e}"));
        assert!(
            script.contains("list-columns"),
            "{shell} completion lacks ls's options"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
