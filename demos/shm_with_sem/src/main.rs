//! `shm_with_sem`: shared memory guarded by a named semaphore used as a lock.
//!
//! Creates `/ep_safe_shm` (256 bytes, mode 0600), maps it, closes the descriptor
//! (the mapping stays), creates the lock `/ep_shm_lock` (value 1), and forks. The
//! parent writes under the lock; the child, a second later, reads under the lock
//! and writes back; the parent reads the child's answer and removes everything.

use std::time::Duration;

use demo_kit::{
    create_replacing_stale, errln, outln, Failure, Partner, Perror, Step, Steps, Usage,
};
use ipc_core::cleanup::{self, Strategy};
use ipc_core::process;
use ipc_core::ObjectKind;
use ipc_core::{
    Access, Creation, Mapping, Mode, Name, SemOptions, Semaphore, SharedMemory, ShmOptions,
};

const SHM_NAME: &str = "/ep_safe_shm";
const SEM_NAME: &str = "/ep_shm_lock";
const SHM_SIZE: usize = 256;

const USAGE: Usage = Usage {
    name: "shm_with_sem",
    about: "A parent and a forked child share 256 bytes of POSIX shared memory, /ep_safe_shm,\n\
            and take turns on it under a named semaphore used as a lock, /ep_shm_lock.",
    flags: &[],
    options: &[],
    steps: true,
};

const OPEN: Step = Step {
    what: "shm_open(\"/ep_safe_shm\", O_CREAT|O_RDWR, 0600)",
    look: "ls -l /dev/shm: no ep_safe_shm yet",
};
const TRUNCATE: Step = Step {
    what: "ftruncate(fd, 256)",
    look: "ls -l /dev/shm/ep_safe_shm: size 0",
};
const MAP: Step = Step {
    what: "mmap 256 bytes, MAP_SHARED",
    look: "ls -l /dev/shm/ep_safe_shm: size 256",
};
const CLOSE: Step = Step {
    what: "close(fd): the mapping stays",
    look: "grep ep_safe_shm /proc/{pid}/maps; ls -l /proc/{pid}/fd",
};
const LOCK: Step = Step {
    what: "sem_open(\"/ep_shm_lock\", O_CREAT|O_EXCL, 0644, 1)",
    look: "the fd is gone from /proc/{pid}/fd, the mapping is still in /proc/{pid}/maps",
};
const FORK: Step = Step {
    what: "fork; the parent then writes under the lock while the child sleeps 1 s",
    look: "ls -l /dev/shm: ep_safe_shm and sem.ep_shm_lock",
};
const WAIT: Step = Step {
    what: "wait for the child",
    look: "grep ep_safe_shm /proc/{child}/maps: the child maps it too",
};
const UNMAP: Step = Step {
    what: "munmap and sem_close",
    look: "grep ep_safe_shm /proc/{pid}/maps",
};
const UNLINK: Step = Step {
    what: "shm_unlink and sem_unlink",
    look: "ls -l /dev/shm: unmapped and closed, both objects are still there",
};
const STEPS: &[Step] = &[OPEN, TRUNCATE, MAP, CLOSE, LOCK, FORK, WAIT, UNMAP, UNLINK];

fn main() {
    // This demo forks: the handler cleans up itself, with async-signal-safe calls.
    demo_kit::start_stepped(&USAGE, STEPS, Strategy::InHandler, None, |_, steps| {
        run(steps)
    });
}

fn run(steps: &mut Steps) -> Result<(), Failure> {
    let shm_name = demo_kit::names::object_name(SHM_NAME);
    let sem_name = demo_kit::names::object_name(SEM_NAME);

    steps.pause(&OPEN);
    let shm_options = ShmOptions::new()
        .creation(Creation::OpenOrCreate)
        .access(Access::ReadWrite)
        .mode((Mode::S_IRUSR | Mode::S_IWUSR).bits());
    let shm =
        demo_kit::open_unless_held("shm_with_sem", ObjectKind::SharedMemory, &shm_name, || {
            SharedMemory::open(&shm_name, &shm_options)
        })
        .perror("shm_open")?;

    steps.pause(&TRUNCATE);
    shm.set_len(SHM_SIZE as u64).perror("ftruncate")?;

    steps.pause(&MAP);
    let map = shm.map(SHM_SIZE).perror("mmap")?;

    steps.pause(&CLOSE);
    shm.close().perror("close")?;

    steps.pause(&LOCK);
    let lock = create_lock(&sem_name)?;

    map.write_c_string(b"initial data").perror("snprintf")?;

    steps.pause(&FORK);
    let (child, (map, lock)) =
        process::fork((map, lock), |(map, lock)| match child_part(&map, &lock) {
            Ok(()) => {
                let _ = map.unmap();
                let _ = lock.close();
                0
            }
            Err(failure) => {
                errln!("{} (in the child)", failure.line());
                1
            }
        })
        .perror("fork")?;
    // From here on, a failure of the parent (a `?`) drops the partner, which stops
    // the child, and a child that ends early ends the parent's waits for the lock.
    let mut child = Partner::new(child, "shm_with_sem", "the child");

    child.wait_on(&lock)?;
    map.write_c_string(b"written by parent")
        .perror("snprintf")?;
    let wrote = outln!("Parent wrote: '{}'", text(&map));
    // Given back even if the line could not be written: never fail holding it.
    lock.post().perror("sem_post")?;
    wrote?;

    let child_pid = child.pid().expect("not reaped yet");
    steps.pause_with(&WAIT, &[("child", &child_pid)]);
    let status = child.finish()?;

    child.wait_on(&lock)?;
    let read = outln!("Parent final read: '{}'", text(&map));
    lock.post().perror("sem_post")?;
    read?;

    steps.pause(&UNMAP);
    map.unmap().perror("munmap")?;
    lock.close().perror("sem_close")?;
    steps.pause(&UNLINK);
    cleanup::unlink(ObjectKind::SharedMemory, &shm_name).perror("shm_unlink")?;
    cleanup::unlink(ObjectKind::Semaphore, &sem_name).perror("sem_unlink")?;
    outln!("All cleaned up.")?;
    child.check(status)
}

/// `sem_open(name, O_CREAT|O_EXCL, 0644, 1)`; a lock left by a crashed run is
/// unlinked and created again (the C program fails with EEXIST instead).
fn create_lock(name: &Name) -> Result<Semaphore, Failure> {
    let options = SemOptions::new()
        .creation(Creation::CreateExclusive)
        .mode(0o644)
        .value(1);
    create_replacing_stale("shm_with_sem", ObjectKind::Semaphore, name, || {
        Semaphore::open(name, &options)
    })
    .perror("sem_open")
}

/// The child's part: let the parent go first (the C program's `sleep(1)`), then
/// read and answer under the lock, which it gives back whatever happens (a line it
/// cannot write included), so it never ends holding it. Its wait ends if the parent
/// dies (`PR_SET_PDEATHSIG`); a parent that fails stops it first.
fn child_part(map: &Mapping, lock: &Semaphore) -> Result<(), Failure> {
    std::thread::sleep(Duration::from_secs(1));
    lock.wait().perror("sem_wait")?;
    let turn = outln!("Child reads: '{}'", text(map))
        .and_then(|()| map.write_c_string(b"updated by child").perror("snprintf"));
    let released = lock.post().perror("sem_post");
    turn.and(released)
}

/// The C string at the start of the mapping, as `printf("%s", ptr)` prints it.
fn text(map: &Mapping) -> String {
    String::from_utf8_lossy(&map.read_c_string()).into_owned()
}
