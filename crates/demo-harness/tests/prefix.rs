//! A student who exported `POSIX_IPC_LAB_PREFIX` (the README's advice on a shared
//! machine) still runs the tests against the C names: every program a test starts
//! through the harness starts without it. (One test in this binary: it sets the
//! variable for the whole process.)

use std::time::Duration;

use demo_harness::{Io, Process, LAB_PREFIX_VARIABLE};

#[test]
fn programs_started_by_the_harness_never_see_a_lab_prefix() {
    std::env::set_var(LAB_PREFIX_VARIABLE, "alice_");
    let script = format!("echo \"${{{LAB_PREFIX_VARIABLE}-unset}}\"");
    let out = Process::start(
        "sh",
        &["-c", &script],
        Io::Captured,
        Duration::from_secs(10),
    )
    .output();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "unset\n");
}
