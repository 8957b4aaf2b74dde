//! What `shm read` shows on a terminal (through `script`, which gives it one): no
//! escape sequence reaches the terminal, and the output ends a line; `--raw` and a
//! pipe get the bytes as they are.

use std::process::Stdio;

const BIN: &str = env!("CARGO_BIN_EXE_posix-ipc");

fn run(args: &[&str]) -> Vec<u8> {
    let out = demo_harness::command(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {:?}", out);
    out.stdout
}

/// `posix-ipc ARGS` on a terminal: its output as the terminal got it.
fn on_a_terminal(args: &str) -> Option<Vec<u8>> {
    let out = demo_harness::command("script")
        .args(["-qec", &format!("{BIN} {args}"), "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout)
}

#[test]
fn shm_read_escapes_for_a_terminal_only() {
    let name = format!("/pipc_terminal_{}", std::process::id());
    run(&["shm", "create", &name, "--size", "16"]);
    run(&["shm", "write", &name, "hi\x1b[31m\x01\n"]);
    let Some(shown) = on_a_terminal(&format!("shm read {name} --length 9")) else {
        run(&["rm", &name]);
        println!("skipped shm_read_escapes_for_a_terminal_only: `script` (util-linux) cannot give a terminal here");
        return;
    };
    let raw_on_tty = on_a_terminal(&format!("shm read {name} --length 9 --raw")).unwrap();
    let piped = run(&["shm", "read", &name, "--length", "9"]);
    let without_newline = on_a_terminal(&format!("shm read {name} --length 2")).unwrap();
    run(&["rm", &name]);
    // A terminal turns "\n" into "\r\n".
    assert_eq!(
        shown,
        b"hi\\x1b[31m\\x01\r\n",
        "{:?}",
        String::from_utf8_lossy(&shown)
    );
    assert_eq!(raw_on_tty, b"hi\x1b[31m\x01\r\n");
    assert_eq!(piped, b"hi\x1b[31m\x01\n");
    assert_eq!(without_newline, b"hi\r\n", "a final newline on a terminal");
}
