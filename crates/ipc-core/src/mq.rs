//! POSIX message queues: [`MessageQueue`].

use std::sync::atomic::{AtomicBool, Ordering};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

use crate::deadline::Deadline;
use crate::error::Refusal;
use crate::error::{Error, Result};
use crate::explain::{explain, explain_resumed, explain_start, oflag as flag_names, Bytes};
use crate::limits;
use crate::name::Name;
use crate::open::{Access, Creation};
use crate::termination;

/// The size of a new queue: `mq_maxmsg` and `mq_msgsize` of `struct mq_attr`,
/// which are C `long`s (64 bits on 64-bit Linux, 32 on 32-bit targets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capacity {
    /// Most messages the queue holds before `mq_send` blocks (or fails with `EAGAIN`).
    pub max_messages: libc::c_long,
    /// Largest message in bytes; a receive buffer must be at least this long.
    pub message_size: libc::c_long,
}

/// How to open a queue: the `oflag`, `mode` and `attr` arguments of `mq_open`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MqOptions {
    /// `O_CREAT` / `O_EXCL`.
    pub creation: Creation,
    /// `O_RDONLY`, `O_WRONLY` or `O_RDWR`.
    pub access: Access,
    /// `O_NONBLOCK`: send on a full queue and receive on an empty one fail with
    /// `EAGAIN` instead of blocking.
    pub nonblocking: bool,
    /// Permission bits for a queue this call creates (masked by the umask).
    pub mode: Mode,
    /// Size for a queue this call creates; `None` takes the system defaults
    /// (`/proc/sys/fs/mqueue/msg_default` and `msgsize_default`).
    pub capacity: Option<Capacity>,
}

impl Default for MqOptions {
    fn default() -> MqOptions {
        MqOptions {
            creation: Creation::OpenExisting,
            access: Access::ReadWrite,
            nonblocking: false,
            mode: Mode::from_bits_truncate(0o600),
            capacity: None,
        }
    }
}

impl MqOptions {
    /// Open an existing queue for reading and writing (`O_RDWR`); the setters
    /// below change one argument each.
    pub fn new() -> MqOptions {
        MqOptions::default()
    }

    /// `O_CREAT` / `O_EXCL`.
    pub fn creation(mut self, creation: Creation) -> MqOptions {
        self.creation = creation;
        self
    }

    /// `O_RDONLY`, `O_WRONLY` or `O_RDWR`.
    pub fn access(mut self, access: Access) -> MqOptions {
        self.access = access;
        self
    }

    /// `O_NONBLOCK`.
    pub fn nonblocking(mut self, nonblocking: bool) -> MqOptions {
        self.nonblocking = nonblocking;
        self
    }

    /// Permission bits for a queue this call creates, as in C: `0o644`.
    pub fn mode(mut self, bits: u32) -> MqOptions {
        self.mode = Mode::from_bits_truncate(bits as libc::mode_t);
        self
    }

    /// The size for a queue this call creates, or `None` for the system defaults.
    pub fn capacity_from(mut self, capacity: Option<Capacity>) -> MqOptions {
        self.capacity = capacity;
        self
    }

    /// `mq_maxmsg` and `mq_msgsize` for a queue this call creates.
    pub fn capacity(mut self, max_messages: libc::c_long, message_size: libc::c_long) -> MqOptions {
        self.capacity = Some(Capacity {
            max_messages,
            message_size,
        });
        self
    }
}

/// A queue's attributes, as `mq_getattr` reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MqAttributes {
    /// Whether this handle is non-blocking (`O_NONBLOCK` in `mq_flags`).
    pub nonblocking: bool,
    /// `mq_maxmsg`.
    pub max_messages: libc::c_long,
    /// `mq_msgsize`.
    pub message_size: libc::c_long,
    /// `mq_curmsgs`: messages waiting now.
    pub current_messages: libc::c_long,
}

impl MqAttributes {
    fn from_c(attr: &libc::mq_attr) -> MqAttributes {
        MqAttributes {
            nonblocking: attr.mq_flags & libc::c_long::from(libc::O_NONBLOCK) != 0,
            max_messages: attr.mq_maxmsg,
            message_size: attr.mq_msgsize,
            current_messages: attr.mq_curmsgs,
        }
    }
}

/// What [`MessageQueue::receive`] got: the message's length and priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Received {
    /// Bytes written to the start of the buffer.
    pub len: usize,
    /// The message's priority (higher is received first).
    pub priority: u32,
}

/// POSIX message queues: `mq_open`, `mq_send`, `mq_receive`, `mq_getattr`,
/// `mq_setattr`, `mq_close`, `mq_unlink`.
///
/// A [`MessageQueue`] is a handle. Dropping it closes the handle (`mq_close`) and
/// leaves the queue in the kernel, where it stays, with its messages, until
/// [`MessageQueue::unlink`] removes its name: that is kernel persistence.
///
/// # References
/// mq_overview(7), mq_open(3), mq_send(3), mq_receive(3), mq_getattr(3), mq_unlink(3).
///
/// An open message queue descriptor; closed on drop.
#[derive(Debug)]
pub struct MessageQueue {
    mqd: Mqd,
    name: Name,
    /// `O_NONBLOCK` on this handle, as last set: whether a call can block, which
    /// decides how `--explain` narrates it.
    nonblocking: AtomicBool,
}

/// The owned descriptor: closing it is this type's job alone.
#[derive(Debug)]
struct Mqd(libc::mqd_t);

impl Mqd {
    fn close(self) -> libc::c_int {
        let raw = self.0;
        std::mem::forget(self);
        // SAFETY: `raw` was open and owned by `self`, which is gone without
        // running `Drop`, so it is closed exactly once.
        unsafe { libc::mq_close(raw) }
    }
}

impl Drop for Mqd {
    fn drop(&mut self) {
        // SAFETY: the descriptor is open and owned by this value, which is not used
        // after drop.
        let rc = unsafe { libc::mq_close(self.0) };
        explain!("mq_close", outcome(rc as isize), "{}", self.0);
    }
}

/// The arguments of a send: descriptor, message, length, priority, deadline.
struct SendArgs<'a>(libc::mqd_t, &'a [u8], u32, Option<&'a Deadline>);

impl std::fmt::Display for SendArgs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let SendArgs(mqd, msg, priority, deadline) = *self;
        write!(f, "{mqd}, {}, {}, {priority}", Bytes(msg), msg.len())?;
        match deadline {
            Some(deadline) => write!(f, ", {deadline}"),
            None => Ok(()),
        }
    }
}

/// The arguments of a receive after the descriptor, as strace shows them: the
/// bytes received, the buffer's length and the priority; after a failure the
/// buffer's address instead of bytes it never got. Then the deadline, if any.
struct ReceiveArgs<'a>(
    &'a [u8],
    &'a std::result::Result<isize, Errno>,
    u32,
    Option<&'a Deadline>,
);

impl std::fmt::Display for ReceiveArgs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ReceiveArgs(buf, result, priority, deadline) = *self;
        match result {
            Ok(n) => write!(
                f,
                "{}, {}, [{priority}]",
                Bytes(&buf[..*n as usize]),
                buf.len()
            )?,
            Err(_) => write!(f, "{:p}, {}, {:p}", buf.as_ptr(), buf.len(), &priority)?,
        }
        match deadline {
            Some(deadline) => write!(f, ", {deadline}"),
            None => Ok(()),
        }
    }
}

/// A C return value: `Err(errno)` for -1, read at once, before anything can change it.
fn outcome(rc: isize) -> std::result::Result<isize, Errno> {
    if rc == -1 {
        Err(Errno::last())
    } else {
        Ok(rc)
    }
}

fn c_attr(capacity: Capacity) -> libc::mq_attr {
    // SAFETY: `mq_attr` is a C struct of integers (plus padding), for which all
    // zero bytes is a valid value.
    let mut attr: libc::mq_attr = unsafe { std::mem::zeroed() };
    attr.mq_flags = 0;
    attr.mq_maxmsg = capacity.max_messages;
    attr.mq_msgsize = capacity.message_size;
    attr.mq_curmsgs = 0;
    attr
}

impl MessageQueue {
    /// `mq_open(name, oflag, mode, attr)`: opens or creates the queue `name`.
    ///
    /// # Errors
    /// `ENOENT` (missing, no `O_CREAT`), `EEXIST` (exists, `O_EXCL`), `EACCES`,
    /// `EINVAL` (capacity above `msg_max`/`msgsize_max` for an unprivileged
    /// caller), `EMFILE` (`RLIMIT_MSGQUEUE` or descriptors), `ENOSPC` (`queues_max`).
    pub fn open(name: &Name, options: &MqOptions) -> Result<MessageQueue> {
        let mut oflag = options.creation.oflag() | options.access.oflag();
        if options.nonblocking {
            oflag |= OFlag::O_NONBLOCK;
        }
        let attr = options.capacity.map(c_attr);
        let attr_ptr = attr
            .as_ref()
            .map_or(std::ptr::null(), |attr| attr as *const libc::mq_attr);
        // SAFETY: the name is a NUL-terminated string that outlives the call; glibc
        // reads the mode and attribute pointer as the variadic arguments it expects
        // (`mode_t` promoted to int, `struct mq_attr *`), and a null attribute
        // pointer means "defaults". Without O_CREAT both are ignored.
        let mqd = unsafe {
            libc::mq_open(
                name.as_c_str().as_ptr(),
                oflag.bits(),
                libc::c_uint::from(options.mode.bits()),
                attr_ptr,
            )
        };
        let result = if mqd == -1 {
            Err(Errno::last())
        } else {
            Ok(mqd)
        };
        explain!(
            "mq_open",
            result,
            "\"{name}\", {}{}",
            flag_names(oflag, true),
            match (options.creation.creates(), options.capacity) {
                (false, _) => String::new(),
                (true, None) => format!(", {:04o}, NULL", options.mode.bits()),
                (true, Some(c)) => format!(
                    ", {:04o}, {{maxmsg: {}, msgsize: {}}}",
                    options.mode.bits(),
                    c.max_messages,
                    c.message_size
                ),
            }
        );
        let mqd = result.map_err(|errno| {
            let error = Error::os("mq_open", Some(name), errno);
            match (errno, options.capacity) {
                (Errno::EINVAL, Some(c))
                    if limits::mqueue_sysctl("msg_max").is_some_and(|m| c.max_messages > m) =>
                {
                    error.with_limit(limits::msg_max())
                }
                (Errno::EINVAL, Some(c))
                    if limits::mqueue_sysctl("msgsize_max").is_some_and(|m| c.message_size > m) =>
                {
                    error.with_limit(limits::msgsize_max())
                }
                (Errno::ENOSPC, _) => error.with_limit(limits::queues_max()),
                (Errno::EMFILE, _) => error.with_limit(limits::mq_open_emfile()),
                _ => error,
            }
        })?;
        Ok(MessageQueue {
            mqd: Mqd(mqd),
            name: name.clone(),
            nonblocking: AtomicBool::new(options.nonblocking),
        })
    }

    /// The queue's name.
    pub fn name(&self) -> &Name {
        &self.name
    }

    /// The descriptor number (on Linux, a file descriptor of the mqueue filesystem).
    pub fn raw(&self) -> libc::mqd_t {
        self.mqd.0
    }

    /// `mq_send(mqd, msg, len, priority)`: queues `msg`; blocks while the queue
    /// is full unless the handle is non-blocking.
    ///
    /// # Errors
    /// `EMSGSIZE` (longer than `mq_msgsize`), `EAGAIN` (full, non-blocking),
    /// `EINVAL` (priority at or above `MQ_PRIO_MAX`), `EBADF` (not opened for writing).
    #[inline]
    pub fn send(&self, msg: &[u8], priority: u32) -> Result<()> {
        termination::blocking("mq_send", Some(&self.name), || {
            self.send_once(msg, priority)
        })
    }

    fn send_once(&self, msg: &[u8], priority: u32) -> Result<()> {
        self.check_priority("mq_send", priority)?;
        let args = SendArgs(self.mqd.0, msg, priority, None);
        let blocks = self.may_block();
        if blocks {
            explain_start!("mq_send", "{args}");
        }
        // SAFETY: `msg` is readable for `msg.len()` bytes for the whole call.
        let rc = unsafe { libc::mq_send(self.mqd.0, msg.as_ptr().cast(), msg.len(), priority) };
        let result = outcome(rc as isize);
        if blocks {
            explain_resumed!("mq_send", result, "");
        } else {
            explain!("mq_send", result, "{args}");
        }
        self.check(result, "mq_send").map(drop)
    }

    /// Whether a send or receive on this handle can block (no `O_NONBLOCK`).
    fn may_block(&self) -> bool {
        !self.nonblocking.load(Ordering::Relaxed)
    }

    /// `mq_timedsend`: as [`send`](Self::send), but gives up with `ETIMEDOUT` at `deadline`.
    ///
    /// # Errors
    /// As `send`, plus `ETIMEDOUT`, and `EINVAL` for a deadline with bad nanoseconds.
    pub fn send_until(&self, msg: &[u8], priority: u32, deadline: &Deadline) -> Result<()> {
        termination::blocking("mq_timedsend", Some(&self.name), || {
            self.send_until_once(msg, priority, deadline)
        })
    }

    fn send_until_once(&self, msg: &[u8], priority: u32, deadline: &Deadline) -> Result<()> {
        self.check_priority("mq_timedsend", priority)?;
        let args = SendArgs(self.mqd.0, msg, priority, Some(deadline));
        let blocks = self.may_block();
        if blocks {
            explain_start!("mq_timedsend", "{args}");
        }
        // SAFETY: `msg` and the timespec are valid for reads for the whole call.
        let rc = unsafe {
            libc::mq_timedsend(
                self.mqd.0,
                msg.as_ptr().cast(),
                msg.len(),
                priority,
                deadline.as_timespec(),
            )
        };
        let result = outcome(rc as isize);
        if blocks {
            explain_resumed!("mq_timedsend", result, "");
        } else {
            explain!("mq_timedsend", result, "{args}");
        }
        self.check_timed(result, "mq_timedsend", deadline).map(drop)
    }

    /// `mq_receive(mqd, buf, len, &prio)`: takes the oldest message of the highest
    /// priority into the start of `buf`; blocks while the queue is empty unless the
    /// handle is non-blocking.
    ///
    /// # Errors
    /// `EMSGSIZE` (`buf` shorter than `mq_msgsize`: size it from
    /// [`attributes`](Self::attributes)), `EAGAIN` (empty, non-blocking), `EBADF`.
    #[inline]
    pub fn receive(&self, buf: &mut [u8]) -> Result<Received> {
        termination::blocking("mq_receive", Some(&self.name), || self.receive_once(buf))
    }

    fn receive_once(&self, buf: &mut [u8]) -> Result<Received> {
        let mut priority = 0u32;
        let blocks = self.may_block();
        if blocks {
            explain_start!("mq_receive", "{}, ", self.mqd.0);
        }
        // SAFETY: `buf` is writable for `buf.len()` bytes and `priority` is a valid
        // `unsigned int` for the whole call.
        let n = unsafe {
            libc::mq_receive(
                self.mqd.0,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut priority,
            )
        };
        let result = outcome(n);
        let got = ReceiveArgs(buf, &result, priority, None);
        if blocks {
            explain_resumed!("mq_receive", result, "{got}");
        } else {
            explain!("mq_receive", result, "{}, {got}", self.mqd.0);
        }
        let len = self.check(result, "mq_receive")?;
        Ok(Received { len, priority })
    }

    /// `mq_timedreceive`: as [`receive`](Self::receive), but gives up with
    /// `ETIMEDOUT` at `deadline`.
    ///
    /// # Errors
    /// As `receive`, plus `ETIMEDOUT`, and `EINVAL` for a deadline with bad nanoseconds.
    pub fn receive_until(&self, buf: &mut [u8], deadline: &Deadline) -> Result<Received> {
        termination::blocking("mq_timedreceive", Some(&self.name), || {
            self.receive_until_once(buf, deadline)
        })
    }

    fn receive_until_once(&self, buf: &mut [u8], deadline: &Deadline) -> Result<Received> {
        let mut priority = 0u32;
        let blocks = self.may_block();
        if blocks {
            explain_start!("mq_timedreceive", "{}, ", self.mqd.0);
        }
        // SAFETY: as in `receive`; the timespec is valid for reads during the call.
        let n = unsafe {
            libc::mq_timedreceive(
                self.mqd.0,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut priority,
                deadline.as_timespec(),
            )
        };
        let result = outcome(n);
        let got = ReceiveArgs(buf, &result, priority, Some(deadline));
        if blocks {
            explain_resumed!("mq_timedreceive", result, "{got}");
        } else {
            explain!("mq_timedreceive", result, "{}, {got}", self.mqd.0);
        }
        let len = self.check_timed(result, "mq_timedreceive", deadline)?;
        Ok(Received { len, priority })
    }

    /// `mq_getattr`: the queue's size, its current depth and this handle's flags.
    ///
    /// # Errors
    /// `EBADF` only, which a live handle does not meet.
    pub fn attributes(&self) -> Result<MqAttributes> {
        // SAFETY: an all-zero `mq_attr` is valid; `mq_getattr` fills it in.
        let mut attr: libc::mq_attr = unsafe { std::mem::zeroed() };
        // SAFETY: `attr` is a valid, writable `struct mq_attr`.
        let rc = unsafe { libc::mq_getattr(self.mqd.0, &mut attr) };
        let result = outcome(rc as isize);
        explain!(
            "mq_getattr",
            result,
            "{}, {{flags: {}, maxmsg: {}, msgsize: {}, curmsgs: {}}}",
            self.mqd.0,
            attr.mq_flags,
            attr.mq_maxmsg,
            attr.mq_msgsize,
            attr.mq_curmsgs
        );
        self.check(result, "mq_getattr")?;
        Ok(MqAttributes::from_c(&attr))
    }

    /// `mq_setattr`: turns `O_NONBLOCK` on or off for this handle (the only
    /// attribute `mq_setattr` can change); returns the attributes from before.
    ///
    /// # Errors
    /// `EBADF` only.
    pub fn set_nonblocking(&self, nonblocking: bool) -> Result<MqAttributes> {
        // SAFETY: an all-zero `mq_attr` is valid.
        let mut new: libc::mq_attr = unsafe { std::mem::zeroed() };
        new.mq_flags = if nonblocking {
            libc::c_long::from(libc::O_NONBLOCK)
        } else {
            0
        };
        // SAFETY: an all-zero `mq_attr` is valid.
        let mut old: libc::mq_attr = unsafe { std::mem::zeroed() };
        // SAFETY: both pointers are to valid `struct mq_attr` values; `old` is writable.
        let rc = unsafe { libc::mq_setattr(self.mqd.0, &new, &mut old) };
        let result = outcome(rc as isize);
        explain!(
            "mq_setattr",
            result,
            "{}, {{flags: {}}}",
            self.mqd.0,
            new.mq_flags
        );
        self.check(result, "mq_setattr")?;
        self.nonblocking.store(nonblocking, Ordering::Relaxed);
        Ok(MqAttributes::from_c(&old))
    }

    /// `mq_close`: releases this handle and reports an error, where `drop` would
    /// ignore it. The queue stays in the kernel.
    ///
    /// # Errors
    /// `EBADF` only.
    pub fn close(self) -> Result<()> {
        let MessageQueue { mqd, name, .. } = self;
        let raw = mqd.0;
        let result = outcome(mqd.close() as isize);
        explain!("mq_close", result, "{raw}");
        result
            .map(drop)
            .map_err(|errno| Error::os("mq_close", Some(&name), errno))
    }

    /// `mq_unlink(name)`: removes the queue's name. Handles still open keep
    /// working; the queue is destroyed when the last one closes.
    ///
    /// # Errors
    /// `ENOENT` (no such queue), `EACCES`.
    pub fn unlink(name: &Name) -> Result<()> {
        // SAFETY: the name is a NUL-terminated string valid for the call.
        let rc = unsafe { libc::mq_unlink(name.as_c_str().as_ptr()) };
        let result = outcome(rc as isize);
        explain!("mq_unlink", result, "\"{name}\"");
        result
            .map(drop)
            .map_err(|errno| Error::os("mq_unlink", Some(name), errno))
    }

    /// Refuses a priority at or above `MQ_PRIO_MAX` before any call.
    fn check_priority(&self, call: &'static str, priority: u32) -> Result<()> {
        if priority >= limits::MQ_PRIO_MAX {
            return Err(
                Error::refused(call, Some(&self.name), Errno::EINVAL, Refusal::OverLimit)
                    .with_limit(limits::mq_prio_max()),
            );
        }
        Ok(())
    }

    /// As `check`, naming the deadline's field when the kernel refused it.
    fn check_timed(
        &self,
        result: std::result::Result<isize, Errno>,
        call: &'static str,
        deadline: &Deadline,
    ) -> Result<usize> {
        self.check(result, call)
            .map_err(|e| match (e.errno(), deadline.bad_nanoseconds()) {
                (Errno::EINVAL, Some(nsec)) => e.with_limit(limits::deadline_nanoseconds(nsec)),
                _ => e,
            })
    }

    #[inline]
    fn check(
        &self,
        result: std::result::Result<isize, Errno>,
        call: &'static str,
    ) -> Result<usize> {
        result
            .map(|n| n as usize)
            .map_err(|errno| Error::os(call, Some(&self.name), errno))
    }
}
