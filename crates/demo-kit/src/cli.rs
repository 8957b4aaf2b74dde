//! The command line of a demo: `--help`, `--version`, `--step`, `--steps`, and the
//! demo's own flags.

use std::ffi::OsString;

use crate::output;
use crate::step::{self, Step};
use std::path::PathBuf;

/// What a demo says about itself in `--help`.
pub struct Usage {
    /// The binary's name.
    pub name: &'static str,
    /// One paragraph: what the demo shows.
    pub about: &'static str,
    /// The demo's own flags, with one line of help each.
    pub flags: &'static [(&'static str, &'static str)],
    /// Options that take a value: `(name, default, help)`, as in `--procs 8`.
    pub options: &'static [(&'static str, &'static str, &'static str)],
    /// Whether it pauses at lifecycle steps (takes `--step`). A demo that does
    /// also lists its steps (see [`crate::start_stepped`]).
    pub steps: bool,
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Parsed {
    /// Run, with these options.
    Run(Cli),
    /// `--help`: print the usage.
    Help,
    /// `--version`: print the name and version.
    Version,
    /// `--steps`: list the steps without running.
    Steps,
}

/// The version every demo and lab prints for `--version` (the project's: all its
/// packages share it).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The parsed command line.
#[derive(Debug, Default)]
pub struct Cli {
    /// `--step`: pause before each lifecycle step.
    pub step: bool,
    /// `--explain`: narrate every IPC call on stderr.
    pub explain: bool,
    /// `--trace FILE`: append every IPC call to FILE as a JSON line.
    pub trace: Option<PathBuf>,
    flags: Vec<&'static str>,
    values: Vec<(&'static str, String)>,
}

impl Cli {
    /// Parses the process's arguments. `--help`, `--version` and `--steps` print
    /// on stdout and exit 0 (1 if stdout cannot take it); an unknown argument prints
    /// an error and the usage on stderr and exits 2.
    pub fn parse(usage: &Usage) -> Cli {
        Cli::parse_stepped(usage, &[])
    }

    /// As [`parse`](Self::parse), for a demo whose `--step` pauses are `steps`:
    /// `--steps` lists them, and so does the end of `--help`.
    pub fn parse_stepped(usage: &Usage, steps: &[Step]) -> Cli {
        let said = match Cli::parse_from(usage, steps, std::env::args_os().skip(1)) {
            Ok(Parsed::Run(cli)) => return cli,
            Ok(Parsed::Help) => output::text(&help(usage, steps)),
            Ok(Parsed::Version) => output::text(&format!("{} {VERSION}\n", usage.name)),
            Ok(Parsed::Steps) => output::text(&step::listing(steps)),
            Err(message) => {
                crate::errln!("{}: {message}\n\n{}", usage.name, help(usage, steps));
                std::process::exit(2)
            }
        };
        match said {
            Ok(()) => std::process::exit(0),
            Err(failure) => {
                crate::errln!("{}: {}", usage.name, failure.line());
                std::process::exit(1)
            }
        }
    }

    /// Parses `args` for a demo with `steps` (none for a lab); `Err` with a message
    /// for bad usage.
    pub fn parse_from(
        usage: &Usage,
        steps: &[Step],
        args: impl IntoIterator<Item = OsString>,
    ) -> Result<Parsed, String> {
        let mut cli = Cli::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let text = arg.to_str().unwrap_or_default();
            let (key, inline) = match text.split_once('=') {
                Some((key, value)) => (key, Some(value.to_owned())),
                None => (text, None),
            };
            if key == "--trace" {
                let file = match inline {
                    Some(value) => OsString::from(value),
                    None => args.next().ok_or("--trace needs a file")?,
                };
                cli.trace = Some(PathBuf::from(file));
                continue;
            }
            if let Some((name, _, _)) = usage.options.iter().find(|(name, _, _)| *name == key) {
                let value = match inline {
                    Some(value) => value,
                    None => args
                        .next()
                        .and_then(|v| v.into_string().ok())
                        .ok_or_else(|| format!("{name} needs a value"))?,
                };
                cli.values.push((name, value));
                continue;
            }
            match arg.to_str() {
                Some("--help" | "-h") => return Ok(Parsed::Help),
                Some("--version" | "-V") => return Ok(Parsed::Version),
                Some("--steps") if !steps.is_empty() => return Ok(Parsed::Steps),
                Some("--step") if usage.steps => cli.step = true,
                Some("--explain") => cli.explain = true,
                Some(flag) => match usage.flags.iter().find(|(name, _)| *name == flag) {
                    Some((name, _)) => cli.flags.push(name),
                    None => return Err(format!("unknown argument '{flag}'")),
                },
                None => return Err(format!("unknown argument {arg:?}")),
            }
        }
        Ok(Parsed::Run(cli))
    }

    /// Whether the demo's own `flag` was given.
    pub fn has(&self, flag: &str) -> bool {
        self.flags.contains(&flag)
    }

    /// The whole number given for `option` (its default if absent), at least `min`.
    /// A bad value is a usage error: printed, exit status 2.
    pub fn number(&self, usage: &Usage, option: &str, min: u64) -> u64 {
        let default = usage
            .options
            .iter()
            .find(|(name, _, _)| *name == option)
            .map(|(_, default, _)| *default)
            .expect("the option is in the usage");
        let text = self
            .values
            .iter()
            .rev()
            .find(|(name, _)| *name == option)
            .map_or(default, |(_, value)| value.as_str());
        match text.parse::<u64>() {
            Ok(n) if n >= min => n,
            _ => {
                crate::errln!(
                    "{}: {option} takes a whole number of at least {min}, not '{text}'\n\n{}",
                    usage.name,
                    help(usage, &[])
                );
                std::process::exit(2)
            }
        }
    }
}

/// The `--help` text; for a demo with `steps`, ending with the list of them.
pub fn help(usage: &Usage, steps: &[Step]) -> String {
    let mut text = format!(
        "{about}\n\nUsage: {name} [OPTIONS]\n\nOptions:\n",
        about = usage.about,
        name = usage.name
    );
    let mut lines: Vec<(&str, &str)> = Vec::new();
    if usage.steps {
        lines.push((
            "--step",
            "pause before each lifecycle step, say what to look at (on stderr), wait for Enter",
        ));
    }
    if !steps.is_empty() {
        lines.push(("--steps", "list the steps (below) without running"));
    }
    lines.push((
        "--explain",
        "narrate every IPC call on stderr as it is made: mq_open(...) = 3",
    ));
    lines.push((
        "--trace FILE",
        "append every IPC call to FILE, one JSON line each (for posix-ipc diagram)",
    ));
    lines.extend(usage.flags.iter().copied());
    let options: Vec<(String, String)> = usage
        .options
        .iter()
        .map(|(name, default, what)| (format!("{name} N"), format!("{what} (default {default})")))
        .collect();
    lines.extend(options.iter().map(|(a, b)| (a.as_str(), b.as_str())));
    lines.push(("-h, --help", "print this help"));
    lines.push(("-V, --version", "print the name and version"));
    for (flag, what) in lines {
        text.push_str(&format!("  {flag:<14} {what}\n"));
    }
    text.push_str(
        "\nCtrl+C, SIGTERM or SIGHUP at any moment: every object the demo created is \
         unlinked,\nevery process it forked is stopped, and it exits with 128 + the signal number.\n\
         A signal ignored when it starts (nohup, a script's `cmd &`) stays ignored.\n\
         stdout closed, full or a broken pipe is an error like any other: the same cleanup,\n\
         a line on stderr, exit status 1.\n",
    );
    if !steps.is_empty() {
        text.push_str("\nSteps (--step pauses before each):\n");
        text.push_str(&step::listing(steps));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const USAGE: Usage = Usage {
        name: "demo",
        about: "A demo.",
        flags: &[("--unlink", "remove the object")],
        options: &[("--procs", "8", "processes")],
        steps: true,
    };

    const STEPS: &[Step] = &[Step {
        what: "shm_open",
        look: "ls /dev/shm",
    }];

    fn parse_with(steps: &[Step], args: &[&str]) -> Result<Parsed, String> {
        Cli::parse_from(&USAGE, steps, args.iter().map(OsString::from))
    }

    fn parse(args: &[&str]) -> Result<Option<Cli>, String> {
        parse_with(STEPS, args).map(|parsed| match parsed {
            Parsed::Run(cli) => Some(cli),
            _ => None,
        })
    }

    #[test]
    fn known_flags_parse() {
        let cli = parse(&["--step", "--unlink", "--explain"])
            .unwrap()
            .unwrap();
        assert!(cli.step);
        assert!(cli.explain);
        assert!(cli.has("--unlink"));
        assert!(!parse(&[]).unwrap().unwrap().step);
        let cli = parse(&["--trace", "t.jsonl"]).unwrap().unwrap();
        assert_eq!(cli.trace, Some(PathBuf::from("t.jsonl")));
        let cli = parse(&["--trace=u.jsonl"]).unwrap().unwrap();
        assert_eq!(cli.trace, Some(PathBuf::from("u.jsonl")));
        assert_eq!(parse(&["--trace"]).unwrap_err(), "--trace needs a file");
    }

    #[test]
    fn options_take_values() {
        let cli = parse(&["--procs", "3"]).unwrap().unwrap();
        assert_eq!(cli.number(&USAGE, "--procs", 1), 3);
        let cli = parse(&["--procs=5"]).unwrap().unwrap();
        assert_eq!(cli.number(&USAGE, "--procs", 1), 5);
        assert_eq!(parse(&[]).unwrap().unwrap().number(&USAGE, "--procs", 1), 8);
        assert_eq!(parse(&["--procs"]).unwrap_err(), "--procs needs a value");
    }

    #[test]
    fn help_version_steps_and_unknown_arguments() {
        assert!(matches!(parse_with(STEPS, &["--help"]), Ok(Parsed::Help)));
        assert!(matches!(parse_with(STEPS, &["-V"]), Ok(Parsed::Version)));
        assert!(matches!(
            parse_with(&[], &["--version"]),
            Ok(Parsed::Version)
        ));
        assert!(matches!(parse_with(STEPS, &["--steps"]), Ok(Parsed::Steps)));
        assert_eq!(
            parse_with(&[], &["--steps"]).unwrap_err(),
            "unknown argument '--steps'",
            "a lab has no steps to list"
        );
        assert_eq!(parse(&["--stpe"]).unwrap_err(), "unknown argument '--stpe'");
        let text = help(&USAGE, STEPS);
        assert!(text.contains("--unlink"));
        assert!(text.contains("--version"));
        assert!(text.contains("--steps"));
        assert!(text.ends_with(&step::listing(STEPS)), "{text}");
        assert!(!help(&USAGE, &[]).contains("--steps"));
    }
}
