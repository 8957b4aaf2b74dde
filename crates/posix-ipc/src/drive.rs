//! `mq`, `sem` and `shm`: each subcommand makes one short-lived process's worth of
//! calls, so the object visibly outlives it.

use std::io::Read;

use ipc_core::{
    Access, Capacity, Creation, Errno, MessageQueue, MqOptions, SemOptions, Semaphore,
    SharedMemory, ShmOptions, Sizing,
};

use crate::cli::{CreateArgs, MqCommand, SemCommand, ShmCommand, WaitArgs};
use crate::failure::Failure;
use crate::render::{json, out};
use ipc_core::interruptible::{block_termination_signals, wait, Outcome};
use ipc_core::limits::mqueue_sysctl;

fn creation(create: &CreateArgs) -> Creation {
    if create.exclusive {
        Creation::CreateExclusive
    } else {
        Creation::OpenOrCreate
    }
}

fn done<T>(outcome: Outcome<T>) -> Result<T, Failure> {
    match outcome {
        Outcome::Done(value) => Ok(value),
        Outcome::Interrupted(signal) => Err(Failure::Interrupted(signal)),
    }
}

/// `posix-ipc mq ...`.
pub fn mq(command: MqCommand) -> Result<(), Failure> {
    match command {
        MqCommand::Create {
            create,
            max_messages,
            message_size,
        } => {
            let capacity = match (max_messages, message_size) {
                (None, None) => None,
                (max, size) => Some(Capacity {
                    max_messages: max
                        .map_or_else(|| mqueue_sysctl("msg_default").unwrap_or(10), |n| n as i64),
                    message_size: size.map_or_else(
                        || mqueue_sysctl("msgsize_default").unwrap_or(8192),
                        |n| n as i64,
                    ),
                }),
            };
            let options = MqOptions {
                creation: creation(&create),
                access: Access::ReadWrite,
                nonblocking: false,
                mode: create.mode,
                capacity,
            };
            // An EINVAL here names the limit it met (msg_max or msgsize_max).
            MessageQueue::open(&create.name, &options)?;
            Ok(())
        }
        MqCommand::Send {
            name,
            message,
            priority,
            wait: how,
        } => {
            let queue = open_queue(&name, Access::WriteOnly, &how)?;
            let sent = if how.nonblock {
                queue.send(message.as_bytes(), priority).map(Outcome::Done)
            } else {
                block_termination_signals();
                wait(how.timeout, |deadline| {
                    queue.send_until(message.as_bytes(), priority, deadline)
                })
            };
            done(sent.map_err(|e| match e.errno() {
                Errno::EAGAIN => Failure::hinted(e, "the queue is full"),
                Errno::EMSGSIZE => Failure::hinted(e, size_hint(&queue)),
                _ => e.into(),
            })?)
        }
        MqCommand::Receive {
            name,
            wait: how,
            json: as_json,
        } => {
            let queue = open_queue(&name, Access::ReadOnly, &how)?;
            let size = queue.attributes()?.message_size.max(1) as usize;
            let mut buf = vec![0u8; size];
            let received = if how.nonblock {
                queue.receive(&mut buf).map(Outcome::Done)
            } else {
                block_termination_signals();
                wait(how.timeout, |deadline| {
                    queue.receive_until(&mut buf, deadline)
                })
            };
            let got = done(received.map_err(|e| match e.errno() {
                Errno::EAGAIN => Failure::hinted(e, "the queue is empty"),
                _ => e.into(),
            })?)?;
            let message = &buf[..got.len];
            if as_json.json {
                json(&serde_json::json!({
                    "priority": got.priority,
                    "length": got.len,
                    "message": String::from_utf8_lossy(message),
                }));
            } else {
                let mut line = message.to_vec();
                line.push(b'\n');
                out(&line);
            }
            Ok(())
        }
        MqCommand::Attr {
            name,
            json: as_json,
        } => {
            let queue = open_queue(
                &name,
                Access::ReadOnly,
                &WaitArgs {
                    nonblock: false,
                    timeout: None,
                },
            )?;
            let attr = queue.attributes()?;
            if as_json.json {
                json(&serde_json::json!({
                    "name": name.to_string(),
                    "messages": attr.current_messages,
                    "max_messages": attr.max_messages,
                    "message_size": attr.message_size,
                }));
            } else {
                out(format!(
                    "{name}: {} of {} messages, at most {} bytes each\n",
                    attr.current_messages, attr.max_messages, attr.message_size
                )
                .as_bytes());
            }
            Ok(())
        }
        MqCommand::Unlink { name } => Ok(MessageQueue::unlink(&name)?),
    }
}

fn open_queue(
    name: &ipc_core::Name,
    access: Access,
    how: &WaitArgs,
) -> Result<MessageQueue, Failure> {
    let options = MqOptions {
        creation: Creation::OpenExisting,
        access,
        nonblocking: how.nonblock,
        ..MqOptions::default()
    };
    Ok(MessageQueue::open(name, &options)?)
}

fn size_hint(queue: &MessageQueue) -> String {
    match queue.attributes() {
        Ok(attr) => format!(
            "this queue's messages are at most {} bytes",
            attr.message_size
        ),
        Err(_) => "the message is longer than the queue's message size".into(),
    }
}

/// `posix-ipc sem ...`.
pub fn sem(command: SemCommand) -> Result<(), Failure> {
    let open = |name: &ipc_core::Name| Semaphore::open(name, &SemOptions::default());
    match command {
        SemCommand::Create { create, value } => {
            let options = SemOptions {
                creation: creation(&create),
                mode: create.mode,
                value,
            };
            Semaphore::open(&create.name, &options)?;
            Ok(())
        }
        SemCommand::Wait { name, timeout } => {
            let sem = open(&name)?;
            block_termination_signals();
            done(wait(timeout, |deadline| sem.wait_until(deadline))?)
        }
        SemCommand::Trywait { name } => open(&name)?.try_wait().map_err(|e| match e.errno() {
            Errno::EAGAIN => Failure::hinted(e, "the value is 0"),
            _ => e.into(),
        }),
        SemCommand::Post { name } => open(&name)?.post().map_err(|e| match e.errno() {
            Errno::EOVERFLOW => Failure::hinted(
                e,
                format!(
                    "the value is already SEM_VALUE_MAX ({})",
                    ipc_core::SEM_VALUE_MAX
                ),
            ),
            _ => e.into(),
        }),
        SemCommand::Value { name } => {
            let value = open(&name)?.value()?;
            out(format!("{value}\n").as_bytes());
            Ok(())
        }
        SemCommand::Unlink { name } => Ok(Semaphore::unlink(&name)?),
    }
}

/// `posix-ipc shm ...`.
pub fn shm(command: ShmCommand) -> Result<(), Failure> {
    match command {
        ShmCommand::Create {
            create,
            size,
            no_reserve,
        } => {
            let sizing = if no_reserve {
                Sizing::Truncate
            } else {
                Sizing::Reserve
            };
            // Exclusively first: if sizing then fails, the object we made is removed
            // (nothing half-made); one that already existed is only resized.
            match SharedMemory::create(&create.name, size, create.mode, sizing) {
                Err(e) if e.errno() == Errno::EEXIST && !create.exclusive => {
                    let shm = SharedMemory::open(&create.name, &ShmOptions::default())?;
                    match sizing {
                        Sizing::Truncate => shm.set_len(size)?,
                        Sizing::Reserve => shm.reserve(size)?,
                    }
                    Ok(())
                }
                other => other.map(drop).map_err(Failure::from),
            }
        }
        ShmCommand::Write { name, data, offset } => {
            let bytes = if data == "-" {
                let mut bytes = Vec::new();
                std::io::stdin()
                    .read_to_end(&mut bytes)
                    .map_err(|e| Failure::Other(format!("read stdin: {e}")))?;
                bytes
            } else {
                data.into_bytes()
            };
            let shm = SharedMemory::open(&name, &ShmOptions::default())?;
            let size = shm.size()?;
            let end = offset
                .checked_add(bytes.len() as u64)
                .filter(|&end| end <= size)
                .ok_or_else(|| {
                    Failure::Other(format!(
                        "{name} is {size} bytes: {} bytes at offset {offset} do not fit",
                        bytes.len()
                    ))
                })?;
            if bytes.is_empty() {
                return Ok(());
            }
            let map = shm.map(end as usize)?;
            map.write(offset as usize, &bytes)?;
            Ok(map.unmap()?)
        }
        ShmCommand::Read {
            name,
            offset,
            length,
        } => {
            let options = ShmOptions {
                access: Access::ReadOnly,
                ..ShmOptions::default()
            };
            let shm = SharedMemory::open(&name, &options)?;
            let size = shm.size()?;
            if offset > size {
                return Err(Failure::Other(format!(
                    "{name} is {size} bytes: offset {offset} is past its end"
                )));
            }
            let length = length.unwrap_or(size - offset);
            let end = offset
                .checked_add(length)
                .filter(|&end| end <= size)
                .ok_or_else(|| {
                    Failure::Other(format!(
                        "{name} is {size} bytes: {length} bytes at offset {offset} do not fit"
                    ))
                })?;
            if length == 0 {
                return Ok(());
            }
            let map = shm.map(end as usize)?;
            let mut bytes = vec![0u8; length as usize];
            map.read(offset as usize, &mut bytes)?;
            out(&bytes);
            Ok(())
        }
        ShmCommand::Unlink { name } => Ok(SharedMemory::unlink(&name)?),
    }
}
