//! Every limit failure produced for real, and each error naming its limit.
//!
//! A small tmpfs over `/dev/shm` in a private mount namespace and `queues_max`
//! lowered in a private IPC namespace need root: an ordinary user gets them in a
//! user namespace (`demo_harness::needs::as_root`), or the test says it is skipped.
//! `setrlimit`, and no privilege past a limit, in forked children. A single-threaded
//! runner (`harness = false`) runs each case in a child of its own, so every fork
//! here is the safe `process::fork`.

mod common;

use std::process::ExitCode;
use std::time::Duration;

use common::single_threaded::{run, Case};
use common::Scratch;
use demo_harness::needs;
use ipc_core::process::{fork, ExitStatus};
use ipc_core::ObjectKind;
use ipc_core::{
    Creation, Deadline, Errno, MessageQueue, Mode, MqOptions, Name, Refusal, SemOptions, Semaphore,
    SharedMemory, ShmOptions, Sizing, SEM_VALUE_MAX,
};
use nix::sys::resource::{setrlimit, Resource};

/// Runs `body` in a forked child; its exit code is the test's verdict (0 = pass,
/// anything else names the check that failed).
fn main() -> ExitCode {
    run(&[
        Case {
            name: "a_full_dev_shm_is_enospc_at_creation_not_sigbus_later",
            run: a_full_dev_shm_is_enospc_at_creation_not_sigbus_later,
        },
        Case {
            name: "queues_max_is_enospc_naming_queues_max",
            run: queues_max_is_enospc_naming_queues_max,
        },
        Case {
            name: "rlimit_nofile_is_emfile_naming_rlimit_nofile",
            run: rlimit_nofile_is_emfile_naming_rlimit_nofile,
        },
        Case {
            name: "rlimit_msgqueue_is_emfile_naming_rlimit_msgqueue",
            run: rlimit_msgqueue_is_emfile_naming_rlimit_msgqueue,
        },
        Case {
            name: "msg_max_is_einval_naming_msg_max",
            run: msg_max_is_einval_naming_msg_max,
        },
        Case {
            name: "priorities_and_semaphore_values_beyond_their_limits",
            run: priorities_and_semaphore_values_beyond_their_limits,
        },
        Case {
            name: "bad_and_passed_deadlines",
            run: bad_and_passed_deadlines,
        },
    ])
}

fn in_child(body: impl FnOnce() -> i32) -> ExitStatus {
    let (child, ()) = fork((), |()| body()).expect("fork");
    child.wait().expect("waitpid")
}

fn private() -> Mode {
    Mode::from_bits_truncate(0o600)
}

/// Whether `e` has `errno` and names the limit `name`.
fn names(e: &ipc_core::Error, errno: Errno, name: &str) -> bool {
    e.errno() == errno && e.limit().is_some_and(|l| l.name == name) && e.to_string().contains(name)
}

fn a_full_dev_shm_is_enospc_at_creation_not_sigbus_later() {
    if !needs::as_root(
        "a_full_dev_shm_is_enospc_at_creation_not_sigbus_later",
        "a 1 MiB tmpfs mounted on /dev/shm",
    ) {
        return;
    }
    let status = in_child(|| {
        use nix::mount::{mount, MsFlags};
        use nix::sched::{unshare, CloneFlags};
        // A 1 MiB /dev/shm, seen by this child only.
        if unshare(CloneFlags::CLONE_NEWNS).is_err()
            || mount(
                None::<&str>,
                "/",
                None::<&str>,
                MsFlags::MS_REC | MsFlags::MS_PRIVATE,
                None::<&str>,
            )
            .is_err()
            || mount(
                Some("tmpfs"),
                "/dev/shm",
                Some("tmpfs"),
                MsFlags::empty(),
                Some("size=1m"),
            )
            .is_err()
        {
            return 10;
        }
        let name = Name::new("/faults_full").unwrap();
        // Reserved: fails now, naming the limit, and leaves nothing half-made.
        match SharedMemory::create(&name, 4 << 20, private(), Sizing::Reserve) {
            Err(e) if names(&e, Errno::ENOSPC, "free space in /dev/shm") => {}
            _ => return 11,
        }
        if std::path::Path::new("/dev/shm/faults_full").exists() {
            return 12;
        }
        // ftruncate alone "succeeds": the shortfall would surface as SIGBUS on a touch.
        match SharedMemory::create(&name, 4 << 20, private(), Sizing::Truncate) {
            Ok(shm) => {
                drop(shm);
                let _ = SharedMemory::unlink(&name);
                0
            }
            Err(_) => 13,
        }
    });
    assert_eq!(status, ExitStatus::Exited(0));
}

fn queues_max_is_enospc_naming_queues_max() {
    if !needs::as_root(
        "queues_max_is_enospc_naming_queues_max",
        "queues_max set in a private IPC namespace",
    ) {
        return;
    }
    let status = in_child(|| {
        use nix::sched::{unshare, CloneFlags};
        // A private IPC namespace: its own queues and its own queues_max.
        if unshare(CloneFlags::CLONE_NEWIPC).is_err()
            || std::fs::write("/proc/sys/fs/mqueue/queues_max", "1").is_err()
        {
            return 10;
        }
        // Unprivileged, so CAP_SYS_RESOURCE cannot pass the limit.
        if !needs::drop_root(65534) {
            return 11;
        }
        let options = MqOptions::new()
            .creation(Creation::CreateExclusive)
            .mode(private().bits())
            .capacity(1, 16);
        let first = MessageQueue::open(&Name::new("/faults_q1").unwrap(), &options);
        let second = MessageQueue::open(&Name::new("/faults_q2").unwrap(), &options);
        match (first, second) {
            (Ok(_), Err(e))
                if names(&e, Errno::ENOSPC, "queues_max") && e.to_string().contains("is 1") =>
            {
                0
            }
            (Ok(_), _) => 12,
            _ => 13,
        }
        // The namespace, and its queues, end with this process.
    });
    assert_eq!(status, ExitStatus::Exited(0));
}

fn rlimit_nofile_is_emfile_naming_rlimit_nofile() {
    let m = Scratch::new(ObjectKind::SharedMemory, "nofile");
    let q = Scratch::new(ObjectKind::MessageQueue, "nofile");
    let options = ShmOptions::new().creation(Creation::OpenOrCreate);
    let status = in_child(|| {
        // The limit at the lowest free descriptor number: the next open needs that
        // number, which the limit no longer allows.
        let Ok(lowest) = nix::unistd::dup(std::io::stdin()) else {
            return 9;
        };
        let lowest = std::os::fd::IntoRawFd::into_raw_fd(lowest);
        let _ = nix::unistd::close(lowest);
        if setrlimit(Resource::RLIMIT_NOFILE, lowest as u64, lowest as u64).is_err() {
            return 10;
        }
        let shm = match SharedMemory::open(&m.name, &options) {
            Err(e) if names(&e, Errno::EMFILE, "RLIMIT_NOFILE") => 0,
            _ => 11,
        };
        let queue_options = MqOptions::new()
            .creation(Creation::OpenOrCreate)
            .mode(private().bits());
        let mq = match MessageQueue::open(&q.name, &queue_options) {
            Err(e) if names(&e, Errno::EMFILE, "RLIMIT_NOFILE") => 0,
            _ => 12,
        };
        shm + mq
    });
    assert_eq!(status, ExitStatus::Exited(0));
}

fn rlimit_msgqueue_is_emfile_naming_rlimit_msgqueue() {
    let q = Scratch::new(ObjectKind::MessageQueue, "msgqueue");
    let status = in_child(|| {
        // Allowed 1000 bytes, less than the queue needs whatever else this user
        // has queued; root becomes a uid of its own.
        if setrlimit(Resource::RLIMIT_MSGQUEUE, 1000, 1000).is_err() || !needs::drop_root(65533) {
            return 10;
        }
        let options = MqOptions::new()
            .creation(Creation::CreateExclusive)
            .mode(private().bits())
            .capacity(10, 1024);
        match MessageQueue::open(&q.name, &options) {
            Err(e)
                if names(&e, Errno::EMFILE, "RLIMIT_MSGQUEUE")
                    && e.to_string().contains("is 1000") =>
            {
                0
            }
            _ => 11,
        }
    });
    assert_eq!(status, ExitStatus::Exited(0));
}

fn msg_max_is_einval_naming_msg_max() {
    let q = Scratch::new(ObjectKind::MessageQueue, "msg_max");
    let msg_max = ipc_core::limits::mqueue_sysctl("msg_max").unwrap();
    let status = in_child(|| {
        if !needs::drop_root(65534) {
            return 10;
        }
        let options = MqOptions::new()
            .creation(Creation::CreateExclusive)
            .mode(private().bits())
            .capacity(msg_max + 1, 16);
        match MessageQueue::open(&q.name, &options) {
            Err(e)
                if names(&e, Errno::EINVAL, "msg_max")
                    && e.to_string().contains("/proc/sys/fs/mqueue/msg_max") =>
            {
                0
            }
            _ => 11,
        }
    });
    assert_eq!(status, ExitStatus::Exited(0));
}

fn priorities_and_semaphore_values_beyond_their_limits() {
    let q = Scratch::new(ObjectKind::MessageQueue, "prio");
    let queue = MessageQueue::open(
        &q.name,
        &MqOptions::new()
            .creation(Creation::CreateExclusive)
            .mode(private().bits())
            .nonblocking(true),
    )
    .unwrap();
    let e = queue.send(b"x", ipc_core::limits::MQ_PRIO_MAX).unwrap_err();
    assert!(names(&e, Errno::EINVAL, "MQ_PRIO_MAX"), "{e}");
    assert_eq!(
        e.refusal(),
        Some(&Refusal::OverLimit),
        "refused before any call"
    );
    queue.send(b"x", ipc_core::limits::MQ_PRIO_MAX - 1).unwrap();

    let s = Scratch::new(ObjectKind::Semaphore, "value");
    let too_big = SemOptions::new()
        .creation(Creation::CreateExclusive)
        .mode(private().bits())
        .value(SEM_VALUE_MAX + 1);
    let e = Semaphore::open(&s.name, &too_big).unwrap_err();
    assert!(names(&e, Errno::EINVAL, "SEM_VALUE_MAX"), "{e}");
    let at_max = too_big.value(SEM_VALUE_MAX);
    let sem = Semaphore::open(&s.name, &at_max).unwrap();
    let e = sem.post().unwrap_err();
    assert!(names(&e, Errno::EOVERFLOW, "SEM_VALUE_MAX"), "{e}");
    assert_eq!(sem.value().unwrap(), SEM_VALUE_MAX, "nothing changed");
}

fn bad_and_passed_deadlines() {
    let s = Scratch::new(ObjectKind::Semaphore, "deadline");
    let sem = Semaphore::open(
        &s.name,
        &SemOptions::new()
            .creation(Creation::CreateExclusive)
            .mode(private().bits())
            .value(0),
    )
    .unwrap();
    let bad = Deadline::from_parts(1, 1_000_000_000);
    let e = sem.wait_until(&bad).unwrap_err();
    assert!(names(&e, Errno::EINVAL, "the deadline's tv_nsec"), "{e}");
    assert!(e.to_string().contains("0 to 999999999"), "{e}");
    let e = sem.wait_until(&Deadline::from_parts(1, -1)).unwrap_err();
    assert_eq!(e.errno(), Errno::EINVAL);

    let passed = Deadline::from_parts(1, 0); // 1970
    assert_eq!(
        sem.wait_until(&passed).unwrap_err().errno(),
        Errno::ETIMEDOUT
    );

    let q = Scratch::new(ObjectKind::MessageQueue, "deadline");
    let queue = MessageQueue::open(
        &q.name,
        &MqOptions::new()
            .creation(Creation::CreateExclusive)
            .mode(private().bits()),
    )
    .unwrap();
    let mut buf = vec![0u8; 8192];
    let e = queue.receive_until(&mut buf, &bad).unwrap_err();
    assert!(names(&e, Errno::EINVAL, "the deadline's tv_nsec"), "{e}");
    assert_eq!(
        queue.receive_until(&mut buf, &passed).unwrap_err().errno(),
        Errno::ETIMEDOUT
    );

    // A timeout too long to represent is an error, not a panic.
    assert_eq!(
        Deadline::after(Duration::MAX).unwrap_err().errno(),
        Errno::EOVERFLOW
    );
}
