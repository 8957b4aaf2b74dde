//! The mapping survives close(fd), and what it writes reaches the object: checked
//! from the verdict, against a MAP_PRIVATE control.

use demo_harness::{needs, numbers, Io, Lab, Process, PATIENCE};
use ipc_core::ObjectKind;

const BIN: &str = env!("CARGO_BIN_EXE_mmap_after_close");
const LAB: Lab = Lab::new(
    "mmap_after_close",
    BIN,
    &[(ObjectKind::SharedMemory, "shm")],
);

#[test]
fn the_mapping_outlives_the_descriptor() {
    let lab = LAB.run(&["--size", "8192"]);
    // "after close(fd F) D descriptors referred to the object and fd F was reused by
    // the next open, yet /proc/self/maps still listed the object and a fresh open and
    // map read back S/T bytes written through the mapping (P/T of the MAP_PRIVATE
    // control's)"
    let v = &lab.verdict;
    let n = numbers(v);
    let (fd, holders, shared, total, private) = (n[0], n[1], n[3], n[4], n[5]);
    assert_eq!(
        holders, 0,
        "no descriptor may still refer to the object: {v}"
    );
    assert!(v.contains(&format!("fd {fd} was reused")), "{v}");
    assert!(v.contains("/proc/self/maps still listed the object"), "{v}");
    assert_eq!(
        (shared, total),
        (23, 23),
        "every byte written after close must reach the object: {v}"
    );
    assert_eq!(
        private, 0,
        "the MAP_PRIVATE control must not reach the object: {v}"
    );
    assert!(lab.stdout.contains("mapped 8192 bytes MAP_SHARED"));
    assert!(lab.stdout.contains(" rw-s "), "{}", lab.stdout);
}

/// A /dev/shm too small for the object: a clear ENOSPC failure naming the limit,
/// not SIGBUS, and nothing left. Needs a mount namespace of its own.
#[test]
fn a_full_dev_shm_is_an_error_not_sigbus() {
    if !needs::as_root(
        "a_full_dev_shm_is_an_error_not_sigbus",
        "a 64 KiB tmpfs mounted on /dev/shm",
    ) {
        return;
    }
    let script = format!(
        "mount -t tmpfs -o size=64k tmpfs /dev/shm || exit 99; {BIN} --size 1048576; \
         echo \"status $?\"; ls -A /dev/shm"
    );
    let out = Process::start(
        "unshare",
        &["--mount", "sh", "-c", &script],
        Io::Captured,
        PATIENCE,
    )
    .output();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "could not mount a 64 KiB tmpfs on /dev/shm: {stderr}"
    );
    assert_eq!(
        stdout.trim(),
        "status 1",
        "exit 1 and nothing left in /dev/shm: {stdout}"
    );
    assert!(
        stderr.contains("posix_fallocate") && stderr.contains("No space left on device"),
        "{stderr}"
    );
    assert!(stderr.contains("free space in /dev/shm"), "{stderr}");
}

/// stdout to `/dev/full` or into a closed pipe: exit 1 with the reason, no panic,
/// nothing left.
#[test]
fn an_unwritable_stdout_is_a_clean_failure() {
    LAB.assert_unwritable_stdout_fails_cleanly(&[]);
}
