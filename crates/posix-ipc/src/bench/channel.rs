//! The mechanisms under test, each as a two-way channel between a parent and a
//! forked child: made before the fork, used one side each after it.
//!
//! Every message is `size` bytes. A channel carries up to `depth` messages in
//! flight each way (1 for ping-pong). Nothing here allocates after setup.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ipc_core::{
    Access, Creation, Mapping, MessageQueue, MqOptions, Name, Placed, SemOptions, Semaphore,
    SharedCondvar, SharedMutex, SHARED_CONDVAR_SIZE, SHARED_MUTEX_SIZE, SHARED_SEMAPHORE_SIZE,
};

/// The mechanisms, in the order they are reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mechanism {
    /// Two POSIX message queues, one each way.
    Mq,
    /// POSIX shared memory, two named semaphores each way.
    Sem,
    /// POSIX shared memory, unnamed process-shared semaphores inside it.
    PsharedSem,
    /// POSIX shared memory, a process-shared mutex and condition variable.
    PsharedMutex,
    /// Two pipes.
    Pipe,
    /// A Unix-domain socket pair.
    Uds,
    /// Shared memory, each side busy-waiting on an atomic counter: the floor.
    Spin,
}

impl Mechanism {
    /// Every mechanism.
    pub const ALL: [Mechanism; 7] = [
        Mechanism::Mq,
        Mechanism::Sem,
        Mechanism::PsharedSem,
        Mechanism::PsharedMutex,
        Mechanism::Pipe,
        Mechanism::Uds,
        Mechanism::Spin,
    ];

    /// Its name on the command line and in reports.
    pub fn label(self) -> &'static str {
        match self {
            Mechanism::Mq => "mq",
            Mechanism::Sem => "sem",
            Mechanism::PsharedSem => "pshared-sem",
            Mechanism::PsharedMutex => "pshared-mutex",
            Mechanism::Pipe => "pipe",
            Mechanism::Uds => "uds",
            Mechanism::Spin => "spin",
        }
    }
}

/// Why a channel stopped.
#[derive(Debug)]
pub struct Broken(pub String);

impl<E: std::fmt::Display> From<E> for Broken {
    fn from(e: E) -> Broken {
        Broken(e.to_string())
    }
}

/// One direction of a ring in shared memory: a power of two of slots (at least
/// the depth), each `size` bytes rounded up to a cache line.
#[derive(Clone, Copy)]
struct Ring {
    slots: usize,
    size: usize,
    /// Offset of slot 0 in the mapping.
    data: usize,
}

impl Ring {
    /// The offset of message `i`'s slot (a mask, not a division: this is in the
    /// timed loop).
    fn slot(&self, i: usize) -> usize {
        self.data + (i & (self.slots - 1)) * self.size
    }
}

/// The shared memory layout of one direction: control block, then data. Each
/// process-shared object of the control block gets 128 bytes (two cache lines:
/// adjacent-line prefetchers move lines in pairs).
const CONTROL: usize = 512;
const _: () =
    assert!(SHARED_SEMAPHORE_SIZE <= 64 && SHARED_MUTEX_SIZE <= 64 && SHARED_CONDVAR_SIZE <= 64);

/// What both sides of a channel hold.
pub struct Channel {
    kind: Kind,
    size: usize,
}

enum Kind {
    Mq {
        ab: MessageQueue,
        ba: MessageQueue,
    },
    /// Named semaphores per direction: (free slots, full slots).
    Sem {
        map: Mapping,
        rings: [Ring; 2],
        sems: [(Option<Semaphore>, Semaphore); 2],
    },
    /// Unnamed semaphores in the mapping: (free, full) per direction.
    PsharedSem {
        map: Mapping,
        rings: [Ring; 2],
        sems: [(Option<Placed>, Placed); 2],
    },
    /// Mutex, "not full" and "not empty" condition variables, and the count's
    /// offset, per direction.
    PsharedMutex {
        map: Mapping,
        rings: [Ring; 2],
        monitors: [(Placed, Placed, Placed, usize); 2],
    },
    Pipe {
        ab: (std::fs::File, std::fs::File),
        ba: (std::fs::File, std::fs::File),
    },
    Uds {
        a: UnixStream,
        b: UnixStream,
    },
    Spin {
        map: Mapping,
        rings: [Ring; 2],
        control: [usize; 2],
        bound: Duration,
        /// Turn by turn: one slot, and no "read" counter to look at (the answer
        /// says the message was read), as in a C ping-pong.
        pingpong: bool,
    },
}

/// Names unique to this run and mechanism: `/pipc_bench_PID_TAG`.
fn name(tag: &str) -> Name {
    Name::new(&format!("/pipc_bench_{}_{tag}", std::process::id())).expect("a valid name")
}

/// The names a channel of `mechanism` may create, to unlink at the end or on
/// Ctrl+C: queues and named semaphores (its shared memory is anonymous).
pub fn names(mechanism: Mechanism) -> Vec<(ipc_core::ObjectKind, Name)> {
    use ipc_core::ObjectKind::{MessageQueue as Q, Semaphore as S};
    match mechanism {
        Mechanism::Mq => vec![(Q, name("ab")), (Q, name("ba"))],
        Mechanism::Sem => vec![
            (S, name("ab_free")),
            (S, name("ab_full")),
            (S, name("ba_free")),
            (S, name("ba_full")),
        ],
        Mechanism::PsharedSem
        | Mechanism::PsharedMutex
        | Mechanism::Spin
        | Mechanism::Pipe
        | Mechanism::Uds => Vec::new(),
    }
}

fn shared_memory(rings: usize, depth: usize, size: usize) -> Result<(Mapping, [Ring; 2]), Broken> {
    let depth = depth.next_power_of_two();
    let slot = size.div_ceil(64) * 64;
    // Each direction on pages of its own, so no cache line (nor the pair of lines
    // an adjacent-line prefetcher fetches together) holds both sides' data.
    let per_direction = (CONTROL + depth * slot).div_ceil(4096) * 4096;
    let len = rings * per_direction;
    // Anonymous, inherited by the partner across fork: the only kind of mapping
    // ipc-core places process-shared semaphores and mutexes in.
    let map = Mapping::anonymous(len)?;
    let ring = |d: usize| Ring {
        slots: depth,
        size: slot,
        data: d * per_direction + CONTROL,
    };
    Ok((map, [ring(0), ring(1)]))
}

impl Channel {
    /// Makes the channel: `depth` messages of `size` bytes each way. A `pingpong`
    /// channel is only used turn by turn (each side waits for the other's answer
    /// before sending again), so it needs no back-pressure: the semaphore
    /// mechanisms then make exactly a C ping-pong's calls.
    pub fn new(
        mechanism: Mechanism,
        pingpong: bool,
        size: usize,
        depth: usize,
        bound: Duration,
    ) -> Result<Channel, Broken> {
        let kind = match mechanism {
            Mechanism::Mq => {
                let options = MqOptions::new()
                    .creation(Creation::CreateExclusive)
                    .access(Access::ReadWrite)
                    .nonblocking(false)
                    .mode(0o600)
                    .capacity(depth as i64, size as i64);
                let ab = MessageQueue::open(&name("ab"), &options)?;
                let ba = MessageQueue::open(&name("ba"), &options)?;
                Kind::Mq { ab, ba }
            }
            Mechanism::Sem => {
                let (map, rings) = shared_memory(2, depth, size)?;
                let sem = |tag: &str, value: usize| {
                    Semaphore::open(
                        &name(tag),
                        &SemOptions::new()
                            .creation(Creation::CreateExclusive)
                            .mode(0o600)
                            .value(value as u32),
                    )
                };
                // Free-slot semaphores only for a stream: in a ping-pong each side
                // waits for the reply, so the slot is free (as in a C ping-pong).
                let free = |tag: &str| -> Result<Option<Semaphore>, Broken> {
                    if pingpong {
                        Ok(None)
                    } else {
                        Ok(Some(sem(tag, depth)?))
                    }
                };
                let sems = [
                    (free("ab_free")?, sem("ab_full", 0)?),
                    (free("ba_free")?, sem("ba_full", 0)?),
                ];
                Kind::Sem { map, rings, sems }
            }
            Mechanism::PsharedSem => {
                let (mut map, rings) = shared_memory(2, depth, size)?;
                let mut place = |ring: &Ring| -> Result<(Option<Placed>, Placed), Broken> {
                    let base = ring.data - CONTROL;
                    let free = if pingpong {
                        None
                    } else {
                        Some(map.place_shared_semaphore(base, depth as u32)?)
                    };
                    Ok((free, map.place_shared_semaphore(base + 128, 0)?))
                };
                let sems = [place(&rings[0])?, place(&rings[1])?];
                Kind::PsharedSem { map, rings, sems }
            }
            Mechanism::PsharedMutex => {
                let (mut map, rings) = shared_memory(2, depth, size)?;
                let mut place = |ring: &Ring| -> Result<(Placed, Placed, Placed, usize), Broken> {
                    let base = ring.data - CONTROL;
                    map.atomic_u64(base + 384)?.store(0, Ordering::SeqCst);
                    let mutex = map.place_shared_mutex(base)?;
                    Ok((
                        mutex,
                        map.place_shared_condvar(base + 128, mutex)?,
                        map.place_shared_condvar(base + 256, mutex)?,
                        base + 384,
                    ))
                };
                let monitors = [place(&rings[0])?, place(&rings[1])?];
                Kind::PsharedMutex {
                    map,
                    rings,
                    monitors,
                }
            }
            Mechanism::Pipe => {
                let (r1, w1) = nix::unistd::pipe()?;
                let (r2, w2) = nix::unistd::pipe()?;
                Kind::Pipe {
                    ab: (std::fs::File::from(r1), std::fs::File::from(w1)),
                    ba: (std::fs::File::from(r2), std::fs::File::from(w2)),
                }
            }
            Mechanism::Uds => {
                let (a, b) = UnixStream::pair()?;
                Kind::Uds { a, b }
            }
            Mechanism::Spin => {
                // A stream gets a ring of at least 64 slots: the sender then looks
                // at the reader's progress (a cache line the other core writes) only
                // when the ring may be full, not on every message.
                let slots = if pingpong { 1 } else { depth.max(64) };
                let (map, rings) = shared_memory(2, slots, size)?;
                let mut control = [0; 2];
                for (d, ring) in rings.iter().enumerate() {
                    let base = ring.data - CONTROL;
                    map.atomic_u64(base)?.store(0, Ordering::SeqCst); // messages written
                    map.atomic_u64(base + 128)?.store(0, Ordering::SeqCst); // messages read
                    control[d] = base;
                }
                Kind::Spin {
                    map,
                    rings,
                    control,
                    bound,
                    pingpong,
                }
            }
        };
        Ok(Channel { kind, size })
    }

    /// The parent's end (sends on a→b, receives on b→a) or the child's.
    pub fn end(&self, parent: bool) -> End<'_> {
        let out = usize::from(!parent);
        End {
            channel: self,
            out,
            sent: 0,
            received: 0,
            known_read: 0,
            turns: self.turns(out),
        }
    }

    /// For a spin ping-pong, the words it touches, found once, before any timing:
    /// the counter and the single slot of each direction (out, then in).
    fn turns(&self, out: usize) -> Option<[Turn<'_>; 2]> {
        let Kind::Spin {
            map,
            rings,
            control,
            pingpong: true,
            ..
        } = &self.kind
        else {
            return None;
        };
        if !self.size.is_multiple_of(8) {
            return None;
        }
        let turn = |d: usize| -> Option<Turn<'_>> {
            let words = (0..self.size / 8)
                .map(|k| map.atomic_u64(rings[d].slot(0) + 8 * k).ok())
                .collect::<Option<Vec<_>>>()?;
            Some(Turn {
                counter: map.atomic_u64(control[d]).ok()?,
                words,
            })
        };
        Some([turn(out)?, turn(1 - out)?])
    }
}

/// One direction of a spin ping-pong, resolved to its atomics.
struct Turn<'m> {
    counter: &'m AtomicU64,
    words: Vec<&'m AtomicU64>,
}

/// One side of a channel.
pub struct End<'c> {
    channel: &'c Channel,
    /// Direction this side sends on (0 = a→b); it receives on the other.
    out: usize,
    sent: usize,
    received: usize,
    /// Spin only: messages the reader had taken when last looked at.
    known_read: usize,
    /// Spin ping-pong only: (out, in), resolved once.
    turns: Option<[Turn<'c>; 2]>,
}

impl End<'_> {
    /// Sends `msg` (exactly the channel's size), waiting for room.
    pub fn send(&mut self, msg: &[u8]) -> Result<(), Broken> {
        let d = self.out;
        let i = self.sent;
        self.sent += 1;
        if let Some([out, _]) = &self.turns {
            // The spin ping-pong: the C loop's accesses and nothing else.
            for (word, chunk) in out.words.iter().zip(msg.chunks_exact(8)) {
                word.store(
                    u64::from_ne_bytes(chunk.try_into().expect("8 bytes")),
                    Ordering::Relaxed,
                );
            }
            out.counter.store(i as u64 + 1, Ordering::Release);
            return Ok(());
        }
        match &self.channel.kind {
            Kind::Mq { ab, ba } => [ab, ba][d].send(msg, 0)?,
            Kind::Sem { map, rings, sems } => {
                if let Some(free) = &sems[d].0 {
                    free.wait()?;
                }
                map.write(rings[d].slot(i), msg)?;
                sems[d].1.post()?;
            }
            Kind::PsharedSem { map, rings, sems } => {
                if let Some(free) = sems[d].0 {
                    map.semaphore(free)?.wait()?;
                }
                map.write(rings[d].slot(i), msg)?;
                map.semaphore(sems[d].1)?.post()?;
            }
            Kind::PsharedMutex {
                map,
                rings,
                monitors,
            } => {
                let (mutex, not_full, not_empty, count) = monitor(map, monitors[d])?;
                let mut held = mutex.lock()?;
                while count.load(Ordering::Relaxed) as usize == rings[d].slots {
                    not_full.wait(&mut held)?;
                }
                map.write(rings[d].slot(i), msg)?;
                count.fetch_add(1, Ordering::Relaxed);
                not_empty.signal()?;
            }
            Kind::Pipe { ab, ba } => [&ab.1, &ba.1][d].write_all(msg)?,
            // Each side has its own socket of the pair, for both directions.
            Kind::Uds { a, b } => [a, b][self.out].write_all(msg)?,
            Kind::Spin {
                map,
                rings,
                control,
                bound,
                pingpong,
            } => {
                let written = map.atomic_u64(control[d])?;
                if !pingpong && i - self.known_read >= rings[d].slots {
                    let read = map.atomic_u64(control[d] + 128)?;
                    let known = &mut self.known_read;
                    spin_until(*bound, || {
                        *known = read.load(Ordering::Acquire) as usize;
                        i - *known < rings[d].slots
                    })?;
                }
                map.write(rings[d].slot(i), msg)?;
                written.store(i as u64 + 1, Ordering::Release);
            }
        }
        Ok(())
    }

    /// Receives one message into `buf` (the channel's size).
    pub fn recv(&mut self, buf: &mut [u8]) -> Result<(), Broken> {
        let d = 1 - self.out;
        let i = self.received;
        self.received += 1;
        if let (Some([_, input]), Kind::Spin { bound, .. }) = (&self.turns, &self.channel.kind) {
            spin_until(*bound, || {
                input.counter.load(Ordering::Acquire) as usize > i
            })?;
            for (word, chunk) in input.words.iter().zip(buf.chunks_exact_mut(8)) {
                chunk.copy_from_slice(&word.load(Ordering::Relaxed).to_ne_bytes());
            }
            return Ok(());
        }
        let size = self.channel.size;
        match &self.channel.kind {
            Kind::Mq { ab, ba } => {
                let got = [ab, ba][d].receive(buf)?;
                if got.len != size {
                    return Err(Broken(format!(
                        "received {} bytes, expected {size}",
                        got.len
                    )));
                }
            }
            Kind::Sem { map, rings, sems } => {
                sems[d].1.wait()?;
                map.read(rings[d].slot(i), buf)?;
                if let Some(free) = &sems[d].0 {
                    free.post()?;
                }
            }
            Kind::PsharedSem { map, rings, sems } => {
                map.semaphore(sems[d].1)?.wait()?;
                map.read(rings[d].slot(i), buf)?;
                if let Some(free) = sems[d].0 {
                    map.semaphore(free)?.post()?;
                }
            }
            Kind::PsharedMutex {
                map,
                rings,
                monitors,
            } => {
                let (mutex, not_full, not_empty, count) = monitor(map, monitors[d])?;
                let mut held = mutex.lock()?;
                while count.load(Ordering::Relaxed) == 0 {
                    not_empty.wait(&mut held)?;
                }
                map.read(rings[d].slot(i), buf)?;
                count.fetch_sub(1, Ordering::Relaxed);
                not_full.signal()?;
            }
            Kind::Pipe { ab, ba } => [&ab.0, &ba.0][d].read_exact(buf)?,
            Kind::Uds { a, b } => [a, b][self.out].read_exact(buf)?,
            Kind::Spin {
                map,
                rings,
                control,
                bound,
                pingpong,
            } => {
                let written = map.atomic_u64(control[d])?;
                spin_until(*bound, || written.load(Ordering::Acquire) as usize > i)?;
                map.read(rings[d].slot(i), buf)?;
                if !pingpong {
                    map.atomic_u64(control[d] + 128)?
                        .store(i as u64 + 1, Ordering::Release);
                }
            }
        }
        Ok(())
    }
}

/// The mutex, the two condition variables and the count of one direction.
type Monitor<'m> = (
    SharedMutex<'m>,
    SharedCondvar<'m>,
    SharedCondvar<'m>,
    &'m AtomicU64,
);

fn monitor(map: &Mapping, placed: (Placed, Placed, Placed, usize)) -> Result<Monitor<'_>, Broken> {
    Ok((
        map.mutex(placed.0)?,
        map.condvar(placed.1)?,
        map.condvar(placed.2)?,
        map.atomic_u64(placed.3)?,
    ))
}

/// Busy-waits for `ready`, giving up after `bound`: on one core the other side
/// cannot run while this one spins, so spinning would never end.
fn spin_until(bound: Duration, mut ready: impl FnMut() -> bool) -> Result<(), Broken> {
    let mut spins = 0u32;
    let mut start: Option<Instant> = None;
    while !ready() {
        std::hint::spin_loop();
        spins = spins.wrapping_add(1);
        if spins.is_multiple_of(4096) {
            let since = *start.get_or_insert_with(Instant::now);
            if since.elapsed() > bound {
                return Err(Broken(format!(
                    "spin: no progress in {} s: the other side is not running (both on one core?); \
                     spinning only works with each side on its own core",
                    bound.as_secs_f64()
                )));
            }
        }
    }
    Ok(())
}
