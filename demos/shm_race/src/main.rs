//! `shm_race`: shared memory without synchronisation loses updates.
//!
//! Processes add 1 to one counter in shared memory, many times, four ways:
//! - `none`: load, add, store, as an unoptimised `counter++` does it, with nothing
//!   to stop another process storing in between (each access is a relaxed atomic,
//!   so the race is well defined: updates are lost, memory is not corrupted);
//! - `named semaphore`: the same, between `sem_wait` and `sem_post` on a named
//!   semaphore used as a lock;
//! - `pshared mutex`: the same, under a `pthread_mutex_t` made with
//!   `PTHREAD_PROCESS_SHARED` inside the shared memory;
//! - `atomic`: one atomic read-modify-write (`lock xadd`), no lock at all.
//!
//! Every variant measures the conditions of its race: how long the workers ran at
//! the same time, on which CPUs, and how often a worker found the counter changed
//! by another since its own last store. Without synchronisation the verdict is
//! either the lost updates or why none could be shown here.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use demo_kit::cpus;
use demo_kit::facility::unique_name;
use demo_kit::{outln, Failure, Perror, Usage};
use ipc_core::cleanup::{self, Strategy};
use ipc_core::process::{self, Child, ExitStatus};
use ipc_core::ObjectKind;
use ipc_core::{
    Access, Creation, Mapping, SemOptions, Semaphore, SharedMemory, SharedMutex, SharedSemaphore,
    ShmOptions,
};

/// Most workers: the cleanup registry records 16 children per process.
const MAX_PROCS: u64 = 16;

const USAGE: Usage = Usage {
    name: "shm_race",
    about: "Processes increment one counter in shared memory: without synchronisation they\n\
            lose updates; with a named semaphore, a process-shared mutex or an atomic they do not.",
    flags: &[],
    options: &[
        ("--procs", "2", "processes incrementing at once, 2 to 16"),
        (
            "--increments",
            "1000000",
            "increments per process and per variant",
        ),
    ],
    steps: false,
};

// Layout of the shared object.
const COUNTER: usize = 0;
const MUTEX: usize = 64;
const GATE: usize = 128;
const READY: usize = 192;
/// The worker that made the last increment (its number + 1), on a line of its own.
const TURN: usize = 256;
/// Each worker's measurements: start, end (ns), turns taken, CPUs (mask).
const WORKERS: usize = 320;
const WORKER_STRIDE: usize = 64;
const SIZE: usize = 4096;

/// Pause instructions between the load and the store: an unoptimised `counter++`
/// does a few instructions there; these make the window wide enough that a time
/// slice can end inside it when the workers share one CPU.
const WINDOW: u32 = 4;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Variant {
    None,
    NamedSemaphore,
    ProcessSharedMutex,
    Atomic,
}

impl Variant {
    const ALL: [Variant; 4] = [
        Variant::None,
        Variant::NamedSemaphore,
        Variant::ProcessSharedMutex,
        Variant::Atomic,
    ];

    fn label(self) -> &'static str {
        match self {
            Variant::None => "none",
            Variant::NamedSemaphore => "named semaphore",
            Variant::ProcessSharedMutex => "pshared mutex",
            Variant::Atomic => "atomic",
        }
    }
}

/// What every worker uses.
struct Shared<'a> {
    map: &'a Mapping,
    counter: &'a AtomicU64,
    lock: &'a Semaphore,
    mutex: &'a SharedMutex<'a>,
    gate: &'a SharedSemaphore<'a>,
    ready: &'a AtomicU64,
    turn: &'a AtomicU64,
    /// CPUs to spread the workers over (one each, in turn), if there are several.
    cpus: &'a [usize],
}

/// One worker's measurements, in the shared object.
struct Stats<'a> {
    start: &'a AtomicU64,
    end: &'a AtomicU64,
    turns: &'a AtomicU64,
    cpus: &'a AtomicU64,
}

impl Shared<'_> {
    fn stats(&self, worker: u64) -> Result<Stats<'_>, ipc_core::Error> {
        let at = WORKERS + worker as usize * WORKER_STRIDE;
        Ok(Stats {
            start: self.map.atomic_u64(at)?,
            end: self.map.atomic_u64(at + 8)?,
            turns: self.map.atomic_u64(at + 16)?,
            cpus: self.map.atomic_u64(at + 24)?,
        })
    }
}

/// What one variant's run measured.
struct Outcome {
    lost: u64,
    /// How long every worker was running at once (0 if they never all were).
    overlap: Duration,
    /// Times the increments changed hands from one worker to another: how finely
    /// the workers interleaved.
    turns: u64,
    /// The CPUs the workers were seen on.
    cpus: u64,
}

fn main() {
    // It forks: the in-handler cleanup removes the object and the semaphore.
    demo_kit::start(&USAGE, Strategy::InHandler, None, |cli, _| {
        let procs = cli.number(&USAGE, "--procs", 2);
        if procs > MAX_PROCS {
            return Err(Failure::message(format!(
                "shm_race: --procs is at most {MAX_PROCS} (the cleanup records 16 children \
                 per process), not {procs}"
            )));
        }
        let increments = cli.number(&USAGE, "--increments", 1);
        // The counter is 64 bits: the expected total must fit in it.
        if procs.checked_mul(increments).is_none() {
            return Err(Failure::message(format!(
                "shm_race: --increments is at most {} for {procs} processes (their total \
                 must fit the 64-bit counter), not {increments}",
                u64::MAX / procs
            )));
        }
        run(procs, increments)
    });
}

fn run(procs: u64, increments: u64) -> Result<(), Failure> {
    let shm_name = unique_name("shm_race", "counter");
    let sem_name = unique_name("shm_race", "lock");
    let options = ShmOptions::new()
        .creation(Creation::CreateExclusive)
        .access(Access::ReadWrite)
        .mode(0o600);
    let shm = cleanup::own(ObjectKind::SharedMemory, &shm_name, || {
        SharedMemory::open(&shm_name, &options)
    })
    .perror("shm_open")?;
    // Reserved, not just sized: a full /dev/shm is an error here, not a SIGBUS later.
    shm.reserve(SIZE as u64).perror("posix_fallocate")?;
    let map = shm.map(SIZE).perror("mmap")?;
    drop(shm);
    // The process-shared mutex and the start gate live in an anonymous mapping the
    // workers inherit (ipc-core places such objects nowhere else).
    let mut sync = Mapping::anonymous(4096).perror("mmap")?;
    let mutex = sync
        .place_shared_mutex(MUTEX)
        .perror("pthread_mutex_init")?;
    let gate = sync.place_shared_semaphore(GATE, 0).perror("sem_init")?;
    let sem_options = SemOptions::new()
        .creation(Creation::CreateExclusive)
        .mode(0o600)
        .value(1);
    let lock = cleanup::own(ObjectKind::Semaphore, &sem_name, || {
        Semaphore::open(&sem_name, &sem_options)
    })
    .perror("sem_open")?;
    let allowed = cpus::allowed();
    let spread: &[usize] = if allowed.len() > 1 { &allowed } else { &[] };
    let shared = Shared {
        map: &map,
        counter: map.atomic_u64(COUNTER).perror("atomic")?,
        lock: &lock,
        mutex: &sync.mutex(mutex).perror("pthread_mutex_init")?,
        gate: &sync.semaphore(gate).perror("sem_init")?,
        ready: map.atomic_u64(READY).perror("atomic")?,
        turn: map.atomic_u64(TURN).perror("atomic")?,
        cpus: spread,
    };

    let expected = procs * increments;
    outln!(
        "{procs} processes x {increments} increments = {expected} expected per variant; \
         CPUs allowed: {}{}",
        allowed.len(),
        if spread.is_empty() {
            " (the workers share it)"
        } else {
            " (one worker per CPU, in turn)"
        }
    )?;
    outln!(
        "{:<16} {:>10} {:>10} {:>9} {:>8} {:>10} {:>10} {:>6}",
        "variant",
        "counter",
        "lost",
        "time ms",
        "ns/incr",
        "overlap ms",
        "turns",
        "CPUs"
    )?;
    let mut outcomes = Vec::new();
    for variant in Variant::ALL {
        let (outcome, elapsed) = race(&shared, variant, procs, increments)?;
        outln!(
            "{:<16} {:>10} {:>10} {:>9.1} {:>8.1} {:>10.1} {:>10} {:>6}",
            variant.label(),
            expected - outcome.lost,
            outcome.lost,
            ms(elapsed),
            elapsed.as_nanos() as f64 / expected as f64,
            ms(outcome.overlap),
            outcome.turns,
            cpus::list(outcome.cpus)
        )?;
        outcomes.push(outcome);
    }
    drop(map);
    drop(lock);
    cleanup::unlink(ObjectKind::SharedMemory, &shm_name).perror("shm_unlink")?;
    cleanup::unlink(ObjectKind::Semaphore, &sem_name).perror("sem_unlink")?;
    let none = &outcomes[0];
    let unsynchronised = if none.lost > 0 {
        format!(
            "without synchronisation {procs} processes lost {} of {expected} increments \
             (they ran together for {:.1} ms on {} and took turns {} times)",
            none.lost,
            ms(none.overlap),
            cpus::phrase(none.cpus),
            none.turns
        )
    } else {
        format!(
            "without synchronisation {procs} processes lost 0 of {expected} increments: \
             could not show it here, because {}",
            why_nothing_was_lost(none, procs)
        )
    };
    outln!(
        "verdict: {unsynchronised}; with a named semaphore, a process-shared mutex and an \
         atomic they lost {}, {} and {}",
        outcomes[1].lost,
        outcomes[2].lost,
        outcomes[3].lost
    )?;
    Ok(())
}

/// Why the unsynchronised run lost nothing, from what it measured.
fn why_nothing_was_lost(none: &Outcome, procs: u64) -> String {
    if none.overlap.is_zero() {
        "the workers never ran at the same time (each had finished before the next began)".into()
    } else if none.turns < procs {
        // Fewer changes of hands than workers: each did its increments in one
        // stretch, one after another.
        format!(
            "the workers ran together for {:.1} ms on {} but never took turns (the \
             increments changed hands {} times among {procs} workers: each did all its \
             increments in one stretch, one after another)",
            ms(none.overlap),
            cpus::phrase(none.cpus),
            none.turns
        )
    } else {
        format!(
            "although the workers took turns {} times in {:.1} ms together on {}, no \
             store fell between another's load and store (on one CPU each turn is a \
             switch of time slice: try more --increments)",
            none.turns,
            ms(none.overlap),
            cpus::phrase(none.cpus)
        )
    }
}

/// Runs `procs` workers of `variant` from one start line and measures them.
fn race(
    shared: &Shared<'_>,
    variant: Variant,
    procs: u64,
    increments: u64,
) -> Result<(Outcome, Duration), Failure> {
    shared.counter.store(0, Ordering::SeqCst);
    shared.ready.store(0, Ordering::SeqCst);
    shared.turn.store(0, Ordering::SeqCst);
    for worker in 0..procs {
        let stats = shared.stats(worker).perror("atomic")?;
        for field in [stats.start, stats.end, stats.turns, stats.cpus] {
            field.store(0, Ordering::SeqCst);
        }
    }
    let mut workers: Vec<Child> = Vec::new();
    for worker in 0..procs {
        let forked =
            process::fork((), |()| work(shared, variant, worker, increments, procs)).perror("fork");
        match forked {
            Ok((child, ())) => workers.push(child),
            Err(failure) => {
                stop(workers);
                return Err(failure);
            }
        }
    }
    // Release them together, so they really overlap.
    let start = Instant::now();
    for _ in 0..procs {
        shared.gate.post().perror("sem_post")?;
    }
    let ended = wait_all(workers)?;
    let elapsed = start.elapsed();
    match ended {
        None => {}
        Some((pid, ExitStatus::Signaled(signal))) => {
            return Err(Failure::message(format!(
                "shm_race: a {} worker (pid {pid}) was killed by {signal}: the others \
                 were stopped (they would wait for it for ever)",
                variant.label()
            )))
        }
        Some((pid, status)) => {
            return Err(Failure::message(format!(
                "shm_race: a {} worker (pid {pid}) failed ({status:?}): sem_wait, sem_post \
                 or pthread_mutex_lock/unlock returned an error; the others were stopped",
                variant.label()
            )))
        }
    }
    let mut stats = Vec::new();
    for worker in 0..procs {
        stats.push(shared.stats(worker).perror("atomic")?);
    }
    let latest_start = stats.iter().map(|s| s.start.load(Ordering::SeqCst)).max();
    let earliest_end = stats.iter().map(|s| s.end.load(Ordering::SeqCst)).min();
    let overlap = match (latest_start, earliest_end) {
        (Some(s), Some(e)) if e > s => Duration::from_nanos(e - s),
        _ => Duration::ZERO,
    };
    let got = shared.counter.load(Ordering::SeqCst);
    Ok((
        Outcome {
            lost: (procs * increments).saturating_sub(got),
            overlap,
            turns: stats.iter().map(|s| s.turns.load(Ordering::SeqCst)).sum(),
            cpus: stats
                .iter()
                .fold(0, |mask, s| mask | s.cpus.load(Ordering::SeqCst)),
        },
        elapsed,
    ))
}

/// Waits for every worker. The first to fail (killed, or an error) stops the
/// others, which could otherwise wait for it for ever: at the start line, or on
/// the lock it held. Returns that worker's pid and how it ended, if one failed.
fn wait_all(mut pending: Vec<Child>) -> Result<Option<(i32, ExitStatus)>, Failure> {
    while !pending.is_empty() {
        let mut failed = None;
        let mut running = Vec::with_capacity(pending.len());
        for mut worker in pending {
            match worker.try_wait().perror("waitpid")? {
                Some(ExitStatus::Exited(0)) => {}
                Some(status) if failed.is_none() => failed = Some((worker.pid().as_raw(), status)),
                Some(_) => {}
                None => running.push(worker),
            }
        }
        if failed.is_some() {
            stop(running);
            return Ok(failed);
        }
        pending = running;
        if !pending.is_empty() {
            std::thread::sleep(Duration::from_micros(500));
        }
    }
    Ok(None)
}

/// Stops workers already forked (a later fork failed, or another worker did).
fn stop(workers: Vec<Child>) {
    for worker in workers {
        let _ = worker.signal(ipc_core::Signal::SIGTERM);
        let _ = worker.wait();
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One worker: wait for the start, then add 1 `increments` times the `variant` way,
/// recording when it ran, where, and how often it took over from another worker.
fn work(shared: &Shared<'_>, variant: Variant, worker: u64, increments: u64, procs: u64) -> i32 {
    let Ok(stats) = shared.stats(worker) else {
        return 1;
    };
    if !shared.cpus.is_empty() {
        // Spread over the CPUs: on one CPU a lost update needs a switch of time
        // slice between a load and its store; on two it needs only the overlap.
        cpus::pin(shared.cpus[worker as usize % shared.cpus.len()]);
    }
    if shared.gate.wait().is_err() {
        return 1;
    }
    // A start line: begin only when every worker is awake and running, so they
    // really overlap (a woken process can take a while to get a CPU).
    shared.ready.fetch_add(1, Ordering::SeqCst);
    while shared.ready.load(Ordering::SeqCst) < procs {
        std::thread::yield_now();
    }
    stats.start.store(cpus::now_ns(), Ordering::SeqCst);
    let c = shared.counter;
    let me = worker + 1;
    let mut turns = 0;
    let mut seen_cpus = 0u64;
    for i in 0..increments {
        if i % 4096 == 0 {
            if let Some(cpu) = cpus::current().filter(|&cpu| cpu < 64) {
                seen_cpus |= 1 << cpu;
            }
        }
        // Outside the race window: note when this worker takes over from another
        // (the very first increment of all takes over from nobody: not a turn).
        let last = shared.turn.load(Ordering::Relaxed);
        if last != me {
            shared.turn.store(me, Ordering::Relaxed);
            turns += u64::from(last != 0);
        }
        // `counter++` unoptimised: a load, a few instructions, a store; another
        // process's store in between is overwritten.
        let increment = || {
            let before = c.load(Ordering::Relaxed);
            for _ in 0..WINDOW {
                std::hint::spin_loop();
            }
            c.store(before + 1, Ordering::Relaxed);
        };
        let ok = match variant {
            Variant::None => {
                increment();
                true
            }
            Variant::NamedSemaphore => {
                let taken = shared.lock.wait().is_ok();
                increment();
                taken && shared.lock.post().is_ok()
            }
            Variant::ProcessSharedMutex => {
                // Unlocked when the guard goes, at the end of this block.
                let held = shared.mutex.lock();
                increment();
                held.is_ok()
            }
            Variant::Atomic => {
                c.fetch_add(1, Ordering::Relaxed);
                true
            }
        };
        if !ok {
            return 1;
        }
    }
    stats.end.store(cpus::now_ns(), Ordering::SeqCst);
    stats.turns.store(turns, Ordering::SeqCst);
    stats.cpus.store(seen_cpus, Ordering::SeqCst);
    0
}
