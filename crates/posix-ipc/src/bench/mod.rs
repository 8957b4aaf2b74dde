//! `posix-ipc bench`: what each mechanism costs between two processes, next to the
//! floor of spinning on shared memory.
//!
//! Each measurement forks two workers, a measuring process and its partner, places
//! them (same core, two cores, or unpinned), and times every round trip of a
//! ping-pong, or a one-way stream. Warm-up first; a fixed number of iterations; a
//! time bound; nothing allocated or formatted inside the timed loops; names unique
//! to the run. This process only watches the two (see `measure`): when either dies,
//! or on Ctrl+C or SIGTERM, it kills the other; every worker is reaped and every
//! object unlinked after each measurement, however it ended.

mod channel;
mod machine;
mod measure;
mod report;

use std::time::Duration;

use clap::Args;

pub use channel::Mechanism;
pub use measure::Placement;

use crate::failure::Failure;
use measure::{latency, throughput, Plan, Stop};

/// `posix-ipc bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Mechanisms to measure (default: all).
    #[arg(long = "mechanism", short = 'm', value_enum, value_delimiter = ',')]
    pub mechanisms: Vec<Mechanism>,
    /// Placements to measure (default: all the machine has).
    #[arg(long = "placement", short = 'p', value_enum, value_delimiter = ',')]
    pub placements: Vec<Placement>,
    /// Message sizes in bytes (default 64).
    #[arg(long = "size", short = 's', value_delimiter = ',', value_parser = clap::value_parser!(u32).range(8..=1_048_576))]
    pub sizes: Vec<u32>,
    /// Measure the sizes 64 B to 64 KiB (64, 256, 1024, 4096, 16384, 65536).
    #[arg(long, conflicts_with = "sizes")]
    pub sweep: bool,
    /// Timed round trips per latency measurement.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub iterations: u32,
    /// Untimed round trips before them.
    #[arg(long, default_value_t = 1_000)]
    pub warmup: u32,
    /// Messages per throughput measurement.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub messages: u32,
    /// Messages in flight in the stream (a queue's mq_maxmsg; at most msg_max
    /// without CAP_SYS_RESOURCE).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub depth: u32,
    /// Longest one measurement may run, in seconds (also how long spinning may wait).
    #[arg(long, default_value_t = 5.0)]
    pub max_seconds: f64,
    /// Check every byte of every message (slower; the tests use it).
    #[arg(long)]
    pub verify: bool,
    /// Only the latency measurements.
    #[arg(long, conflicts_with = "throughput_only")]
    pub latency_only: bool,
    /// Only the throughput measurements.
    #[arg(long)]
    pub throughput_only: bool,
    /// Print JSON with every figure instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Also draw latency and throughput per mechanism and size to this SVG file.
    #[arg(long)]
    pub svg: Option<std::path::PathBuf>,
}

/// One line of results.
#[derive(Debug, serde::Serialize)]
pub struct Row {
    /// The mechanism.
    pub mechanism: Mechanism,
    /// Where the processes ran.
    pub placement: Placement,
    /// Bytes per message.
    pub size: usize,
    /// Round-trip latency, if measured.
    pub latency: Option<measure::Latency>,
    /// Stream rate, if measured.
    pub throughput: Option<measure::Throughput>,
    /// Why a figure is missing.
    pub note: Option<String>,
}

/// `posix-ipc bench`.
pub fn bench(args: BenchArgs) -> Result<(), Failure> {
    if !(0.01..=3600.0).contains(&args.max_seconds) {
        return Err(Failure::Other("--max-seconds is 0.01 to 3600".into()));
    }
    crate::drive::block_termination();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mechanisms = if args.mechanisms.is_empty() {
        Mechanism::ALL.to_vec()
    } else {
        args.mechanisms.clone()
    };
    let placements = if args.placements.is_empty() {
        vec![
            Placement::SameCore,
            Placement::CrossCore,
            Placement::Unpinned,
        ]
    } else {
        args.placements.clone()
    };
    let sizes: Vec<usize> = if args.sweep {
        vec![64, 256, 1024, 4096, 16384, 65536]
    } else if args.sizes.is_empty() {
        vec![64]
    } else {
        args.sizes.iter().map(|&s| s as usize).collect()
    };
    let bound = Duration::from_secs_f64(args.max_seconds);
    let mq_size_max = ipc_core::limits::mqueue_sysctl("msgsize_max").unwrap_or(8192) as usize;
    let mq_depth_max = ipc_core::limits::mqueue_sysctl("msg_max").unwrap_or(10) as usize;

    let mut rows = Vec::new();
    for &size in &sizes {
        for &mechanism in &mechanisms {
            for &placement in &placements {
                let mut row = Row {
                    mechanism,
                    placement,
                    size,
                    latency: None,
                    throughput: None,
                    note: None,
                };
                let skip = if placement == Placement::CrossCore && cpus < 2 {
                    Some("needs two CPUs".to_owned())
                } else if mechanism == Mechanism::Spin && placement == Placement::SameCore {
                    Some("spinning needs each side on its own core".to_owned())
                } else if mechanism == Mechanism::Mq && size > mq_size_max {
                    Some(format!("above msgsize_max ({mq_size_max})"))
                } else {
                    None
                };
                if let Some(why) = skip {
                    row.note = Some(why);
                    rows.push(row);
                    continue;
                }
                let depth = match mechanism {
                    Mechanism::Mq => (args.depth as usize).min(mq_depth_max),
                    _ => args.depth as usize,
                };
                let plan = |iterations: u32, depth: usize, pingpong: bool| Plan {
                    mechanism,
                    placement,
                    size,
                    depth,
                    iterations: iterations as usize,
                    warmup: args.warmup as usize,
                    bound,
                    verify: args.verify,
                    pingpong,
                };
                if !args.throughput_only {
                    match latency(&plan(args.iterations, 1, true)) {
                        Ok(l) => row.latency = Some(l),
                        Err(Stop::Interrupted(signal)) => return Err(Failure::Interrupted(signal)),
                        Err(Stop::Lost(why)) => return Err(Failure::Other(why)),
                        Err(Stop::Failed(why)) => row.note = Some(why),
                    }
                }
                if !args.latency_only && row.note.is_none() {
                    match throughput(&plan(args.messages, depth, false)) {
                        Ok(t) => row.throughput = Some(t),
                        Err(Stop::Interrupted(signal)) => return Err(Failure::Interrupted(signal)),
                        Err(Stop::Lost(why)) => return Err(Failure::Other(why)),
                        Err(Stop::Failed(why)) => row.note = Some(why),
                    }
                }
                if !args.json {
                    eprintln!(
                        "posix-ipc bench: {} {} {size} B done",
                        mechanism.label(),
                        placement.label()
                    );
                }
                rows.push(row);
            }
        }
    }
    let machine = machine::describe();
    let command = std::iter::once("posix-ipc".to_owned())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(path) = &args.svg {
        report::svg(path, &rows)
            .map_err(|e| Failure::Other(format!("drawing {}: {e}", path.display())))?;
    }
    if args.json {
        crate::render::json(&serde_json::json!({
            "machine": machine,
            "command": command,
            "settings": {
                "iterations": args.iterations,
                "warmup": args.warmup,
                "messages": args.messages,
                "depth": args.depth,
                "max_seconds": args.max_seconds,
            },
            "results": rows,
        }));
    } else {
        crate::render::out(report::tables(&rows, &machine, &command, &args).as_bytes());
    }
    Ok(())
}
