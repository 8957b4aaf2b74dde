//! A test runner for tests that fork: the test binary's own `main` (the target is
//! declared with `harness = false`), so the process has one thread and every fork
//! is the safe [`ipc_core::process::fork`]. Each case runs in a child of its own, so
//! a case that faults (SIGSEGV, SIGBUS) or hangs fails alone, with its signal
//! named, instead of taking the runner down.
//!
//! It reads the arguments `cargo test` passes: a name filter, `--exact`, `--list`;
//! other flags are accepted and ignored. Its last line is libtest's summary.

use std::process::ExitCode;
use std::time::Duration;

use ipc_core::process::{fork, ExitStatus};

/// One test: its name and its body, which panics to fail.
pub struct Case {
    /// Shown as `test NAME ... ok`.
    pub name: &'static str,
    /// Runs in a forked child; a panic or a signal fails it.
    pub run: fn(),
}

/// How long one case may take before it is killed and failed.
const PATIENCE: Duration = Duration::from_secs(60);

/// Runs the `cases` that the command line selects; the status for `main`.
pub fn run(cases: &[Case]) -> ExitCode {
    // Cases interrupt themselves and their children on purpose: start them with the
    // termination signals at their default action even if this runner inherited
    // them ignored (`cargo test &` in a script, `nohup`), which ipc-core would
    // (rightly) keep ignored.
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
        // SAFETY: SIG_DFL installs no code to run; the runner has one thread and has
        // set up nothing that relies on these dispositions yet.
        unsafe { libc::signal(signal, libc::SIG_DFL) };
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let exact = args.iter().any(|a| a == "--exact");
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let selected: Vec<&Case> = cases
        .iter()
        .filter(|case| {
            filters.is_empty()
                || filters.iter().any(|f| {
                    if exact {
                        case.name == f.as_str()
                    } else {
                        case.name.contains(f.as_str())
                    }
                })
        })
        .collect();
    if args.iter().any(|a| a == "--list") {
        for case in &selected {
            println!("{}: test", case.name);
        }
        return ExitCode::SUCCESS;
    }
    let plural = if selected.len() == 1 { "" } else { "s" };
    println!("\nrunning {} test{plural}", selected.len());
    let mut failed = Vec::new();
    for case in &selected {
        let outcome = run_one(case);
        match &outcome {
            Ok(()) => println!("test {} ... ok", case.name),
            Err(why) => {
                println!("test {} ... FAILED ({why})", case.name);
                failed.push(case.name);
            }
        }
    }
    let passed = selected.len() - failed.len();
    if !failed.is_empty() {
        println!("\nfailures:");
        for name in &failed {
            println!("    {name}");
        }
    }
    println!(
        "\ntest result: {}. {passed} passed; {} failed; 0 ignored; 0 measured; {} filtered out\n",
        if failed.is_empty() { "ok" } else { "FAILED" },
        failed.len(),
        cases.len() - selected.len()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn run_one(case: &Case) -> Result<(), String> {
    let (mut child, ()) = fork((), |()| {
        (case.run)();
        0
    })
    .map_err(|e| format!("fork: {e}"))?;
    match child.wait_timeout(PATIENCE) {
        Ok(Some(ExitStatus::Exited(0))) => Ok(()),
        Ok(Some(other)) => Err(format!("{other:?}")),
        Ok(None) => {
            let _ = child.signal(nix::sys::signal::Signal::SIGKILL);
            let _ = child.wait();
            Err(format!("still running after {PATIENCE:?}: killed"))
        }
        Err(e) => Err(format!("waitpid: {e}")),
    }
}
