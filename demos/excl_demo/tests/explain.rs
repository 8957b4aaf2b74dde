//! `--explain` under `strace -f` agrees in order: each line is written by the
//! process it names, around the system call it narrates, and a wake-up is
//! narrated before the return of the wait it ends (see
//! `demo_harness::strace`). Without strace, the test says so and passes.

use demo_harness::strace::assert_explain_order;
use demo_harness::{Demo, Objects};
use ipc_core::ObjectKind;

const DEMO: Demo = Demo {
    name: "excl_demo",
    bin: env!("CARGO_BIN_EXE_excl_demo"),
    objects: Objects(&[(ObjectKind::SharedMemory, "/ep_exclusive")]),
};

/// The three runs of the walkthrough: create, find it (EEXIST, then open),
/// unlink.
#[test]
fn explain_agrees_with_strace_in_order() {
    let _lock = DEMO.lock();
    let mut placed = Vec::new();
    for args in [&[][..], &[], &["--unlink"]] {
        let Some(checked) = assert_explain_order(DEMO.bin, args) else {
            return;
        };
        placed.push(checked.placed);
    }
    // shm_open, ftruncate, close; shm_open twice, close; shm_unlink.
    assert_eq!(placed, [3, 3, 1]);
    DEMO.objects.assert_none_left();
}
