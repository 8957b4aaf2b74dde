//! What `watch` sees: a snapshot of the objects and their holders at each
//! refresh, and the events that turn one snapshot into the next.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant, SystemTime};

use crate::holders::KernelAnswer;
use crate::holders::{BlindSpot, FileId, Holder, ScanOptions, ScanStats, Scanner};
use crate::inventory::{kernel_answer, list, set_holders, Object, Owners};
use crate::mqueue_dir::{MqueueDir, Unavailable};
use ipc_core::ObjectKind;

/// The objects at one moment, with their holders.
pub struct Snapshot {
    /// The objects, sorted by type then name.
    pub objects: Vec<Object>,
    /// Why message queues are missing, if they are.
    pub queues_unavailable: Option<String>,
    /// Why holders may be missing (empty when the scan saw every process).
    pub blind_spots: Vec<BlindSpot>,
    /// When it was taken.
    pub taken: SystemTime,
    /// What taking it cost.
    pub cost: Duration,
    /// What the holder scan did.
    pub scan: ScanStats,
}

/// What is watched, and what the last refresh saw (so the next one reads only
/// what changed).
pub struct Session {
    kind: Option<ObjectKind>,
    prefix: Vec<u8>,
    /// Found or mounted once, at the start, before any thread exists: a private
    /// mount namespace made later would be the calling thread's only.
    queues: Option<Result<MqueueDir, Unavailable>>,
    scanner: Scanner,
    options: ScanOptions,
    /// Owners' names, looked up once per uid for the whole session.
    owners: Owners,
    /// The kernel's last word on objects the scan saw no holder of: when it was
    /// asked, and what it said.
    kernel: HashMap<FileId, (Instant, KernelAnswer)>,
}

/// How long the kernel's word on an object stands before it is asked again
/// (each asking holds a lease for microseconds, during which another process's
/// `open` of the object waits).
const KERNEL_ASKED_EVERY: Duration = Duration::from_secs(1);

impl Session {
    /// Watches objects of `kind` (all if `None`) whose names start with `prefix`.
    pub fn new(kind: Option<ObjectKind>, prefix: Vec<u8>, options: ScanOptions) -> Session {
        let queues = kind
            .is_none_or(|k| k == ObjectKind::MessageQueue)
            .then(MqueueDir::find_or_mount);
        Session {
            kind,
            prefix,
            queues,
            scanner: Scanner::new(),
            options,
            owners: Owners::default(),
            kernel: HashMap::new(),
        }
    }

    /// Lists the objects, then scans `/proc` for their holders. `previous` lets
    /// unchanged queues keep their counts.
    pub fn refresh(&mut self, previous: Option<&Snapshot>) -> Snapshot {
        let started = Instant::now();
        let taken = SystemTime::now();
        let before = previous.map_or(&[][..], |p| &p.objects[..]);
        let (mut objects, queues_unavailable) = list(
            self.kind,
            &self.prefix,
            self.queues.as_ref(),
            before,
            &mut self.owners,
        );
        let ids: BTreeSet<FileId> = objects.iter().map(|o| o.id).collect();
        let scan = self.scanner.scan(self.options, Some(&ids));
        for object in &mut objects {
            set_holders(object, &scan);
            self.ask_kernel_if_no_holder_seen(object);
        }
        self.kernel.retain(|id, _| ids.contains(id));
        let stats = self.scanner.stats();
        Snapshot {
            objects,
            queues_unavailable,
            blind_spots: scan.blind_spots().to_vec(),
            taken,
            cost: started.elapsed(),
            scan: stats,
        }
    }
}

impl Session {
    /// As [`crate::inventory::ask_kernel_if_no_holder_seen`], at most once per
    /// [`KERNEL_ASKED_EVERY`] for each object.
    fn ask_kernel_if_no_holder_seen(&mut self, object: &mut Object) {
        if let Some((asked, answer)) = self.kernel.get(&object.id) {
            if object.orphan != Some(false) && asked.elapsed() < KERNEL_ASKED_EVERY {
                object.take_kernel_answer(answer);
                return;
            }
        }
        match kernel_answer(object) {
            Some(answer) => {
                object.take_kernel_answer(&answer);
                self.kernel.insert(object.id, (Instant::now(), answer));
            }
            None => {
                self.kernel.remove(&object.id);
            }
        }
    }
}

/// A process, as an event names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Process {
    /// Its pid.
    pub pid: i32,
    /// Its command line (raw: escape before printing).
    pub command: String,
}

impl From<&Holder> for Process {
    fn from(holder: &Holder) -> Process {
        Process {
            pid: holder.pid,
            command: holder.command.clone(),
        }
    }
}

/// What happened to an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum What {
    /// It was there when the watch started.
    Exists,
    /// It appeared.
    Created,
    /// Its name went away.
    Unlinked,
    /// A semaphore's value changed.
    Value {
        /// Before (`None`: could not be read).
        from: Option<u32>,
        /// After.
        to: Option<u32>,
    },
    /// Messages went into a queue (`to > from`) or out of it.
    Messages {
        /// Messages before.
        from: i64,
        /// Messages after.
        to: i64,
    },
    /// A shared memory object's size changed.
    Resized {
        /// Bytes before.
        from: u64,
        /// Bytes after.
        to: u64,
    },
    /// Its permission bits changed.
    Mode {
        /// Before, in octal.
        from: String,
        /// After.
        to: String,
    },
    /// Its owner changed.
    Owner {
        /// Before.
        from: String,
        /// After.
        to: String,
    },
    /// A process opened or mapped it.
    Opened(Process),
    /// A process that still runs closed and unmapped it.
    Closed(Process),
    /// A process that held it exited.
    Exited(Process),
}

impl What {
    /// The word scripts match on.
    pub fn word(&self) -> &'static str {
        match self {
            What::Exists => "exists",
            What::Created => "created",
            What::Unlinked => "unlinked",
            What::Value { .. } => "value",
            What::Messages { from, to } if to > from => "message-in",
            What::Messages { .. } => "message-out",
            What::Resized { .. } => "resized",
            What::Mode { .. } => "mode",
            What::Owner { .. } => "owner",
            What::Opened(_) => "opened",
            What::Closed(_) => "closed",
            What::Exited(_) => "exited",
        }
    }
}

/// One event: what happened to which object, seen at which refresh.
#[derive(Clone, Debug)]
pub struct Event {
    /// When the refresh that saw it was taken.
    pub time: SystemTime,
    /// What happened.
    pub what: What,
    /// The object as that refresh saw it (as the one before saw it, for `unlinked`).
    pub object: Object,
}

/// The events of the objects in `now` as the watch starts: each object, then
/// each of its holders.
pub fn initial(now: &Snapshot) -> Vec<Event> {
    let mut events = Vec::new();
    for object in &now.objects {
        let event = |what| Event {
            time: now.taken,
            what,
            object: object.clone(),
        };
        events.push(event(What::Exists));
        for holder in &object.holders {
            events.push(event(What::Opened(holder.into())));
        }
    }
    events
}

/// The events that lead from `before` to `now`, object by object (in `now`'s
/// order), each object's in the order they tell a story: created, opened, the
/// changes of its state, closed, exited, unlinked.
pub fn diff(before: &Snapshot, now: &Snapshot) -> Vec<Event> {
    diff_with(before, now, has_exited)
}

/// [`diff`], with `exited` telling whether a process is gone.
fn diff_with(before: &Snapshot, now: &Snapshot, exited: impl Fn(i32) -> bool) -> Vec<Event> {
    let mut events = Vec::new();
    let key = |o: &Object| (o.kind as u8, o.raw.clone());
    let (mut old, mut new) = (
        before.objects.iter().peekable(),
        now.objects.iter().peekable(),
    );
    loop {
        let order = match (old.peek(), new.peek()) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(a), Some(b)) => key(a).cmp(&key(b)),
        };
        match order {
            std::cmp::Ordering::Less => {
                let gone = old.next().expect("peeked");
                events.push(Event {
                    time: now.taken,
                    what: What::Unlinked,
                    object: gone.clone(),
                });
            }
            std::cmp::Ordering::Greater => {
                let born = new.next().expect("peeked");
                appeared(born, now.taken, &mut events);
            }
            std::cmp::Ordering::Equal => {
                let (a, b) = (old.next().expect("peeked"), new.next().expect("peeked"));
                if a.id != b.id {
                    // Unlinked and created again between two refreshes.
                    events.push(Event {
                        time: now.taken,
                        what: What::Unlinked,
                        object: a.clone(),
                    });
                    appeared(b, now.taken, &mut events);
                } else {
                    changed(a, b, now.taken, &exited, &mut events);
                }
            }
        }
    }
    events
}

fn appeared(object: &Object, time: SystemTime, events: &mut Vec<Event>) {
    let event = |what| Event {
        time,
        what,
        object: object.clone(),
    };
    events.push(event(What::Created));
    for holder in &object.holders {
        events.push(event(What::Opened(holder.into())));
    }
}

fn changed(
    a: &Object,
    b: &Object,
    time: SystemTime,
    exited: &impl Fn(i32) -> bool,
    events: &mut Vec<Event>,
) {
    let event = |what| Event {
        time,
        what,
        object: b.clone(),
    };
    let pids = |o: &Object| o.holders.iter().map(|h| h.pid).collect::<BTreeSet<i32>>();
    let (was, is) = (pids(a), pids(b));
    for holder in b.holders.iter().filter(|h| !was.contains(&h.pid)) {
        events.push(event(What::Opened(holder.into())));
    }
    if a.value != b.value {
        events.push(event(What::Value {
            from: a.value,
            to: b.value,
        }));
    }
    if let (Some(from), Some(to)) = (a.messages, b.messages) {
        if from != to {
            events.push(event(What::Messages { from, to }));
        }
    }
    if let (Some(from), Some(to)) = (a.size, b.size) {
        if from != to {
            events.push(event(What::Resized { from, to }));
        }
    }
    if a.mode != b.mode {
        events.push(event(What::Mode {
            from: format!("{:04o}", a.mode),
            to: format!("{:04o}", b.mode),
        }));
    }
    if a.uid != b.uid {
        events.push(event(What::Owner {
            from: a.owner.to_string(),
            to: b.owner.to_string(),
        }));
    }
    for holder in a.holders.iter().filter(|h| !is.contains(&h.pid)) {
        let process = Process::from(holder);
        events.push(event(if exited(holder.pid) {
            What::Exited(process)
        } else {
            What::Closed(process)
        }));
    }
}

/// Whether process `pid` is gone, or a zombie (exited, not yet reaped).
fn has_exited(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // pid (comm) S ...: the state follows the last ')'.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_none_or(|state| matches!(state, "Z" | "X" | "x")),
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Object;

    fn object(kind: ObjectKind, name: &str, id: u64) -> Object {
        let meta = std::fs::symlink_metadata("/").unwrap();
        let mut o = Object::new(
            kind,
            name.as_bytes().to_vec(),
            &meta,
            &mut Owners::default(),
        );
        o.id = (1, id);
        o
    }

    fn holder(pid: i32) -> Holder {
        Holder {
            pid,
            uid: 0,
            user: "root".into(),
            command: format!("cmd{pid}"),
            fds: vec![3],
            mapped: false,
        }
    }

    fn snapshot(objects: Vec<Object>) -> Snapshot {
        Snapshot {
            objects,
            queues_unavailable: None,
            blind_spots: Vec::new(),
            taken: SystemTime::UNIX_EPOCH,
            cost: Duration::ZERO,
            scan: ScanStats::default(),
        }
    }

    fn words(events: &[Event]) -> Vec<String> {
        events
            .iter()
            .map(|e| format!("{} {}", e.what.word(), e.object.shown_name()))
            .collect()
    }

    #[test]
    fn a_queue_lifecycle_as_events() {
        let mut q = object(ObjectKind::MessageQueue, "/q", 7);
        q.messages = Some(0);
        let empty = snapshot(vec![]);
        let mut held = q.clone();
        held.holders = vec![holder(10)];
        let created = snapshot(vec![held.clone()]);
        assert_eq!(
            words(&diff_with(&empty, &created, |_| false)),
            ["created /q", "opened /q"]
        );
        let mut fuller = held.clone();
        fuller.messages = Some(3);
        let sent = snapshot(vec![fuller.clone()]);
        let events = diff_with(&created, &sent, |_| false);
        assert_eq!(words(&events), ["message-in /q"]);
        assert_eq!(events[0].what, What::Messages { from: 0, to: 3 });
        let mut drained = q.clone();
        drained.messages = Some(1);
        let received = snapshot(vec![drained.clone()]);
        assert_eq!(
            words(&diff_with(&sent, &received, |_| false)),
            ["message-out /q", "closed /q"]
        );
        assert_eq!(
            words(&diff_with(&sent, &received, |_| true)),
            ["message-out /q", "exited /q"]
        );
        assert_eq!(
            words(&diff_with(&received, &empty, |_| false)),
            ["unlinked /q"]
        );
    }

    #[test]
    fn a_name_reused_between_refreshes_is_two_objects() {
        let mut a = object(ObjectKind::Semaphore, "/s", 1);
        a.value = Some(1);
        let mut b = object(ObjectKind::Semaphore, "/s", 2);
        b.value = Some(1);
        let other = object(ObjectKind::SharedMemory, "/m", 3);
        let events = diff_with(
            &snapshot(vec![other.clone(), a]),
            &snapshot(vec![other, b]),
            |_| false,
        );
        assert_eq!(words(&events), ["unlinked /s", "created /s"]);
    }

    #[test]
    fn values_and_holders_of_a_semaphore() {
        let mut a = object(ObjectKind::Semaphore, "/s", 1);
        a.value = Some(0);
        a.holders = vec![holder(1), holder(2)];
        let mut b = a.clone();
        b.value = Some(1);
        b.holders = vec![holder(2), holder(3)];
        let events = diff_with(&snapshot(vec![a]), &snapshot(vec![b]), |_| false);
        assert_eq!(words(&events), ["opened /s", "value /s", "closed /s"]);
        assert_eq!(events[0].what, What::Opened(Process::from(&holder(3))));
        assert_eq!(events[2].what, What::Closed(Process::from(&holder(1))));
    }

    #[test]
    fn this_process_has_not_exited() {
        assert!(!has_exited(std::process::id() as i32));
        assert!(has_exited(i32::MAX));
    }
}
