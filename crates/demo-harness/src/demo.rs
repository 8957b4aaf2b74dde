//! One demo under test: its runs, compared with its transcripts, paused,
//! interrupted and killed.

use std::os::unix::process::ExitStatusExt;
use std::process::Output;

use ipc_core::ObjectKind;
use nix::sys::signal::Signal;

use crate::lock::NamesLock;
use crate::objects::Objects;
use crate::process::{Io, Process, Target};
use crate::stepped::Stepped;
use crate::PATIENCE;

/// One demo under test: its package name, binary and objects.
#[derive(Clone, Copy, Debug)]
pub struct Demo {
    name: &'static str,
    bin: &'static str,
    objects: Objects,
    keeps_objects: bool,
}

impl Demo {
    /// The demo `name` (its package, and the name of its lock), built at `bin`
    /// (`env!("CARGO_BIN_EXE_<name>")`), which creates `objects`.
    pub const fn new(
        name: &'static str,
        bin: &'static str,
        objects: &'static [(ObjectKind, &'static str)],
    ) -> Demo {
        Demo {
            name,
            bin,
            objects: Objects(objects),
            keeps_objects: false,
        }
    }

    /// The same demo, for one whose finished run leaves its objects on purpose
    /// (`excl_demo`): [`soak`](Self::soak) then removes them after each run.
    pub const fn keeping_objects(self) -> Demo {
        Demo {
            keeps_objects: true,
            ..self
        }
    }

    /// Its package name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Path of its binary.
    pub fn bin(&self) -> &'static str {
        self.bin
    }

    /// The objects it creates.
    pub fn objects(&self) -> Objects {
        self.objects
    }

    /// Whether a finished run leaves its objects on purpose.
    pub fn keeps_objects(&self) -> bool {
        self.keeps_objects
    }

    /// Takes this demo's [`NamesLock`]; hold it for the whole test. The demo's
    /// objects are removed when it is taken (a killed earlier run may have left
    /// some) and again when it is dropped, so a test leaves nothing behind even
    /// when it fails.
    pub fn lock(&self) -> DemoLock {
        let lock = NamesLock::take(self.name);
        self.objects.remove_all();
        DemoLock {
            _lock: lock,
            objects: self.objects,
        }
    }

    /// Runs it with `args`, stdin empty, stdout and stderr piped, bounded by
    /// [`PATIENCE`].
    pub fn run(&self, args: &[&str]) -> Output {
        Process::start(self.bin, args, Io::Captured, PATIENCE).output()
    }

    /// Runs it piped with `args` as the second user (uid and gid 65534, through
    /// `setpriv`), bounded by [`PATIENCE`], for `test`, which runs inside
    /// [`crate::needs::as_two_users`]. `None`, with the test's skip line, where that
    /// user may not run the built binary (a build under a home only its user can
    /// enter) or `setpriv` is missing.
    pub fn run_as_second_user(&self, test: &str, args: &[&str]) -> Option<Output> {
        if !crate::needs::program(test, "setpriv", "to run the demo as a second user") {
            return None;
        }
        let mut argv = vec!["--reuid=65534", "--regid=65534", "--clear-groups", self.bin];
        argv.extend_from_slice(args);
        let out = Process::start("setpriv", &argv, Io::Captured, PATIENCE).output();
        if out.status.code() == Some(126) || out.status.code() == Some(127) {
            crate::needs::skip(
                test,
                &format!(
                    "the second user may not run {}: {}",
                    self.bin,
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            );
            return None;
        }
        Some(out)
    }

    /// Starts it with `--step` and `extra` arguments.
    pub fn step(&self, extra: &[&str]) -> Stepped {
        Stepped::start(self.bin, extra, self.objects, PATIENCE)
    }

    /// Runs it piped with `args` and asserts its stdout is `transcript` byte for
    /// byte and its exit status 0. Returns the run's output for further checks.
    pub fn assert_transcript(&self, args: &[&str], transcript: &[u8]) -> Output {
        let out = self.run(args);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(transcript),
            "stdout of {} {args:?} differs from the transcript (stderr: {})",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(0), "exit status");
        out
    }

    /// A plain piped run: stdout is `transcript`, status 0, stderr empty, nothing left.
    pub fn assert_clean_run(&self, transcript: &[u8]) {
        let out = self.assert_transcript(&[], transcript);
        assert!(
            out.stderr.is_empty(),
            "stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.objects.assert_none_left();
    }

    /// Runs it with `--step`, pressing Enter at each of its `steps` pauses, and
    /// asserts stdout is still `transcript` byte for byte, the exit status 0, and
    /// nothing left.
    pub fn assert_stepped_run(&self, steps: usize, transcript: &[u8]) {
        let mut demo = self.step(&[]);
        let (paused, status) = demo.finish();
        assert_eq!(status.code(), Some(0), "exit status with --step");
        assert_eq!(paused, steps, "number of --step pauses");
        assert_eq!(
            String::from_utf8_lossy(&demo.stdout()),
            String::from_utf8_lossy(transcript),
            "--step changed stdout"
        );
        self.objects.assert_none_left();
    }

    /// Runs it with `--step`, waits at step `step`, sends `signal` to `target`, and
    /// checks the cleanup: the demo exits (not killed) with 128 + N, no process of
    /// its group is left, none of its objects is left. Returns what it wrote to
    /// stdout.
    pub fn interrupt_at_step(&self, step: usize, signal: Signal, target: Target) -> Vec<u8> {
        let mut demo = self.step(&[]);
        demo.advance_to(step);
        demo.signal(signal, target);
        let status = demo.wait();
        assert_eq!(
            status.code(),
            Some(128 + signal as i32),
            "{signal} at step {step}: expected exit status {}, got {status:?}",
            128 + signal as i32
        );
        demo.assert_group_gone();
        self.objects.assert_none_left();
        demo.stdout()
    }

    /// SIGKILLs its whole group at step `step` (no cleanup can run), waits until
    /// none of its processes is left running, and returns the objects it left
    /// behind (kept, for the next run to recover).
    pub fn kill_at_step(&self, step: usize) -> Vec<&'static str> {
        let mut demo = self.step(&[]);
        demo.advance_to(step);
        demo.signal(Signal::SIGKILL, Target::Group);
        assert_eq!(demo.wait().signal(), Some(Signal::SIGKILL as i32));
        demo.assert_group_gone();
        demo.keep_objects();
        self.objects.existing()
    }

    /// SIGKILL at `step` leaves exactly `left`; the next plain run then prints
    /// `transcript`, exits 0, says on stderr that it found `notes` leftovers, and
    /// leaves nothing.
    pub fn assert_recovers_after_sigkill(
        &self,
        step: usize,
        left: &[&str],
        transcript: &[u8],
        notes: usize,
    ) {
        assert_eq!(self.kill_at_step(step), left, "left by SIGKILL");
        let out = self.assert_transcript(&[], transcript);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), notes, "notes on stderr: {stderr}");
        assert_eq!(
            stderr.matches("left from an earlier run").count(),
            notes,
            "{stderr}"
        );
        self.objects.assert_none_left();
    }

    /// Asserts `--help` prints usage naming `--step` and each of `options`, and
    /// exits 0, and that an unknown argument is refused with status 2.
    pub fn assert_help(&self, options: &[&str]) {
        let out = self.run(&["--help"]);
        assert_eq!(out.status.code(), Some(0));
        let usage = String::from_utf8_lossy(&out.stdout);
        for option in std::iter::once(&"--step").chain(options) {
            assert!(usage.contains(option), "--help names {option}: {usage}");
        }
        let bad = self.run(&["--bogus"]);
        assert_eq!(bad.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown argument '--bogus'"));
    }
}

/// The lock of one demo's tests; removes the demo's objects when dropped.
pub struct DemoLock {
    _lock: NamesLock,
    objects: Objects,
}

impl Drop for DemoLock {
    fn drop(&mut self) {
        self.objects.remove_all();
    }
}
