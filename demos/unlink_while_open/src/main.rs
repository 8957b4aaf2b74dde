//! `unlink_while_open`: unlink removes the name, not an object in use.
//!
//! This process creates and holds one object of each kind; a second process (a
//! forked child) unlinks all three names. The holder keeps using its objects;
//! opening the names without `O_CREAT` now fails with `ENOENT`; with `O_CREAT` it
//! makes new, distinct objects.

use demo_kit::facility::{self, unique_name, Handle};
use demo_kit::{outln, Failure, Perror, Usage};
use ipc_core::cleanup::{self, Strategy};
use ipc_core::process::{self, Child, ExitStatus};
use ipc_core::ObjectKind;
use ipc_core::{Creation, Errno, Mapping, Mode, Name};

const USAGE: Usage = Usage {
    name: "unlink_while_open",
    about: "Hold one object of each kind while another process unlinks their names: the\n\
            holder keeps working, the names are gone (ENOENT), and O_CREAT makes new objects.",
    flags: &[],
    options: &[],
    steps: false,
};

fn main() {
    demo_kit::start_lab(&USAGE, |_, _| run());
}

fn run() -> Result<(), Failure> {
    let names: Vec<Name> = ObjectKind::ALL
        .iter()
        .map(|&k| unique_name("unlink_while_open", k.label()))
        .collect();
    let mode = Mode::from_bits_truncate(0o600);

    // The unlinker is forked first and waits for the go: the queues need the
    // helper-thread cleanup, which cannot be installed before a fork.
    let mut gate_map = Mapping::anonymous(64).perror("mmap")?;
    let gate = gate_map.place_shared_semaphore(0, 0).perror("sem_init")?;
    let gate = gate_map.semaphore(gate).perror("sem_init")?;
    let (unlinker, ()) = process::fork((), |()| {
        if gate.wait().is_err() {
            return 1;
        }
        let failed = ObjectKind::ALL
            .iter()
            .zip(&names)
            .filter(|(&k, n)| facility::unlink(k, n).is_err())
            .count();
        failed as i32
    })
    .perror("fork")?;
    let mut unlinker = Unlinker(Some(unlinker));
    cleanup::install(Strategy::HelperThread, None).perror("cleanup")?;

    let mut held = Vec::new();
    for (&kind, name) in ObjectKind::ALL.iter().zip(&names) {
        let handle = cleanup::own(kind, name, || {
            facility::open(kind, name, Creation::CreateExclusive, mode)
        })
        .perror("create")?;
        held.push(handle);
    }
    let Handle::Shm(shm) = &held[0] else {
        unreachable!()
    };
    // Reserved: on a full /dev/shm an ENOSPC error here, not a SIGBUS later.
    shm.reserve(64).perror("posix_fallocate")?;
    let map = shm.map(64).perror("mmap")?;
    outln!(
        "created and holding: {}",
        names
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    )?;

    gate.post().perror("sem_post")?;
    let status = unlinker.wait()?;
    if status != ExitStatus::Exited(0) {
        return Err(Failure::message(format!(
            "unlink_while_open: the unlinking process ended with {status:?}"
        )));
    }
    outln!(
        "another process (the child) unlinked all {} names",
        names.len()
    )?;

    // 1. The holder's objects still work.
    let mut working = 0;
    for (handle, kind) in held.iter().zip(ObjectKind::ALL) {
        let ok = match handle {
            Handle::Shm(_) => {
                map.write_c_string(b"still here").is_ok() && map.read_c_string() == b"still here"
            }
            Handle::Sem(sem) => sem.post().is_ok() && sem.value().ok() == Some(1),
            Handle::Mq(queue) => {
                let mut buf = vec![0u8; 8192];
                queue.send(b"still here", 0).is_ok()
                    && queue
                        .receive(&mut buf)
                        .is_ok_and(|got| &buf[..got.len] == b"still here")
            }
        };
        outln!(
            "  held {:<14} still works: {}",
            kind.noun(),
            if ok { "yes" } else { "NO" }
        )?;
        working += usize::from(ok);
    }

    // 2. The names are gone.
    let mut enoent = 0;
    for (&kind, name) in ObjectKind::ALL.iter().zip(&names) {
        let result = facility::open(kind, name, Creation::OpenExisting, mode);
        let errno = result.as_ref().err().map(|e| e.errno());
        outln!(
            "  open {name} without O_CREAT: {}",
            errno.map_or("opened?!".into(), |e| format!("{e:?}"))
        )?;
        enoent += usize::from(errno == Some(Errno::ENOENT));
    }

    // 3. O_CREAT makes new objects, distinct from the held ones: a marker left in
    // each held object is absent from its new namesake.
    if let Handle::Sem(sem) = &held[1] {
        sem.post().perror("sem_post")?; // held value: 2
    }
    if let Handle::Mq(queue) = &held[2] {
        queue.send(b"marker", 0).perror("mq_send")?; // held depth: 1
    }
    let mut distinct = 0;
    for (&kind, name) in ObjectKind::ALL.iter().zip(&names) {
        let new = cleanup::own(kind, name, || {
            facility::open(kind, name, Creation::CreateExclusive, mode)
        })
        .perror("create")?;
        let differs = match &new {
            Handle::Shm(shm) => shm.size().perror("fstat")? == 0, // the held one is 64 bytes
            Handle::Sem(sem) => sem.value().perror("sem_getvalue")? == 0,
            Handle::Mq(queue) => queue.attributes().perror("mq_getattr")?.current_messages == 0,
        };
        outln!(
            "  create {name} again: a new object, distinct from the held one: {}",
            if differs { "yes" } else { "NO" }
        )?;
        distinct += usize::from(differs);
        drop(new);
        cleanup::unlink(kind, name).perror("unlink")?;
    }
    drop(map);
    drop(held);
    let all = ObjectKind::ALL.len();
    outln!(
        "verdict: after another process unlinked them, {working}/{all} held objects kept \
         working; opening the names without O_CREAT gave ENOENT {enoent}/{all}; O_CREAT made \
         {distinct}/{all} new, distinct objects"
    )?;
    Ok(())
}

/// The unlinking child until it is waited for: if the lab fails before that (a
/// create, or a write to stdout), it is killed and reaped instead of being left
/// waiting at its gate.
struct Unlinker(Option<Child>);

impl Unlinker {
    fn wait(&mut self) -> Result<ExitStatus, Failure> {
        match self.0.take() {
            Some(child) => child.wait().perror("waitpid"),
            None => Err(Failure::message(
                "unlink_while_open: the unlinker was already waited for",
            )),
        }
    }
}

impl Drop for Unlinker {
    fn drop(&mut self) {
        if let Some(child) = self.0.take() {
            let _ = child.signal(ipc_core::Signal::SIGKILL);
            let _ = child.wait();
        }
    }
}
