//! `excl_race`: is `O_CREAT | O_EXCL` really atomic? Race N processes to create one
//! object, round after round, and count the creators as the kernel saw them.
//!
//! N workers are forked once. Each round the parent releases them together (an
//! unnamed process-shared semaphore per worker, then a start line), each tries to
//! create the same name, and reports in its own slot of anonymous shared memory:
//! what it concluded, and the inode of the object it ended up holding. Two ways:
//! - `O_CREAT|O_EXCL`: the kernel says who created it: exactly one success and
//!   N-1 `EEXIST` every round;
//! - "check, then create": open without `O_CREAT`; on `ENOENT` wait a moment (the
//!   gap stands for whatever a program does between looking and acting), open with
//!   `O_CREAT` and believe you created it. Several processes can believe so in one
//!   round, while every one of them holds the same inode: the kernel made one object.

mod slots;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use demo_kit::{cpus, facility};
use demo_kit::{outln, Cli, Failure, Perror, Usage};
use ipc_core::cleanup::{self, Strategy};
use ipc_core::process::{self, Child};
use ipc_core::ObjectKind;
use ipc_core::{Creation, Deadline, Errno, Mapping, Mode, Name, SharedSemaphore};

use slots::{Outcome, Slot};

/// Most workers: the cleanup registry records 16 children per process.
const MAX_PROCS: u64 = 16;

/// Longest `--gap-us`: a termination signal waits for a worker's attempt, gap
/// included (see `signals`), so a longer gap would hold off Ctrl+C for that long.
const MAX_GAP_US: u64 = 1_000_000;

const USAGE: Usage = Usage {
    name: "excl_race",
    about: "Race N processes to create one object, R rounds per kind of object: with\n\
            O_CREAT|O_EXCL exactly one wins every round; with \"check, then create\"\n\
            several can believe they created it, though the kernel made one object.",
    flags: &[],
    options: &[
        ("--procs", "8", "racing processes, 2 to 16"),
        ("--rounds", "200", "rounds per kind of object and per way"),
        (
            "--gap-us",
            "1000",
            "microseconds between the check and the create, 0 (none) to 1000000",
        ),
    ],
    steps: false,
};

/// What the parent asks of the workers in a round.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Way {
    Exclusive,
    CheckThenCreate,
}

// The layout of the anonymous shared mapping: the parent's semaphore and the task,
// then one gate per worker (its own, so that no worker can take two turns in one
// round), then one result slot per worker.
const DONE: usize = 0;
const TASK: usize = 64; // kind * 2 + way, or STOP
const READY: usize = 96;
const CPUS: usize = 104; // a bit per CPU a worker attempted on
const GATES: usize = 128;
const GATE_STRIDE: usize = 64;
// In each gate's stride, after its semaphore: when the worker's attempt of this
// round began and ended (CLOCK_MONOTONIC ns).
const ATTEMPT_START: usize = 32;
const ATTEMPT_END: usize = 40;
const SLOTS: usize = GATES + GATE_STRIDE * MAX_PROCS as usize;
const MAP_LEN: usize = SLOTS + slots::STRIDE * MAX_PROCS as usize;
const STOP: u64 = u64::MAX;

/// Longest a round may take beyond its gap: a worker that has not reported by then
/// has died or is stuck, and the lab says so instead of waiting for ever.
const ROUND_WITHIN: Duration = Duration::from_secs(10);

fn main() {
    demo_kit::start_lab(&USAGE, |cli, _steps| run(cli));
}

/// What every worker uses.
struct Race<'a> {
    task: &'a AtomicU64,
    /// Workers awake in this round: each starts only when all are.
    ready: &'a AtomicU64,
    /// The CPUs the workers made their attempts on, a bit each.
    cpus: &'a AtomicU64,
    procs: u64,
    gap: Duration,
    names: &'a [Name],
}

/// When a worker's attempt of this round began and ended (`CLOCK_MONOTONIC` ns).
type Times<'a> = (&'a AtomicU64, &'a AtomicU64);

/// Whether two attempts or more overlapped in time: sorted by start, one began
/// before an earlier one ended.
fn overlapped(times: &[Times<'_>]) -> bool {
    let mut spans: Vec<(u64, u64)> = times
        .iter()
        .map(|(start, end)| (start.load(Ordering::SeqCst), end.load(Ordering::SeqCst)))
        .collect();
    spans.sort_unstable();
    let mut ended = 0;
    for (start, end) in spans {
        if start < ended {
            return true;
        }
        ended = ended.max(end);
    }
    false
}

/// One kind and way, over all rounds.
#[derive(Default)]
struct Tally {
    /// Rounds with exactly one creator and N-1 `EEXIST` (`O_EXCL`).
    exact: u64,
    /// Rounds where several workers believed they created the object.
    several: u64,
    /// Most believers in one round.
    most: u64,
    /// Rounds where every worker held the same inode: one object made.
    one_object: u64,
    /// Rounds in which two attempts or more overlapped in time.
    overlapped: u64,
}

fn run(cli: &Cli) -> Result<(), Failure> {
    let procs = cli.number(&USAGE, "--procs", 2);
    if procs > MAX_PROCS {
        return Err(Failure::message(format!(
            "excl_race: --procs is at most {MAX_PROCS} (the cleanup records 16 children per \
             process), not {procs}"
        )));
    }
    let rounds = cli.number(&USAGE, "--rounds", 1);
    let gap = cli.number(&USAGE, "--gap-us", 0);
    if gap > MAX_GAP_US {
        return Err(Failure::message(format!(
            "excl_race: --gap-us is at most {MAX_GAP_US} (a signal waits for a worker's \
             attempt, gap included), not {gap}"
        )));
    }
    let gap = Duration::from_micros(gap);
    let mut map = Mapping::anonymous(MAP_LEN).perror("mmap")?;
    let gates = (0..procs as usize)
        .map(|i| map.place_shared_semaphore(GATES + i * GATE_STRIDE, 0))
        .collect::<Result<Vec<_>, _>>()
        .perror("sem_init")?;
    let done = map.place_shared_semaphore(DONE, 0).perror("sem_init")?;
    let gates = gates
        .into_iter()
        .map(|gate| map.semaphore(gate))
        .collect::<Result<Vec<_>, _>>()
        .perror("sem_init")?;
    let done = map.semaphore(done).perror("sem_init")?;
    let slots = (0..procs as usize)
        .map(|i| Slot::at(&map, SLOTS + i * slots::STRIDE))
        .collect::<Result<Vec<_>, _>>()
        .perror("atomic")?;
    let times = (0..procs as usize)
        .map(|i| {
            let at = GATES + i * GATE_STRIDE;
            Ok((
                map.atomic_u64(at + ATTEMPT_START)?,
                map.atomic_u64(at + ATTEMPT_END)?,
            ))
        })
        .collect::<ipc_core::Result<Vec<_>>>()
        .perror("atomic")?;
    let names: Vec<Name> = ObjectKind::ALL
        .iter()
        .map(|&kind| facility::unique_name("excl_race", kind.label()))
        .collect();
    let race = Race {
        task: map.atomic_u64(TASK).perror("atomic")?,
        ready: map.atomic_u64(READY).perror("atomic")?,
        cpus: map.atomic_u64(CPUS).perror("atomic")?,
        procs,
        gap,
        names: &names,
    };

    // The workers are forked before the helper-thread cleanup is installed (the
    // queues need it, and a forked child would not have its thread). So that a
    // signal never kills a worker between glibc's temporary `sem.XXXXXX` file and
    // its `link`, each worker blocks the termination signals for the length of
    // one attempt (see `signals`).
    let mut workers: Vec<Child> = Vec::new();
    for ((gate, slot), times) in gates.iter().zip(&slots).zip(&times) {
        match process::fork((), |()| worker(gate, &done, &race, slot, times)).perror("fork") {
            Ok((child, ())) => workers.push(child),
            Err(failure) => return Err(stop(&race, &gates, workers, failure)),
        }
    }
    if let Err(failure) = cleanup::install(Strategy::HelperThread, None).perror("cleanup") {
        return Err(stop(&race, &gates, workers, failure));
    }
    for (&kind, name) in ObjectKind::ALL.iter().zip(&names) {
        // This process answers for the raced names, whoever creates them.
        if let Err(failure) = cleanup::answer_for(kind, name).perror("register") {
            return Err(stop(&race, &gates, workers, failure));
        }
    }

    let raced = race_all(&race, &gates, &done, &slots, &times, rounds, &mut workers);
    let raced = match raced {
        Ok(report) => report,
        Err(failure) => return Err(stop(&race, &gates, workers, failure)),
    };
    race.task.store(STOP, Ordering::SeqCst);
    for gate in &gates {
        gate.post().perror("sem_post")?;
    }
    for worker in workers {
        worker.wait().perror("waitpid")?;
    }
    for (&kind, name) in ObjectKind::ALL.iter().zip(&names) {
        cleanup::release(kind, name);
    }

    let total = rounds * ObjectKind::ALL.len() as u64;
    let sum = |way: Way, field: fn(&Tally) -> u64| -> u64 {
        raced
            .iter()
            .filter(|(w, _)| *w == way)
            .map(|(_, t)| field(t))
            .sum()
    };
    let exact = sum(Way::Exclusive, |t| t.exact);
    let several = sum(Way::CheckThenCreate, |t| t.several);
    let one_object = sum(Way::CheckThenCreate, |t| t.one_object);
    let overlapped_exclusive = sum(Way::Exclusive, |t| t.overlapped);
    let overlapped_naive = sum(Way::CheckThenCreate, |t| t.overlapped);
    let naive = if several > 0 {
        format!(
            "check-then-create had several processes believing they created the object in \
             {several} of {total} rounds, while the kernel made one object in {one_object} of \
             {total}"
        )
    } else if overlapped_naive == 0 {
        format!(
            "check-then-create had several believers in 0 of {total} rounds: could not show it \
             here, because the workers' attempts never overlapped in time (each round's first \
             attempt ended before its last began)"
        )
    } else {
        format!(
            "check-then-create had several believers in 0 of {total} rounds: could not show it \
             here, because in every round the other workers' checks came after the first \
             create (their attempts overlapped in {overlapped_naive} rounds, but not within \
             the {} us gap)",
            gap.as_micros()
        )
    };
    let on = cpus::phrase(race.cpus.load(Ordering::SeqCst));
    outln!(
        "verdict: O_CREAT|O_EXCL had exactly one creator in {exact} of {total} rounds; {naive} \
         ({procs} processes, on {on}; their attempts overlapped in time in \
         {overlapped_exclusive} of {total} O_CREAT|O_EXCL rounds and {overlapped_naive} of \
         {total} check-then-create rounds)"
    )?;
    Ok(())
}

/// Every way, every kind, `rounds` rounds each; prints a line per kind and way.
fn race_all(
    race: &Race<'_>,
    gates: &[SharedSemaphore<'_>],
    done: &SharedSemaphore<'_>,
    slots: &[Slot<'_>],
    times: &[Times<'_>],
    rounds: u64,
    workers: &mut [Child],
) -> Result<Vec<(Way, Tally)>, Failure> {
    let mut report = Vec::new();
    for way in [Way::Exclusive, Way::CheckThenCreate] {
        for (index, (&kind, name)) in ObjectKind::ALL.iter().zip(race.names).enumerate() {
            let mut tally = Tally::default();
            for _ in 0..rounds {
                race.task.store(
                    index as u64 * 2 + u64::from(way == Way::CheckThenCreate),
                    Ordering::SeqCst,
                );
                race.ready.store(0, Ordering::SeqCst);
                for gate in gates {
                    gate.post().perror("sem_post")?;
                }
                // Bounded: a worker killed (or stuck) never reports.
                let deadline = Deadline::after(ROUND_WITHIN + race.gap).perror("clock_gettime")?;
                for reported in 0..race.procs {
                    match done.wait_until(&deadline) {
                        Ok(()) => {}
                        Err(e) if e.errno() == Errno::ETIMEDOUT => {
                            return Err(silent(workers, reported, race.procs))
                        }
                        Err(e) => return Err(e).perror("sem_timedwait"),
                    }
                }
                let results: Vec<(Outcome, u64)> = slots.iter().map(Slot::take).collect();
                if let Some(Outcome::Failed { call, errno }) = results
                    .iter()
                    .map(|r| r.0)
                    .find(|o| matches!(o, Outcome::Failed { .. }))
                {
                    return Err(Failure::message(format!(
                        "excl_race: a worker's {call} on {name} failed: {}",
                        ipc_core::strerror(errno)
                    )));
                }
                let count = |o: Outcome| results.iter().filter(|r| r.0 == o).count() as u64;
                let created = count(Outcome::Created);
                let found = count(Outcome::Found);
                // The objects the workers held (a loser of O_EXCL holds none): one
                // inode means the kernel made one object, whoever believed what.
                let mut inodes: Vec<u64> =
                    results.iter().map(|r| r.1).filter(|&i| i != 0).collect();
                inodes.sort_unstable();
                inodes.dedup();
                if inodes.len() == 1 {
                    tally.one_object += 1;
                }
                if overlapped(times) {
                    tally.overlapped += 1;
                }
                match way {
                    Way::Exclusive if created == 1 && found == race.procs - 1 => tally.exact += 1,
                    Way::CheckThenCreate if created > 1 => tally.several += 1,
                    _ => {}
                }
                tally.most = tally.most.max(created);
                facility::unlink(kind, name).perror("unlink")?;
            }
            let line = match way {
                Way::Exclusive => format!(
                    "O_CREAT|O_EXCL    {:<14} rounds with 1 creator and {} EEXIST: {}/{rounds}; \
                     one inode among all: {}/{rounds}",
                    kind.noun(),
                    race.procs - 1,
                    tally.exact,
                    tally.one_object
                ),
                Way::CheckThenCreate => format!(
                    "check-then-create {:<14} rounds with several believers: {}/{rounds} (at \
                     most {} in one round); one inode among all: {}/{rounds}",
                    kind.noun(),
                    tally.several,
                    tally.most,
                    tally.one_object
                ),
            };
            outln!("{line}")?;
            report.push((way, tally));
        }
    }
    Ok(report)
}

/// The failure for a round in which only `reported` of `procs` workers reported
/// within [`ROUND_WITHIN`]: names the workers that have ended, and how.
fn silent(workers: &mut [Child], reported: u64, procs: u64) -> Failure {
    let ended: Vec<String> = workers
        .iter_mut()
        .filter_map(|w| {
            let pid = w.pid();
            match w.try_wait() {
                Ok(Some(status)) => Some(format!("{pid}: {status:?}")),
                _ => None,
            }
        })
        .collect();
    Failure::message(format!(
        "excl_race: sem_timedwait: Connection timed out: {reported} of {procs} workers \
         reported within {} s of a round's start (workers ended: {})",
        ROUND_WITHIN.as_secs(),
        if ended.is_empty() {
            "none".to_owned()
        } else {
            ended.join(", ")
        }
    ))
}

/// Ends the workers after a failure (they wait at their gates, or are about to),
/// then hands the failure back.
fn stop(
    race: &Race<'_>,
    gates: &[SharedSemaphore<'_>],
    workers: Vec<Child>,
    failure: Failure,
) -> Failure {
    race.task.store(STOP, Ordering::SeqCst);
    for gate in gates {
        let _ = gate.post();
    }
    for worker in workers {
        let _ = worker.wait();
    }
    failure
}

/// A worker: wait at the gate, try, report; until told to stop.
fn worker(
    gate: &SharedSemaphore<'_>,
    done: &SharedSemaphore<'_>,
    race: &Race<'_>,
    slot: &Slot<'_>,
    times: &Times<'_>,
) -> i32 {
    let mode = Mode::from_bits_truncate(0o600);
    loop {
        if gate.wait().is_err() {
            return 1;
        }
        let job = race.task.load(Ordering::SeqCst);
        if job == STOP {
            return 0;
        }
        // Released together: a woken process may wait a while for a CPU, so each
        // worker starts only when every one is awake.
        // (Or until the parent gives up on the round: then STOP.)
        race.ready.fetch_add(1, Ordering::SeqCst);
        while race.ready.load(Ordering::SeqCst) < race.procs {
            if race.task.load(Ordering::SeqCst) == STOP {
                return 0;
            }
            std::thread::yield_now();
        }
        let kind = ObjectKind::ALL[(job / 2) as usize];
        let name = &race.names[(job / 2) as usize];
        let attempt = || {
            if job.is_multiple_of(2) {
                match facility::open(kind, name, Creation::CreateExclusive, mode) {
                    Ok(handle) => (Outcome::Created, slots::inode(&handle, name)),
                    Err(e) if e.errno() == Errno::EEXIST => (Outcome::Found, 0),
                    Err(e) => (Outcome::failed(&e), 0),
                }
            } else {
                // The naive way: look first, then create if it looked absent.
                match facility::open(kind, name, Creation::OpenExisting, mode) {
                    Ok(handle) => (Outcome::Found, slots::inode(&handle, name)),
                    Err(e) if e.errno() == Errno::ENOENT => {
                        std::thread::sleep(race.gap);
                        match facility::open(kind, name, Creation::OpenOrCreate, mode) {
                            Ok(handle) => (Outcome::Created, slots::inode(&handle, name)),
                            Err(e) => (Outcome::failed(&e), 0),
                        }
                    }
                    Err(e) => (Outcome::failed(&e), 0),
                }
            }
        };
        if let Some(cpu) = cpus::current().filter(|&cpu| cpu < 64) {
            race.cpus.fetch_or(1 << cpu, Ordering::SeqCst);
        }
        let began = cpus::now_ns();
        // A termination signal waits until the attempt is over (and glibc's
        // temporary file for a semaphore is gone), then ends the worker.
        let (outcome, inode) = ipc_core::termination::deferred(attempt);
        times.0.store(began, Ordering::SeqCst);
        times.1.store(cpus::now_ns(), Ordering::SeqCst);
        slot.put(outcome, inode);
        if done.post().is_err() {
            return 1;
        }
    }
}
