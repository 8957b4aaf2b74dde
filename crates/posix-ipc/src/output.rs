//! stdout for output that carries something: a received message (taken from its
//! queue, so it must not be lost) or bytes streamed from an object.
//!
//! `render::out` suits a listing, where a closed pipe (`| head`) only means the
//! reader has seen enough. Here a write error is an error like any other, and
//! [`ready`] looks before anything is taken: a closed stdout, a pipe with no reader,
//! a read-only or full one are refused while nothing has been received.

use std::os::fd::AsFd;

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::stat::{fstat, major, minor, SFlag};

/// Whether stdout can take output now; if not, why (a phrase such as "stdout is
/// closed").
///
/// - closed: Rust's runtime puts `/dev/null` (opened read-write) on a descriptor
///   0 to 2 that was closed at start (`>&-`), so such a stdout is taken as closed;
///   a `> /dev/null` of the shell is opened write-only and is fine (the output is
///   discarded as asked);
/// - opened for reading only;
/// - a pipe or socket whose reading end is closed (`poll` says `POLLERR` or
///   `POLLHUP`), which a write would meet as `EPIPE`;
/// - a device or file that refuses even an empty write (`/dev/full`: `ENOSPC`).
///
/// It also blocks SIGXFSZ (see [`block_sigxfsz`]).
///
/// A stdout that passes can still fail later (a reader that goes away, a disk that
/// fills): callers handle the write error too.
pub fn ready() -> Result<(), String> {
    block_sigxfsz();
    let stdout = std::io::stdout();
    let fd = stdout.as_fd();
    let flags = match fcntl(fd, FcntlArg::F_GETFL) {
        Ok(flags) => OFlag::from_bits_truncate(flags),
        Err(Errno::EBADF) => return Err("stdout is closed".into()),
        Err(errno) => return Err(format!("stdout cannot be examined: {}", errno.desc())),
    };
    let access = flags & OFlag::O_ACCMODE;
    if access == OFlag::O_RDONLY {
        return Err("stdout is open for reading only".into());
    }
    let stat = fstat(fd.as_fd()).map_err(|errno| format!("stdout: fstat: {}", errno.desc()))?;
    let kind = SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT;
    let dev_null = kind == SFlag::S_IFCHR && major(stat.st_rdev) == 1 && minor(stat.st_rdev) == 3;
    if dev_null && access == OFlag::O_RDWR {
        return Err("stdout was closed when posix-ipc started (>&-)".into());
    }
    if kind == SFlag::S_IFIFO || kind == SFlag::S_IFSOCK {
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLOUT)];
        if poll(&mut fds, PollTimeout::ZERO).is_ok() {
            let gone = PollFlags::POLLERR | PollFlags::POLLHUP | PollFlags::POLLNVAL;
            if fds[0].revents().is_some_and(|r| r.intersects(gone)) {
                return Err("stdout is a pipe or socket that nobody reads".into());
            }
        }
    }
    match nix::unistd::write(fd, &[]) {
        Ok(_) => Ok(()),
        Err(errno) => Err(format!("stdout cannot be written: {}", errno.desc())),
    }
}

/// Writes all of `bytes` to stdout, unbuffered (`write` until done): any error is
/// returned (a broken pipe included), never a panic, and nothing is left in a
/// buffer to be written again at exit.
pub fn write_all(mut bytes: &[u8]) -> Result<(), Errno> {
    let stdout = std::io::stdout();
    while !bytes.is_empty() {
        match nix::unistd::write(stdout.as_fd(), bytes) {
            Ok(0) => return Err(Errno::EIO),
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::EINTR) => {}
            Err(errno) => return Err(errno),
        }
    }
    Ok(())
}

/// Blocks SIGXFSZ, so that a write past `RLIMIT_FSIZE` (`ulimit -f`) into a file is
/// an `EFBIG` error to handle, instead of a signal that ends the process (and, for
/// a message already received, loses it). A blocked SIGXFSZ only stays pending.
pub fn block_sigxfsz() {
    let mut set = SigSet::empty();
    set.add(Signal::SIGXFSZ);
    let _ = set.thread_block();
}
