//! Fork, wait, privileges and the cleanup registry across processes.
//!
//! A single-threaded runner (`harness = false`) runs each case in a child of its
//! own, so every fork here is the safe `process::fork`.

mod common;

use std::process::ExitCode;

use common::single_threaded::{run, Case};
use common::Scratch;
use demo_harness::needs;
use ipc_core::cleanup;
use ipc_core::process::{fork, ExitStatus};
use ipc_core::ObjectKind;
use ipc_core::{
    Access, Creation, Errno, MessageQueue, Mode, MqOptions, SemOptions, Semaphore, SharedMemory,
    ShmOptions,
};
use nix::unistd::{setgid, setuid, Gid, Uid};

const NOBODY: u32 = 65534;

/// Runs `body` in a forked child as uid/gid `NOBODY`; returns its exit status.
fn main() -> ExitCode {
    run(&[
        Case {
            name: "another_user_cannot_open_0600_objects",
            run: another_user_cannot_open_0600_objects,
        },
        Case {
            name: "max_messages_above_msg_max_is_einval_for_an_unprivileged_user",
            run: max_messages_above_msg_max_is_einval_for_an_unprivileged_user,
        },
        Case {
            name: "fork_hands_values_to_the_child_and_back_to_the_parent",
            run: fork_hands_values_to_the_child_and_back_to_the_parent,
        },
        Case {
            name: "a_child_never_unlinks_what_its_parent_owns",
            run: a_child_never_unlinks_what_its_parent_owns,
        },
        Case {
            name: "each_strategy_refuses_what_it_cannot_clean_up",
            run: each_strategy_refuses_what_it_cannot_clean_up,
        },
    ])
}

fn as_nobody(body: impl FnOnce() -> i32) -> ExitStatus {
    forked(
        || setgid(Gid::from_raw(NOBODY)).is_ok() && setuid(Uid::from_raw(NOBODY)).is_ok(),
        body,
    )
}

/// Runs `body` in a forked child with no privilege past a limit (root becomes
/// `NOBODY`; see `needs::drop_root`); returns its exit status.
fn unprivileged(body: impl FnOnce() -> i32) -> ExitStatus {
    forked(|| needs::drop_root(NOBODY), body)
}

/// Runs `drop_privileges`, then `body`, in a forked child; returns its exit status
/// (100 if the privileges could not be dropped).
fn forked(drop_privileges: impl FnOnce() -> bool, body: impl FnOnce() -> i32) -> ExitStatus {
    let (child, ()) = fork((), |()| {
        if !drop_privileges() {
            return 100;
        }
        body()
    })
    .expect("fork");
    child.wait().expect("waitpid")
}

/// The errno of a failed result as an exit code, 0 for success.
fn code<T>(result: ipc_core::Result<T>) -> i32 {
    match result {
        Ok(_) => 0,
        Err(e) => e.errno() as i32,
    }
}

fn another_user_cannot_open_0600_objects() {
    if !needs::as_two_users(
        "another_user_cannot_open_0600_objects",
        "another user to be refused this user's objects",
    ) {
        return;
    }
    let private = Mode::from_bits_truncate(0o600);

    let m = Scratch::new(ObjectKind::SharedMemory, "perm");
    let create = ShmOptions::new()
        .creation(Creation::CreateExclusive)
        .access(Access::ReadWrite)
        .mode(private.bits());
    let _shm = SharedMemory::open(&m.name, &create).unwrap();
    let status = as_nobody(|| code(SharedMemory::open(&m.name, &ShmOptions::default())));
    assert_eq!(status, ExitStatus::Exited(libc::EACCES));

    let q = Scratch::new(ObjectKind::MessageQueue, "perm");
    let create = MqOptions::new()
        .creation(Creation::CreateExclusive)
        .mode(private.bits());
    let _queue = MessageQueue::open(&q.name, &create).unwrap();
    let status = as_nobody(|| code(MessageQueue::open(&q.name, &MqOptions::default())));
    assert_eq!(status, ExitStatus::Exited(libc::EACCES));

    let s = Scratch::new(ObjectKind::Semaphore, "perm");
    let create = SemOptions::new()
        .creation(Creation::CreateExclusive)
        .mode(private.bits())
        .value(0);
    let _sem = Semaphore::open(&s.name, &create).unwrap();
    let status = as_nobody(|| code(Semaphore::open(&s.name, &SemOptions::default())));
    assert_eq!(status, ExitStatus::Exited(libc::EACCES));

    // Nor unlink them.
    let status = as_nobody(|| code(SharedMemory::unlink(&m.name)));
    assert_eq!(status, ExitStatus::Exited(libc::EACCES));
}

fn max_messages_above_msg_max_is_einval_for_an_unprivileged_user() {
    let msg_max: i64 = std::fs::read_to_string("/proc/sys/fs/mqueue/msg_max")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let q = Scratch::new(ObjectKind::MessageQueue, "msgmax");
    let options = MqOptions::new()
        .creation(Creation::CreateExclusive)
        .mode(0o600)
        .capacity(msg_max + 1, 64);
    let status = unprivileged(|| code(MessageQueue::open(&q.name, &options)));
    assert_eq!(status, ExitStatus::Exited(libc::EINVAL));
    // Only CAP_SYS_RESOURCE may go past msg_max (up to the kernel's hard limit).
    // Root in a container or sandbox may lack it: on this project's VM it does.
    match MessageQueue::open(&q.name, &options) {
        Ok(queue) => {
            assert!(
                has_cap_sys_resource(),
                "passed msg_max without CAP_SYS_RESOURCE"
            );
            assert_eq!(queue.attributes().unwrap().max_messages, msg_max + 1);
        }
        Err(e) => {
            assert!(
                !has_cap_sys_resource(),
                "refused with CAP_SYS_RESOURCE: {e}"
            );
            assert_eq!(e.errno(), Errno::EINVAL);
        }
    }
}

/// Whether this process has CAP_SYS_RESOURCE (bit 24 of CapEff).
fn has_cap_sys_resource() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let hex = status
        .lines()
        .find_map(|line| line.strip_prefix("CapEff:"))
        .unwrap()
        .trim();
    u64::from_str_radix(hex, 16).unwrap() & (1 << 24) != 0
}

fn fork_hands_values_to_the_child_and_back_to_the_parent() {
    let m = Scratch::new(ObjectKind::SharedMemory, "fork");
    let shm = SharedMemory::open(
        &m.name,
        &ShmOptions::new().creation(Creation::CreateExclusive),
    )
    .unwrap();
    shm.set_len(32).unwrap();
    let map = shm.map(32).unwrap();
    let (child, map) = fork(map, |map| {
        map.write_c_string(b"from the child").unwrap();
        7
    })
    .unwrap();
    assert_eq!(child.wait().unwrap(), ExitStatus::Exited(7));
    assert_eq!(map.read_c_string(), b"from the child");
    let (child, ()) = fork((), |()| {
        std::panic::set_hook(Box::new(|_| {})); // a panic on purpose: no message
        panic!("child panics")
    })
    .unwrap();
    assert_eq!(child.wait().unwrap(), ExitStatus::Exited(101));
}

fn a_child_never_unlinks_what_its_parent_owns() {
    let m = Scratch::new(ObjectKind::SharedMemory, "owned");
    let create = ShmOptions::new().creation(Creation::CreateExclusive);
    let shm = cleanup::own(ObjectKind::SharedMemory, &m.name, || {
        SharedMemory::open(&m.name, &create)
    })
    .unwrap();
    drop(shm);
    let (child, ()) = fork((), |()| cleanup::unlink_owned().len() as i32).unwrap();
    assert_eq!(child.wait().unwrap(), ExitStatus::Exited(0));
    assert!(
        SharedMemory::open(&m.name, &ShmOptions::default()).is_ok(),
        "still there"
    );

    // The owner does remove it, once: a second unlink finds nothing.
    cleanup::unlink(ObjectKind::SharedMemory, &m.name).unwrap();
    assert!(
        !cleanup::release(ObjectKind::SharedMemory, &m.name),
        "forgotten after unlink"
    );
    assert_eq!(
        cleanup::unlink(ObjectKind::SharedMemory, &m.name)
            .unwrap_err()
            .errno(),
        Errno::ENOENT
    );
}

fn each_strategy_refuses_what_it_cannot_clean_up() {
    let q = Scratch::new(ObjectKind::MessageQueue, "strategy");
    let create = MqOptions::new().creation(Creation::CreateExclusive);
    // In a child, so this test process keeps no handler or thread.
    let (child, ()) = fork((), |()| {
        cleanup::install(cleanup::Strategy::InHandler, None).unwrap();
        let again = cleanup::install(cleanup::Strategy::InHandler, None);
        assert_eq!(again.unwrap_err().errno(), Errno::EBUSY);
        match cleanup::own(ObjectKind::MessageQueue, &q.name, || {
            MessageQueue::open(&q.name, &create)
        }) {
            Err(e) if e.refusal().is_some() => 0,
            _ => 1,
        }
    })
    .unwrap();
    assert_eq!(child.wait().unwrap(), ExitStatus::Exited(0));
    assert_eq!(
        MessageQueue::open(&q.name, &MqOptions::default())
            .unwrap_err()
            .errno(),
        Errno::ENOENT,
        "refused before mq_open ran"
    );
    let (child, ()) = fork((), |()| {
        cleanup::install(cleanup::Strategy::HelperThread, None).unwrap();
        // Refused before any fork happens.
        match fork((), |()| 0) {
            Err(e) if e.refusal() == Some(&ipc_core::Refusal::ForkWithHelperThread) => 0,
            _ => 1,
        }
    })
    .unwrap();
    assert_eq!(child.wait().unwrap(), ExitStatus::Exited(0));
}
