//! One measurement: fork a measuring process and a partner, place both, time round
//! trips or a stream, verify what arrives, watch both until they end (killing the
//! other when one dies), reap both, unlink everything.

use std::io::Read;
use std::time::{Duration, Instant};

use ipc_core::interruptible::pending_termination;
use ipc_core::process::{self, ExitStatus};
use nix::errno::Errno;
use nix::sched::{sched_setaffinity, CpuSet};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
use nix::unistd::{alarm, Pid};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

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
#[derive(Clone, Debug, Serialize, Deserialize)]
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
#[derive(Clone, Debug, Serialize, Deserialize)]
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
    Interrupted(Signal),
    /// The mechanism failed or could not be set up; the text says why.
    Failed(String),
    /// A process of the measurement was killed from outside: everything was
    /// cleaned up; the bench ends with this error.
    Lost(String),
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

/// Runs `measure` in one forked process against a partner running `echo` in
/// another, watches both from this one, then reaps both and unlinks the channel's
/// objects, whatever happened.
///
/// This process only watches: it waits in `sigwait` for a child to end or a
/// termination signal (a one-second alarm as the fallback, and a hard deadline),
/// so it ends however the others do. The two workers may block without bound in
/// the mechanism's own calls (`sem_wait`, `pthread_cond_wait`, `read`): the
/// measurement times exactly those calls, and when either worker dies (killed, or a
/// failed check), the watcher kills the other, so no wait outlives its partner.
/// Both workers die with this process (`PR_SET_PDEATHSIG`).
fn with_partner<T: Serialize + DeserializeOwned>(
    plan: &Plan,
    echo: impl FnOnce(&mut End<'_>) -> i32,
    measure: impl FnOnce(&mut End<'_>) -> Result<T, Stop>,
) -> Result<T, Stop> {
    let result = Channel::new(
        plan.mechanism,
        plan.pingpong,
        plan.size,
        plan.depth,
        plan.bound,
    )
    .map_err(Stop::from)
    .and_then(|channel| supervise(plan, &channel, echo, measure));
    for (kind, name) in names(plan.mechanism) {
        let _ = kind.unlink(&name);
    }
    result
}

/// What a worker does first: a name to be told apart in `ps` (and by the tests),
/// death with the watcher, SIGTERM let through (so `kill -TERM` of the group ends it
/// at once), and its CPU. False if the watcher is already gone.
fn become_worker(name: &std::ffi::CStr, cpu: Option<usize>, watcher: Pid) -> bool {
    let _ = nix::sys::prctl::set_name(name);
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
    let mut term = SigSet::empty();
    term.add(Signal::SIGTERM);
    let _ = term.thread_unblock();
    pin(cpu);
    // The watcher may have died before PR_SET_PDEATHSIG took effect.
    nix::unistd::getppid() == watcher
}

/// How the watch ended.
enum Watched {
    /// The measuring process ended by itself.
    Measured,
    /// The partner ended first, other than by finishing its part.
    PartnerEnded(ExitStatus),
    /// The measuring process was killed.
    MeasurerKilled(Signal),
    /// A termination signal for this process.
    Interrupted(Signal),
    /// Past the hard deadline.
    Overran(Duration),
}

fn supervise<T: Serialize + DeserializeOwned>(
    plan: &Plan,
    channel: &Channel,
    echo: impl FnOnce(&mut End<'_>) -> i32,
    measure: impl FnOnce(&mut End<'_>) -> Result<T, Stop>,
) -> Result<T, Stop> {
    let broken = |e: ipc_core::Error| Stop::Failed(e.to_string());
    let watcher = nix::unistd::getpid();
    let (from_measurer, to_measurer) =
        nix::unistd::pipe().map_err(|e| Stop::Failed(format!("pipe: {}", e.desc())))?;
    let watched = watched_signals();
    let _ = watched.thread_block();
    let (partner, ()) = process::fork((), |()| {
        if !become_worker(c"pipc-partner", plan.placement.cpu(false), watcher) {
            return 1;
        }
        echo(&mut channel.end(false))
    })
    .map_err(broken)?;
    let measurer = process::fork((), |()| {
        if !become_worker(c"pipc-measure", plan.placement.cpu(true), watcher) {
            return 1;
        }
        let outcome = measure(&mut channel.end(true)).map_err(|stop| match stop {
            Stop::Failed(why) | Stop::Lost(why) => why,
            Stop::Interrupted(signal) => format!("interrupted by {signal}"),
        });
        // Small (a few hundred bytes, below PIPE_BUF): the write does not block.
        let text = serde_json::to_vec(&outcome).unwrap_or_default();
        match nix::unistd::write(&to_measurer, &text) {
            Ok(n) if n == text.len() => 0,
            _ => 5,
        }
    });
    let measurer = match measurer {
        Ok((measurer, ())) => measurer,
        Err(e) => {
            let _ = partner.signal(Signal::SIGKILL);
            let _ = partner.wait();
            return Err(broken(e));
        }
    };
    drop(to_measurer);
    // A measurement runs for at most `bound`, checked every few hundred messages;
    // setting up and the last of those messages get as long again, and 10 s.
    let deadline = plan.bound * 2 + Duration::from_secs(10);
    let how = watch(&partner, &measurer, &watched, deadline);
    let _ = partner.signal(Signal::SIGKILL);
    let _ = measurer.signal(Signal::SIGKILL);
    let (partner_pid, measurer_pid) = (partner.pid(), measurer.pid());
    let partner_status = partner.wait().ok();
    let measurer_status = measurer.wait().ok();
    match how {
        Watched::Interrupted(signal) => Err(Stop::Interrupted(signal)),
        Watched::Overran(after) => Err(Stop::Failed(format!(
            "the measurement did not end within {} s: stopped",
            after.as_secs_f64()
        ))),
        Watched::PartnerEnded(ExitStatus::Exited(code)) => Err(corrupt(code)),
        Watched::PartnerEnded(ExitStatus::Signaled(signal)) => Err(Stop::Lost(format!(
            "the partner process (pid {partner_pid}) was killed by {signal} during the \
             measurement: stopped"
        ))),
        Watched::MeasurerKilled(signal) => Err(Stop::Lost(format!(
            "the measuring process (pid {measurer_pid}) was killed by {signal}: stopped"
        ))),
        Watched::Measured => {
            let mut text = Vec::new();
            let _ = std::fs::File::from(from_measurer).read_to_end(&mut text);
            let outcome: Result<T, String> = serde_json::from_slice(&text).map_err(|_| {
                Stop::Failed(format!(
                    "the measuring process ended ({}) without a result",
                    describe(measurer_status)
                ))
            })?;
            let outcome = outcome.map_err(Stop::Failed);
            match partner_status {
                Some(ExitStatus::Exited(code)) if code != 0 => outcome.and(Err(corrupt(code))),
                _ => outcome,
            }
        }
    }
}

fn corrupt(code: i32) -> Stop {
    Stop::Failed(format!(
        "the partner found a corrupt or missing message (code {code})"
    ))
}

fn describe(status: Option<ExitStatus>) -> String {
    match status {
        Some(ExitStatus::Exited(code)) => format!("exit status {code}"),
        Some(ExitStatus::Signaled(signal)) => format!("killed by {signal}"),
        None => "status unknown".into(),
    }
}

/// SIGCHLD and SIGALRM, and the termination signals that were not ignored at
/// start: what the watcher waits for, blocked so that `sigwait` takes them.
fn watched_signals() -> SigSet {
    let mut set = ipc_core::inherited::answered_set();
    set.add(Signal::SIGCHLD);
    set.add(Signal::SIGALRM);
    set
}

/// How `child` has ended, if it has, without reaping it (`waitid` with `WNOWAIT`):
/// [`process::Child::wait`] reaps it afterwards. A child that cannot be found (a
/// caller that ignored SIGCHLD makes the kernel reap children at once) counts as
/// ended, killed by SIGKILL.
fn ended(child: &process::Child) -> Option<ExitStatus> {
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    match waitid(Id::Pid(child.pid()), flags) {
        Ok(WaitStatus::Exited(_, code)) => Some(ExitStatus::Exited(code)),
        Ok(WaitStatus::Signaled(_, signal, _)) => Some(ExitStatus::Signaled(signal)),
        Ok(_) | Err(Errno::EINTR) => None,
        Err(_) => Some(ExitStatus::Signaled(Signal::SIGKILL)),
    }
}

/// Waits until the measurement is over, one way or another. Every wait is bounded:
/// `sigwait` returns on SIGCHLD (a worker ended), a termination signal, or the
/// alarm set for one second ahead; the `deadline` bounds the whole.
fn watch(
    partner: &process::Child,
    measurer: &process::Child,
    watched: &SigSet,
    deadline: Duration,
) -> Watched {
    let start = Instant::now();
    let how = loop {
        if let Some(signal) = pending_termination() {
            break Watched::Interrupted(signal);
        }
        match ended(measurer) {
            Some(ExitStatus::Signaled(signal)) => break Watched::MeasurerKilled(signal),
            Some(ExitStatus::Exited(_)) => break Watched::Measured,
            None => {}
        }
        match ended(partner) {
            // Done with its part: the measurer may still be reading the last reply.
            Some(ExitStatus::Exited(0)) | None => {}
            Some(status) => break Watched::PartnerEnded(status),
        }
        if start.elapsed() > deadline {
            break Watched::Overran(deadline);
        }
        alarm::set(1);
        if let Ok(signal @ (Signal::SIGINT | Signal::SIGTERM | Signal::SIGHUP)) = watched.wait() {
            break Watched::Interrupted(signal);
        }
    };
    alarm::cancel();
    how
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
                if seq % 256 == 0 && start.elapsed() > plan.bound {
                    break;
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
                if seq % 1024 == 0 && start.elapsed() > plan.bound {
                    return Err(Stop::Failed(format!(
                        "the stream did not finish within {} s",
                        plan.bound.as_secs_f64()
                    )));
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
