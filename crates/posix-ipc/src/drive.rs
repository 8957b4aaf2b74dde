//! `mq`, `sem` and `shm`: each subcommand makes one short-lived process's worth of
//! calls, so the object visibly outlives it.

use std::io::Read;
use std::time::Duration;

use ipc_core::{
    Access, Capacity, Creation, Deadline, Errno, Error, MessageQueue, MqOptions, Name, SemOptions,
    Semaphore, SharedMemory, ShmOptions, Sizing,
};

use crate::cli::{CreateArgs, MqCommand, SemCommand, ShmCommand, WaitArgs};
use crate::failure::Failure;
use crate::output;
use crate::render::{json, out};
use ipc_core::interruptible::{block_termination_signals, wait, Outcome};
use ipc_core::limits::mqueue_sysctl;

/// Blocks the termination signals for [`wait`] to look for, except those that were
/// ignored when posix-ipc started (`nohup`, `trap '' INT`, a background job of a
/// script): a blocked signal is kept pending instead of discarded, and would then
/// pass for a request to stop. Those stay ignored.
pub fn block_termination() {
    block_termination_signals();
}

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
            let options = MqOptions::new()
                .creation(creation(&create))
                .access(Access::ReadWrite)
                .nonblocking(false)
                .mode(create.mode.bits())
                .capacity_from(capacity);
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
                block_termination();
                wait(how.timeout, |deadline| {
                    queue.send_until(message.as_bytes(), priority, deadline)
                })
            };
            done(sent.map_err(|e| match e.errno() {
                Errno::EAGAIN => Failure::hinted(e, "the queue is full"),
                Errno::EMSGSIZE => Failure::hinted(e, size_hint(&queue)),
                _ => Failure::after_timeout(e, how.timeout),
            })?)
        }
        MqCommand::Receive {
            name,
            wait: how,
            json: as_json,
            raw,
        } => {
            // Look before taking: a message received into a stdout that cannot take
            // it would have to be given back, behind others of its priority.
            output::ready().map_err(|why| {
                Failure::Other(format!("{why}: nothing was received from {name}"))
            })?;
            let queue = open_receiver(&name, &how)?;
            let size = queue.attributes()?.message_size.max(1) as usize;
            let mut buf = vec![0u8; size];
            let received = if how.nonblock {
                queue.receive(&mut buf).map(Outcome::Done)
            } else {
                block_termination();
                wait(how.timeout, |deadline| {
                    queue.receive_until(&mut buf, deadline)
                })
            };
            let got = done(received.map_err(|e| match e.errno() {
                Errno::EAGAIN => Failure::hinted(e, "the queue is empty"),
                _ => Failure::after_timeout(e, how.timeout),
            })?)?;
            let message = &buf[..got.len];
            let text = if as_json {
                let value = serde_json::json!({
                    "priority": got.priority,
                    "length": got.len,
                    "message": std::str::from_utf8(message).ok(),
                    "hex": hex(message),
                });
                let mut text = serde_json::to_string_pretty(&value).expect("JSON values serialise");
                text.push('\n');
                text.into_bytes()
            } else if raw {
                message.to_vec()
            } else {
                let mut line = format!("priority {}: ", got.priority).into_bytes();
                line.extend_from_slice(message);
                line.push(b'\n');
                line
            };
            output::write_all(&text)
                .map_err(|errno| give_back(&queue, message, got.priority, errno))
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
    let options = MqOptions::new()
        .creation(Creation::OpenExisting)
        .access(access)
        .nonblocking(how.nonblock);
    Ok(MessageQueue::open(name, &options)?)
}

/// Opens `name` to receive: read-write where allowed, so that a message that
/// cannot be printed can be sent back on the same descriptor; read-only otherwise.
fn open_receiver(name: &Name, how: &WaitArgs) -> Result<MessageQueue, Failure> {
    match open_queue(name, Access::ReadWrite, how) {
        Err(Failure::Call { error, .. }) if error.errno() == Errno::EACCES => {
            open_queue(name, Access::ReadOnly, how)
        }
        other => other,
    }
}

/// Longest a message being given back waits for room in its queue.
const GIVE_BACK_WAIT: Duration = Duration::from_secs(5);

/// A received `message` could not be printed (`errno`): sends it back to `queue`
/// with its `priority`, and says what happened. It goes behind the messages of that
/// priority already queued. If that fails too, the message is printed on stderr,
/// escaped, as the last place left.
fn give_back(queue: &MessageQueue, message: &[u8], priority: u32, errno: Errno) -> Failure {
    let name = queue.name().clone();
    let sent = resend(queue, message, priority);
    let what = format!(
        "write to stdout: {}: the message ({} bytes, priority {priority})",
        errno.desc(),
        message.len()
    );
    match sent {
        Ok(()) => Failure::Other(format!(
            "{what} was sent back to {name}, behind any others of priority {priority}"
        )),
        Err(e) => Failure::Other(format!(
            "{what} could not be sent back ({e}); here it is, escaped: \"{}\"",
            message.escape_ascii()
        )),
    }
}

/// `mq_timedsend` of `message` on `queue` (or, if it was opened read-only, on a new
/// write-only descriptor), waiting at most [`GIVE_BACK_WAIT`] for room.
fn resend(queue: &MessageQueue, message: &[u8], priority: u32) -> Result<(), Error> {
    let deadline = Deadline::after(GIVE_BACK_WAIT)?;
    let options = MqOptions::new()
        .creation(Creation::OpenExisting)
        .access(Access::WriteOnly);
    // A read-write descriptor sends; a read-only one fails with EBADF.
    queue.set_nonblocking(false)?;
    match queue.send_until(message, priority, &deadline) {
        Err(e) if e.errno() == Errno::EBADF => {
            MessageQueue::open(queue.name(), &options)?.send_until(message, priority, &deadline)
        }
        other => other,
    }
}

/// `bytes` in lowercase hex, two digits each.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
    let open = |name: &Name| {
        check_semaphore_file(name)?;
        Ok::<_, Failure>(Semaphore::open(name, &SemOptions::default())?)
    };
    match command {
        SemCommand::Create { create, value } => {
            let options = SemOptions::new()
                .creation(creation(&create))
                .mode(create.mode.bits())
                .value(value);
            check_semaphore_file(&create.name)?;
            Semaphore::open(&create.name, &options)?;
            Ok(())
        }
        SemCommand::Wait { name, timeout } => {
            let sem = open(&name)?;
            block_termination();
            done(
                wait(timeout, |deadline| sem.wait_until(deadline))
                    .map_err(|e| Failure::after_timeout(e, timeout))?,
            )
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

/// Refuses a semaphore file that is no semaphore (a 0-byte `sem.NAME` anyone can
/// create, a link, garbage bytes) before `sem_open` maps it: using such a mapping
/// faults (`SIGBUS`) or aborts in the C library. A file made between this check
/// and `sem_open` is not caught.
fn check_semaphore_file(name: &Name) -> Result<(), Failure> {
    let Some(path) = ipc_core::ObjectKind::Semaphore.file(name) else {
        return Ok(());
    };
    crate::inventory::semaphore_file(&path, None)
        .map(drop)
        .map_err(|odd| Failure::Other(format!("sem_open {name}: refused: {odd}")))
}

/// Refuses a shared memory name whose file is a named pipe, directory or other
/// non-object (anyone can make one in `/dev/shm`): `shm_open` of a named pipe for
/// reading waits for a writer, forever. A link is left to `shm_open`, which does
/// not follow it (`ELOOP`). A file made between this check and `shm_open` is not
/// caught.
fn check_shm_file(name: &Name) -> Result<(), Failure> {
    let Some(path) = ipc_core::ObjectKind::SharedMemory.file(name) else {
        return Ok(());
    };
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_file() && !meta.file_type().is_symlink() => {
            Err(Failure::Other(format!(
                "shm_open {name}: refused: {}, not a shared memory object",
                crate::inventory::type_words(&meta)
            )))
        }
        _ => Ok(()),
    }
}

/// `posix-ipc shm ...`.
pub fn shm(command: ShmCommand) -> Result<(), Failure> {
    match command {
        ShmCommand::Create {
            create,
            size,
            resize,
            no_reserve,
        } => shm_create(&create, size, resize, no_reserve),
        ShmCommand::Write { name, data, offset } => {
            check_shm_file(&name)?;
            let shm = SharedMemory::open(&name, &ShmOptions::default())?;
            let size = shm.size()?;
            if data == "-" {
                // Streamed, so a large input needs no memory of its size.
                shm_write(&shm, size, offset, std::io::stdin().lock(), None)
            } else {
                let bytes = data.into_bytes();
                let len = bytes.len() as u64;
                shm_write(&shm, size, offset, bytes.as_slice(), Some(len))
            }
        }
        ShmCommand::Read {
            name,
            offset,
            length,
            raw,
        } => {
            check_shm_file(&name)?;
            let options = ShmOptions::new().access(Access::ReadOnly);
            let shm = SharedMemory::open(&name, &options)?;
            let size = shm.size()?;
            if offset > size {
                return Err(Failure::Other(format!(
                    "{name} is {size} bytes: offset {offset} is past its end"
                )));
            }
            let length = length.unwrap_or(size - offset);
            offset
                .checked_add(length)
                .filter(|&end| end <= size)
                .ok_or_else(|| {
                    Failure::Other(format!(
                        "{name} is {size} bytes: {length} bytes at offset {offset} do not fit"
                    ))
                })?;
            let shown = if !raw && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                Shown::Escaped
            } else {
                Shown::Raw
            };
            shm_read(&shm, offset, length, shown)
        }
        ShmCommand::Unlink { name } => Ok(SharedMemory::unlink(&name)?),
    }
}

/// `shm create`: a new object is made exclusively and sized, or removed if sizing
/// fails (nothing half-made). An existing one is never silently changed: of the
/// asked size it is left as it is (with `posix_fallocate` still reserving any pages
/// it lacks, which never changes a byte); of another size it is refused unless
/// `--resize`.
fn shm_create(
    create: &CreateArgs,
    size: u64,
    resize: bool,
    no_reserve: bool,
) -> Result<(), Failure> {
    let sizing = if no_reserve {
        Sizing::Truncate
    } else {
        Sizing::Reserve
    };
    let name = &create.name;
    let existing = match SharedMemory::create(name, size, create.mode, sizing) {
        Err(e) if e.errno() == Errno::EEXIST && !create.exclusive => {
            SharedMemory::open(name, &ShmOptions::default())?
        }
        other => return other.map(drop).map_err(Failure::from),
    };
    let now = existing.size()?;
    if now != size && !resize {
        return Err(Failure::Other(format!(
            "{name} exists and is {now} bytes, not {size}: nothing was changed \
             (to give it {size} bytes: posix-ipc shm create {name} --size {size} --resize)"
        )));
    }
    match sizing {
        // posix_fallocate never shrinks and never changes a byte already there.
        Sizing::Reserve if size >= now => existing.reserve(size)?,
        Sizing::Reserve | Sizing::Truncate if size != now => existing.set_len(size)?,
        _ => {}
    }
    Ok(())
}

/// Bytes moved per `pread`/`pwrite`, and the most held in memory at once.
const CHUNK: usize = 64 * 1024;

/// The object's length now, to explain a short `pread` or check a `pwrite`.
fn cut_to(shm: &SharedMemory) -> String {
    match shm.size() {
        Ok(now) => format!("{now} bytes"),
        Err(e) => format!("an unknown length ({e})"),
    }
}

/// `shm read`: `pread` of `length` bytes from `offset`, a chunk at a time, each
/// written to stdout. `pread` on the descriptor, not a mapping: an object cut
/// short meanwhile (another process's `ftruncate`) gives a short count, which is
/// reported, where touching a mapping past the new end would raise SIGBUS. A
/// reader that stops reading (`| head -c 10`) ends it quietly: a read takes nothing.
/// How `shm read` shows the bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shown {
    /// As they are (a pipe, a file, or --raw).
    Raw,
    /// For a terminal: non-printable bytes escaped, lines kept, a final newline.
    Escaped,
}

/// `bytes` escaped for a terminal: each line as `ls` shows a name, newlines kept.
fn escaped(bytes: &[u8]) -> Vec<u8> {
    let lines: Vec<String> = bytes
        .split(|&b| b == b'\n')
        .map(crate::render::escape_text)
        .collect();
    lines.join("\n").into_bytes()
}

fn shm_read(shm: &SharedMemory, offset: u64, length: u64, shown: Shown) -> Result<(), Failure> {
    let name = shm.name();
    output::block_sigxfsz();
    let mut buf = vec![0u8; CHUNK.min(length as usize)];
    let mut done = 0u64;
    while done < length {
        let want = (length - done).min(CHUNK as u64) as usize;
        let at = offset + done;
        let got = match shm.read_at(at, &mut buf[..want])? {
            0 => {
                return Err(Failure::Other(format!(
                    "{name} was cut short while being read: it is now {}, and \
                     {done} of {length} bytes were printed",
                    cut_to(shm)
                )))
            }
            n => n,
        };
        let bytes = &buf[..got];
        let written = match shown {
            Shown::Raw => output::write_all(bytes),
            Shown::Escaped => output::write_all(&escaped(bytes)),
        };
        match written {
            Ok(()) => {
                done += got as u64;
                let ends_a_line = bytes.last() == Some(&b'\n');
                if shown == Shown::Escaped && done == length && !ends_a_line {
                    let _ = output::write_all(b"\n");
                }
            }
            Err(Errno::EPIPE) => return Ok(()),
            Err(errno) => {
                return Err(Failure::Other(format!(
                    "write to stdout: {}: {done} of {length} bytes of {name} were printed",
                    errno.desc()
                )))
            }
        }
    }
    Ok(())
}

/// `shm write`: `pwrite` of `input` at `offset`, a chunk at a time, never past the
/// object's end (`size`, as it was when opened): an input of known `len` that does
/// not fit is refused before anything is written; a longer streamed one stops at
/// the end with an error. `pwrite`, not a mapping: a full `/dev/shm` under an
/// object sized without reserving is `ENOSPC`, not SIGBUS. `pwrite` past the end
/// would lengthen the object, so an object cut short meanwhile is checked for
/// before each chunk and after the last, and reported.
fn shm_write(
    shm: &SharedMemory,
    size: u64,
    offset: u64,
    mut input: impl Read,
    len: Option<u64>,
) -> Result<(), Failure> {
    let name = shm.name();
    let room = size.checked_sub(offset).ok_or_else(|| {
        Failure::Other(format!(
            "{name} is {size} bytes: offset {offset} is past its end"
        ))
    })?;
    if let Some(len) = len.filter(|&len| len > room) {
        return Err(Failure::Other(format!(
            "{name} is {size} bytes: {len} bytes at offset {offset} do not fit"
        )));
    }
    let mut buf = vec![0u8; CHUNK];
    let mut written = 0u64;
    loop {
        let got = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(Failure::Other(format!(
                    "read stdin: {e}; {written} bytes were written to {name} at offset {offset}"
                )))
            }
        };
        if written + got as u64 > room {
            return Err(Failure::Other(format!(
                "{name} is {size} bytes: the input goes past its end; the {written} bytes \
                 from offset {offset} that fit were written, the rest was not"
            )));
        }
        let mut chunk = &buf[..got];
        while !chunk.is_empty() {
            let at = offset + written;
            // Checked before each pwrite, which past the end would lengthen the object.
            if shm.size()? < at + chunk.len() as u64 {
                return Err(Failure::Other(format!(
                    "{name} was cut short while being written: it is now {}; {written} bytes \
                     were written from offset {offset}",
                    cut_to(shm)
                )));
            }
            match shm.write_at(at, chunk) {
                Ok(n) => {
                    chunk = &chunk[n..];
                    written += n as u64;
                }
                // ENOSPC and EFBIG name the free space of /dev/shm.
                Err(error) => {
                    return Err(Failure::hinted(
                        error,
                        format!("{written} bytes were written from offset {offset}"),
                    ));
                }
            }
        }
    }
    // A truncation during the last pwrite would have been undone by it: say so.
    let now = shm.size()?;
    if now != size {
        return Err(Failure::Other(format!(
            "{name} changed length while being written: it was {size} bytes and is now {now}; \
             {written} bytes were written from offset {offset}"
        )));
    }
    Ok(())
}
