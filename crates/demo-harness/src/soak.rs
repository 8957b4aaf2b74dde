//! Soak: a demo run again and again, each run interrupted at a random moment.

use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::demo::Demo;
use crate::process::{Io, Process, Target};
use crate::PATIENCE;

/// A small xorshift generator: enough randomness to vary a soak test, and a seed
/// to print so a failing run can be repeated (`SOAK_SEED`).
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The signals a soak run may get: (signal, target), by action number.
const ACTIONS: [(Signal, Target); 4] = [
    (Signal::SIGINT, Target::Group),
    (Signal::SIGTERM, Target::Parent),
    (Signal::SIGHUP, Target::Parent),
    (Signal::SIGKILL, Target::Group),
];

impl Demo {
    /// Runs the demo again and again for `SOAK_SECONDS` (default `seconds`),
    /// interrupting each run at a random moment within `window` with a random one of
    /// SIGINT to the group, SIGTERM or SIGHUP to the parent, SIGKILL to the group, or
    /// nothing. After every run: no process of it left; after a clean exit or a
    /// caught signal (or one that landed before `main` could install the cleanup,
    /// when there is nothing yet to leak), none of its objects left; after SIGKILL
    /// (when objects may stay), a normal run that succeeds and leaves nothing.
    /// Returns the runs made.
    pub fn soak(&self, seconds: u64, window: Duration) -> usize {
        let budget = std::env::var("SOAK_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(seconds);
        let seed = std::env::var("SOAK_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64 | 1)
            });
        let mut random = Xorshift(seed);
        let start = Instant::now();
        let mut runs = 0;
        while start.elapsed() < Duration::from_secs(budget) {
            runs += 1;
            let mut process = Process::start(self.bin(), &[], Io::Discarded, PATIENCE);
            let delay = random.next() % (window.as_micros() as u64).max(1);
            std::thread::sleep(Duration::from_micros(delay));
            let action = (random.next() % 5) as usize;
            let sent = ACTIONS.get(action).copied();
            if let Some((signal, target)) = sent {
                // It may have finished already: then nothing receives the signal.
                let _ = match target {
                    Target::Group => nix::sys::signal::killpg(process.pid(), signal),
                    Target::Parent => nix::sys::signal::kill(process.pid(), signal),
                };
            }
            let status = process.wait();
            let context = format!(
                "{} run {runs}, {sent:?} after {delay} us (SOAK_SEED={seed})",
                self.name()
            );
            process.assert_group_gone();
            if status.signal() == Some(Signal::SIGKILL as i32) {
                // Nothing could clean up; the next run must recover.
                let out = self.run(&[]);
                assert_eq!(
                    out.status.code(),
                    Some(0),
                    "{context}: the run after SIGKILL failed"
                );
            } else {
                // Exited: 0, or 128 + N from the cleanup. Killed by the very signal
                // sent: it landed before `main` installed the cleanup (the first
                // fraction of a millisecond), when nothing exists yet to leak.
                let expected = match (status.code(), sent) {
                    (Some(0), _) => true,
                    (Some(code), Some((signal, _))) => code == 128 + signal as i32,
                    (None, Some((signal, _))) => status.signal() == Some(signal as i32),
                    (Some(_), None) | (None, None) => false,
                };
                assert!(expected, "{context}: ended with {status:?}");
            }
            if self.keeps_objects() {
                // It leaves its objects on purpose after a finished run.
                self.objects().remove_all();
            }
            let left = self.objects().existing();
            assert!(left.is_empty(), "{context}: left {left:?}");
        }
        runs
    }
}
