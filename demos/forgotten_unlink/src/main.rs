//! `forgotten_unlink`: what a crash leaves behind, and how to recover.
//!
//! A child creates one object of each kind and is killed with SIGKILL, so no
//! cleanup can run. The objects are still there (kernel persistence); an exclusive
//! create of the same names now fails with `EEXIST`; the document's recovery,
//! unlink the stale object and create again, works; and nothing is left at the end.

use demo_kit::facility::{self, unique_name};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use demo_kit::{outln, Failure, Perror, Usage};
use ipc_core::cleanup::{self, Strategy};
use ipc_core::process::{self, ExitStatus};
use ipc_core::ObjectKind;
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

/// How long the child may take to create its objects and say so.
const REPORT_WITHIN: Duration = Duration::from_secs(10);

// The layout of the anonymous shared mapping between parent and child.
const GO: usize = 0;
const REPORT: usize = 64; // 0 pending, CREATED, or FAILED
const MESSAGE_LEN: usize = 72;
const MESSAGE: usize = 128;
const MAP_LEN: usize = 1024;
const CREATED: u64 = 1;
const FAILED: u64 = 2;

fn run() -> Result<(), Failure> {
    let names: Vec<Name> = ObjectKind::ALL
        .iter()
        .map(|&k| unique_name("forgotten_unlink", k.label()))
        .collect();
    let mode = Mode::from_bits_truncate(0o600);
    let mut shared = Mapping::anonymous(MAP_LEN).perror("mmap")?;
    let go = shared.place_shared_semaphore(GO, 0).perror("sem_init")?;
    let go = shared.semaphore(go).perror("sem_init")?;
    let report = shared.atomic_u64(REPORT).perror("atomic")?;
    let message_len = shared.atomic_u64(MESSAGE_LEN).perror("atomic")?;

    // The crashing child: create all three, say so, then wait to be killed. If it
    // cannot, it says which call failed and why, and exits.
    let (child, ()) = process::fork((), |()| {
        if go.wait().is_err() {
            return 1;
        }
        let mut handles = Vec::new();
        for (&kind, name) in ObjectKind::ALL.iter().zip(&names) {
            match facility::open(kind, name, Creation::CreateExclusive, mode) {
                Ok(handle) => handles.push(handle),
                Err(e) => {
                    let text = format!("the child could not create its {}: {e}", kind.noun());
                    let text = &text.as_bytes()[..text.len().min(MAP_LEN - MESSAGE)];
                    if shared.write(MESSAGE, text).is_ok() {
                        message_len.store(text.len() as u64, Ordering::SeqCst);
                    }
                    report.store(FAILED, Ordering::SeqCst);
                    return 1;
                }
            }
        }
        report.store(CREATED, Ordering::SeqCst);
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    })
    .perror("fork")?;
    // Installed after the fork (the queues need the helper thread, which a child
    // would not have). This process answers for the names the child creates.
    let registered = cleanup::install(Strategy::HelperThread, None)
        .perror("cleanup")
        .and_then(|()| {
            ObjectKind::ALL
                .iter()
                .zip(&names)
                .try_for_each(|(&kind, name)| cleanup::answer_for(kind, name))
                .perror("register")
        })
        .and_then(|()| go.post().perror("sem_post"));
    if let Err(failure) = registered {
        let _ = child.signal(Signal::SIGKILL);
        let _ = child.wait();
        return Err(failure);
    }

    // A bounded wait: the child reports success or failure, or the time runs out.
    let start = Instant::now();
    let outcome = loop {
        match report.load(Ordering::SeqCst) {
            0 if start.elapsed() < REPORT_WITHIN => std::thread::sleep(Duration::from_millis(1)),
            outcome => break outcome,
        }
    };
    if outcome != CREATED {
        let _ = child.signal(Signal::SIGKILL);
        let status = child.wait().perror("waitpid")?;
        let reason = if outcome == FAILED {
            let mut text = vec![0u8; message_len.load(Ordering::SeqCst) as usize];
            shared.read(MESSAGE, &mut text).perror("read")?;
            String::from_utf8_lossy(&text).into_owned()
        } else {
            format!(
                "the child did not create its objects within {} s ({status:?})",
                REPORT_WITHIN.as_secs()
            )
        };
        // What it did create is unlinked by the failure's cleanup (this process
        // answers for every name).
        return Err(Failure::message(format!("forgotten_unlink: {reason}")));
    }
    child.signal(Signal::SIGKILL).perror("kill")?;
    let status = child.wait().perror("waitpid")?;
    outln!(
        "the child created {} objects and was killed: {status:?}",
        ObjectKind::ALL.len()
    )?;
    if status != ExitStatus::Signaled(Signal::SIGKILL) {
        return Err(Failure::message(
            "forgotten_unlink: the child was not killed by SIGKILL",
        ));
    }

    let (mut survived, mut eexist, mut recovered) = (0, 0, 0);
    for (&kind, name) in ObjectKind::ALL.iter().zip(&names) {
        let alive = facility::open(kind, name, Creation::OpenExisting, mode);
        survived += usize::from(alive.is_ok());
        let again = facility::open(kind, name, Creation::CreateExclusive, mode);
        let refused = again.as_ref().is_err_and(|e| e.errno() == Errno::EEXIST);
        eexist += usize::from(refused);
        // The recovery the document recommends: unlink the stale object, retry.
        let retried = facility::unlink(kind, name)
            .and_then(|()| facility::open(kind, name, Creation::CreateExclusive, mode));
        recovered += usize::from(retried.is_ok());
        // A failed call is shown with its name and errno, never just "failed".
        let failed = |e: &ipc_core::Error| format!("{} {:?}", e.call(), e.errno());
        outln!(
            "  {:<14} {name}: still there: {}; O_EXCL create: {}; unlink and retry: {}",
            kind.noun(),
            match &alive {
                Ok(_) => "yes".to_owned(),
                Err(e) => format!("no ({})", failed(e)),
            },
            match &again {
                Ok(_) => "succeeded?!".to_owned(),
                Err(e) => format!("{:?}", e.errno()),
            },
            match &retried {
                Ok(_) => "created".to_owned(),
                Err(e) => format!("failed ({})", failed(e)),
            }
        )?;
        cleanup::unlink(kind, name).perror("unlink")?;
    }
    let left = ObjectKind::ALL
        .iter()
        .zip(&names)
        .filter(|(&k, n)| facility::open(k, n, Creation::OpenExisting, mode).is_ok())
        .count();
    let all = ObjectKind::ALL.len();
    outln!(
        "verdict: after SIGKILL {survived}/{all} objects outlived their creator; an O_EXCL create \
         then failed with EEXIST {eexist}/{all}; unlink-and-retry recovered {recovered}/{all}; \
         {left} left at the end"
    )?;
    Ok(())
}
