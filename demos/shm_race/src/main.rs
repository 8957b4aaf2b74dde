//! `shm_race`: shared memory without synchronisation loses updates.
//!
//! Processes add 1 to one counter in shared memory, many times, four ways:
//! - `none`: read, add, write back, with nothing to stop another process writing
//!   in between (each access is a relaxed atomic, so the race is well defined:
//!   updates are lost, memory is not corrupted);
//! - `named semaphore`: the same, between `sem_wait` and `sem_post` on a named
//!   semaphore used as a lock;
//! - `pshared mutex`: the same, under a `pthread_mutex_t` made with
//!   `PTHREAD_PROCESS_SHARED` inside the shared memory;
//! - `atomic`: one atomic read-modify-write (`lock xadd`), no lock at all.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use demo_kit::facility::unique_name;
use demo_kit::{Failure, Perror, Usage};
use ipc_core::cleanup::{self, Strategy};
use ipc_core::process::{self, Child, ExitStatus};
use ipc_core::ObjectKind;
use ipc_core::{
    Access, Creation, Mode, SemOptions, Semaphore, SharedMemory, SharedMutex, SharedSemaphore,
    ShmOptions,
};

const USAGE: Usage = Usage {
    name: "shm_race",
    about: "Processes increment one counter in shared memory: without synchronisation they\n\
            lose updates; with a named semaphore, a process-shared mutex or an atomic they do not.",
    flags: &[],
    options: &[
        ("--procs", "2", "processes incrementing at once"),
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
const SIZE: usize = 4096;

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
    counter: &'a AtomicU64,
    lock: &'a Semaphore,
    mutex: &'a SharedMutex<'a>,
    gate: &'a SharedSemaphore<'a>,
    ready: &'a AtomicU64,
}

fn main() {
    // It forks: the in-handler cleanup removes the object and the semaphore.
    demo_kit::start(&USAGE, Strategy::InHandler, None, |cli, _| {
        run(
            cli.number(&USAGE, "--procs", 2),
            cli.number(&USAGE, "--increments", 1),
        )
    });
}

fn run(procs: u64, increments: u64) -> Result<(), Failure> {
    let shm_name = unique_name("shm_race", "counter");
    let sem_name = unique_name("shm_race", "lock");
    let options = ShmOptions {
        creation: Creation::CreateExclusive,
        access: Access::ReadWrite,
        mode: Mode::from_bits_truncate(0o600),
    };
    let shm = cleanup::own(ObjectKind::SharedMemory, &shm_name, || {
        SharedMemory::open(&shm_name, &options)
    })
    .perror("shm_open")?;
    shm.set_len(SIZE as u64).perror("ftruncate")?;
    let mut map = shm.map(SIZE).perror("mmap")?;
    drop(shm);
    let mutex = map.place_shared_mutex(MUTEX).perror("pthread_mutex_init")?;
    let gate = map.place_shared_semaphore(GATE, 0).perror("sem_init")?;
    let sem_options = SemOptions {
        creation: Creation::CreateExclusive,
        mode: Mode::from_bits_truncate(0o600),
        value: 1,
    };
    let lock = cleanup::own(ObjectKind::Semaphore, &sem_name, || {
        Semaphore::open(&sem_name, &sem_options)
    })
    .perror("sem_open")?;
    let shared = Shared {
        counter: map.atomic_u64(COUNTER).perror("atomic")?,
        lock: &lock,
        mutex: &map.mutex(mutex).perror("pthread_mutex_init")?,
        gate: &map.semaphore(gate).perror("sem_init")?,
        ready: map.atomic_u64(READY).perror("atomic")?,
    };

    let expected = procs * increments;
    println!("{procs} processes x {increments} increments = {expected} expected per variant");
    println!(
        "{:<16} {:>12} {:>12} {:>10} {:>12}",
        "variant", "counter", "lost", "time ms", "ns/increment"
    );
    let mut lost_by_variant = Vec::new();
    for variant in Variant::ALL {
        shared.counter.store(0, Ordering::SeqCst);
        shared.ready.store(0, Ordering::SeqCst);
        let mut workers: Vec<Child> = Vec::new();
        for _ in 0..procs {
            let (child, ()) =
                process::fork((), |()| work(&shared, variant, increments, procs)).perror("fork")?;
            workers.push(child);
        }
        // Release them together, so they really overlap.
        let start = Instant::now();
        for _ in 0..procs {
            shared.gate.post().perror("sem_post")?;
        }
        for worker in workers {
            if worker.wait().perror("waitpid")? != ExitStatus::Exited(0) {
                return Err(Failure::message("shm_race: a worker failed"));
            }
        }
        let elapsed = start.elapsed();
        let got = shared.counter.load(Ordering::SeqCst);
        let lost = expected.saturating_sub(got);
        println!(
            "{:<16} {got:>12} {lost:>12} {:>10.1} {:>12.1}",
            variant.label(),
            ms(elapsed),
            elapsed.as_nanos() as f64 / expected as f64
        );
        lost_by_variant.push(lost);
    }
    drop(map);
    drop(lock);
    cleanup::unlink(ObjectKind::SharedMemory, &shm_name).perror("shm_unlink")?;
    cleanup::unlink(ObjectKind::Semaphore, &sem_name).perror("sem_unlink")?;
    println!(
        "verdict: without synchronisation {procs} processes lost {} of {expected} increments; \
         with a named semaphore, a process-shared mutex and an atomic they lost {}, {} and {}",
        lost_by_variant[0], lost_by_variant[1], lost_by_variant[2], lost_by_variant[3]
    );
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One worker: wait for the start, then add 1 `increments` times the `variant` way.
fn work(shared: &Shared<'_>, variant: Variant, increments: u64, procs: u64) -> i32 {
    if shared.gate.wait().is_err() {
        return 1;
    }
    // A barrier: start only when every worker is awake and running, so they
    // really overlap (a woken process can take a while to get a CPU).
    shared.ready.fetch_add(1, Ordering::SeqCst);
    while shared.ready.load(Ordering::SeqCst) < procs {
        std::thread::yield_now();
    }
    let c = shared.counter;
    for _ in 0..increments {
        let ok = match variant {
            Variant::None => {
                // A read, then a write: another process may write in between.
                c.store(c.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
                true
            }
            Variant::NamedSemaphore => {
                let taken = shared.lock.wait().is_ok();
                c.store(c.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
                taken && shared.lock.post().is_ok()
            }
            Variant::ProcessSharedMutex => {
                let held = shared.mutex.lock();
                c.store(c.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
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
    0
}
