//! Each error path of `ipc-core`, produced for real and checked by errno.

mod common;

use std::time::Duration;

use common::Scratch;
use ipc_core::ObjectKind;
use ipc_core::{
    Access, Creation, Deadline, Errno, MessageQueue, MqOptions, Name, NameError, Refusal,
    SemOptions, Semaphore, SharedMemory, ShmOptions, SEM_NAME_MAX,
};

fn queue_options(creation: Creation, nonblocking: bool) -> MqOptions {
    MqOptions::new()
        .creation(creation)
        .access(Access::ReadWrite)
        .nonblocking(nonblocking)
        .mode(0o600)
        .capacity(2, 16)
}

fn create_queue(scratch: &Scratch, nonblocking: bool) -> MessageQueue {
    MessageQueue::open(
        &scratch.name,
        &queue_options(Creation::CreateExclusive, nonblocking),
    )
    .expect("create queue")
}

#[test]
fn bad_names_are_refused_before_any_call() {
    for (text, why) in [
        ("no_slash", NameError::NoLeadingSlash),
        ("/inner/slash", NameError::InnerSlash),
        ("", NameError::Empty),
        ("/", NameError::Empty),
    ] {
        assert_eq!(Name::new(text).unwrap_err(), why, "{text:?}");
    }
    let long = format!("/{}", "n".repeat(256));
    assert!(matches!(
        Name::new(&long),
        Err(NameError::TooLong { len: 256, max: 255 })
    ));

    // 252 bytes is a fine shared memory name but too long for a semaphore, whose
    // file is sem.NAME: refused by ipc-core, not by the kernel.
    let name = Name::new(&format!("/{}", "s".repeat(SEM_NAME_MAX + 1))).unwrap();
    let err = Semaphore::open(&name, &SemOptions::default()).unwrap_err();
    assert_eq!(err.errno(), Errno::ENAMETOOLONG);
    assert!(matches!(
        err.refusal(),
        Some(Refusal::Name(NameError::TooLong { max: 251, .. }))
    ));
}

#[test]
fn the_longest_names_work() {
    let longest = Name::new(&format!("/{}", "x".repeat(255))).unwrap();
    let _longest = Scratch::named(ObjectKind::SharedMemory, longest.clone());
    let create = ShmOptions::new().creation(Creation::CreateExclusive);
    SharedMemory::open(&longest, &create).expect("a 255-byte shm name");

    let sem_name = Name::new(&format!("/{}", "y".repeat(SEM_NAME_MAX))).unwrap();
    let _sem = Scratch::named(ObjectKind::Semaphore, sem_name.clone());
    let create = SemOptions::new().creation(Creation::CreateExclusive);
    Semaphore::open(&sem_name, &create).expect("a 251-byte semaphore name");
}

#[test]
fn opening_a_missing_object_without_o_creat_is_enoent() {
    let q = Scratch::new(ObjectKind::MessageQueue, "missing");
    let err = MessageQueue::open(&q.name, &MqOptions::default()).unwrap_err();
    assert_eq!((err.call(), err.errno()), ("mq_open", Errno::ENOENT));
    assert_eq!(
        err.perror_line("mq_open failed"),
        "mq_open failed: No such file or directory"
    );

    let s = Scratch::new(ObjectKind::Semaphore, "missing");
    let err = Semaphore::open(&s.name, &SemOptions::default()).unwrap_err();
    assert_eq!((err.call(), err.errno()), ("sem_open", Errno::ENOENT));

    let m = Scratch::new(ObjectKind::SharedMemory, "missing");
    let err = SharedMemory::open(&m.name, &ShmOptions::default()).unwrap_err();
    assert_eq!((err.call(), err.errno()), ("shm_open", Errno::ENOENT));
    assert_eq!(err.object(), Some(&m.name));
}

#[test]
fn exclusive_create_of_an_existing_object_is_eexist() {
    let q = Scratch::new(ObjectKind::MessageQueue, "exists");
    let _first = create_queue(&q, false);
    let err =
        MessageQueue::open(&q.name, &queue_options(Creation::CreateExclusive, false)).unwrap_err();
    assert_eq!(err.errno(), Errno::EEXIST);
    assert_eq!(
        err.perror_line("mq_open failed"),
        "mq_open failed: File exists"
    );
    // Without O_EXCL the same call opens it.
    MessageQueue::open(&q.name, &queue_options(Creation::OpenOrCreate, false)).unwrap();

    let s = Scratch::new(ObjectKind::Semaphore, "exists");
    let create = SemOptions::new().creation(Creation::CreateExclusive);
    let _sem = Semaphore::open(&s.name, &create).unwrap();
    assert_eq!(
        Semaphore::open(&s.name, &create).unwrap_err().errno(),
        Errno::EEXIST
    );

    let m = Scratch::new(ObjectKind::SharedMemory, "exists");
    let create = ShmOptions::new().creation(Creation::CreateExclusive);
    let _shm = SharedMemory::open(&m.name, &create).unwrap();
    assert_eq!(
        SharedMemory::open(&m.name, &create).unwrap_err().errno(),
        Errno::EEXIST
    );
}

#[test]
fn queue_size_limits() {
    let q = Scratch::new(ObjectKind::MessageQueue, "sizes");
    let queue = create_queue(&q, true);
    let attr = queue.attributes().unwrap();
    assert_eq!(
        (attr.max_messages, attr.message_size, attr.current_messages),
        (2, 16, 0)
    );
    assert!(attr.nonblocking);

    // A message longer than mq_msgsize.
    let err = queue.send(&[7u8; 17], 0).unwrap_err();
    assert_eq!((err.call(), err.errno()), ("mq_send", Errno::EMSGSIZE));

    // A receive buffer shorter than mq_msgsize, even for a short message.
    queue.send(b"hi", 0).unwrap();
    let mut small = [0u8; 15];
    let err = queue.receive(&mut small).unwrap_err();
    assert_eq!((err.call(), err.errno()), ("mq_receive", Errno::EMSGSIZE));
    assert_eq!(
        queue.attributes().unwrap().current_messages,
        1,
        "nothing lost"
    );

    // A priority at MQ_PRIO_MAX.
    let err = queue.send(b"x", 32768).unwrap_err();
    assert_eq!(err.errno(), Errno::EINVAL);
}

#[test]
fn non_blocking_queue_full_and_empty_are_eagain() {
    let q = Scratch::new(ObjectKind::MessageQueue, "nb");
    let queue = create_queue(&q, true);
    let mut buf = [0u8; 16];
    let err = queue.receive(&mut buf).unwrap_err();
    assert_eq!(err.errno(), Errno::EAGAIN);
    assert_eq!(
        err.to_string(),
        format!("mq_receive {}: Resource temporarily unavailable", q.name)
    );

    queue.send(b"one", 1).unwrap();
    queue.send(b"two", 2).unwrap();
    assert_eq!(queue.send(b"three", 3).unwrap_err().errno(), Errno::EAGAIN);

    let got = queue.receive(&mut buf).unwrap();
    assert_eq!((&buf[..got.len], got.priority), (&b"two"[..], 2));

    // Turning O_NONBLOCK off makes a timed receive on an empty queue time out.
    let old = queue.set_nonblocking(false).unwrap();
    assert!(old.nonblocking);
    queue.receive(&mut buf).unwrap();
    let deadline = Deadline::after(Duration::from_millis(20)).unwrap();
    assert_eq!(
        queue
            .receive_until(&mut buf, &deadline)
            .unwrap_err()
            .errno(),
        Errno::ETIMEDOUT
    );
}

#[test]
fn semaphore_waits_and_values() {
    let s = Scratch::new(ObjectKind::Semaphore, "values");
    let sem = Semaphore::open(
        &s.name,
        &SemOptions::new()
            .creation(Creation::CreateExclusive)
            .mode(0o600)
            .value(1),
    )
    .unwrap();
    assert_eq!(sem.value().unwrap(), 1);
    sem.try_wait().unwrap();
    assert_eq!(sem.try_wait().unwrap_err().errno(), Errno::EAGAIN);
    let deadline = Deadline::after(Duration::from_millis(20)).unwrap();
    assert_eq!(
        sem.wait_until(&deadline).unwrap_err().errno(),
        Errno::ETIMEDOUT
    );
    sem.post().unwrap();
    sem.wait().unwrap();
    assert_eq!(sem.value().unwrap(), 0);

    let too_big = SemOptions::new()
        .creation(Creation::OpenOrCreate)
        .mode(0o600)
        .value(ipc_core::SEM_VALUE_MAX + 1);
    assert_eq!(
        Semaphore::open(&s.name, &too_big).unwrap_err().errno(),
        Errno::EINVAL
    );
}

#[test]
fn a_mapping_outlives_its_descriptor() {
    let m = Scratch::new(ObjectKind::SharedMemory, "map");
    let shm = SharedMemory::open(
        &m.name,
        &ShmOptions::new().creation(Creation::CreateExclusive),
    )
    .unwrap();
    shm.set_len(64).unwrap();
    let map = shm.map(64).unwrap();
    shm.close().unwrap();

    map.write_c_string(b"still here").unwrap();
    assert_eq!(map.read_c_string(), b"still here");

    // A second, independent mapping sees the same bytes.
    let again = SharedMemory::open(&m.name, &ShmOptions::default()).unwrap();
    assert_eq!(again.size().unwrap(), 64);
    let view = again.map(64).unwrap();
    assert_eq!(view.read_c_string(), b"still here");

    // snprintf semantics: truncated to len - 1 bytes and NUL-terminated.
    map.write_c_string(&[b'z'; 100]).unwrap();
    assert_eq!(view.read_c_string().len(), 63);

    let err = map.write(60, b"12345").unwrap_err();
    assert!(matches!(
        err.refusal(),
        Some(Refusal::OutOfBounds {
            offset: 60,
            len: 5,
            mapped: 64
        })
    ));
    let mut buf = [0u8; 4];
    assert!(map.read(usize::MAX, &mut buf).is_err());
    assert_eq!(
        again.map(0).unwrap_err().refusal(),
        Some(&Refusal::ZeroLength)
    );
}

#[test]
fn a_read_only_mapping_refuses_writes() {
    let m = Scratch::new(ObjectKind::SharedMemory, "ro");
    let shm = SharedMemory::open(
        &m.name,
        &ShmOptions::new().creation(Creation::CreateExclusive),
    )
    .unwrap();
    shm.set_len(16).unwrap();
    let ro = SharedMemory::open(&m.name, &ShmOptions::new().access(Access::ReadOnly)).unwrap();
    let map = ro.map(16).unwrap();
    assert_eq!(map.write(0, b"x").unwrap_err().errno(), Errno::EACCES);
    assert_eq!(ro.set_len(32).unwrap_err().errno(), Errno::EINVAL);
}

#[test]
fn unlink_of_a_missing_object_is_enoent() {
    let q = Scratch::new(ObjectKind::MessageQueue, "gone");
    assert_eq!(
        MessageQueue::unlink(&q.name).unwrap_err().errno(),
        Errno::ENOENT
    );
    let s = Scratch::new(ObjectKind::Semaphore, "gone");
    assert_eq!(
        Semaphore::unlink(&s.name).unwrap_err().errno(),
        Errno::ENOENT
    );
    let m = Scratch::new(ObjectKind::SharedMemory, "gone");
    let err = SharedMemory::unlink(&m.name).unwrap_err();
    assert_eq!(
        err.perror_line("shm_unlink failed"),
        "shm_unlink failed: No such file or directory"
    );
}
