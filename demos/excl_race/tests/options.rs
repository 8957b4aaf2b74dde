//! `excl_race`'s option limits: refused clearly, before anything is made.

use demo_harness::Demo;

const DEMO: Demo = Demo::new("excl_race", env!("CARGO_BIN_EXE_excl_race"), &[]);

/// A termination signal waits for a worker's attempt, gap included: with
/// `--gap-us 99999999999` Ctrl+C (or SIGTERM) hung for 28 hours, the helper thread
/// waiting for workers that had the signal blocked in their gap. The gap is at most
/// one second now, so a signal is answered within it.
#[test]
fn a_gap_longer_than_a_second_is_refused() {
    for gap in ["1000001", "99999999999"] {
        let out = DEMO.run(&["--gap-us", gap, "--rounds", "1", "--procs", "2"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "--gap-us {gap}: {stderr}");
        assert!(stderr.contains("--gap-us is at most 1000000"), "{stderr}");
        assert!(out.stdout.is_empty(), "--gap-us {gap} ran");
    }
    let out = DEMO.run(&["--gap-us", "1000000", "--rounds", "1", "--procs", "2"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
