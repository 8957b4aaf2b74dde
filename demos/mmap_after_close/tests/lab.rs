//! The mapping survives close(fd): checked from the verdict.

use demo_harness::{numbers, Lab};
use ipc_core::ObjectKind;

#[test]
fn the_mapping_outlives_the_descriptor() {
    let lab = Lab::new(
        "mmap_after_close",
        env!("CARGO_BIN_EXE_mmap_after_close"),
        &[(ObjectKind::SharedMemory, "shm")],
    )
    .run(&["--size", "8192"]);
    // "after close(fd F) the mapping read back N/T bytes, fd F was reused by the
    // next open, and /proc/self/maps still listed the object"
    let n = numbers(&lab.verdict);
    assert_eq!(n[1], n[2], "every byte read back: {}", lab.verdict);
    assert!(
        lab.verdict.contains(&format!("fd {} was reused", n[0])),
        "{}",
        lab.verdict
    );
    assert!(
        lab.verdict.ends_with("still listed the object"),
        "{}",
        lab.verdict
    );
    assert!(lab.stdout.contains("mapped 8192 bytes"));
}
