//! `--step`: pause before each lifecycle step; `--steps`: list them without running.
//!
//! The pause is written to stderr and waits for a line on stdin, so stdout stays
//! exactly the transcript. It reads at most [`MAX_LINE`] bytes up to a newline, so
//! no input can make it hold more than that (`--step < /dev/zero`). At end of
//! input (stdin closed or `/dev/null`), on a read error, or on a line that long, it
//! says so once on stderr and no longer waits.

use std::fmt::Display;
use std::io::{BufRead, Read, Write};

use crate::errln;
use crate::names::in_own_names;

/// The most bytes one pause reads while waiting for Enter.
pub const MAX_LINE: u64 = 256;

/// One pause of `--step`: the call(s) the demo is about to make, and where to look
/// while it waits.
///
/// `look` may name values known only at run time as `{pid}` (the demo's process
/// id, always filled in), `{child}`, `{fd}`...: [`Steps::pause_with`] fills them in,
/// and `--steps` shows them in capitals (`PID`, `CHILD`, `FD`).
#[derive(Clone, Copy, Debug)]
pub struct Step {
    /// What it will do: `ftruncate(fd, 1024)`.
    pub what: &'static str,
    /// Where to look meanwhile: `ls -l /dev/shm/ep_exclusive: size 0`.
    pub look: &'static str,
}

/// The `--steps` listing (also the end of `--help`): each step, numbered, with
/// where to look. Object names are this run's ([`in_own_names`]), in the listing
/// as in each pause.
pub fn listing(steps: &[Step]) -> String {
    let mut text = String::new();
    for (n, step) in steps.iter().enumerate() {
        text.push_str(&format!(
            "  {:>2}. {}\n      look: {}\n",
            n + 1,
            in_own_names(step.what),
            placeholders_in_capitals(&in_own_names(step.look))
        ));
    }
    text
}

/// `{pid}` becomes `PID`.
fn placeholders_in_capitals(look: &str) -> String {
    let mut out = String::new();
    let mut rest = look;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        out.push_str(&rest[..open]);
        out.push_str(&rest[open + 1..open + close].to_uppercase());
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

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

    /// Announces `step` and waits for Enter.
    pub fn pause(&mut self, step: &Step) {
        self.pause_with(step, &[]);
    }

    /// Announces `step`, with `values` filled into its `look` (`("child", &pid)`
    /// replaces `{child}`; `{pid}` is always this process's id), and waits for
    /// Enter.
    pub fn pause_with(&mut self, step: &Step, values: &[(&str, &dyn Display)]) {
        if !self.enabled {
            return;
        }
        self.done += 1;
        let mut look = in_own_names(step.look).replace("{pid}", &std::process::id().to_string());
        for (name, value) in values {
            look = look.replace(&format!("{{{name}}}"), &value.to_string());
        }
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "[step {n}] next: {what}\n         look: {look}\n         press Enter to go on, Ctrl+C to stop\n",
            n = self.done,
            what = in_own_names(step.what),
        );
        let _ = err.flush();
        drop(err);
        if self.input_open {
            if let Err(why) = wait_for_enter(&mut std::io::stdin().lock()) {
                errln!("--step: {why}: going on without pausing");
                self.input_open = false;
            }
        }
    }
}

/// Reads one line of at most [`MAX_LINE`] bytes; says why it cannot wait any
/// more: end of input, a read error, or a line too long.
fn wait_for_enter(input: &mut impl BufRead) -> Result<(), String> {
    let mut line = Vec::new();
    match input.take(MAX_LINE).read_until(b'\n', &mut line) {
        Ok(0) => Err("end of input".into()),
        Ok(_) if line.ends_with(b"\n") => Ok(()),
        // The last line, without a newline: Enter for this pause, and the next
        // read meets the end of input.
        Ok(n) if (n as u64) < MAX_LINE => Ok(()),
        Ok(_) => Err(format!("no newline in {MAX_LINE} bytes of input")),
        Err(e) => Err(format!("reading stdin failed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_reads_one_bounded_line() {
        let mut input = std::io::Cursor::new(b"\nnext\n".to_vec());
        assert_eq!(wait_for_enter(&mut input), Ok(()));
        assert_eq!(input.position(), 1, "only the first line is taken");
        assert_eq!(wait_for_enter(&mut input), Ok(()));
        assert_eq!(wait_for_enter(&mut input), Err("end of input".into()));
    }

    #[test]
    fn endless_input_without_newlines_is_read_only_up_to_the_bound() {
        let mut zeros = std::io::repeat(0).take(1 << 30);
        let mut input = std::io::BufReader::new(&mut zeros);
        let why = wait_for_enter(&mut input).unwrap_err();
        assert!(why.contains("no newline"), "{why}");
        drop(input);
        assert!(
            zeros.limit() >= (1 << 30) - 64 * 1024,
            "read {} bytes",
            (1 << 30) - zeros.limit()
        );
    }

    #[test]
    fn a_last_line_without_newline_still_counts_as_enter() {
        let mut input = std::io::Cursor::new(b"x".to_vec());
        assert_eq!(wait_for_enter(&mut input), Ok(()));
        assert_eq!(wait_for_enter(&mut input), Err("end of input".into()));
    }

    #[test]
    fn the_listing_numbers_steps_and_shows_placeholders() {
        let steps = [
            Step {
                what: "close(fd)",
                look: "ls -l /proc/{pid}/fd: fd {fd}",
            },
            Step {
                what: "shm_unlink",
                look: "ls /dev/shm",
            },
        ];
        assert_eq!(
            listing(&steps),
            "   1. close(fd)\n      look: ls -l /proc/PID/fd: fd FD\n   2. shm_unlink\n      look: ls /dev/shm\n"
        );
    }
}
