//! Every misuse of the safe API that used to fault, corrupt memory or panic, tried
//! from safe code: each must end in a clear error. Each case runs in a forked
//! child of a single-threaded runner, so a fault fails that case with its signal
//! named instead of crashing the test binary.

mod common;

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::single_threaded::{run, Case};
use common::Scratch;
use ipc_core::cleanup::{self, Strategy};
use ipc_core::interruptible::{self, Outcome};
use ipc_core::process::{fork, ExitStatus};
use ipc_core::{
    Access, Creation, Deadline, Errno, Mapping, ObjectKind, Refusal, SharedMemory, ShmOptions,
    SHARED_MUTEX_SIZE,
};

fn main() -> ExitCode {
    run(&[
        Case {
            name: "a_read_only_mapping_refuses_atomics_and_writes",
            run: read_only_mapping,
        },
        Case {
            name: "locking_twice_from_one_thread_is_an_error_not_a_deadlock",
            run: relock,
        },
        Case {
            name: "an_early_return_unlocks_the_mutex",
            run: early_return_unlocks,
        },
        Case {
            name: "a_holder_that_dies_does_not_leave_the_mutex_locked",
            run: dead_holder,
        },
        Case {
            name: "placing_twice_on_the_same_bytes_is_refused",
            run: place_twice,
        },
        Case {
            name: "a_token_of_a_dropped_mapping_is_refused_by_a_new_one",
            run: stale_token,
        },
        Case {
            name: "a_token_of_another_kind_is_refused",
            run: wrong_kind,
        },
        Case {
            name: "a_condvar_refuses_a_mutex_it_was_not_placed_with",
            run: wrong_mutex,
        },
        Case {
            name: "bytes_of_a_placed_object_are_refused_to_read_write_and_atomics",
            run: occupied_bytes,
        },
        Case {
            name: "placing_on_a_read_only_or_misaligned_or_outside_range_is_refused",
            run: bad_places,
        },
        Case {
            name: "an_endless_timeout_does_not_overflow",
            run: endless_timeout,
        },
        Case {
            name: "partial_word_writes_never_lose_a_neighbours_byte",
            run: neighbours_bytes,
        },
        Case {
            name: "reading_and_writing_an_object_that_shrank_never_faults",
            run: shrunk_object,
        },
        Case {
            name: "a_mapping_longer_than_its_object_is_refused",
            run: mapping_past_the_end,
        },
        Case {
            name: "an_object_never_shrinks_under_a_live_mapping_of_this_process",
            run: shrink_under_a_mapping,
        },
        Case {
            name: "objects_are_placed_in_anonymous_mappings_only",
            run: placed_in_named_mapping,
        },
        Case {
            name: "a_semaphore_file_that_is_no_semaphore_is_not_opened",
            run: malformed_semaphore,
        },
        Case {
            name: "a_thread_shrinking_an_object_while_another_maps_it_never_faults",
            run: shrink_while_mapping,
        },
        Case {
            name: "a_semaphore_file_never_shrinks_under_an_open_semaphore",
            run: shrink_under_a_semaphore,
        },
        Case {
            name: "placing_in_a_mapping_shared_by_fork_is_refused",
            run: place_after_fork,
        },
        Case {
            name: "a_second_trace_to_never_lets_a_line_reach_another_file",
            run: retrace_under_threads,
        },
        Case {
            name: "the_helper_thread_cleanup_refuses_a_threaded_process",
            run: helper_thread_refuses_threads,
        },
        Case {
            name: "fork_refuses_a_threaded_process_and_the_helper_thread_strategy",
            run: fork_refusals,
        },
        Case {
            name: "registrations_from_many_threads_are_all_cleaned_up_on_a_signal",
            run: registry_under_threads,
        },
    ])
}

/// A new shared memory object of `len` bytes (sized, not reserved), removed when
/// the returned `Scratch` goes.
fn object(tag: &str, len: u64) -> (Scratch, SharedMemory) {
    let m = Scratch::new(ObjectKind::SharedMemory, tag);
    let shm = SharedMemory::create(
        &m.name,
        len,
        ipc_core::Mode::from_bits_truncate(0o600),
        ipc_core::Sizing::Truncate,
    )
    .unwrap();
    (m, shm)
}

fn refusal(result: ipc_core::Result<impl std::fmt::Debug>) -> Refusal {
    match result {
        Err(e) => e
            .refusal()
            .cloned()
            .unwrap_or_else(|| panic!("an OS error, not a refusal: {e}")),
        Ok(value) => panic!("accepted: {value:?}"),
    }
}

fn read_only_mapping() {
    let (m, shm) = object("ro", 4096);
    drop(shm);
    let view = SharedMemory::open(&m.name, &ShmOptions::new().access(Access::ReadOnly)).unwrap();
    let mut map = view.map(4096).unwrap();
    assert!(!map.is_writable());
    assert_eq!(refusal(map.atomic_u64(0)), Refusal::ReadOnly);
    assert_eq!(refusal(map.write(0, b"x")), Refusal::ReadOnly);
    assert_eq!(refusal(map.place_shared_mutex(0)), Refusal::FileBacked);
    let mut byte = [1u8];
    map.read(0, &mut byte).unwrap();
    assert_eq!(byte, [0]);
}

fn relock() {
    let mut map = Mapping::anonymous(4096).unwrap();
    let placed = map.place_shared_mutex(0).unwrap();
    let mutex = map.mutex(placed).unwrap();
    let held = mutex.lock().unwrap();
    assert_eq!(mutex.lock().unwrap_err().errno(), Errno::EDEADLK);
    assert_eq!(mutex.try_lock().unwrap_err().errno(), Errno::EDEADLK);
    drop(held);
    assert!(mutex.try_lock().unwrap().is_some());
}

fn early_return_unlocks() {
    fn step(map: &Mapping, placed: ipc_core::Placed) -> ipc_core::Result<()> {
        let _held = map.mutex(placed)?.lock()?;
        map.write(4096, b"past the end")?; // fails: the `?` returns with the lock held
        Ok(())
    }
    let mut map = Mapping::anonymous(4096).unwrap();
    let placed = map.place_shared_mutex(0).unwrap();
    assert!(step(&map, placed).is_err());
    // Another process (not just another call) finds it free.
    let (mut child, ()) = fork((), |()| {
        let free = map.mutex(placed).unwrap().try_lock().unwrap().is_some();
        i32::from(!free)
    })
    .unwrap();
    assert_eq!(
        child.wait_timeout(Duration::from_secs(10)).unwrap(),
        Some(ExitStatus::Exited(0))
    );
}

fn dead_holder() {
    let mut map = Mapping::anonymous(4096).unwrap();
    let placed = map.place_shared_mutex(0).unwrap();
    let (mut child, ()) = fork((), |()| {
        let guard = map.mutex(placed).unwrap().lock().unwrap();
        std::mem::forget(guard);
        0 // exits holding it
    })
    .unwrap();
    assert_eq!(
        child.wait_timeout(Duration::from_secs(10)).unwrap(),
        Some(ExitStatus::Exited(0))
    );
    let mutex = map.mutex(placed).unwrap();
    let deadline = Deadline::after(Duration::from_secs(5)).unwrap();
    let guard = mutex
        .lock_until(&deadline)
        .expect("not left locked forever");
    assert!(guard.previous_owner_died());
    drop(guard);
    let again = mutex.lock().unwrap();
    assert!(
        !again.previous_owner_died(),
        "marked consistent after the first"
    );
}

fn place_twice() {
    let mut map = Mapping::anonymous(4096).unwrap();
    map.place_shared_mutex(0).unwrap();
    assert!(matches!(
        refusal(map.place_shared_mutex(0)),
        Refusal::Occupied { offset: 0, .. }
    ));
    assert!(matches!(
        refusal(map.place_shared_semaphore(8, 1)),
        Refusal::Occupied { offset: 0, .. }
    ));
    // Beside it is fine.
    map.place_shared_semaphore(SHARED_MUTEX_SIZE.next_multiple_of(8), 1)
        .unwrap();
}

fn stale_token() {
    let mut big = Mapping::anonymous(8192).unwrap();
    let placed = big.place_shared_mutex(4096).unwrap();
    let address = big.base_address();
    drop(big);
    let small = Mapping::anonymous(4096).unwrap();
    eprintln!(
        "new mapping at the old address: {}",
        small.base_address() == address
    );
    assert_eq!(refusal(small.mutex(placed)), Refusal::ForeignPlacement);
}

fn wrong_kind() {
    let mut map = Mapping::anonymous(4096).unwrap();
    let sem = map.place_shared_semaphore(0, 0).unwrap();
    let mutex = map.place_shared_mutex(64).unwrap();
    assert_eq!(refusal(map.mutex(sem)), Refusal::ForeignPlacement);
    assert_eq!(refusal(map.semaphore(mutex)), Refusal::ForeignPlacement);
    assert_eq!(refusal(map.condvar(mutex)), Refusal::ForeignPlacement);
    assert_eq!(
        refusal(map.place_shared_condvar(128, sem)),
        Refusal::ForeignPlacement
    );
}

fn wrong_mutex() {
    let mut map = Mapping::anonymous(4096).unwrap();
    let a = map.place_shared_mutex(0).unwrap();
    let b = map.place_shared_mutex(64).unwrap();
    let cond = map.place_shared_condvar(128, a).unwrap();
    let cond = map.condvar(cond).unwrap();
    let other = map.mutex(b).unwrap();
    let mut wrong = other.lock().unwrap();
    assert_eq!(refusal(cond.wait(&mut wrong)), Refusal::WrongMutex);
    drop(wrong);
    let own = map.mutex(a).unwrap();
    let mut right = own.lock().unwrap();
    let soon = Deadline::after(Duration::from_millis(10)).unwrap();
    assert_eq!(
        cond.wait_until(&mut right, &soon).unwrap_err().errno(),
        Errno::ETIMEDOUT
    );
}

fn occupied_bytes() {
    let mut map = Mapping::anonymous(4096).unwrap();
    map.place_shared_mutex(64).unwrap();
    let occupied = |r: Refusal| matches!(r, Refusal::Occupied { offset: 64, .. });
    assert!(occupied(refusal(map.write(60, &[0; 8]))));
    assert!(occupied(refusal(
        map.read(64 + SHARED_MUTEX_SIZE - 1, &mut [0])
    )));
    assert!(occupied(refusal(map.atomic_u64(64))));
    map.write(56, &[1; 8]).unwrap();
    map.atomic_u64(56).unwrap().fetch_add(1, Ordering::Relaxed);
}

fn bad_places() {
    let mut map = Mapping::anonymous(4096).unwrap();
    assert_eq!(
        refusal(map.place_shared_mutex(4)),
        Refusal::Misaligned { offset: 4 }
    );
    assert!(matches!(
        refusal(map.place_shared_mutex(4096 - 8)),
        Refusal::OutOfBounds { .. }
    ));
    assert!(matches!(
        refusal(map.place_shared_semaphore(usize::MAX - 3, 0)),
        Refusal::OutOfBounds { .. }
    ));
    assert_eq!(
        refusal(map.atomic_u64(4)),
        Refusal::Misaligned { offset: 4 }
    );
    assert!(matches!(
        refusal(map.read(usize::MAX, &mut [0; 2])),
        Refusal::OutOfBounds { .. }
    ));
}

fn endless_timeout() {
    interruptible::block_termination_signals();
    let mut tries = 0;
    let outcome = interruptible::wait(Some(Duration::MAX), |_| {
        tries += 1;
        if tries < 3 {
            Err(ipc_core::Error::os("sem_timedwait", None, Errno::ETIMEDOUT))
        } else {
            Ok(tries)
        }
    })
    .unwrap();
    assert!(matches!(outcome, Outcome::Done(3)));
    assert_eq!(
        Deadline::after(Duration::MAX).unwrap_err().errno(),
        Errno::EOVERFLOW
    );
}

fn neighbours_bytes() {
    let map = Mapping::anonymous(4096).unwrap();
    // Each thread owns one byte of the same word (and of a word-straddling pair),
    // writes it over and over and reads back its own value each time: a write that
    // loaded the whole word and stored it back would sometimes restore the other
    // thread's older byte.
    std::thread::scope(|scope| {
        for lane in 0..2usize {
            let map = &map;
            scope.spawn(move || {
                for i in 0..200_000u32 {
                    let value = (i % 251) as u8 + 1;
                    let single = 3 + lane; // bytes 3 and 4 of word 0
                    let pair = 14 + 2 * lane; // bytes 14-15 (word 1) and 16-17 (word 2)
                    map.write(single, &[value]).unwrap();
                    map.write(pair, &[value, value]).unwrap();
                    let mut back = [0u8; 2];
                    map.read(single, &mut back[..1]).unwrap();
                    assert_eq!(back[0], value, "byte {single} lost its value");
                    map.read(pair, &mut back).unwrap();
                    assert_eq!(back, [value, value], "bytes {pair}.. lost their value");
                }
            });
        }
    });
}

fn helper_thread_refuses_threads() {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let other = std::thread::spawn(move || rx.recv());
    let refused = refusal(cleanup::install(Strategy::HelperThread, None));
    assert!(
        matches!(refused, Refusal::Threaded { threads: 2 }),
        "{refused:?}"
    );
    drop(tx);
    let _ = other.join();
    // Alone again, it installs.
    cleanup::install(Strategy::HelperThread, None).unwrap();
}

fn fork_refusals() {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let other = std::thread::spawn(move || rx.recv());
    assert!(matches!(
        refusal(fork((), |()| 0)),
        Refusal::Threaded { threads: 2 }
    ));
    drop(tx);
    let _ = other.join();
    cleanup::install(Strategy::HelperThread, None).unwrap();
    // The more useful of the two reasons (the helper thread is a thread too).
    assert_eq!(refusal(fork((), |()| 0)), Refusal::ForkWithHelperThread);
}

fn registry_under_threads() {
    const THREADS: usize = 4;
    let tag = format!("threads{}", std::process::id());
    let (mut child, ()) = fork((), |()| {
        cleanup::install(Strategy::InHandler, None).unwrap();
        std::thread::scope(|scope| {
            for t in 0..THREADS {
                let tag = &tag;
                scope.spawn(move || {
                    let name = ipc_core::Name::new(&format!("/ipc_core_test_{tag}_{t}")).unwrap();
                    loop {
                        let shm = cleanup::own(ObjectKind::SharedMemory, &name, || {
                            SharedMemory::open(
                                &name,
                                &ShmOptions::new().creation(Creation::CreateExclusive),
                            )
                        })
                        .unwrap();
                        drop(shm);
                        cleanup::unlink(ObjectKind::SharedMemory, &name).unwrap();
                    }
                });
            }
        });
        0
    })
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    child.signal(nix::sys::signal::Signal::SIGTERM).unwrap();
    assert_eq!(
        child.wait_timeout(Duration::from_secs(10)).unwrap(),
        Some(ExitStatus::Exited(128 + libc::SIGTERM))
    );
    let left: Vec<_> = std::fs::read_dir("/dev/shm")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(&tag))
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

fn shrunk_object() {
    let (_m, shm) = object("shrunk", 65536);
    assert_eq!(shm.write_at(0, b"hello").unwrap(), 5);
    shm.set_len(2).unwrap(); // as another process's ftruncate would
    let mut buf = [0u8; 4096];
    assert_eq!(shm.read_at(0, &mut buf).unwrap(), 2);
    assert_eq!(&buf[..2], b"he");
    assert_eq!(shm.read_at(60000, &mut buf).unwrap(), 0);
}

fn mapping_past_the_end() {
    let (_m, shm) = object("pastend", 100);
    assert_eq!(
        refusal(shm.map(8192)),
        Refusal::PastEnd {
            len: 8192,
            size: 100
        }
    );
    assert!(matches!(
        refusal(shm.map_private(101)),
        Refusal::PastEnd { .. }
    ));
    let map = shm.map(100).unwrap();
    map.write(0, &[7; 100]).unwrap();
}

fn shrink_under_a_mapping() {
    let (m, shm) = object("shrink", 8192);
    let map = shm.map(8192).unwrap();
    // The same object through another descriptor of this process: refused too.
    let other = SharedMemory::open(&m.name, &ShmOptions::new()).unwrap();
    assert_eq!(
        refusal(other.set_len(0)),
        Refusal::StillMapped { mapped: 8192 }
    );
    assert_eq!(
        refusal(shm.set_len(4096)),
        Refusal::StillMapped { mapped: 8192 }
    );
    other.set_len(16384).unwrap(); // growing is fine
    map.write(8191, &[1]).unwrap(); // and the mapping still works
    drop(map);
    shm.set_len(0).unwrap(); // once unmapped, it may shrink
}

fn placed_in_named_mapping() {
    let (_m, shm) = object("named", 4096);
    let mut map = shm.map(4096).unwrap();
    assert_eq!(refusal(map.place_shared_mutex(0)), Refusal::FileBacked);
    assert_eq!(
        refusal(map.place_shared_semaphore(64, 0)),
        Refusal::FileBacked
    );
    // So no descriptor write or second mapping can reach a placed object's bytes.
    let mut private = shm.map_private(4096).unwrap();
    assert_eq!(refusal(private.place_shared_mutex(0)), Refusal::FileBacked);
}

fn malformed_semaphore() {
    let s = Scratch::new(ObjectKind::Semaphore, "malformed");
    let path = ObjectKind::Semaphore.file(&s.name).unwrap();
    std::fs::write(&path, b"").unwrap(); // anyone can make this file
    assert_eq!(
        refusal(ipc_core::Semaphore::open(
            &s.name,
            &ipc_core::SemOptions::new()
        )),
        Refusal::NotASemaphore { size: 0 }
    );
    std::fs::write(&path, [0u8; 3]).unwrap();
    assert_eq!(
        refusal(ipc_core::Semaphore::open(
            &s.name,
            &ipc_core::SemOptions::new()
        )),
        Refusal::NotASemaphore { size: 3 }
    );
    // An exclusive create maps nothing that is there: it is the call C makes, and
    // fails with EEXIST (so a demo's stale recovery sees what C sees), not a refusal.
    let exclusive = ipc_core::SemOptions::new().creation(Creation::CreateExclusive);
    let err = ipc_core::Semaphore::open(&s.name, &exclusive).unwrap_err();
    assert_eq!(err.refusal(), None, "{err}");
    assert_eq!(err.errno(), Errno::EEXIST, "{err}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        [0u8; 3],
        "the file is untouched"
    );
}

/// One thread maps the object and touches its mapping while another shrinks and
/// regrows it: the size `map` checked must still hold when the mapping is made
/// (or the shrink refused), or the touch raises `SIGBUS`.
fn shrink_while_mapping() {
    let (_m, shm) = object("race", 4096);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let end = std::time::Instant::now() + Duration::from_secs(3);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                let _ = shm.set_len(0);
                let _ = shm.set_len(4096);
            }
        });
        let mut mapped = 0u32;
        while std::time::Instant::now() < end {
            if let Ok(map) = shm.map(4096) {
                map.write(0, &[1]).unwrap(); // SIGBUS if the object shrank under it
                mapped += 1;
            }
        }
        stop.store(true, Ordering::Relaxed);
        assert!(mapped > 0, "never mapped: the race was not tried");
    });
}

/// glibc keeps a named semaphore in `/dev/shm/sem.NAME`, which is also the shared
/// memory object `/sem.NAME`: shrinking it under an open semaphore would make the
/// next `sem_post` raise `SIGBUS`.
fn shrink_under_a_semaphore() {
    let s = Scratch::new(ObjectKind::Semaphore, "shrunk");
    let sem = ipc_core::Semaphore::open(
        &s.name,
        &ipc_core::SemOptions::new().creation(Creation::CreateExclusive),
    )
    .unwrap();
    let file = ipc_core::Name::from_bytes(&[b"/sem.", s.name.without_slash()].concat()).unwrap();
    let shm = SharedMemory::open(&file, &ShmOptions::new()).unwrap();
    assert!(matches!(
        refusal(shm.set_len(0)),
        Refusal::StillMapped { .. }
    ));
    sem.post().unwrap(); // SIGBUS had the file been shrunk
    assert_eq!(sem.value().unwrap(), 1);
    drop(sem);
    shm.set_len(0).unwrap(); // once closed, it may shrink
}

/// After `fork`, parent and child each hold a copy of the mapping and of its list
/// of placements. An object placed afterwards in one is unknown to the other,
/// whose `write` would then scribble over it (a locked robust mutex holds the
/// pointers of its thread's robust list, which glibc follows on unlock).
fn place_after_fork() {
    let mut map = Mapping::anonymous(4096).unwrap();
    let before = map.place_shared_mutex(0).unwrap();
    let (mut child, map) = fork(map, |mut map| {
        let placed = map.place_shared_semaphore(64, 0);
        let refused = matches!(
            placed.as_ref().map_err(|e| e.refusal()),
            Err(Some(Refusal::SharedByFork))
        );
        // Placed before the fork: known to both, usable in both.
        let usable = map.mutex(before).and_then(|m| m.lock().map(drop)).is_ok();
        i32::from(!refused) + 2 * i32::from(!usable)
    })
    .unwrap();
    assert_eq!(
        child.wait_timeout(Duration::from_secs(30)).unwrap(),
        Some(ExitStatus::Exited(0)),
        "the child placed in a mapping its parent shares (1), or could not use what was placed before (2)"
    );
    let mut map = map;
    assert_eq!(refusal(map.place_shared_mutex(128)), Refusal::SharedByFork);
    drop(map.mutex(before).unwrap().lock().unwrap());
    // A mapping made after the fork is this process's alone again.
    let mut fresh = Mapping::anonymous(4096).unwrap();
    fresh.place_shared_mutex(0).unwrap();
}

/// Moving the trace to another file keeps its descriptor's number and points it
/// at the new file: a thread (or a signal handler) that read the number just
/// before the move writes its line to one trace file or the other. Closing it
/// instead would hand the number to the next `open` of any thread, whose file
/// would get the line.
fn retrace_under_threads() {
    let dir = std::env::temp_dir().join(format!("ipc_core_retrace_{}", std::process::id()));
    std::fs::create_dir(&dir).unwrap();
    let traced_to = |file: &std::path::Path| -> Vec<String> {
        let mut fds: Vec<String> = std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .flatten()
            .filter(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == file))
            .map(|fd| fd.file_name().to_string_lossy().into_owned())
            .collect();
        fds.sort();
        fds
    };
    let (first, second) = (dir.join("first"), dir.join("second"));
    ipc_core::explain::trace_to(&first).unwrap();
    let before = traced_to(&first);
    ipc_core::explain::trace_to(&second).unwrap();
    let (after, left) = (traced_to(&second), traced_to(&first));
    drop(Mapping::anonymous(8).unwrap()); // narrated into the second file
    let lines = std::fs::read_to_string(&second).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(before.len(), 1, "one descriptor for the first trace file");
    assert_eq!(
        after, before,
        "the same descriptor now names the second file"
    );
    assert!(
        left.is_empty(),
        "the first file is no longer open: {left:?}"
    );
    assert!(
        lines.contains("mmap"),
        "the trace goes on in the second file"
    );
}
