//! `mq_lifecycle`: a message queue from creation to destruction.
//!
//! Creates `/ep_mq_lifecycle` exclusively (5 messages of up to 128 bytes, mode
//! 0644), sends three messages with priorities 1, 9 and 5, receives them highest
//! priority first, closes the handle (the queue stays in the kernel) and unlinks it
//! (now it is gone). A queue left by a crashed run is unlinked and created again.
//! Ctrl+C at any point unlinks the queue and prints `Cleaned up. Exiting.`.

use demo_kit::{create_replacing_stale, errln, outln, Failure, Perror, Step, Steps, Usage};
use ipc_core::cleanup::{self, Strategy};
use ipc_core::ObjectKind;
use ipc_core::{Access, Creation, MessageQueue, MqOptions};

const MQ_NAME: &str = "/ep_mq_lifecycle";
const MSG_SIZE: usize = 128;
const MAX_MSGS: i64 = 5;

/// The three messages, each sent with its terminating NUL (the C program sends
/// "High priority alert" with length 21, one byte past its NUL: see the README).
const MESSAGES: [(&[u8], u32); 3] = [
    (b"Low priority task\0", 1),
    (b"High priority alert\0", 9),
    (b"Medium priority msg\0", 5),
];

const USAGE: Usage = Usage {
    name: "mq_lifecycle",
    about: "Create a POSIX message queue, send three messages with priorities 1, 9 and 5,\n\
            receive them highest priority first, close the handle, then unlink the queue.",
    flags: &[],
    options: &[],
    steps: true,
};

const CREATE: Step = Step {
    what: "mq_open(\"/ep_mq_lifecycle\", O_CREAT|O_EXCL|O_RDWR, 0644, {maxmsg 5, msgsize 128})",
    look: "no queue yet: scripts/inspect, or ls /dev/mqueue with an mqueue filesystem mounted",
};
const SEND: Step = Step {
    what: "mq_send x3 with priorities 1, 9, 5",
    look: "the queue exists and is empty: cat /dev/mqueue/ep_mq_lifecycle shows QSIZE:0",
};
const RECEIVE: Step = Step {
    what: "mq_receive x3",
    look: "QSIZE in /dev/mqueue/ep_mq_lifecycle now counts the bytes of 3 messages",
};
const CLOSE: Step = Step {
    what: "mq_close",
    look: "the queue is empty again (QSIZE:0) but still exists",
};
const UNLINK: Step = Step {
    what: "mq_unlink(\"/ep_mq_lifecycle\")",
    look: "no process holds the queue, yet it is still listed: kernel persistence",
};
const STEPS: &[Step] = &[CREATE, SEND, RECEIVE, CLOSE, UNLINK];

fn main() {
    // No fork here, and the queue needs mq_unlink, which a signal handler may not
    // call: the cleanup runs on a helper thread.
    let farewell = Some("\nCleaned up. Exiting.\n");
    demo_kit::start_stepped(
        &USAGE,
        STEPS,
        Strategy::HelperThread,
        farewell,
        |_, steps| run(steps),
    );
}

fn run(steps: &mut Steps) -> Result<(), Failure> {
    let name = demo_kit::names::object_name(MQ_NAME);
    let options = MqOptions::new()
        .creation(Creation::CreateExclusive)
        .access(Access::ReadWrite)
        .nonblocking(false)
        .mode(0o644)
        .capacity(MAX_MSGS, MSG_SIZE as i64);

    // Step 1: create.
    steps.pause(&CREATE);
    let queue = create_replacing_stale("mq_lifecycle", ObjectKind::MessageQueue, &name, || {
        MessageQueue::open(&name, &options)
    })
    .perror("mq_open failed")?;
    outln!("Queue created: {name}")?;

    // Step 2: send three messages with different priorities.
    steps.pause(&SEND);
    for (message, priority) in MESSAGES {
        if let Err(failure) = queue.send(message, priority).perror("mq_send failed") {
            // The C program does not check mq_send; the port reports and goes on as it does.
            errln!("{}", failure.line());
        }
    }
    outln!("Sent 3 messages")?;

    // Step 3: receive, highest priority first.
    outln!("\nReceiving (highest priority first):")?;
    steps.pause(&RECEIVE);
    let mut buf = [0u8; MSG_SIZE];
    for _ in 0..3 {
        match queue.receive(&mut buf).perror("mq_receive failed") {
            Ok(got) => {
                let text = c_string(&buf[..got.len]);
                outln!(" [prio={}] {}", got.priority, String::from_utf8_lossy(text))?;
            }
            Err(failure) => {
                errln!("{}", failure.line());
                break;
            }
        }
    }

    // Step 4: close; the queue stays.
    steps.pause(&CLOSE);
    if let Err(failure) = queue.close().perror("mq_close failed") {
        errln!("{}", failure.line());
    }
    outln!("\nClosed handle. Queue still in kernel.")?;

    // Step 5: unlink; now it is gone.
    steps.pause(&UNLINK);
    cleanup::unlink(ObjectKind::MessageQueue, &name).perror("mq_unlink failed")?;
    outln!("Queue unlinked. Object destroyed.")?;
    Ok(())
}

/// The bytes before the first NUL, as `printf("%s")` prints a received buffer.
fn c_string(bytes: &[u8]) -> &[u8] {
    bytes.split(|&b| b == 0).next().unwrap_or_default()
}
