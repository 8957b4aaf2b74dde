//! `nb_mq`: a non-blocking message queue.
//!
//! Opens (or creates) `/ep_nonblock_mq` with `O_NONBLOCK`, tries to receive from
//! the empty queue (`EAGAIN` at once instead of blocking), sends one message,
//! receives it, closes and unlinks the queue.

use demo_kit::{errln, outln, Failure, Perror, Step, Steps, Usage};
use ipc_core::cleanup::{self, Strategy};
use ipc_core::ObjectKind;
use ipc_core::{Access, Creation, Errno, MessageQueue, MqOptions};

const MQ_NAME: &str = "/ep_nonblock_mq";
const MSG_SIZE: usize = 128;

const USAGE: Usage = Usage {
    name: "nb_mq",
    about: "Open a POSIX message queue with O_NONBLOCK: receiving from the empty queue fails\n\
            at once with EAGAIN; after one send, the receive succeeds.",
    flags: &[],
    options: &[],
    steps: true,
};

const OPEN: Step = Step {
    what: "mq_open(\"/ep_nonblock_mq\", O_CREAT|O_RDWR|O_NONBLOCK, 0644, {maxmsg 5, msgsize 128})",
    look: "no queue yet: scripts/inspect, or ls /dev/mqueue with an mqueue filesystem mounted",
};
const RECEIVE_EMPTY: Step = Step {
    what: "mq_receive on the empty queue",
    look: "cat /dev/mqueue/ep_nonblock_mq shows QSIZE:0; the call will return at once",
};
const SEND: Step = Step {
    what: "mq_send(\"test message\", priority 1)",
    look: "the queue is still empty",
};
const RECEIVE: Step = Step {
    what: "mq_receive",
    look: "QSIZE:13, one message waiting",
};
const CLOSE: Step = Step {
    what: "mq_close",
    look: "the queue exists, empty again",
};
const UNLINK: Step = Step {
    what: "mq_unlink(\"/ep_nonblock_mq\")",
    look: "closed, and still listed: kernel persistence",
};
const STEPS: &[Step] = &[OPEN, RECEIVE_EMPTY, SEND, RECEIVE, CLOSE, UNLINK];

fn main() {
    // No fork, and a queue to unlink: the cleanup runs on a helper thread.
    demo_kit::start_stepped(&USAGE, STEPS, Strategy::HelperThread, None, |_, steps| {
        run(steps)
    });
}

fn run(steps: &mut Steps) -> Result<(), Failure> {
    let name = demo_kit::names::object_name(MQ_NAME);
    let options = MqOptions::new()
        .creation(Creation::OpenOrCreate)
        .access(Access::ReadWrite)
        .nonblocking(true)
        .mode(0o644)
        .capacity(5, MSG_SIZE as i64);

    steps.pause(&OPEN);
    let queue = demo_kit::open_unless_held("nb_mq", ObjectKind::MessageQueue, &name, || {
        MessageQueue::open(&name, &options)
    })
    .perror("mq_open")?;

    // Receive from the empty queue: O_NONBLOCK turns the wait into EAGAIN.
    steps.pause(&RECEIVE_EMPTY);
    let mut buf = [0u8; MSG_SIZE];
    match queue.receive(&mut buf) {
        Err(e) if e.errno() == Errno::EAGAIN => {
            outln!("Queue is empty, no message available (non-blocking)")?;
        }
        Err(e) => errln!("{}", e.perror_line("mq_receive")),
        // The C program prints nothing here. Only a queue left by an earlier,
        // interrupted run can hold a message now: say so on stderr.
        Ok(_) => errln!("nb_mq: {name} still held a message from an earlier run"),
    }

    // Send one message, then receive it.
    steps.pause(&SEND);
    if let Err(e) = queue.send(b"test message\0", 1) {
        // Unchecked in the C program; reported here.
        errln!("{}", e.perror_line("mq_send"));
    }
    steps.pause(&RECEIVE);
    match queue.receive(&mut buf) {
        Ok(got) if got.len > 0 => {
            let text = buf[..got.len].split(|&b| b == 0).next().unwrap_or_default();
            outln!("Received: '{}'", String::from_utf8_lossy(text))?;
        }
        Ok(_) => {}
        Err(e) => errln!("{}", e.perror_line("mq_receive")),
    }

    steps.pause(&CLOSE);
    if let Err(e) = queue.close() {
        errln!("{}", e.perror_line("mq_close"));
    }
    steps.pause(&UNLINK);
    // The C program ignores mq_unlink's result and exits 0; the port does the same,
    // saying on stderr what went wrong.
    if let Err(e) = cleanup::unlink(ObjectKind::MessageQueue, &name) {
        errln!("{}", e.perror_line("mq_unlink"));
    }
    Ok(())
}
