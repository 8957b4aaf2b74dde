//! POSIX shared memory: [`SharedMemory`] and [`Mapping`].

use std::num::NonZeroUsize;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

use nix::errno::Errno;
use nix::sys::mman::{MapFlags, ProtFlags};
use nix::sys::stat::Mode;

use crate::error::{Error, Refusal, Result};
use crate::explain::{explain, oflag as flag_names};
use crate::limits;
use crate::pshared::{overlap, Placement};

/// Names the size of `/dev/shm` in an error that ran out of it.
fn space_error(error: Error) -> Error {
    match error.errno() {
        Errno::ENOSPC | Errno::EFBIG | Errno::ENOMEM => error.with_limit(limits::dev_shm_free()),
        _ => error,
    }
}
use crate::name::Name;
use crate::open::{Access, Creation};

/// How to open a shared memory object: the `oflag` and `mode` arguments of `shm_open`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShmOptions {
    /// `O_CREAT` / `O_EXCL`.
    pub creation: Creation,
    /// `O_RDONLY` or `O_RDWR`. POSIX leaves `O_WRONLY` undefined for `shm_open`;
    /// it is passed through as given.
    pub access: Access,
    /// Permission bits for an object this call creates (masked by the umask).
    pub mode: Mode,
}

impl Default for ShmOptions {
    fn default() -> ShmOptions {
        ShmOptions {
            creation: Creation::OpenExisting,
            access: Access::ReadWrite,
            mode: Mode::from_bits_truncate(0o600),
        }
    }
}

impl ShmOptions {
    /// Open an existing object for reading and writing (`O_RDWR`); the setters
    /// below change one argument each.
    pub fn new() -> ShmOptions {
        ShmOptions::default()
    }

    /// `O_CREAT` / `O_EXCL`.
    pub fn creation(mut self, creation: Creation) -> ShmOptions {
        self.creation = creation;
        self
    }

    /// `O_RDONLY` or `O_RDWR`.
    pub fn access(mut self, access: Access) -> ShmOptions {
        self.access = access;
        self
    }

    /// Permission bits for an object this call creates, as in C: `0o600`.
    pub fn mode(mut self, bits: u32) -> ShmOptions {
        self.mode = Mode::from_bits_truncate(bits as libc::mode_t);
        self
    }
}

/// How [`SharedMemory::create`] sizes a new object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Sizing {
    /// `ftruncate`: sets the length; memory is taken as pages are first touched,
    /// and a full `/dev/shm` shows up later as `SIGBUS`.
    Truncate,
    /// `posix_fallocate`: sets the length and takes the memory now; a full
    /// `/dev/shm` is an `ENOSPC` error at once.
    Reserve,
}

/// POSIX shared memory: `shm_open`, `ftruncate`, `mmap`, `close`, `munmap`, `shm_unlink`.
///
/// A [`SharedMemory`] is the descriptor `shm_open` returns; a [`Mapping`] is the
/// memory `mmap` gives for it. They are separate on purpose: once mapped, the
/// descriptor can be closed (drop it, or [`SharedMemory::close`]) and the mapping
/// stays valid until it is unmapped, because the kernel keeps the object alive for
/// the mapping. The object itself stays until [`SharedMemory::unlink`] and the last
/// unmap.
///
/// # Why no `&[u8]` into the mapping
/// Another process can write the mapped bytes at any moment. A Rust reference
/// promises the compiler that the bytes behind it do not change (for `&`) or that
/// no one else sees them (for `&mut`), and neither holds here, so [`Mapping`]
/// never hands one out. Its accessors copy bytes in and out with relaxed atomic
/// operations, and all of them use **one access size**: the aligned 8-byte word.
/// [`Mapping::read`] loads the words that hold the range; [`Mapping::write`]
/// stores whole words and changes the bytes of a partly covered word with a
/// compare-and-swap on that word, so the bytes around it are kept even if another
/// thread or process writes them meanwhile. [`Mapping::atomic_u64`] hands out the
/// same words. Concurrent accesses are therefore never mixed-size atomics, and a
/// concurrent write is a race the program can observe (torn data across words,
/// which is the lesson of the unsynchronised labs), never undefined behaviour.
/// Ordering between processes comes from the synchronisation the program uses (a
/// semaphore's wait and post are full barriers).
///
/// Bytes that hold a placed mutex, condition variable or semaphore (see
/// [`crate::Placed`]) belong to the C library's own accesses: `read`, `write` and
/// `atomic_u64` refuse them.
///
/// # Faults past the end
/// A mapping is only as long as the object behind it: a page past the object's end
/// raises `SIGBUS` when touched. So [`SharedMemory::map`] refuses a length past
/// the object's end ([`Refusal::PastEnd`]), and [`SharedMemory::set_len`] refuses
/// to shrink an object under a live mapping of it in this process, through any of
/// its descriptors ([`Refusal::StillMapped`]), or under an open
/// [`crate::Semaphore`] (glibc maps its file `/dev/shm/sem.NAME`, which is also the
/// shared memory object `/sem.NAME`). The two checks and the calls they guard
/// are made under one lock, so a thread mapping while another shrinks cannot slip
/// between them. What no check here can prevent:
/// another process shrinking the object, a file API outside this crate doing so,
/// or a full `/dev/shm` when a page of an object sized with `ftruncate` is first
/// touched ([`SharedMemory::reserve`] avoids that one). To read or write an object
/// other people can resize, use [`SharedMemory::read_at`] and
/// [`SharedMemory::write_at`] (`pread`, `pwrite`), which return short counts
/// instead.
///
/// # References
/// shm_overview(7), shm_open(3), ftruncate(2), mmap(2), munmap(2), shm_unlink(3).
///
/// An open shared memory object (its descriptor); closed on drop.
#[derive(Debug)]
pub struct SharedMemory {
    /// Open until `close` or drop takes it.
    fd: Option<OwnedFd>,
    name: Name,
    writable: bool,
}

impl SharedMemory {
    /// `shm_open(name, oflag, mode)`: opens or creates `/dev/shm/NAME`.
    ///
    /// A new object has length 0: give it one with [`set_len`](Self::set_len)
    /// before mapping, or the first touch of the mapping raises `SIGBUS`.
    ///
    /// # Errors
    /// `ENOENT`, `EEXIST`, `EACCES`, `EMFILE`, `ENAMETOOLONG`.
    pub fn open(name: &Name, options: &ShmOptions) -> Result<SharedMemory> {
        let oflag = options.creation.oflag() | options.access.oflag();
        let result = nix::sys::mman::shm_open(name.as_c_str(), oflag, options.mode);
        explain!(
            "shm_open",
            result.as_ref().map(AsRawFd::as_raw_fd).map_err(|e| *e),
            "\"{name}\", {}, {:04o}",
            flag_names(oflag, true),
            options.mode.bits()
        );
        let fd = result.map_err(|errno| match errno {
            Errno::EMFILE => {
                Error::os("shm_open", Some(name), errno).with_limit(limits::rlimit_nofile())
            }
            _ => Error::os("shm_open", Some(name), errno),
        })?;
        Ok(SharedMemory {
            fd: Some(fd),
            name: name.clone(),
            writable: options.access != Access::ReadOnly,
        })
    }

    /// The object's name.
    pub fn name(&self) -> &Name {
        &self.name
    }

    /// `ftruncate(fd, len)`: sets the object's length (new bytes read as zero).
    ///
    /// This does not reserve memory: on a full `/dev/shm` the later write faults.
    ///
    /// # Errors
    /// `EINVAL` (opened read-only, or `len` too large), `EFBIG`.
    pub fn set_len(&self, len: u64) -> Result<()> {
        // Held until the length is set, so no thread maps the object meanwhile on
        // the strength of its old length.
        let live = mapped();
        let stat = nix::sys::stat::fstat(self.fd().as_fd())
            .map_err(|errno| Error::os("fstat", Some(&self.name), errno))?;
        let key = (stat.st_dev, stat.st_ino);
        let longest = live
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|&(_, mapped)| mapped)
            .max();
        if let Some(mapped) = longest.filter(|&mapped| len < mapped as u64) {
            return Err(Error::refused(
                "ftruncate",
                Some(&self.name),
                Errno::EBUSY,
                Refusal::StillMapped { mapped },
            ));
        }
        let len = libc::off_t::try_from(len)
            .map_err(|_| Error::os("ftruncate", Some(&self.name), Errno::EFBIG))?;
        let result = nix::unistd::ftruncate(self.fd(), len).map(|()| 0);
        drop(live);
        explain!("ftruncate", result, "{}, {len}", self.raw_fd());
        result
            .map(drop)
            .map_err(|errno| space_error(Error::os("ftruncate", Some(&self.name), errno)))
    }

    /// `posix_fallocate(fd, 0, len)`: sets the length to at least `len` **and**
    /// allocates the memory now, so a `/dev/shm` too small for it fails here with
    /// `ENOSPC`, instead of a `SIGBUS` at the first touch of a page it cannot back.
    ///
    /// Use it for memory that will be used; a plain [`set_len`](Self::set_len)
    /// (what the C demos do) is right for a large object touched sparsely, where
    /// reserving it all would waste memory.
    ///
    /// # Errors
    /// `ENOSPC` (names the size of `/dev/shm`), `EFBIG`, `EINVAL` (read-only).
    pub fn reserve(&self, len: u64) -> Result<()> {
        let len = libc::off_t::try_from(len)
            .map_err(|_| Error::os("posix_fallocate", Some(&self.name), Errno::EFBIG))?;
        let result = nix::fcntl::posix_fallocate(self.fd(), 0, len).map(|()| 0);
        explain!("posix_fallocate", result, "{}, 0, {len}", self.raw_fd());
        result
            .map(drop)
            .map_err(|errno| space_error(Error::os("posix_fallocate", Some(&self.name), errno)))
    }

    /// Creates `name` exclusively and gives it `len` bytes, as one step: if sizing
    /// fails, the new object is unlinked before the error is returned, so nothing
    /// half-made is left.
    ///
    /// # Errors
    /// `EEXIST` and the other `shm_open` errors; the sizing call's errors.
    pub fn create(name: &Name, len: u64, mode: Mode, sizing: Sizing) -> Result<SharedMemory> {
        let options = ShmOptions {
            creation: Creation::CreateExclusive,
            access: Access::ReadWrite,
            mode,
        };
        let shm = SharedMemory::open(name, &options)?;
        let sized = match sizing {
            Sizing::Truncate => shm.set_len(len),
            Sizing::Reserve => shm.reserve(len),
        };
        if let Err(error) = sized {
            drop(shm);
            // We created it a moment ago (O_EXCL): remove it.
            let _ = SharedMemory::unlink(name);
            return Err(error);
        }
        Ok(shm)
    }

    /// `fstat(fd).st_size`: the object's current length.
    ///
    /// # Errors
    /// `EBADF` only.
    pub fn size(&self) -> Result<u64> {
        let stat = nix::sys::stat::fstat(self.fd().as_fd())
            .map_err(|errno| Error::os("fstat", Some(&self.name), errno))?;
        Ok(stat.st_size as u64)
    }

    /// `pread(fd, buf, len, offset)`: copies up to `buf.len()` bytes of the object
    /// from `offset`; returns how many (0 at or past its end). Unlike a mapping,
    /// this never faults when another process shrinks the object meanwhile: the
    /// count is just shorter. Retries on `EINTR`.
    ///
    /// # Errors
    /// `EBADF`, `EIO`; `EINVAL` for an offset past `off_t`.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let offset = libc::off_t::try_from(offset)
            .map_err(|_| Error::os("pread", Some(&self.name), Errno::EINVAL))?;
        let result = retry_eintr(|| nix::sys::uio::pread(self.fd(), buf, offset));
        explain!(
            "pread",
            result,
            "{}, {}, {offset}",
            self.raw_fd(),
            buf.len()
        );
        result.map_err(|errno| Error::os("pread", Some(&self.name), errno))
    }

    /// `pwrite(fd, data, len, offset)`: copies up to `data.len()` bytes into the
    /// object at `offset`, growing it if needed; returns how many. A full
    /// `/dev/shm` is an `ENOSPC` error here, never a `SIGBUS`. Retries on `EINTR`.
    ///
    /// # Errors
    /// `ENOSPC` (names the free space of `/dev/shm`), `EFBIG`, `EBADF` (opened
    /// read-only).
    pub fn write_at(&self, offset: u64, data: &[u8]) -> Result<usize> {
        let offset = libc::off_t::try_from(offset)
            .map_err(|_| Error::os("pwrite", Some(&self.name), Errno::EFBIG))?;
        let result = retry_eintr(|| nix::sys::uio::pwrite(self.fd(), data, offset));
        explain!(
            "pwrite",
            result,
            "{}, {}, {offset}",
            self.raw_fd(),
            data.len()
        );
        result.map_err(|errno| space_error(Error::os("pwrite", Some(&self.name), errno)))
    }

    /// `mmap(NULL, len, PROT_READ[|PROT_WRITE], MAP_SHARED, fd, 0)`: maps the first
    /// `len` bytes, writable if the object was opened `O_RDWR`.
    ///
    /// # Errors
    /// A refusal for `len == 0`; from `mmap`: `EACCES`, `ENOMEM`.
    pub fn map(&self, len: usize) -> Result<Mapping> {
        let prot = if self.writable {
            ProtFlags::PROT_READ | ProtFlags::PROT_WRITE
        } else {
            ProtFlags::PROT_READ
        };
        self.map_with(len, prot, MapFlags::MAP_SHARED)
    }

    /// `mmap(NULL, len, PROT_READ|PROT_WRITE, MAP_PRIVATE, fd, 0)`: a copy-on-write
    /// view of the first `len` bytes. Writes go to this process's own copy of each
    /// page and never reach the object (nor any other process): the control that
    /// shows what `MAP_SHARED` does. Writable even for an object opened read-only.
    ///
    /// # Errors
    /// As [`map`](Self::map).
    pub fn map_private(&self, len: usize) -> Result<Mapping> {
        self.map_with(
            len,
            ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
            MapFlags::MAP_PRIVATE,
        )
    }

    fn map_with(&self, len: usize, prot: ProtFlags, flags: MapFlags) -> Result<Mapping> {
        let Some(length) = NonZeroUsize::new(len) else {
            return Err(Error::refused(
                "mmap",
                Some(&self.name),
                Errno::EINVAL,
                Refusal::ZeroLength,
            ));
        };
        // Held from the look at the length until the mapping is recorded, so no
        // thread of this process shrinks the object in between (see `set_len`).
        let mut live = mapped();
        let stat = nix::sys::stat::fstat(self.fd().as_fd())
            .map_err(|errno| Error::os("fstat", Some(&self.name), errno))?;
        let size = stat.st_size as u64;
        if len as u64 > size {
            return Err(Error::refused(
                "mmap",
                Some(&self.name),
                Errno::EINVAL,
                Refusal::PastEnd { len, size },
            ));
        }
        let key = (stat.st_dev, stat.st_ino);
        // SAFETY: a new mapping placed by the kernel (no address given), so it cannot
        // overlap memory Rust already owns; `Mapping` unmaps it exactly once.
        let result = unsafe { nix::sys::mman::mmap(None, length, prot, flags, self.fd(), 0) };
        explain!(
            "mmap",
            result.map(|p| format!("{:p}", p.as_ptr())),
            "NULL, {len}, {}, {}, {}, 0",
            if prot.contains(ProtFlags::PROT_WRITE) {
                "PROT_READ|PROT_WRITE"
            } else {
                "PROT_READ"
            },
            if flags.contains(MapFlags::MAP_PRIVATE) {
                "MAP_PRIVATE"
            } else {
                "MAP_SHARED"
            },
            self.raw_fd()
        );
        let ptr = result.map_err(|errno| Error::os("mmap", Some(&self.name), errno))?;
        live.push((key, len));
        Ok(Mapping::new(
            ptr.cast(),
            len,
            prot.contains(ProtFlags::PROT_WRITE),
            Some(key),
        ))
    }

    /// The descriptor number, as C programs print it.
    pub fn raw_fd(&self) -> RawFd {
        self.fd().as_raw_fd()
    }

    fn fd(&self) -> &OwnedFd {
        self.fd
            .as_ref()
            .expect("the descriptor is open until close or drop")
    }

    /// `close(fd)`: releases the descriptor and reports an error, where `drop` would
    /// ignore it. Mappings made from it stay valid; the object stays in `/dev/shm`.
    ///
    /// # Errors
    /// `EBADF` or `EIO`, which a live descriptor does not meet in practice.
    pub fn close(mut self) -> Result<()> {
        let fd = self.fd.take().expect("open until closed");
        close_narrated(fd).map_err(|errno| Error::os("close", Some(&self.name), errno))
    }

    /// `shm_unlink(name)`: removes `/dev/shm/NAME`. Open descriptors and mappings
    /// keep working; the memory is freed when the last of them goes.
    ///
    /// # Errors
    /// `ENOENT`, `EACCES`.
    pub fn unlink(name: &Name) -> Result<()> {
        let result = nix::sys::mman::shm_unlink(name.as_c_str()).map(|()| 0);
        explain!("shm_unlink", result, "\"{name}\"");
        result
            .map(drop)
            .map_err(|errno| Error::os("shm_unlink", Some(name), errno))
    }
}

impl Drop for SharedMemory {
    fn drop(&mut self) {
        if let Some(fd) = self.fd.take() {
            let _ = close_narrated(fd);
        }
    }
}

/// Runs `call` again as long as a signal interrupts it (`EINTR`).
fn retry_eintr<T>(mut call: impl FnMut() -> nix::Result<T>) -> nix::Result<T> {
    loop {
        match call() {
            Err(Errno::EINTR) => continue,
            result => return result,
        }
    }
}

/// `close(fd)`, narrated.
fn close_narrated(fd: OwnedFd) -> std::result::Result<(), Errno> {
    let raw = fd.into_raw_fd();
    let result = nix::unistd::close(raw).map(|()| 0);
    explain!("close", result, "{raw}");
    result.map(drop)
}

impl AsFd for SharedMemory {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd().as_fd()
    }
}

/// A `MAP_SHARED` mapping of a shared memory object; unmapped on drop.
///
/// Bytes are copied in and out, never borrowed: see the module documentation.
#[derive(Debug)]
pub struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
    writable: bool,
    /// Unique in this process (and kept by a forked child's copy): what a
    /// [`crate::Placed`] token names.
    id: u64,
    /// The process-shared objects placed in it, which the accessors keep off.
    placements: Vec<Placement>,
    /// The object it maps, as `(st_dev, st_ino)`; `None` for an anonymous mapping.
    file: Option<FileKey>,
    /// [`crate::process::forks`] when it was made: another count means a forked
    /// process may hold a copy of it.
    forks: u64,
}

/// A file's identity: `(st_dev, st_ino)`.
type FileKey = (u64, u64);

/// The live mappings of named objects in this process: the object and the length
/// of each, so that [`SharedMemory::set_len`] never shrinks an object under one.
/// It holds the [`Mapping`]s of [`SharedMemory::map`] and the mapping glibc makes
/// of each open [`crate::Semaphore`]'s file (see [`FileMapped`]).
static MAPPED: std::sync::Mutex<Vec<(FileKey, usize)>> = std::sync::Mutex::new(Vec::new());

fn mapped() -> std::sync::MutexGuard<'static, Vec<(FileKey, usize)>> {
    MAPPED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Removes one record of a live mapping of `len` bytes of `key`.
fn forget_mapped(key: FileKey, len: usize) {
    let mut live = mapped();
    if let Some(at) = live.iter().position(|&entry| entry == (key, len)) {
        live.swap_remove(at);
    }
}

/// A mapping made outside [`Mapping`] (glibc's own, of a semaphore's file),
/// recorded in the live mappings so that [`SharedMemory::set_len`] refuses to
/// shrink the file under it; forgotten on drop.
#[derive(Debug)]
pub(crate) struct FileMapped {
    key: FileKey,
    len: usize,
}

impl FileMapped {
    /// Records the mapping of `len` bytes at `addr`, if `/proc/self/maps` names
    /// the file it maps (`None` without `/proc`: then nothing is protected).
    pub(crate) fn at(addr: usize, len: usize) -> Option<FileMapped> {
        let key = file_mapped_at(addr)?;
        mapped().push((key, len));
        Some(FileMapped { key, len })
    }
}

impl Drop for FileMapped {
    fn drop(&mut self) {
        forget_mapped(self.key, self.len);
    }
}

/// The file (`st_dev`, `st_ino`) mapped at `addr` in this process, read from
/// the line of `/proc/self/maps` whose range holds it:
/// `start-end perms offset major:minor inode path`.
fn file_mapped_at(addr: usize) -> Option<FileKey> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines().find_map(|line| {
        let mut fields = line.split_ascii_whitespace();
        let (start, end) = fields.next()?.split_once('-')?;
        let start = usize::from_str_radix(start, 16).ok()?;
        let end = usize::from_str_radix(end, 16).ok()?;
        if !(start..end).contains(&addr) {
            return None;
        }
        let (major, minor) = fields.nth(2)?.split_once(':')?;
        let major = u32::from_str_radix(major, 16).ok()?;
        let minor = u32::from_str_radix(minor, 16).ok()?;
        let inode = fields.next()?.parse::<u64>().ok()?;
        (inode != 0).then(|| (libc::makedev(major, minor), inode))
    })
}

/// The next mapping's id.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Mapping {
    /// A mapping of `len` bytes at `ptr`, just returned by `mmap`.
    /// A mapping of a named object must already be recorded in `MAPPED`.
    fn new(ptr: NonNull<u8>, len: usize, writable: bool, file: Option<FileKey>) -> Mapping {
        Mapping {
            ptr,
            len,
            writable,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            placements: Vec::new(),
            file,
            forks: crate::process::forks(),
        }
    }

    /// Whether it is anonymous (`Mapping::anonymous`): no name, no descriptor, no
    /// other mapping in this process can reach its bytes.
    pub fn is_anonymous(&self) -> bool {
        self.file.is_none()
    }

    /// Forgets this mapping in the list of live mappings of named objects.
    fn forget(&self) {
        if let Some(key) = self.file {
            forget_mapped(key, self.len);
        }
    }

    /// Whether a `fork` since it was made may have given another process a copy
    /// of it, with its own copy of the placements.
    pub(crate) fn shared_by_fork(&self) -> bool {
        self.forks != crate::process::forks()
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    pub(crate) fn placements(&self) -> &[Placement] {
        &self.placements
    }

    pub(crate) fn placements_mut(&mut self) -> &mut Vec<Placement> {
        &mut self.placements
    }

    /// Whether the mapping was made `PROT_WRITE`.
    pub fn is_writable(&self) -> bool {
        self.writable
    }
}

// SAFETY: the mapping is plain shared memory and every access through it is an
// atomic operation on an aligned 8-byte word (see the module documentation), so it
// may be moved to and used from any thread.
unsafe impl Send for Mapping {}
// SAFETY: as for `Send`: `&Mapping` only allows atomic reads and writes, and the
// placements it keeps are only changed through `&mut Mapping`.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// `mmap(NULL, len, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0)`:
    /// shared memory with no name, shared only with the children this process forks
    /// afterwards, gone with the last of them. Nothing to unlink, so nothing can leak.
    ///
    /// # Errors
    /// A refusal for `len == 0`; `ENOMEM`.
    pub fn anonymous(len: usize) -> Result<Mapping> {
        let Some(length) = NonZeroUsize::new(len) else {
            return Err(Error::refused(
                "mmap",
                None,
                Errno::EINVAL,
                Refusal::ZeroLength,
            ));
        };
        // SAFETY: a new anonymous shared mapping placed by the kernel, overlapping
        // nothing; `Mapping` unmaps it exactly once.
        let result = unsafe {
            nix::sys::mman::mmap_anonymous(
                None,
                length,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
            )
        };
        explain!(
            "mmap",
            result.map(|p| format!("{:p}", p.as_ptr())),
            "NULL, {len}, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0"
        );
        let ptr = result.map_err(|errno| Error::os("mmap", None, errno))?;
        Ok(Mapping::new(ptr.cast(), len, true, None))
    }

    /// The address the mapping starts at (the same in a forked child).
    pub fn base_address(&self) -> usize {
        self.ptr.as_ptr() as usize
    }

    /// Length of the mapping in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the mapping is empty (never: `mmap` refuses length 0).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Refuses an access of `len` bytes at `offset` that leaves the mapping or
    /// touches a placed process-shared object.
    #[inline]
    fn check_range(&self, call: &'static str, offset: usize, len: usize) -> Result<()> {
        match offset.checked_add(len) {
            Some(end) if end <= self.len => {}
            _ => {
                return Err(Error::refused(
                    call,
                    None,
                    Errno::EFAULT,
                    Refusal::OutOfBounds {
                        offset,
                        len,
                        mapped: self.len,
                    },
                ))
            }
        }
        if self.placements.is_empty() {
            return Ok(());
        }
        match overlap(&self.placements, offset, len) {
            None => Ok(()),
            Some(refusal) => Err(Error::refused(call, None, Errno::EBUSY, refusal)),
        }
    }

    /// The address of `len` bytes at `offset`, checked to lie inside the mapping
    /// (placed objects included: this is how they are reached).
    pub(crate) fn range_ptr(
        &self,
        call: &'static str,
        offset: usize,
        len: usize,
    ) -> Result<*mut u8> {
        match offset.checked_add(len) {
            Some(end) if end <= self.len => {
                // SAFETY: the range lies inside the mapping (checked just above).
                Ok(unsafe { self.ptr.as_ptr().add(offset) })
            }
            _ => Err(Error::refused(
                call,
                None,
                Errno::EFAULT,
                Refusal::OutOfBounds {
                    offset,
                    len,
                    mapped: self.len,
                },
            )),
        }
    }

    /// Refuses a store into a read-only mapping (which would raise `SIGSEGV`).
    #[inline]
    fn check_writable(&self, call: &'static str) -> Result<()> {
        if self.writable {
            Ok(())
        } else {
            Err(Error::refused(call, None, Errno::EACCES, Refusal::ReadOnly))
        }
    }

    /// The 8 bytes at `offset` (a multiple of 8) as an atomic counter shared with
    /// every process that maps the object. Atomics may be changed by anyone at any
    /// time, so this reference promises nothing false.
    ///
    /// # Errors
    /// A refusal for a range outside the mapping, an offset not a multiple of 8,
    /// bytes of a placed object, or a read-only mapping (an atomic's every
    /// read-modify-write stores).
    pub fn atomic_u64(&self, offset: usize) -> Result<&AtomicU64> {
        self.check_range("atomic", offset, 8)?;
        self.check_writable("atomic")?;
        if !offset.is_multiple_of(8) {
            return Err(Error::refused(
                "atomic",
                None,
                Errno::EINVAL,
                Refusal::Misaligned { offset },
            ));
        }
        Ok(self.word(offset))
    }

    /// Copies `buf.len()` bytes starting at `offset` out of the mapping, loading
    /// each 8-byte word that holds part of the range once (relaxed atomic loads,
    /// plain loads on x86-64).
    ///
    /// # Errors
    /// A refusal if the range does not lie inside the mapping or touches a placed
    /// object.
    #[inline]
    pub fn read(&self, offset: usize, buf: &mut [u8]) -> Result<()> {
        self.check_range("read", offset, buf.len())?;
        let mut done = 0;
        while done < buf.len() {
            let at = offset + done;
            let start = at % 8;
            let n = (8 - start).min(buf.len() - done);
            let word = self.word(at - start).load(Ordering::Relaxed).to_ne_bytes();
            buf[done..done + n].copy_from_slice(&word[start..start + n]);
            done += n;
        }
        Ok(())
    }

    /// Copies `data` into the mapping at `offset`: whole words are stored, and the
    /// bytes of a word the range covers only in part are changed with a
    /// compare-and-swap of that word, which keeps its other bytes as they are.
    ///
    /// # Errors
    /// A refusal if the range does not lie inside the mapping or touches a placed
    /// object, or if the mapping is read-only (instead of the `SIGSEGV` a store
    /// would raise).
    #[inline]
    pub fn write(&self, offset: usize, data: &[u8]) -> Result<()> {
        self.check_range("write", offset, data.len())?;
        self.check_writable("write")?;
        let mut done = 0;
        while done < data.len() {
            let at = offset + done;
            let start = at % 8;
            let n = (8 - start).min(data.len() - done);
            let word = self.word(at - start);
            let part = &data[done..done + n];
            if n == 8 {
                word.store(
                    u64::from_ne_bytes(part.try_into().expect("8 bytes")),
                    Ordering::Relaxed,
                );
            } else {
                let _ = word.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
                    let mut bytes = old.to_ne_bytes();
                    bytes[start..start + n].copy_from_slice(part);
                    Some(u64::from_ne_bytes(bytes))
                });
            }
            done += n;
        }
        Ok(())
    }

    /// The aligned 8-byte word at `offset` (a multiple of 8, below the mapping's
    /// length) as an atomic.
    #[inline]
    fn word(&self, offset: usize) -> &AtomicU64 {
        debug_assert!(offset.is_multiple_of(8) && offset < self.len);
        // SAFETY: `offset` is a multiple of 8 below `len` (every caller derives it
        // from a checked byte of the mapping), and the mapping starts on a page
        // boundary, so the word is aligned for `AtomicU64`. Its 8 bytes lie in the
        // same page as that byte (pages are multiples of 8 long), and `mmap` maps
        // whole pages, so all of them are mapped even when `len` is not a multiple
        // of 8 (the bytes past `len` read as zero and are written back unchanged).
        // Every access to these bytes through a `Mapping` is an atomic access of
        // this one size, and atomics may be used concurrently by anyone.
        unsafe { AtomicU64::from_ptr(self.ptr.as_ptr().add(offset).cast()) }
    }

    /// Writes `text` as a C string at the start, like `snprintf(ptr, len, "%s", text)`:
    /// at most `len - 1` bytes of it, then a NUL.
    ///
    /// # Errors
    /// As [`write`](Self::write).
    pub fn write_c_string(&self, text: &[u8]) -> Result<()> {
        let kept = text.len().min(self.len - 1);
        self.write(0, &text[..kept])?;
        self.write(kept, &[0])
    }

    /// Reads the C string at the start: the bytes before the first NUL, as
    /// `printf("%s", ptr)` would print them, but never past the mapping or into a
    /// placed object (the string ends there if it has no NUL before).
    pub fn read_c_string(&self) -> Vec<u8> {
        let end = self
            .placements
            .iter()
            .map(|p| p.offset())
            .min()
            .unwrap_or(self.len)
            .min(self.len);
        let mut text = Vec::new();
        let mut word = [0u8; 8];
        for at in (0..end).step_by(8) {
            let n = 8.min(end - at);
            if self.read(at, &mut word[..n]).is_err() {
                break;
            }
            match word[..n].iter().position(|&b| b == 0) {
                Some(nul) => {
                    text.extend_from_slice(&word[..nul]);
                    break;
                }
                None => text.extend_from_slice(&word[..n]),
            }
        }
        text
    }

    /// `munmap`: unmaps and reports an error, where `drop` would ignore it.
    ///
    /// # Errors
    /// `EINVAL` only, which a live mapping does not meet.
    pub fn unmap(self) -> Result<()> {
        self.forget();
        let mut this = std::mem::ManuallyDrop::new(self);
        drop(std::mem::take(&mut this.placements));
        // SAFETY: the range is exactly the one `mmap` returned, and `this` is never
        // dropped, so it is unmapped once; no reference into it survives (the
        // accessors hand out none).
        let result = unsafe { nix::sys::mman::munmap(this.ptr.cast(), this.len) }.map(|()| 0);
        explain!("munmap", result, "{:p}, {}", this.ptr.as_ptr(), this.len);
        result
            .map(drop)
            .map_err(|errno| Error::os("munmap", None, errno))
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        self.forget();
        // SAFETY: as in `unmap`: the range came from `mmap` and is unmapped once.
        let result = unsafe { nix::sys::mman::munmap(self.ptr.cast(), self.len) }.map(|()| 0);
        explain!("munmap", result, "{:p}, {}", self.ptr.as_ptr(), self.len);
    }
}
