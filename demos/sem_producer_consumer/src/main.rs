//! `sem_producer_consumer`: two processes take turns through two named semaphores.
//!
//! `/ep_sem_empty` (starts at 1: the slot is free) and `/ep_sem_full` (starts at 0:
//! no item yet). The parent produces four items, the forked child consumes them;
//! each waits on one semaphore and posts the other, so the lines alternate.

use std::time::Duration;

use demo_kit::{create_replacing_stale, Failure, Perror, Steps, Usage};
use ipc_core::cleanup::{self, Strategy};
use ipc_core::process::{self, ExitStatus};
use ipc_core::ObjectKind;
use ipc_core::{Creation, Mode, Name, SemOptions, Semaphore};

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

fn main() {
    // This demo forks, and a forked child has no helper thread: the handler cleans
    // up itself, with async-signal-safe calls, in whichever process it runs.
    demo_kit::start(&USAGE, Strategy::InHandler, None, |_, steps| run(steps));
}

/// `sem_open(name, O_CREAT|O_EXCL, 0644, value)`; a semaphore left by a crashed run
/// is unlinked and created again (the C program fails with EEXIST instead).
fn create(name: &Name, value: u32) -> Result<Semaphore, Failure> {
    let options = SemOptions {
        creation: Creation::CreateExclusive,
        mode: Mode::from_bits_truncate(0o644),
        value,
    };
    create_replacing_stale("sem_producer_consumer", ObjectKind::Semaphore, name, || {
        Semaphore::open(name, &options)
    })
    .perror("sem_open failed")
}

fn run(steps: &mut Steps) -> Result<(), Failure> {
    let empty_name = Name::new(SEM_EMPTY).expect("the demo's name is valid");
    let full_name = Name::new(SEM_FULL).expect("the demo's name is valid");

    steps.pause(
        "sem_open /ep_sem_empty (value 1) and /ep_sem_full (value 0), O_CREAT|O_EXCL, 0644",
        "ls -l /dev/shm/sem.*: nothing yet",
    );
    let empty = create(&empty_name, 1)?;
    let full = create(&full_name, 0)?;

    steps.pause(
        "fork: the child becomes the consumer",
        "ls -l /dev/shm/sem.*: both semaphores exist (32 bytes each)",
    );
    let (consumer, (empty, full)) = process::fork((empty, full), |(empty, full)| {
        match consume(&empty, &full) {
            Ok(()) => {
                let _ = empty.close();
                let _ = full.close();
                0
            }
            Err(failure) => {
                eprintln!("{}", failure.line());
                1
            }
        }
    })
    .perror("fork")?;

    steps.pause(
        "produce 4 items, 100 ms apart",
        &format!(
            "ps -o pid,stat,wchan,cmd --ppid {}: the consumer waits in sem_wait",
            std::process::id()
        ),
    );
    for item in 1..=ROUNDS {
        empty.wait().perror("sem_wait")?;
        println!("Producer: wrote item {item}");
        full.post().perror("sem_post")?;
        std::thread::sleep(Duration::from_millis(100));
    }

    steps.pause(
        "waitpid for the consumer",
        "the consumer has read every item and exits",
    );
    let status = consumer.wait().perror("waitpid")?;

    steps.pause(
        "sem_close both",
        "ls -l /dev/shm/sem.*: still there after this step: closing does not destroy",
    );
    empty.close().perror("sem_close")?;
    full.close().perror("sem_close")?;

    steps.pause(
        "sem_unlink both",
        "ls -l /dev/shm/sem.*: still there, no process holds them",
    );
    cleanup::unlink(ObjectKind::Semaphore, &empty_name).perror("sem_unlink")?;
    cleanup::unlink(ObjectKind::Semaphore, &full_name).perror("sem_unlink")?;
    println!("Done.");
    if status != ExitStatus::Exited(0) {
        eprintln!("sem_producer_consumer: the consumer ended with {status:?}");
        std::process::exit(1);
    }
    Ok(())
}

/// The child's part: wait for an item, take it, free the slot.
fn consume(empty: &Semaphore, full: &Semaphore) -> Result<(), Failure> {
    for item in 1..=ROUNDS {
        full.wait().perror("sem_wait")?;
        println!("Consumer: read item {item}");
        empty.post().perror("sem_post")?;
    }
    Ok(())
}
