//! `--step`: pause before each lifecycle step.
//!
//! The pause is written to stderr and waits for a line on stdin, so stdout stays
//! exactly the transcript. At end of input (stdin closed or `/dev/null`) it no
//! longer waits.

use std::io::{BufRead, Write};

/// The pauses of one run.
#[derive(Debug)]
pub struct Steps {
    enabled: bool,
    done: usize,
    input_open: bool,
}

impl Steps {
    /// Pauses if `enabled`, else does nothing.
    pub fn new(enabled: bool) -> Steps {
        Steps {
            enabled,
            done: 0,
            input_open: true,
        }
    }

    /// Announces the next step (`what` it will do and where to `look` while it
    /// waits) and waits for Enter.
    pub fn pause(&mut self, what: &str, look: &str) {
        if !self.enabled {
            return;
        }
        self.done += 1;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "[step {n}] next: {what}\n         look: {look}\n         press Enter to go on, Ctrl+C to stop\n",
            n = self.done
        );
        let _ = err.flush();
        drop(err);
        if self.input_open {
            let mut line = String::new();
            let read = std::io::stdin().lock().read_line(&mut line);
            self.input_open = matches!(read, Ok(n) if n > 0);
        }
    }
}
