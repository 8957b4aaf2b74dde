//! The classroom scripts (`make check`, `make inspect`, `make clean-ipc`) follow
//! `POSIX_IPC_LAB_PREFIX` as the demos do: a student who set a prefix of their own
//! (the README's advice on a shared machine) compares, lists and removes the
//! objects their runs make, and nobody else's.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn script(name: &str, prefix: &str, args: &[&str]) -> Output {
    Command::new(root().join("scripts").join(name))
        .args(args)
        .env("POSIX_IPC_LAB_PREFIX", prefix)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run scripts/{name}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_scripts_follow_the_lab_prefix() {
    let prefix = format!("t{}_", std::process::id());
    let mine = PathBuf::from(format!("/dev/shm/{prefix}ep_scripts_probe"));
    let theirs = PathBuf::from(format!("/dev/shm/ep_{prefix}scripts_probe"));

    // The transcripts match, with the prefixed names the demos print.
    let out = script("check-transcripts", &prefix, &[]);
    assert!(
        out.status.success(),
        "check-transcripts with a prefix: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("all transcripts match"));

    // inspect lists this student's objects; clean removes them and nothing else.
    std::fs::write(&mine, b"").unwrap();
    std::fs::write(&theirs, b"").unwrap();
    let listed = script("inspect", &prefix, &["-o", "NAME", "--noheadings"]);
    let removed = script("clean", &prefix, &[]);
    let (mine_left, theirs_left) = (mine.exists(), theirs.exists());
    let _ = std::fs::remove_file(&mine);
    let _ = std::fs::remove_file(&theirs);
    assert_eq!(
        text(&listed.stdout).trim(),
        format!("/{prefix}ep_scripts_probe"),
        "inspect: {}",
        text(&listed.stderr)
    );
    assert!(removed.status.success(), "clean: {}", text(&removed.stderr));
    assert!(!mine_left, "clean left the prefixed object");
    assert!(theirs_left, "clean removed an object without the prefix");

    // A prefix the demos refuse is refused before it reaches a path.
    let bad = script("check-transcripts", "../x", &[]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
    assert!(text(&bad.stderr).contains("POSIX_IPC_LAB_PREFIX"));
}
