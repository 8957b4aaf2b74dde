//! `posix-ipc watch`: every object, its holders and what changes, refreshed ten
//! times a second: full screen on a terminal ([`view`]), one line per event
//! otherwise ([`events`]), both from the same snapshots and diffs ([`model`]).
//!
//! The message queue directory is found (or mounted privately) once, at the
//! start, before any thread exists, and kept for the whole session; `/proc` is
//! scanned with a [`crate::holders::Scanner`], which reads again only the
//! processes that have run since the last refresh.

mod events;
mod model;
mod view;

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;

use crate::cli::{Prefix, ScanArgs};
use crate::failure::Failure;
use ipc_core::ObjectKind;
use model::Session;

/// How often the view refreshes.
pub const PERIOD: Duration = Duration::from_millis(100);

/// `posix-ipc watch`.
#[derive(Debug, Args)]
#[command(
    after_help = "Keys: q quits, space pauses, / filters by name (Enter keeps it, Esc clears it). \
    Ends with status 0 on q, Ctrl+C, SIGINT, SIGTERM, SIGHUP, or when the reader of its \
    output goes away."
)]
pub struct WatchArgs {
    /// Only objects of this type.
    #[arg(long = "type", short = 't', value_enum)]
    pub kind: Option<ObjectKind>,
    /// Only names starting with this (with or without the leading '/'; escapes as
    /// ls shows them).
    #[arg(long, value_parser = crate::cli::parse_prefix)]
    pub prefix: Option<Prefix>,
    /// Print one line per event with its time, even on a terminal (the default
    /// when stdout is not a terminal).
    #[arg(long)]
    pub events: bool,
    /// Print one JSON object per event and line (implies --events).
    #[arg(long)]
    pub json: bool,
    /// Measure: make N refreshes as fast as possible, without a screen, and
    /// print what they cost.
    #[arg(long, value_name = "N", conflicts_with_all = ["events", "json"])]
    pub bench_refresh: Option<u32>,
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// A termination request (SIGINT, SIGTERM, SIGHUP), recorded by a handler that
/// only stores the signal's number.
pub struct Stop(Arc<AtomicUsize>);

impl Stop {
    /// Installs the recording handlers, except for a signal ignored at start (a
    /// background job of a script ignores SIGINT; `nohup` ignores SIGHUP): that
    /// stays ignored.
    fn install() -> Stop {
        let flag = Arc::new(AtomicUsize::new(0));
        for signal in ipc_core::inherited::answered() {
            // The handler stores to an atomic: async-signal-safe, cannot panic.
            let _ = signal_hook::flag::register_usize(
                signal as i32,
                Arc::clone(&flag),
                signal as usize,
            );
        }
        Stop(flag)
    }

    /// Whether a termination signal arrived.
    pub fn requested(&self) -> bool {
        self.0.load(Ordering::SeqCst) != 0
    }
}

/// The tick after `tick`: one period later, or one period from now if the
/// refresh took longer than a period (ticks are skipped, never bunched).
pub fn next_tick(tick: Instant, period: Duration) -> Instant {
    let next = tick + period;
    let now = Instant::now();
    if next < now {
        now + period
    } else {
        next
    }
}

/// `posix-ipc watch`.
pub fn watch(args: WatchArgs) -> Result<(), Failure> {
    let prefix = args.prefix.clone().map_or_else(|| b"/".to_vec(), |p| p.0);
    // Before any thread: a private mqueue mount must be the whole process's.
    let mut session = Session::new(args.kind, prefix, args.scan.options());
    if let Some(n) = args.bench_refresh {
        return bench(&mut session, n);
    }
    let stop = Stop::install();
    let screen = std::io::stdout().is_terminal() && !args.events && !args.json;
    if screen {
        view::run(&mut session, PERIOD, &stop)
    } else {
        events::stream(&mut session, PERIOD, args.json, &stop)
    }
}

/// `--bench-refresh N`: N refreshes back to back, then what they cost.
fn bench(session: &mut Session, n: u32) -> Result<(), Failure> {
    use std::io::Write;
    let first = Instant::now();
    let mut now = session.refresh(None);
    let first = first.elapsed();
    let full = Instant::now();
    let _ = ipc_core::holders::Scan::take(ipc_core::holders::ScanOptions::default());
    let full = full.elapsed();
    let mut costs = Vec::new();
    let (mut fingerprinted, mut read) = (0, 0);
    for _ in 0..n.max(1) {
        let later = session.refresh(Some(&now));
        let _ = model::diff(&now, &later);
        costs.push(later.cost);
        fingerprinted += later.scan.fingerprinted;
        read += later.scan.read;
        now = later;
    }
    costs.sort_unstable();
    let at = |q: f64| costs[((costs.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
    let mean = costs.iter().sum::<Duration>() / costs.len() as u32;
    let per = |count: usize| count as f64 / costs.len() as f64;
    let text = format!(
        "processes:           {}\n\
         objects:             {}\n\
         first refresh:       {} (every process read)\n\
         full /proc scan:     {} (what every refresh would cost without the scanner)\n\
         refreshes:           {}\n\
         refresh mean:        {}\n\
         refresh median:      {}\n\
         refresh p90:         {}\n\
         refresh max:         {}\n\
         fingerprinted:       {:.1} processes per refresh\n\
         read:                {:.1} processes per refresh\n",
        now.scan.processes,
        now.objects.len(),
        ms(first),
        ms(full),
        costs.len(),
        ms(mean),
        ms(at(0.5)),
        ms(at(0.9)),
        ms(at(1.0)),
        per(fingerprinted),
        per(read),
    );
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::Other(format!("write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}
