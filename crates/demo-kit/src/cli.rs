//! The command line of a demo: `--help`, `--step`, and the demo's own flags.

use std::ffi::OsString;
use std::io::Write;

/// What a demo says about itself in `--help`.
pub struct Usage {
    /// The binary's name.
    pub name: &'static str,
    /// One paragraph: what the demo shows.
    pub about: &'static str,
    /// The demo's own flags, with one line of help each.
    pub flags: &'static [(&'static str, &'static str)],
}

/// The parsed command line.
#[derive(Debug, Default)]
pub struct Cli {
    /// `--step`: pause before each lifecycle step.
    pub step: bool,
    /// `--explain`: narrate every IPC call on stderr.
    pub explain: bool,
    flags: Vec<&'static str>,
}

impl Cli {
    /// Parses the process's arguments. `--help` prints the usage and exits 0; an
    /// unknown argument prints an error and the usage on stderr and exits 2.
    pub fn parse(usage: &Usage) -> Cli {
        match Cli::parse_from(usage, std::env::args_os().skip(1)) {
            Ok(Some(cli)) => cli,
            Ok(None) => {
                let _ = std::io::stdout().write_all(help(usage).as_bytes());
                std::process::exit(0)
            }
            Err(message) => {
                eprint!("{}: {message}\n\n{}", usage.name, help(usage));
                std::process::exit(2)
            }
        }
    }

    /// Parses `args`: `Ok(None)` for `--help`, `Err` with a message for bad usage.
    pub fn parse_from(
        usage: &Usage,
        args: impl IntoIterator<Item = OsString>,
    ) -> Result<Option<Cli>, String> {
        let mut cli = Cli::default();
        for arg in args {
            match arg.to_str() {
                Some("--help" | "-h") => return Ok(None),
                Some("--step") => cli.step = true,
                Some("--explain") => cli.explain = true,
                Some(flag) => match usage.flags.iter().find(|(name, _)| *name == flag) {
                    Some((name, _)) => cli.flags.push(name),
                    None => return Err(format!("unknown argument '{flag}'")),
                },
                None => return Err(format!("unknown argument {arg:?}")),
            }
        }
        Ok(Some(cli))
    }

    /// Whether the demo's own `flag` was given.
    pub fn has(&self, flag: &str) -> bool {
        self.flags.contains(&flag)
    }
}

/// The `--help` text.
pub fn help(usage: &Usage) -> String {
    let mut text = format!(
        "{about}\n\nUsage: {name} [OPTIONS]\n\nOptions:\n",
        about = usage.about,
        name = usage.name
    );
    let mut lines: Vec<(&str, &str)> = vec![(
        "--step",
        "pause before each lifecycle step, say what to look at (on stderr), wait for Enter",
    )];
    lines.push((
        "--explain",
        "narrate every IPC call on stderr as it is made: mq_open(...) = 3",
    ));
    lines.extend(usage.flags.iter().copied());
    lines.push(("-h, --help", "print this help"));
    for (flag, what) in lines {
        text.push_str(&format!("  {flag:<12} {what}\n"));
    }
    text.push_str(
        "\nCtrl+C, SIGTERM or SIGHUP at any moment: every object the demo created is \
         unlinked,\nevery process it forked is stopped, and it exits with 128 + the signal number.\n",
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const USAGE: Usage = Usage {
        name: "demo",
        about: "A demo.",
        flags: &[("--unlink", "remove the object")],
    };

    fn parse(args: &[&str]) -> Result<Option<Cli>, String> {
        Cli::parse_from(&USAGE, args.iter().map(OsString::from))
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
    }

    #[test]
    fn help_and_unknown_arguments() {
        assert!(parse(&["--help"]).unwrap().is_none());
        assert_eq!(parse(&["--stpe"]).unwrap_err(), "unknown argument '--stpe'");
        assert!(help(&USAGE).contains("--unlink"));
    }
}
