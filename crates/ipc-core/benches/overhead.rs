//! Does `ipc-core` cost anything over calling libc directly?
//!
//! `cargo bench -p ipc-core --bench overhead`. In one process, with nothing to
//! wait for, so the figures are the calls' own cost and not the scheduler's:
//! - `sem`: `sem_post` then `sem_wait` on a named semaphore;
//! - `mq`: `mq_send` then `mq_receive` of 64 bytes on a queue.
//!
//! Each way runs in batches, `ipc-core` and raw libc alternating, and the median
//! batch is reported, in nanoseconds per pair of calls.

use std::hint::black_box;
use std::time::Instant;

use ipc_core::ObjectKind;
use ipc_core::{Access, Creation, MessageQueue, MqOptions, Name, SemOptions, Semaphore};

const BATCH: u32 = 200_000;
const ROUNDS: usize = 15;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Times `BATCH` runs of `f`, in ns per run.
fn batch(mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..BATCH {
        f();
    }
    start.elapsed().as_nanos() as f64 / f64::from(BATCH)
}

fn compare(what: &str, mut wrapped: impl FnMut(), mut raw: impl FnMut()) {
    // Warm up both.
    batch(&mut wrapped);
    batch(&mut raw);
    let (mut w, mut r) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        w.push(batch(&mut wrapped));
        r.push(batch(&mut raw));
    }
    let (w, r) = (median(w), median(r));
    println!(
        "{what:<28} ipc-core {w:>8.1} ns   libc {r:>8.1} ns   difference {:>+6.1}%",
        (w - r) / r * 100.0
    );
}

fn main() {
    let sem_name = Name::new(&format!("/ipc_core_bench_{}_sem", std::process::id())).unwrap();
    let mq_name = Name::new(&format!("/ipc_core_bench_{}_mq", std::process::id())).unwrap();
    let sem = Semaphore::open(
        &sem_name,
        &SemOptions::new()
            .creation(Creation::CreateExclusive)
            .mode(0o600)
            .value(0),
    )
    .unwrap();
    let queue = MessageQueue::open(
        &mq_name,
        &MqOptions::new()
            .creation(Creation::CreateExclusive)
            .access(Access::ReadWrite)
            .nonblocking(false)
            .mode(0o600)
            .capacity(1, 64),
    )
    .unwrap();
    // The same semaphore and queue, opened a second time through libc itself.
    let c_sem_name = std::ffi::CString::new(sem_name.as_bytes()).unwrap();
    // SAFETY: the name is a valid C string; the semaphore exists, so no mode or
    // value is read.
    let raw_sem = unsafe { libc::sem_open(c_sem_name.as_ptr(), 0) };
    assert_ne!(raw_sem, libc::SEM_FAILED);
    let raw_mq = queue.raw();

    println!("ipc-core against raw libc, median of {ROUNDS} batches of {BATCH}, in one process");
    compare(
        "sem_post + sem_wait",
        || {
            sem.post().unwrap();
            sem.wait().unwrap();
        },
        || {
            // SAFETY: `raw_sem` is a live semaphore from sem_open; post then wait
            // never blocks.
            unsafe {
                black_box(libc::sem_post(raw_sem));
                black_box(libc::sem_wait(raw_sem));
            }
        },
    );
    let msg = [7u8; 64];
    let mut buf = [0u8; 64];
    let mut raw_buf = [0u8; 64];
    compare(
        "mq_send + mq_receive (64 B)",
        || {
            queue.send(&msg, 1).unwrap();
            black_box(queue.receive(&mut buf).unwrap());
        },
        || {
            let buf = &mut raw_buf;
            let mut prio = 0;
            // SAFETY: `raw_mq` is the open queue; both buffers are valid for 64
            // bytes; the queue holds one message at most, so neither call blocks.
            unsafe {
                black_box(libc::mq_send(raw_mq, msg.as_ptr().cast(), msg.len(), 1));
                black_box(libc::mq_receive(
                    raw_mq,
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    &mut prio,
                ));
            }
        },
    );
    // SAFETY: `raw_sem` came from sem_open and is not used again.
    unsafe { libc::sem_close(raw_sem) };
    drop(sem);
    drop(queue);
    let _ = ObjectKind::Semaphore.unlink(&sem_name);
    let _ = ObjectKind::MessageQueue.unlink(&mq_name);
}
