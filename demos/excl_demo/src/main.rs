//! `excl_demo`: `O_CREAT | O_EXCL`, the atomic "create only if absent".
//!
//! The first run creates `/ep_exclusive` (mode 0600) and sizes it to 1024 bytes;
//! later runs get `EEXIST` and open the existing object instead. The object is
//! left in `/dev/shm` on purpose, so the second run has something to find;
//! `excl_demo --unlink` removes it.

use demo_kit::{Failure, Perror, Steps, Usage};
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

fn main() {
    // A handler that unlinks with async-signal-safe calls: it needs no thread and
    // no descriptor, so the object still gets fd 3, as in C.
    demo_kit::start(&USAGE, Strategy::InHandler, None, |cli, steps| {
        let name = Name::new(SHM_NAME).expect("the demo's name is valid");
        if cli.has("--unlink") {
            unlink(&name, steps)
        } else {
            run(&name, steps)
        }
    });
}

fn run(name: &Name, steps: &mut Steps) -> Result<(), Failure> {
    let create = ShmOptions {
        creation: Creation::CreateExclusive,
        access: Access::ReadWrite,
        mode: Mode::S_IRUSR | Mode::S_IWUSR,
    };
    steps.pause(
        "shm_open(\"/ep_exclusive\", O_CREAT|O_EXCL|O_RDWR, 0600)",
        "ls -l /dev/shm/ep_exclusive: absent on a first run, there on a second",
    );
    // Owned for the cleanup only while this run creates it: interrupted half-way,
    // it is removed; finished, it is released and stays.
    let created = cleanup::own(ObjectKind::SharedMemory, name, || {
        SharedMemory::open(name, &create)
    });
    let shm = match created {
        Ok(shm) => {
            println!("Created new shared memory object");
            steps.pause(
                "ftruncate(fd, 1024)",
                "ls -l /dev/shm/ep_exclusive: created with size 0",
            );
            shm.set_len(SHM_SIZE).perror("ftruncate failed")?;
            shm
        }
        Err(e) if e.errno() == Errno::EEXIST => {
            println!("Already exists, opening...");
            steps.pause(
                "shm_open(\"/ep_exclusive\", O_RDWR, 0)",
                "ls -l /dev/shm/ep_exclusive: left by an earlier run",
            );
            let existing = ShmOptions {
                creation: Creation::OpenExisting,
                access: Access::ReadWrite,
                mode: Mode::empty(),
            };
            SharedMemory::open(name, &existing).perror("shm_open (open existing) failed")?
        }
        Err(e) => return Err(e).perror("shm_open (create exclusive) failed"),
    };
    println!("fd = {}, ready to use", shm.raw_fd());
    steps.pause(
        "close(fd)",
        &format!(
            "ls -l /proc/{}/fd: fd {} points at /dev/shm/ep_exclusive",
            std::process::id(),
            shm.raw_fd()
        ),
    );
    // Unchecked in the C program; a failure here is reported, and the run still
    // counts as done, as in C.
    if let Err(e) = shm.close() {
        eprintln!("{}", e.perror_line("close"));
    }
    cleanup::release(ObjectKind::SharedMemory, name);
    Ok(())
}

fn unlink(name: &Name, steps: &mut Steps) -> Result<(), Failure> {
    steps.pause(
        "shm_unlink(\"/ep_exclusive\")",
        "ls -l /dev/shm/ep_exclusive: still there",
    );
    SharedMemory::unlink(name).perror("shm_unlink failed")?;
    println!("Unlinked {SHM_NAME}");
    Ok(())
}
