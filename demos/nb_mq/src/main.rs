//! `nb_mq`: a non-blocking message queue.
//!
//! Opens (or creates) `/ep_nonblock_mq` with `O_NONBLOCK`, tries to receive from
//! the empty queue (`EAGAIN` at once instead of blocking), sends one message,
//! receives it, closes and unlinks the queue.

use demo_kit::{Failure, Perror, Steps, Usage};
use ipc_core::cleanup::{self, Strategy};
use ipc_core::ObjectKind;
use ipc_core::{Access, Capacity, Creation, Errno, MessageQueue, Mode, MqOptions, Name};

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

fn main() {
    // No fork, and a queue to unlink: the cleanup runs on a helper thread.
    demo_kit::start(&USAGE, Strategy::HelperThread, None, |_, steps| run(steps));
}

fn run(steps: &mut Steps) -> Result<(), Failure> {
    let name = Name::new(MQ_NAME).expect("the demo's name is valid");
    let options = MqOptions {
        creation: Creation::OpenOrCreate,
        access: Access::ReadWrite,
        nonblocking: true,
        mode: Mode::from_bits_truncate(0o644),
        capacity: Some(Capacity {
            max_messages: 5,
            message_size: MSG_SIZE as i64,
        }),
    };

    steps.pause(
        "mq_open(\"/ep_nonblock_mq\", O_CREAT|O_RDWR|O_NONBLOCK, 0644, {maxmsg 5, msgsize 128})",
        "no queue yet: scripts/inspect, or ls /dev/mqueue with an mqueue filesystem mounted",
    );
    let queue = cleanup::own(ObjectKind::MessageQueue, &name, || {
        MessageQueue::open(&name, &options)
    })
    .perror("mq_open")?;

    // Receive from the empty queue: O_NONBLOCK turns the wait into EAGAIN.
    steps.pause(
        "mq_receive on the empty queue",
        "cat /dev/mqueue/ep_nonblock_mq shows QSIZE:0; the call will return at once",
    );
    let mut buf = [0u8; MSG_SIZE];
    match queue.receive(&mut buf) {
        Err(e) if e.errno() == Errno::EAGAIN => {
            println!("Queue is empty, no message available (non-blocking)");
        }
        Err(e) => eprintln!("{}", e.perror_line("mq_receive")),
        // The C program prints nothing here. Only a queue left by an earlier,
        // interrupted run can hold a message now: say so on stderr.
        Ok(_) => eprintln!("nb_mq: {MQ_NAME} still held a message from an earlier run"),
    }

    // Send one message, then receive it.
    steps.pause(
        "mq_send(\"test message\", priority 1)",
        "the queue is still empty",
    );
    if let Err(e) = queue.send(b"test message\0", 1) {
        // Unchecked in the C program; reported here.
        eprintln!("{}", e.perror_line("mq_send"));
    }
    steps.pause("mq_receive", "QSIZE:13, one message waiting");
    match queue.receive(&mut buf) {
        Ok(got) if got.len > 0 => {
            let text = buf[..got.len].split(|&b| b == 0).next().unwrap_or_default();
            println!("Received: '{}'", String::from_utf8_lossy(text));
        }
        Ok(_) => {}
        Err(e) => eprintln!("{}", e.perror_line("mq_receive")),
    }

    steps.pause("mq_close", "the queue exists, empty again");
    if let Err(e) = queue.close() {
        eprintln!("{}", e.perror_line("mq_close"));
    }
    steps.pause(
        "mq_unlink(\"/ep_nonblock_mq\")",
        "closed, and still listed: kernel persistence",
    );
    // The C program ignores mq_unlink's result and exits 0; the port does the same,
    // saying on stderr what went wrong.
    if let Err(e) = cleanup::unlink(ObjectKind::MessageQueue, &name) {
        eprintln!("{}", e.perror_line("mq_unlink"));
    }
    Ok(())
}
