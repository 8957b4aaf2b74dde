//! One measurement: fork a partner, place both processes, time round trips or a
//! stream, verify what arrives, reap the partner, unlink everything.

use std::time::{Duration, Instant};

use ipc_core::interruptible::pending_termination;
use ipc_core::process::{self, ExitStatus};
use nix::sched::{sched_getaffinity, sched_setaffinity, CpuSet};
use nix::unistd::Pid;
use serde::Serialize;

use super::channel::{names, Broken, Channel, End, Mechanism};

/// Where the two processes run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Placement {
    /// Both pinned to CPU 0.
    SameCore,
    /// Parent on CPU 0, child on CPU 1.
    CrossCore,
    /// Left to the scheduler.
    Unpinned,
}

impl Placement {
    /// Its name in reports.
    pub fn label(self) -> &'static str {
        match self {
            Placement::SameCore => "same-core",
            Placement::CrossCore => "cross-core",
            Placement::Unpinned => "unpinned",
        }
    }

    /// The CPU for the parent (`true`) or the child, if pinned.
    fn cpu(self, parent: bool) -> Option<usize> {
        match self {
            Placement::SameCore => Some(0),
            Placement::CrossCore => Some(if parent { 0 } else { 1 }),
            Placement::Unpinned => None,
        }
    }
}

/// What to measure.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// The mechanism.
    pub mechanism: Mechanism,
    /// Where the processes run.
    pub placement: Placement,
    /// Bytes per message.
    pub size: usize,
    /// Messages in flight each way, for the stream.
    pub depth: usize,
    /// Timed round trips (or streamed messages).
    pub iterations: usize,
    /// Untimed round trips first.
    pub warmup: usize,
    /// Longest a measurement may run (and a spin may wait).
    pub bound: Duration,
    /// Check every byte of every message, not only its sequence number.
    pub verify: bool,
    /// Turn by turn (latency), not a stream.
    pub pingpong: bool,
}

/// Round-trip latency, in nanoseconds.
#[derive(Clone, Debug, Serialize)]
pub struct Latency {
    /// Round trips timed.
    pub round_trips: usize,
    /// Fastest.
    pub min: u64,
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Slowest.
    pub max: u64,
}

/// One-way stream rate.
#[derive(Clone, Debug, Serialize)]
pub struct Throughput {
    /// Messages streamed.
    pub messages: usize,
    /// Messages per second.
    pub messages_per_second: f64,
    /// Megabytes (10^6 bytes) per second.
    pub megabytes_per_second: f64,
}

/// Why a measurement did not complete.
#[derive(Debug)]
pub enum Stop {
    /// A termination signal is pending: everything was cleaned up; exit now.
    Interrupted(nix::sys::signal::Signal),
    /// The mechanism failed or could not be set up; the text says why.
    Failed(String),
}

impl From<Broken> for Stop {
    fn from(b: Broken) -> Stop {
        Stop::Failed(b.0)
    }
}

/// Pins this process to `cpu`; `None` leaves the affinity it inherited.
fn pin(cpu: Option<usize>) {
    if let Some(cpu) = cpu {
        let mut set = CpuSet::new();
        if set.set(cpu).is_ok() {
            let _ = sched_setaffinity(Pid::from_raw(0), &set);
        }
    }
}

/// The pattern of message `seq`: its number, then bytes derived from it.
fn fill(msg: &mut [u8], seq: u64, full: bool) {
    let n = msg.len().min(8);
    msg[..n].copy_from_slice(&seq.to_ne_bytes()[..n]);
    if full {
        for (i, b) in msg.iter_mut().enumerate().skip(8) {
            *b = (seq as usize).wrapping_add(i) as u8;
        }
    }
}

fn check(msg: &[u8], seq: u64, full: bool) -> bool {
    let n = msg.len().min(8);
    msg[..n] == seq.to_ne_bytes()[..n]
        && (!full
            || msg
                .iter()
                .enumerate()
                .skip(8)
                .all(|(i, &b)| b == (seq as usize).wrapping_add(i) as u8))
}

/// Runs `parent` against a forked child running `child`, then reaps the child and
/// unlinks the channel's objects, whatever happened.
fn with_partner<T>(
    plan: &Plan,
    child: impl FnOnce(&mut End<'_>) -> i32,
    parent: impl FnOnce(&mut End<'_>) -> Result<T, Stop>,
) -> Result<T, Stop> {
    let channel = Channel::new(
        plan.mechanism,
        plan.pingpong,
        plan.size,
        plan.depth,
        plan.bound,
    );
    // The affinity this process was started with (taskset, cgroups), to go back to.
    let inherited = sched_getaffinity(Pid::from_raw(0)).ok();
    let result = channel.map_err(Stop::from).and_then(|channel| {
        pin(plan.placement.cpu(true));
        let forked = process::fork((), |()| {
            // The parent keeps SIGINT, SIGTERM and SIGHUP blocked and looks for them
            // between round trips; the partner lets SIGTERM through, so that it dies
            // with its parent (PR_SET_PDEATHSIG) if the parent is killed.
            let mut term = nix::sys::signal::SigSet::empty();
            term.add(nix::sys::signal::Signal::SIGTERM);
            let _ = term.thread_unblock();
            pin(plan.placement.cpu(false));
            child(&mut channel.end(false))
        });
        let outcome = match forked {
            Ok((partner, ())) => {
                let outcome = parent(&mut channel.end(true));
                // Done or not, the partner goes: it may be waiting for a message
                // that will never come.
                let _ = partner.signal(nix::sys::signal::Signal::SIGKILL);
                match partner.wait() {
                    Ok(ExitStatus::Exited(code)) if code != 0 => outcome.and(Err(Stop::Failed(
                        format!("the partner found a corrupt or missing message (code {code})"),
                    ))),
                    _ => outcome,
                }
            }
            Err(e) => Err(Stop::Failed(e.to_string())),
        };
        if let Some(set) = &inherited {
            let _ = sched_setaffinity(Pid::from_raw(0), set);
        }
        drop(channel);
        outcome
    });
    for (kind, name) in names(plan.mechanism) {
        let _ = kind.unlink(&name);
    }
    result
}

fn interrupted() -> Result<(), Stop> {
    match pending_termination() {
        Some(signal) => Err(Stop::Interrupted(signal)),
        None => Ok(()),
    }
}

/// Ping-pong: the parent sends, the child echoes, every round trip timed.
pub fn latency(plan: &Plan) -> Result<Latency, Stop> {
    let total = plan.warmup + plan.iterations;
    let size = plan.size;
    let verify = plan.verify;
    with_partner(
        plan,
        |end| {
            let mut buf = vec![0u8; size];
            for seq in 0..total as u64 {
                if end.recv(&mut buf).is_err() || !check(&buf, seq, verify) {
                    return 3;
                }
                if end.send(&buf).is_err() {
                    return 4;
                }
            }
            0
        },
        |end| {
            // Everything the timed loop needs, allocated before it.
            let mut times = vec![0u64; plan.iterations];
            let mut msg = vec![0u8; size];
            let mut buf = vec![0u8; size];
            let start = Instant::now();
            let mut done = 0;
            for seq in 0..total {
                fill(&mut msg, seq as u64, verify);
                let t0 = Instant::now();
                end.send(&msg)?;
                end.recv(&mut buf)?;
                let dt = t0.elapsed();
                if !check(&buf, seq as u64, verify) {
                    return Err(Stop::Failed(format!("round trip {seq} came back changed")));
                }
                if seq >= plan.warmup {
                    times[seq - plan.warmup] = dt.as_nanos() as u64;
                    done = seq - plan.warmup + 1;
                }
                if seq % 256 == 0 {
                    interrupted()?;
                    if start.elapsed() > plan.bound {
                        break;
                    }
                }
            }
            if done == 0 {
                return Err(Stop::Failed(if plan.mechanism == Mechanism::Spin {
                    format!(
                        "spin: not one timed round trip within {} s: with both sides on one core, each \
                         waits for the other's time slice; spinning needs each side on its own core",
                        plan.bound.as_secs_f64()
                    )
                } else {
                    format!("no timed round trip within {} s", plan.bound.as_secs_f64())
                }));
            }
            times.truncate(done);
            times.sort_unstable();
            let at = |q: f64| times[((done as f64 * q) as usize).min(done - 1)];
            Ok(Latency {
                round_trips: done,
                min: times[0],
                p50: at(0.5),
                p99: at(0.99),
                p999: at(0.999),
                max: times[done - 1],
            })
        },
    )
}

/// A one-way stream: the parent sends `iterations` messages, the child checks each
/// and answers once at the end.
pub fn throughput(plan: &Plan) -> Result<Throughput, Stop> {
    let count = plan.iterations;
    let size = plan.size;
    let verify = plan.verify;
    with_partner(
        plan,
        |end| {
            let mut buf = vec![0u8; size];
            for seq in 0..count as u64 {
                if end.recv(&mut buf).is_err() || !check(&buf, seq, verify) {
                    return 3;
                }
            }
            // The count, as the acknowledgement.
            fill(&mut buf, count as u64, false);
            if end.send(&buf).is_err() {
                return 4;
            }
            0
        },
        |end| {
            let mut msg = vec![0u8; size];
            let mut ack = vec![0u8; size];
            let start = Instant::now();
            for seq in 0..count {
                fill(&mut msg, seq as u64, verify);
                end.send(&msg)?;
                if seq % 1024 == 0 {
                    interrupted()?;
                    if start.elapsed() > plan.bound {
                        return Err(Stop::Failed(format!(
                            "the stream did not finish within {} s",
                            plan.bound.as_secs_f64()
                        )));
                    }
                }
            }
            end.recv(&mut ack)?;
            let secs = start.elapsed().as_secs_f64();
            if !check(&ack, count as u64, false) {
                return Err(Stop::Failed("the partner's count does not add up".into()));
            }
            Ok(Throughput {
                messages: count,
                messages_per_second: count as f64 / secs,
                megabytes_per_second: (count * size) as f64 / secs / 1e6,
            })
        },
    )
}
