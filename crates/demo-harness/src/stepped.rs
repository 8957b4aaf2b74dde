//! A demo run with `--step`: walked to a step, then let finish or interrupted.

use std::process::ExitStatus;
use std::time::Duration;

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::objects::Objects;
use crate::process::{Io, Process, Target};

/// A demo run with `--step` in a process group of its own (see [`Process`] for the
/// bound on its run). On drop it kills whatever is left of the group and removes
/// the demo's objects, so a failing test leaves nothing behind.
pub struct Stepped {
    process: Process,
    objects: Objects,
    at_step: usize,
    /// Whether it waits at `at_step`'s prompt (left there by `advance_to`).
    waiting: bool,
}

impl Stepped {
    /// Starts `bin --step` with `extra` arguments; its whole run may take `timeout`.
    /// `objects` are removed when it is dropped.
    pub fn start(bin: &str, extra: &[&str], objects: Objects, timeout: Duration) -> Stepped {
        let args: Vec<&str> = std::iter::once("--step")
            .chain(extra.iter().copied())
            .collect();
        Stepped {
            process: Process::start(bin, &args, Io::Interactive, timeout),
            objects,
            at_step: 0,
            waiting: false,
        }
    }

    /// The demo's process id (and process group id).
    pub fn pid(&self) -> Pid {
        self.process.pid()
    }

    /// Lets the demo run until it waits at step `n`, pressing Enter at each earlier
    /// step (including the one it waits at, if an earlier call left it there).
    /// Returns the stderr lines read on the way.
    pub fn advance_to(&mut self, n: usize) -> Vec<String> {
        assert!(n > self.at_step, "already at step {}", self.at_step);
        if std::mem::take(&mut self.waiting) {
            self.process.write_stdin(b"\n");
        }
        let mut seen = Vec::new();
        loop {
            let line = self
                .process
                .stderr_line(&format!("step {n}"))
                .unwrap_or_else(|| panic!("stderr closed before step {n}; saw {seen:#?}"));
            if line.contains("press Enter") {
                if self.at_step == n {
                    seen.push(line);
                    self.waiting = true;
                    return seen;
                }
                self.process.write_stdin(b"\n");
            } else if let Some(step) = step_number(&line) {
                self.at_step = step;
            }
            seen.push(line);
        }
    }

    /// Presses Enter at every remaining step (the one [`advance_to`](Self::advance_to)
    /// left it at included) until the demo closes stderr, then waits for it. Returns
    /// the number of steps it paused at in all, and its status.
    pub fn finish(&mut self) -> (usize, ExitStatus) {
        if std::mem::take(&mut self.waiting) {
            self.process.write_stdin(b"\n");
        }
        while let Some(line) = self.process.stderr_line("the demo's end") {
            if line.contains("press Enter") {
                self.process.write_stdin(b"\n");
            } else if let Some(step) = step_number(&line) {
                self.at_step = step;
            }
        }
        (self.at_step, self.process.wait())
    }

    /// Sends `signal` to `target`.
    pub fn signal(&self, signal: Signal, target: Target) {
        self.process.signal(signal, target);
    }

    /// Waits (bounded) for the demo to end and returns its status.
    pub fn wait(&mut self) -> ExitStatus {
        self.process.wait()
    }

    /// Everything the demo wrote to stdout (all of it after [`wait`](Self::wait)).
    pub fn stdout(&self) -> Vec<u8> {
        self.process.stdout()
    }

    /// Waits, bounded, until no process of the demo's group is left running.
    pub fn assert_group_gone(&self) {
        self.process.assert_group_gone();
    }

    /// Keeps the demo's objects when dropped (for a test that looks at them after).
    pub fn keep_objects(&mut self) {
        self.objects = Objects(&[]);
    }
}

impl Drop for Stepped {
    fn drop(&mut self) {
        // The processes go first, then the objects.
        self.process.kill();
        self.objects.remove_all();
    }
}

/// The `N` of a `[step N]` line.
fn step_number(line: &str) -> Option<usize> {
    line.strip_prefix("[step ")?.split(']').next()?.parse().ok()
}
