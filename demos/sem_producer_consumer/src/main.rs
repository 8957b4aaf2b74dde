//! `sem_producer_consumer`: two processes take turns through two named semaphores.
//!
//! `/ep_sem_empty` (starts at 1: the slot is free) and `/ep_sem_full` (starts at 0:
//! no item yet). The parent produces four items, the forked child consumes them;
//! each waits on one semaphore and posts the other, so the lines alternate.

use std::time::Duration;

use demo_kit::{
    create_replacing_stale, errln, outln, Failure, Partner, Perror, Step, Steps, Usage,
};
use ipc_core::cleanup::{self, Strategy};
use ipc_core::process;
use ipc_core::ObjectKind;
use ipc_core::{Creation, Name, SemOptions, Semaphore};

const SEM_EMPTY: &str = "/ep_sem_empty";
const SEM_FULL: &str = "/ep_sem_full";
const ROUNDS: usize = 4;

const USAGE: Usage = Usage {
    name: "sem_producer_consumer",
    about: "A producer (the parent) and a consumer (a forked child) take turns through two\n\
            named semaphores, /ep_sem_empty and /ep_sem_full, for four items.",
    flags: &[],
    options: &[],
    steps: true,
};

const CREATE: Step = Step {
    what: "sem_open /ep_sem_empty (value 1) and /ep_sem_full (value 0), O_CREAT|O_EXCL, 0644",
    look: "ls -l /dev/shm/sem.*: nothing yet",
};
const FORK: Step = Step {
    what: "fork: the child becomes the consumer",
    look: "ls -l /dev/shm/sem.*: both semaphores exist (32 bytes each)",
};
const PRODUCE: Step = Step {
    what: "produce 4 items, 100 ms apart",
    look: "ps -o pid,stat,wchan,cmd --ppid {pid}: the consumer waits in sem_wait",
};
const WAIT: Step = Step {
    what: "waitpid for the consumer",
    look: "the consumer has read every item and exits",
};
const CLOSE: Step = Step {
    what: "sem_close both",
    look: "ls -l /dev/shm/sem.*: still there after this step: closing does not destroy",
};
const UNLINK: Step = Step {
    what: "sem_unlink both",
    look: "ls -l /dev/shm/sem.*: still there, no process holds them",
};
const STEPS: &[Step] = &[CREATE, FORK, PRODUCE, WAIT, CLOSE, UNLINK];

fn main() {
    // This demo forks, and a forked child has no helper thread: the handler cleans
    // up itself, with async-signal-safe calls, in whichever process it runs.
    demo_kit::start_stepped(&USAGE, STEPS, Strategy::InHandler, None, |_, steps| {
        run(steps)
    });
}

/// `sem_open(name, O_CREAT|O_EXCL, 0644, value)`; a semaphore left by a crashed run
/// is unlinked and created again (the C program fails with EEXIST instead).
fn create(name: &Name, value: u32) -> Result<Semaphore, Failure> {
    let options = SemOptions::new()
        .creation(Creation::CreateExclusive)
        .mode(0o644)
        .value(value);
    create_replacing_stale("sem_producer_consumer", ObjectKind::Semaphore, name, || {
        Semaphore::open(name, &options)
    })
    .perror("sem_open failed")
}

fn run(steps: &mut Steps) -> Result<(), Failure> {
    let empty_name = demo_kit::names::object_name(SEM_EMPTY);
    let full_name = demo_kit::names::object_name(SEM_FULL);

    steps.pause(&CREATE);
    let empty = create(&empty_name, 1)?;
    let full = create(&full_name, 0)?;

    steps.pause(&FORK);
    let (consumer, (empty, full)) = process::fork((empty, full), |(empty, full)| {
        match consume(&empty, &full) {
            Ok(()) => {
                let _ = empty.close();
                let _ = full.close();
                0
            }
            Err(failure) => {
                errln!("{} (in the consumer)", failure.line());
                1
            }
        }
    })
    .perror("fork")?;
    // From here on, a failure of the parent (a `?`) drops the partner, which stops
    // the consumer, and a consumer that ends early ends the producer's waits.
    let mut consumer = Partner::new(consumer, "sem_producer_consumer", "the consumer");

    steps.pause(&PRODUCE);
    for item in 1..=ROUNDS {
        consumer.wait_on(&empty)?;
        outln!("Producer: wrote item {item}")?;
        full.post().perror("sem_post")?;
        std::thread::sleep(Duration::from_millis(100));
    }

    steps.pause(&WAIT);
    let status = consumer.finish()?;

    steps.pause(&CLOSE);
    empty.close().perror("sem_close")?;
    full.close().perror("sem_close")?;

    steps.pause(&UNLINK);
    cleanup::unlink(ObjectKind::Semaphore, &empty_name).perror("sem_unlink")?;
    cleanup::unlink(ObjectKind::Semaphore, &full_name).perror("sem_unlink")?;
    outln!("Done.")?;
    consumer.check(status)
}

/// The child's part: wait for an item, take it, free the slot. Its waits end if
/// the producer dies (`PR_SET_PDEATHSIG`); a producer that fails stops it first.
fn consume(empty: &Semaphore, full: &Semaphore) -> Result<(), Failure> {
    for item in 1..=ROUNDS {
        full.wait().perror("sem_wait")?;
        outln!("Consumer: read item {item}")?;
        empty.post().perror("sem_post")?;
    }
    Ok(())
}
