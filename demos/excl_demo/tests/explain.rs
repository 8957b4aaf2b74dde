//! `--explain` under `strace -f` agrees in order: each line is written by the
//! process it names, around the system call it narrates, and a wake-up is
//! narrated before the return of the wait it ends (see
//! `demo_harness::strace`). Without strace, the test says so and passes.

mod common;

use common::DEMO;

use demo_harness::strace::assert_explain_order;

/// The three runs of the walkthrough: create, find it (EEXIST, then open),
/// unlink.
#[test]
fn explain_agrees_with_strace_in_order() {
    let _lock = DEMO.lock();
    let mut placed = Vec::new();
    for args in [&[][..], &[], &["--unlink"]] {
        let Some(checked) = assert_explain_order(DEMO.bin(), args) else {
            return;
        };
        placed.push(checked.placed);
    }
    // shm_open, ftruncate, close; shm_open twice, close; shm_unlink.
    assert_eq!(placed, [3, 3, 1]);
    DEMO.objects().assert_none_left();
}

/// `--trace FILE` keeps its file out of the way: the demo's own descriptor is
/// still `fd = 3`, as in C, and the trace names the object of each call.
#[test]
fn trace_leaves_the_descriptor_numbers_alone() {
    let _lock = DEMO.lock();
    let trace = std::env::temp_dir().join(format!("excl_demo-trace-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&trace);
    let path = trace.to_str().unwrap();
    DEMO.assert_transcript(
        &["--trace", path],
        include_bytes!("../transcript-first-run.txt"),
    );
    DEMO.assert_transcript(
        &["--unlink", "--trace", path],
        include_bytes!("../transcript-unlink.txt"),
    );
    let text = std::fs::read_to_string(&trace).unwrap();
    let _ = std::fs::remove_file(&trace);
    let calls: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("\"event\":\"call\""))
        .map(|line| {
            assert!(
                line.contains("\"object\":\"/ep_exclusive\",\"kind\":\"shm\""),
                "{line}"
            );
            line.split("\"call\":\"")
                .nth(1)
                .and_then(|c| c.split('"').next())
                .unwrap()
        })
        .collect();
    assert_eq!(calls, ["shm_open", "ftruncate", "close", "shm_unlink"]);
    assert_eq!(text.matches("\"event\":\"exit\",\"status\":0").count(), 2);
    DEMO.objects().assert_none_left();
}
