//! `nb_queue`: where a queue stops taking messages, and what a caller sees.
//!
//! - Non-blocking: send until `EAGAIN` (that is `mq_maxmsg`), receive until `EAGAIN`.
//! - Blocking, with deadlines: a timed send on a full queue and a timed receive on
//!   an empty one each end in `ETIMEDOUT` at their deadline.
//! - Order: highest priority first, and first in, first out within one priority.

use std::time::{Duration, Instant};

use demo_kit::facility::unique_name;
use demo_kit::{outln, Failure, Perror, Usage};
use ipc_core::cleanup::{self, Strategy};
use ipc_core::ObjectKind;
use ipc_core::{Access, Creation, Deadline, Errno, MessageQueue, MqOptions};

const USAGE: Usage = Usage {
    name: "nb_queue",
    about: "Fill a non-blocking queue until EAGAIN and drain it until EAGAIN; time out a\n\
            blocking send and receive (ETIMEDOUT); show highest-priority-first, FIFO within one.",
    flags: &[],
    options: &[
        (
            "--max-messages",
            "5",
            "the queue's mq_maxmsg, 5 or more (at most msg_max unless privileged)",
        ),
        (
            "--timeout-ms",
            "200",
            "the deadline of the timed send and receive",
        ),
    ],
    steps: false,
};

const MSG_SIZE: usize = 64;

fn main() {
    // One process and a queue to unlink: the helper-thread cleanup.
    demo_kit::start(&USAGE, Strategy::HelperThread, None, |cli, _| {
        run(
            cli.number(&USAGE, "--max-messages", 5),
            cli.number(&USAGE, "--timeout-ms", 1),
        )
    });
}

fn run(requested: u64, timeout_ms: u64) -> Result<(), Failure> {
    // mq_attr.mq_maxmsg is a long: a larger number would reach mq_open negative,
    // and its bare EINVAL would name no limit.
    let Ok(capacity) = i64::try_from(requested) else {
        return Err(Failure::message(format!(
            "nb_queue: --max-messages {requested} refused before mq_open: mq_maxmsg is a \
             long, at most {} (and the kernel allows at most msg_max, {}, unless privileged)",
            i64::MAX,
            ipc_core::limits::mqueue_sysctl("msg_max")
                .map_or_else(|| "unknown here".to_owned(), |m| m.to_string())
        )));
    };
    let name = unique_name("nb_queue", "q");
    let options = MqOptions::new()
        .creation(Creation::CreateExclusive)
        .access(Access::ReadWrite)
        .nonblocking(true)
        .mode(0o600)
        .capacity(capacity, MSG_SIZE as i64);
    let opened = cleanup::own(ObjectKind::MessageQueue, &name, || {
        MessageQueue::open(&name, &options)
    });
    let queue = match opened {
        Ok(queue) => queue,
        // Say which limit refused the request, its value and where it is set.
        Err(e) if e.limit().is_some() => {
            return Err(Failure::message(format!(
                "nb_queue: --max-messages {requested} refused: mq_open: {} ({})",
                e.errno_text(),
                e.limit().map(ToString::to_string).unwrap_or_default()
            )))
        }
        Err(e) => return Err(e).perror("mq_open"),
    };
    // What the kernel made, not what was asked: mq_getattr.
    let attributes = queue.attributes().perror("mq_getattr")?;
    let max_messages = attributes.max_messages as u64;
    let privileged = match ipc_core::limits::mqueue_sysctl("msg_max") {
        Some(msg_max) if attributes.max_messages > msg_max => {
            format!(" (above msg_max {msg_max}: allowed to a privileged process)")
        }
        _ => String::new(),
    };
    outln!(
        "mq_open asked for mq_maxmsg {requested}, mq_msgsize {MSG_SIZE}; mq_getattr says \
         mq_maxmsg {max_messages}, mq_msgsize {}{privileged}",
        attributes.message_size
    )?;
    let mut buf = [0u8; MSG_SIZE];

    // 1. Fill until EAGAIN.
    let mut sent = 0u64;
    let full = loop {
        match queue.send(format!("message {sent}").as_bytes(), 0) {
            Ok(()) => sent += 1,
            Err(e) => break e,
        }
    };
    outln!(
        "non-blocking send: {sent} messages, then {:?} (mq_getattr: mq_maxmsg {max_messages})",
        full.errno()
    )?;

    // 2. Drain until EAGAIN.
    let mut received = 0u64;
    let empty = loop {
        match queue.receive(&mut buf) {
            Ok(_) => received += 1,
            Err(e) => break e,
        }
    };
    outln!(
        "non-blocking receive: {received} messages, then {:?}",
        empty.errno()
    )?;

    // 3. Blocking, with deadlines.
    queue.set_nonblocking(false).perror("mq_setattr")?;
    let timeout = Duration::from_millis(timeout_ms);
    for i in 0..max_messages {
        queue
            .send(format!("fill {i}").as_bytes(), 0)
            .perror("mq_send")?;
    }
    let start = Instant::now();
    let deadline = Deadline::after(timeout).perror("clock_gettime")?;
    let send = queue.send_until(b"one too many", 0, &deadline);
    let send_ms = start.elapsed().as_millis();
    outln!(
        "timed send on a full queue: {} after {send_ms} ms",
        errno_text(&send)
    )?;
    for _ in 0..max_messages {
        queue.receive(&mut buf).perror("mq_receive")?;
    }
    let start = Instant::now();
    let deadline = Deadline::after(timeout).perror("clock_gettime")?;
    let receive = queue.receive_until(&mut buf, &deadline);
    let receive_ms = start.elapsed().as_millis();
    outln!(
        "timed receive on an empty queue: {} after {receive_ms} ms",
        errno_text(&receive)
    )?;

    // 4. Order: priorities 1, 5, 1, 5, 3 go in; 5, 5, 3, 1, 1 come out, FIFO within each.
    let input: [(&[u8], u32); 5] = [(b"a1", 1), (b"b1", 5), (b"a2", 1), (b"b2", 5), (b"c1", 3)];
    let mut order = Vec::new();
    for chunk in input.chunks(max_messages as usize) {
        for (text, priority) in chunk {
            queue.send(text, *priority).perror("mq_send")?;
        }
        for _ in chunk {
            let got = queue.receive(&mut buf).perror("mq_receive")?;
            order.push((
                String::from_utf8_lossy(&buf[..got.len]).into_owned(),
                got.priority,
            ));
        }
    }
    let shown: Vec<String> = order.iter().map(|(t, p)| format!("{t}({p})")).collect();
    outln!(
        "sent a1(1) b1(5) a2(1) b2(5) c1(3); received {}",
        shown.join(" ")
    )?;
    let priorities: Vec<u32> = order.iter().map(|o| o.1).collect();
    let fifo =
        order.iter().map(|o| o.0.as_str()).collect::<Vec<_>>() == ["b1", "b2", "c1", "a1", "a2"];

    queue.close().perror("mq_close")?;
    cleanup::unlink(ObjectKind::MessageQueue, &name).perror("mq_unlink")?;
    let both_timed_out = [send.err(), receive.err()]
        .iter()
        .all(|e| e.as_ref().is_some_and(|e| e.errno() == Errno::ETIMEDOUT));
    outln!(
        "verdict: non-blocking send hit {:?} after {sent} messages (mq_getattr: mq_maxmsg {max_messages}) and receive hit {:?} \
         after {received}; timed send and receive {} after {send_ms} and {receive_ms} ms (deadline {timeout_ms} ms); \
         priorities came out {:?}, {} within each",
        full.errno(),
        empty.errno(),
        if both_timed_out { "ended in ETIMEDOUT" } else { "did not both time out" },
        priorities,
        if fifo { "first in first out" } else { "NOT first in first out" }
    )?;
    Ok(())
}

fn errno_text<T>(result: &Result<T, ipc_core::Error>) -> String {
    match result {
        Ok(_) => "succeeded".into(),
        Err(e) => format!("{:?}", e.errno()),
    }
}
