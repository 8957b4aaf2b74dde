//! `excl_demo`: `O_CREAT | O_EXCL`, the atomic "create only if absent".
//!
//! The first run creates `/ep_exclusive` (mode 0600) and sizes it to 1024 bytes;
//! later runs get `EEXIST` and open the existing object instead. The object is
//! left in `/dev/shm` on purpose, so the second run has something to find;
//! `excl_demo --unlink` removes it.

use demo_kit::{errln, outln, Failure, Perror, Step, Steps, Usage};
use ipc_core::cleanup::{self, Strategy};
use ipc_core::ObjectKind;
use ipc_core::{Access, Creation, Errno, Mode, Name, SharedMemory, ShmOptions};

const SHM_NAME: &str = "/ep_exclusive";
const SHM_SIZE: u64 = 1024;

const USAGE: Usage = Usage {
    name: "excl_demo",
    about: "Create the shared memory object /ep_exclusive with O_CREAT|O_EXCL, or, if it\n\
            already exists (EEXIST), open it. It is left in /dev/shm for the next run.",
    flags: &[("--unlink", "remove /ep_exclusive (shm_unlink) and exit")],
    options: &[],
    steps: true,
};

const CREATE: Step = Step {
    what: "shm_open(\"/ep_exclusive\", O_CREAT|O_EXCL|O_RDWR, 0600)",
    look: "ls -l /dev/shm/ep_exclusive: absent on a first run, there on a second",
};
const TRUNCATE: Step = Step {
    what: "ftruncate(fd, 1024) (a first run, which created the object)",
    look: "ls -l /dev/shm/ep_exclusive: created with size 0",
};
const OPEN: Step = Step {
    what: "shm_open(\"/ep_exclusive\", O_RDWR, 0) (a later run, which met EEXIST)",
    look: "ls -l /dev/shm/ep_exclusive: left by an earlier run",
};
const CLOSE: Step = Step {
    what: "close(fd)",
    look: "ls -l /proc/{pid}/fd: fd {fd} points at /dev/shm/ep_exclusive",
};
const UNLINK: Step = Step {
    what: "shm_unlink(\"/ep_exclusive\") (with --unlink)",
    look: "ls -l /dev/shm/ep_exclusive: still there",
};
const STEPS: &[Step] = &[CREATE, TRUNCATE, OPEN, CLOSE, UNLINK];

fn main() {
    // A handler that unlinks with async-signal-safe calls: it needs no thread and
    // no descriptor, so the object still gets fd 3, as in C.
    demo_kit::start_stepped(&USAGE, STEPS, Strategy::InHandler, None, |cli, steps| {
        let name = demo_kit::names::object_name(SHM_NAME);
        if cli.has("--unlink") {
            unlink(&name, steps)
        } else {
            run(&name, steps)
        }
    });
}

fn run(name: &Name, steps: &mut Steps) -> Result<(), Failure> {
    let create = ShmOptions::new()
        .creation(Creation::CreateExclusive)
        .access(Access::ReadWrite)
        .mode((Mode::S_IRUSR | Mode::S_IWUSR).bits());
    steps.pause(&CREATE);
    // Owned for the cleanup only while this run creates it: interrupted half-way,
    // it is removed; finished, it is released and stays.
    let created = cleanup::own(ObjectKind::SharedMemory, name, || {
        SharedMemory::open(name, &create)
    })
    .inspect_err(|e| {
        demo_kit::stale::note_if_denied("excl_demo", ObjectKind::SharedMemory, name, e)
    });
    let shm = match created {
        Ok(shm) => {
            outln!("Created new shared memory object")?;
            steps.pause(&TRUNCATE);
            shm.set_len(SHM_SIZE).perror("ftruncate failed")?;
            shm
        }
        Err(e) if e.errno() == Errno::EEXIST => {
            outln!("Already exists, opening...")?;
            steps.pause(&OPEN);
            let existing = ShmOptions::new()
                .creation(Creation::OpenExisting)
                .access(Access::ReadWrite)
                .mode(0);
            let shm = SharedMemory::open(name, &existing)
                .inspect_err(|e| {
                    demo_kit::stale::note_if_denied("excl_demo", ObjectKind::SharedMemory, name, e)
                })
                .perror("shm_open (open existing) failed")?;
            // Not in the C program: a run killed between shm_open and ftruncate left
            // an object nothing will ever size. Say so (stdout stays C's).
            // A creator that is still running (paused at --step, in another terminal)
            // will size it: then the note names it instead.
            if let Ok(0) = shm.size() {
                let creators = demo_kit::stale::other_holders(ObjectKind::SharedMemory, name);
                if creators.is_empty() {
                    errln!(
                        "excl_demo: note: {name} is 0 bytes: a run that created it was stopped \
                         before ftruncate, and no run will size it now; remove it with \
                         excl_demo --unlink"
                    );
                } else {
                    errln!(
                        "excl_demo: note: {name} is 0 bytes for now: {} holds it, \
                         and has not sized it yet",
                        creators.join(", ")
                    );
                }
            }
            shm
        }
        Err(e) => return Err(e).perror("shm_open (create exclusive) failed"),
    };
    outln!("fd = {}, ready to use", shm.raw_fd())?;
    steps.pause_with(&CLOSE, &[("fd", &shm.raw_fd())]);
    // Unchecked in the C program; a failure here is reported, and the run still
    // counts as done, as in C.
    if let Err(e) = shm.close() {
        errln!("{}", e.perror_line("close"));
    }
    cleanup::release(ObjectKind::SharedMemory, name);
    Ok(())
}

fn unlink(name: &Name, steps: &mut Steps) -> Result<(), Failure> {
    steps.pause(&UNLINK);
    SharedMemory::unlink(name).perror("shm_unlink failed")?;
    outln!("Unlinked {name}")?;
    Ok(())
}
