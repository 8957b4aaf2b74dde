//! `excl_race`: is `O_CREAT | O_EXCL` really atomic? Race N processes to create one
//! object, round after round, and count the creators.
//!
//! N workers are forked once. Each round the parent releases them together (an
//! unnamed process-shared semaphore posted N times), each tries to create the same
//! name, and reports through atomic counters in anonymous shared memory. Two ways:
//! - `O_CREAT|O_EXCL`: exactly one creator and N-1 `EEXIST` every round;
//! - "check, then create": open without `O_CREAT`; on `ENOENT` open with `O_CREAT`
//!   and believe you created it. Two processes can both see "absent" before either
//!   creates: rounds with several creators.

use std::sync::atomic::{AtomicU64, Ordering};

use demo_kit::facility::{self, label, tag, ALL};
use demo_kit::{Cli, Failure, Perror, Usage};
use ipc_core::cleanup::{self, Strategy};
use ipc_core::process::{self, Child};
use ipc_core::{Creation, Errno, Mapping, Mode, Name, SharedSemaphore};

const USAGE: Usage = Usage {
    name: "excl_race",
    about: "Race N processes to create one object, R rounds per kind of object: with\n\
            O_CREAT|O_EXCL exactly one wins every round; with \"check, then create\"\n\
            several can believe they created it.",
    flags: &[],
    options: &[
        ("--procs", "8", "racing processes"),
        ("--rounds", "200", "rounds per kind of object and per way"),
    ],
    steps: false,
};

/// What the parent asks of the workers in a round.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Way {
    Exclusive,
    CheckThenCreate,
}

// The layout of the anonymous shared mapping: counters, then one gate per worker
// (a worker's own gate, so that no worker can take two turns in one round).
const DONE: usize = 0;
const TASK: usize = 64; // kind * 2 + way, or STOP
const CREATORS: usize = 72;
const EEXIST: usize = 80;
const OTHER: usize = 88;
const READY: usize = 96;
const GATES: usize = 128;
const GATE_STRIDE: usize = 64;
const MAX_PROCS: u64 = 60;
const MAP_LEN: usize = GATES + GATE_STRIDE * MAX_PROCS as usize;
const STOP: u64 = u64::MAX;

fn main() {
    demo_kit::start_lab(&USAGE, |cli, _steps| run(cli));
}

/// The counters of one round, and its start line.
struct Round<'a> {
    creators: &'a AtomicU64,
    eexist: &'a AtomicU64,
    other: &'a AtomicU64,
    /// Workers awake in this round: each starts only when all are.
    ready: &'a AtomicU64,
    procs: u64,
}

fn run(cli: &Cli) -> Result<(), Failure> {
    let procs = cli.number(&USAGE, "--procs", 2);
    if procs > MAX_PROCS {
        return Err(Failure::message(format!(
            "excl_race: --procs is at most {MAX_PROCS}"
        )));
    }
    let rounds = cli.number(&USAGE, "--rounds", 1);
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
    let task = map.atomic_u64(TASK).perror("atomic")?;
    let counters = Round {
        creators: map.atomic_u64(CREATORS).perror("atomic")?,
        eexist: map.atomic_u64(EEXIST).perror("atomic")?,
        other: map.atomic_u64(OTHER).perror("atomic")?,
        ready: map.atomic_u64(READY).perror("atomic")?,
        procs,
    };
    let names: Vec<Name> = ALL
        .iter()
        .map(|&kind| facility::unique_name("excl_race", tag(kind)))
        .collect();

    // Fork the workers first: the queues need the helper-thread cleanup, which a
    // forked child would not have, so it is installed after the forks.
    let mut workers: Vec<Child> = Vec::new();
    for gate in &gates {
        let (child, ()) =
            process::fork((), |()| worker(gate, &done, task, &counters, &names)).perror("fork")?;
        workers.push(child);
    }
    cleanup::install(Strategy::HelperThread, None).perror("cleanup")?;
    for (&kind, name) in ALL.iter().zip(&names) {
        // This process answers for the raced names, whoever creates them.
        cleanup::answer_for(kind, name).perror("register")?;
    }

    let mut report = Vec::new();
    for way in [Way::Exclusive, Way::CheckThenCreate] {
        for (index, (&kind, name)) in ALL.iter().zip(&names).enumerate() {
            let mut exact = 0;
            let mut several = 0;
            let mut most = 0;
            for _ in 0..rounds {
                task.store(
                    index as u64 * 2 + u64::from(way == Way::CheckThenCreate),
                    Ordering::SeqCst,
                );
                counters.ready.store(0, Ordering::SeqCst);
                for gate in &gates {
                    gate.post().perror("sem_post")?;
                }
                for _ in 0..procs {
                    done.wait().perror("sem_wait")?;
                }
                let creators = counters.creators.swap(0, Ordering::SeqCst);
                let eexist = counters.eexist.swap(0, Ordering::SeqCst);
                let other = counters.other.swap(0, Ordering::SeqCst);
                if other > 0 {
                    return Err(Failure::message(
                        "excl_race: a worker met an unexpected error",
                    ));
                }
                match way {
                    Way::Exclusive if creators == 1 && eexist == procs - 1 => exact += 1,
                    Way::CheckThenCreate if creators > 1 => several += 1,
                    _ => {}
                }
                most = most.max(creators);
                facility::unlink(kind, name).perror("unlink")?;
            }
            report.push((way, kind, exact, several, most));
            let line = match way {
                Way::Exclusive => format!(
                    "O_CREAT|O_EXCL    {:<14} rounds with 1 creator and {} EEXIST: {exact}/{rounds}",
                    label(kind),
                    procs - 1
                ),
                Way::CheckThenCreate => format!(
                    "check-then-create {:<14} rounds with several creators: {several}/{rounds} (at most {most} in one round)",
                    label(kind)
                ),
            };
            println!("{line}");
        }
    }

    task.store(STOP, Ordering::SeqCst);
    for gate in &gates {
        gate.post().perror("sem_post")?;
    }
    for worker in workers {
        worker.wait().perror("waitpid")?;
    }
    for (&kind, name) in ALL.iter().zip(&names) {
        cleanup::release(kind, name);
    }

    let total = rounds * ALL.len() as u64;
    let exact: u64 = report
        .iter()
        .filter(|r| r.0 == Way::Exclusive)
        .map(|r| r.2)
        .sum();
    let several: u64 = report
        .iter()
        .filter(|r| r.0 == Way::CheckThenCreate)
        .map(|r| r.3)
        .sum();
    println!(
        "verdict: O_CREAT|O_EXCL had exactly one creator in {exact} of {total} rounds; \
         check-then-create had several creators in {several} of {total} rounds ({procs} processes)"
    );
    Ok(())
}

/// A worker: wait at the gate, try, count, report; until told to stop.
fn worker(
    gate: &SharedSemaphore<'_>,
    done: &SharedSemaphore<'_>,
    task: &AtomicU64,
    round: &Round<'_>,
    names: &[Name],
) -> i32 {
    let mode = Mode::from_bits_truncate(0o600);
    loop {
        if gate.wait().is_err() {
            return 1;
        }
        let job = task.load(Ordering::SeqCst);
        if job == STOP {
            return 0;
        }
        // Released together: a woken process may wait a while for a CPU, so each
        // worker starts only when every one is awake.
        round.ready.fetch_add(1, Ordering::SeqCst);
        while round.ready.load(Ordering::SeqCst) < round.procs {
            std::thread::yield_now();
        }
        let kind = ALL[(job / 2) as usize];
        let name = &names[(job / 2) as usize];
        let counter = if job.is_multiple_of(2) {
            match facility::open(kind, name, Creation::CreateExclusive, mode) {
                Ok(_) => round.creators,
                Err(e) if e.errno() == Errno::EEXIST => round.eexist,
                Err(_) => round.other,
            }
        } else {
            // The naive way: look first, then create if it looked absent.
            match facility::open(kind, name, Creation::OpenExisting, mode) {
                Ok(_) => round.eexist,
                Err(e) if e.errno() == Errno::ENOENT => {
                    match facility::open(kind, name, Creation::OpenOrCreate, mode) {
                        Ok(_) => round.creators,
                        Err(_) => round.other,
                    }
                }
                Err(_) => round.other,
            }
        };
        counter.fetch_add(1, Ordering::SeqCst);
        if done.post().is_err() {
            return 1;
        }
    }
}
