//! `forgotten_unlink`: what a crash leaves behind, and how to recover.
//!
//! A child creates one object of each kind and is killed with SIGKILL, so no
//! cleanup can run. The objects are still there (kernel persistence); an exclusive
//! create of the same names now fails with `EEXIST`; the document's recovery,
//! unlink the stale object and create again, works; and nothing is left at the end.

use demo_kit::facility::{self, label, tag, unique_name, ALL};
use demo_kit::{Failure, Perror, Usage};
use ipc_core::cleanup::{self, Strategy};
use ipc_core::process::{self, ExitStatus};
use ipc_core::{Creation, Errno, Mapping, Mode, Name, Signal};

const USAGE: Usage = Usage {
    name: "forgotten_unlink",
    about: "A child creates one object of each kind and is killed with SIGKILL: the objects\n\
            outlive it, an O_EXCL create then fails with EEXIST, and unlink-and-retry recovers.",
    flags: &[],
    options: &[],
    steps: false,
};

fn main() {
    demo_kit::start_lab(&USAGE, |_, _| run());
}

fn run() -> Result<(), Failure> {
    let names: Vec<Name> = ALL
        .iter()
        .map(|&k| unique_name("forgotten_unlink", tag(k)))
        .collect();
    let mode = Mode::from_bits_truncate(0o600);
    let mut shared = Mapping::anonymous(128).perror("mmap")?;
    let go = shared.place_shared_semaphore(0, 0).perror("sem_init")?;
    let created = shared.place_shared_semaphore(64, 0).perror("sem_init")?;
    let go = shared.semaphore(go).perror("sem_init")?;
    let created = shared.semaphore(created).perror("sem_init")?;

    // The crashing child: create all three, say so, then wait to be killed.
    let (child, ()) = process::fork((), |()| {
        if go.wait().is_err() {
            return 1;
        }
        let handles: Vec<_> = ALL
            .iter()
            .zip(&names)
            .filter_map(|(&k, n)| facility::open(k, n, Creation::CreateExclusive, mode).ok())
            .collect();
        if handles.len() != ALL.len() || created.post().is_err() {
            return 1;
        }
        loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    })
    .perror("fork")?;
    // Installed after the fork (the queues need the helper thread, which a child
    // would not have). This process answers for the names the child creates.
    cleanup::install(Strategy::HelperThread, None).perror("cleanup")?;
    for (&kind, name) in ALL.iter().zip(&names) {
        cleanup::answer_for(kind, name).perror("register")?;
    }

    go.post().perror("sem_post")?;
    created.wait().perror("sem_wait")?;
    child.signal(Signal::SIGKILL).perror("kill")?;
    let status = child.wait().perror("waitpid")?;
    println!("the child created 3 objects and was killed: {status:?}");
    if status != ExitStatus::Signaled(Signal::SIGKILL) {
        return Err(Failure::message(
            "forgotten_unlink: the child was not killed by SIGKILL",
        ));
    }

    let (mut survived, mut eexist, mut recovered) = (0, 0, 0);
    for (&kind, name) in ALL.iter().zip(&names) {
        let alive = facility::open(kind, name, Creation::OpenExisting, mode).is_ok();
        survived += usize::from(alive);
        let again = facility::open(kind, name, Creation::CreateExclusive, mode);
        let refused = again.as_ref().is_err_and(|e| e.errno() == Errno::EEXIST);
        eexist += usize::from(refused);
        // The recovery the document recommends: unlink the stale object, retry.
        let retried = facility::unlink(kind, name).is_ok()
            && facility::open(kind, name, Creation::CreateExclusive, mode).is_ok();
        recovered += usize::from(retried);
        println!(
            "  {:<14} {name}: still there: {}; O_EXCL create: {}; unlink and retry: {}",
            label(kind),
            yes(alive),
            match &again {
                Ok(_) => "succeeded?!".to_owned(),
                Err(e) => format!("{:?}", e.errno()),
            },
            if retried { "created" } else { "failed" }
        );
        cleanup::unlink(kind, name).perror("unlink")?;
    }
    let left = ALL
        .iter()
        .zip(&names)
        .filter(|(&k, n)| facility::open(k, n, Creation::OpenExisting, mode).is_ok())
        .count();
    println!(
        "verdict: after SIGKILL {survived}/3 objects outlived their creator; an O_EXCL create then failed \
         with EEXIST {eexist}/3; unlink-and-retry recovered {recovered}/3; {left} left at the end"
    );
    Ok(())
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}
