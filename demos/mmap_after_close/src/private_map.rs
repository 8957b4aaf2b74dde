//! A `MAP_PRIVATE` mapping of an object: the control of the lab. Writes to it go to
//! this process's own copy of the pages, never to the object.

use std::os::fd::RawFd;
use std::ptr::NonNull;

/// `mmap(NULL, len, PROT_READ|PROT_WRITE, MAP_PRIVATE, fd, 0)`, unmapped on drop.
pub struct PrivateMapping {
    ptr: NonNull<u8>,
    len: usize,
}

impl PrivateMapping {
    /// Maps the first `len` bytes (at least 1) of the object open on `fd`, privately.
    pub fn new(fd: RawFd, len: usize) -> Result<PrivateMapping, std::io::Error> {
        // SAFETY: a new mapping placed by the kernel (no address given), so it
        // overlaps no memory Rust owns; an invalid `fd` or `len` is an error return.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE,
                fd,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(PrivateMapping {
            ptr: NonNull::new(ptr.cast()).ok_or_else(|| std::io::Error::other("mmap gave NULL"))?,
            len,
        })
    }

    /// Copies `data` to `offset` of this process's private copy. Panics if it does
    /// not fit (the lab's offsets are constants well inside the mapping).
    pub fn write(&self, offset: usize, data: &[u8]) {
        assert!(
            offset + data.len() <= self.len,
            "write past the private mapping"
        );
        // SAFETY: the range is inside the mapping (asserted); a private mapping's
        // pages belong to this process alone (copied on write), so no other process
        // writes them, and the object was reserved with posix_fallocate, so touching
        // them cannot raise SIGBUS.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), self.ptr.as_ptr().add(offset), data.len());
        }
    }
}

impl Drop for PrivateMapping {
    fn drop(&mut self) {
        // SAFETY: the pointer and length are those of our own mapping, unmapped once.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}
