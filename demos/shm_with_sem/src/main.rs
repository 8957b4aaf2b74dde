//! `shm_with_sem`: shared memory guarded by a named semaphore used as a lock.
//!
//! Creates `/ep_safe_shm` (256 bytes, mode 0600), maps it, closes the descriptor
//! (the mapping stays), creates the lock `/ep_shm_lock` (value 1), and forks. The
//! parent writes under the lock; the child, a second later, reads under the lock
//! and writes back; the parent reads the child's answer and removes everything.

use std::time::Duration;

use demo_kit::{create_replacing_stale, Failure, Perror, Steps, Usage};
use ipc_core::cleanup::{self, Strategy};
use ipc_core::process::{self, ExitStatus};
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

fn main() {
    // This demo forks: the handler cleans up itself, with async-signal-safe calls.
    demo_kit::start(&USAGE, Strategy::InHandler, None, |_, steps| run(steps));
}

fn run(steps: &mut Steps) -> Result<(), Failure> {
    let shm_name = Name::new(SHM_NAME).expect("the demo's name is valid");
    let sem_name = Name::new(SEM_NAME).expect("the demo's name is valid");
    let pid = std::process::id();

    steps.pause(
        "shm_open(\"/ep_safe_shm\", O_CREAT|O_RDWR, 0600)",
        "ls -l /dev/shm: no ep_safe_shm yet",
    );
    let shm_options = ShmOptions {
        creation: Creation::OpenOrCreate,
        access: Access::ReadWrite,
        mode: Mode::S_IRUSR | Mode::S_IWUSR,
    };
    let shm = cleanup::own(ObjectKind::SharedMemory, &shm_name, || {
        SharedMemory::open(&shm_name, &shm_options)
    })
    .perror("shm_open")?;

    steps.pause("ftruncate(fd, 256)", "ls -l /dev/shm/ep_safe_shm: size 0");
    shm.set_len(SHM_SIZE as u64).perror("ftruncate")?;

    steps.pause(
        "mmap 256 bytes, MAP_SHARED",
        "ls -l /dev/shm/ep_safe_shm: size 256",
    );
    let map = shm.map(SHM_SIZE).perror("mmap")?;

    steps.pause(
        "close(fd): the mapping stays",
        &format!("grep ep_safe_shm /proc/{pid}/maps; ls -l /proc/{pid}/fd"),
    );
    shm.close().perror("close")?;

    steps.pause(
        "sem_open(\"/ep_shm_lock\", O_CREAT|O_EXCL, 0644, 1)",
        &format!("the fd is gone from /proc/{pid}/fd, the mapping is still in /proc/{pid}/maps"),
    );
    let lock = create_lock(&sem_name)?;

    map.write_c_string(b"initial data").perror("snprintf")?;

    steps.pause(
        "fork; the parent then writes under the lock while the child sleeps 1 s",
        "ls -l /dev/shm: ep_safe_shm and sem.ep_shm_lock",
    );
    let (child, (map, lock)) =
        process::fork((map, lock), |(map, lock)| match child_part(&map, &lock) {
            Ok(()) => {
                let _ = map.unmap();
                let _ = lock.close();
                0
            }
            Err(failure) => {
                eprintln!("{}", failure.line());
                1
            }
        })
        .perror("fork")?;

    lock.wait().perror("sem_wait")?;
    map.write_c_string(b"written by parent")
        .perror("snprintf")?;
    println!("Parent wrote: '{}'", text(&map));
    lock.post().perror("sem_post")?;

    steps.pause(
        "wait for the child",
        &format!(
            "grep ep_safe_shm /proc/{}/maps: the child maps it too",
            child.pid()
        ),
    );
    let status = child.wait().perror("waitpid")?;

    lock.wait().perror("sem_wait")?;
    println!("Parent final read: '{}'", text(&map));
    lock.post().perror("sem_post")?;

    steps.pause(
        "munmap and sem_close",
        &format!("grep ep_safe_shm /proc/{pid}/maps"),
    );
    map.unmap().perror("munmap")?;
    lock.close().perror("sem_close")?;
    steps.pause(
        "shm_unlink and sem_unlink",
        "ls -l /dev/shm: unmapped and closed, both objects are still there",
    );
    cleanup::unlink(ObjectKind::SharedMemory, &shm_name).perror("shm_unlink")?;
    cleanup::unlink(ObjectKind::Semaphore, &sem_name).perror("sem_unlink")?;
    println!("All cleaned up.");
    if status != ExitStatus::Exited(0) {
        eprintln!("shm_with_sem: the child ended with {status:?}");
        std::process::exit(1);
    }
    Ok(())
}

/// `sem_open(name, O_CREAT|O_EXCL, 0644, 1)`; a lock left by a crashed run is
/// unlinked and created again (the C program fails with EEXIST instead).
fn create_lock(name: &Name) -> Result<Semaphore, Failure> {
    let options = SemOptions {
        creation: Creation::CreateExclusive,
        mode: Mode::from_bits_truncate(0o644),
        value: 1,
    };
    create_replacing_stale("shm_with_sem", ObjectKind::Semaphore, name, || {
        Semaphore::open(name, &options)
    })
    .perror("sem_open")
}

/// The child's part: let the parent go first (the C program's `sleep(1)`), then
/// read and answer under the lock.
fn child_part(map: &Mapping, lock: &Semaphore) -> Result<(), Failure> {
    std::thread::sleep(Duration::from_secs(1));
    lock.wait().perror("sem_wait")?;
    println!("Child reads: '{}'", text(map));
    map.write_c_string(b"updated by child").perror("snprintf")?;
    lock.post().perror("sem_post")?;
    Ok(())
}

/// The C string at the start of the mapping, as `printf("%s", ptr)` prints it.
fn text(map: &Mapping) -> String {
    String::from_utf8_lossy(&map.read_c_string()).into_owned()
}
