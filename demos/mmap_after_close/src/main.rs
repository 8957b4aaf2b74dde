//! `mmap_after_close`: a mapping outlives the descriptor it was made from.
//!
//! Map a shared memory object (and, as a control, map it `MAP_PRIVATE` too), close
//! the descriptor, and keep using the mapping: no descriptor of the process refers
//! to the object any more, its number is free again (the next `open` gets it), yet
//! `/proc/self/maps` still lists the object and bytes written through the mapping
//! reach the object: a fresh `shm_open` and `mmap` reads them back. Bytes written
//! through the private control do not.

use demo_kit::facility::unique_name;
use demo_kit::{outln, Failure, Perror, Usage};
use ipc_core::cleanup::{self, Strategy};
use ipc_core::ObjectKind;
use ipc_core::{Access, Creation, SharedMemory, ShmOptions};

const USAGE: Usage = Usage {
    name: "mmap_after_close",
    about: "Map a shared memory object, close its descriptor, and keep using the mapping:\n\
            the descriptor slot is reused, the mapping stays in /proc/self/maps, and what\n\
            it writes reaches the object (a fresh open and map reads it back); a\n\
            MAP_PRIVATE control's writes do not.",
    flags: &[],
    options: &[("--size", "4096", "bytes to map, at least 128")],
    steps: false,
};

/// Written through the shared mapping, at offset 0.
const TEXT: &[u8] = b"written after close(fd)";
/// Written through the private control mapping, at offset 64.
const CONTROL: &[u8] = b"written to MAP_PRIVATE!";
const CONTROL_AT: usize = 64;

fn main() {
    // No thread and no descriptor of its own, so the descriptor numbers shown are
    // the object's alone.
    demo_kit::start(&USAGE, Strategy::InHandler, None, |cli, _| {
        run(cli.number(&USAGE, "--size", 128))
    });
}

/// The line of `/proc/self/maps` that maps `/dev/shm/FILE` shared (`rw-s`), if any.
fn maps_line(file: &str) -> Option<String> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines()
        .find(|line| {
            line.ends_with(&format!("/dev/shm/{file}"))
                && line
                    .split_whitespace()
                    .nth(1)
                    .is_some_and(|p| p.ends_with('s'))
        })
        .map(str::to_owned)
}

/// The descriptors of this process that refer to `/dev/shm/FILE`.
fn descriptors_of(file: &str) -> Vec<String> {
    let target = format!("/dev/shm/{file}");
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| std::fs::read_link(e.path()).is_ok_and(|l| l.as_os_str() == target.as_str()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// How many bytes of `expected` are at `offset` of the object, read through a
/// fresh `shm_open` and `mmap` (the object itself, not this process's mapping).
fn bytes_in_object(shm: &SharedMemory, offset: usize, expected: &[u8]) -> Result<usize, Failure> {
    let map = shm.map(offset + expected.len()).perror("mmap")?;
    let mut back = vec![0u8; expected.len()];
    map.read(offset, &mut back).perror("read")?;
    Ok(back.iter().zip(expected).filter(|(a, b)| a == b).count())
}

fn run(size: u64) -> Result<(), Failure> {
    let name = unique_name("mmap_after_close", "shm");
    let file = String::from_utf8_lossy(name.without_slash()).into_owned();
    let options = ShmOptions::new()
        .creation(Creation::CreateExclusive)
        .access(Access::ReadWrite)
        .mode(0o600);
    let shm = cleanup::own(ObjectKind::SharedMemory, &name, || {
        SharedMemory::open(&name, &options)
    })
    .perror("shm_open")?;
    // Reserved, not only sized: on a full /dev/shm this fails with ENOSPC here,
    // where a plain ftruncate would let the first write die of SIGBUS.
    shm.reserve(size)
        .map_err(|e| Failure::message(format!("mmap_after_close: {e}")))?;
    let map = shm.map(size as usize).perror("mmap")?;
    let control = shm.map_private(size as usize).perror("mmap(MAP_PRIVATE)")?;
    let fd = shm.raw_fd();
    outln!(
        "shm_open {name} = fd {fd}; mapped {size} bytes MAP_SHARED, and MAP_PRIVATE as a control"
    )?;
    outln!(
        "  /proc/self/maps: {}",
        maps_line(&file).unwrap_or_else(|| "(not listed)".into())
    )?;

    shm.close().perror("close")?;
    let holders = descriptors_of(&file);
    outln!(
        "close(fd {fd}); descriptors of this process on the object now: {}",
        if holders.is_empty() {
            "none".to_owned()
        } else {
            holders.join(", ")
        }
    )?;

    // The slot is free: the next open gets the lowest free number, the same one.
    let other = std::fs::File::open("/dev/null")
        .map_err(|e| Failure::message(format!("open /dev/null: {e}")))?;
    let reused = std::os::fd::AsRawFd::as_raw_fd(&other);
    let slot = if reused == fd { "reused" } else { "not reused" };
    outln!("open(\"/dev/null\") = fd {reused}: the slot is {slot}")?;
    drop(other);

    map.write(0, TEXT).perror("write")?;
    control
        .write(CONTROL_AT, CONTROL)
        .perror("write (MAP_PRIVATE)")?;
    let listed = maps_line(&file);
    outln!(
        "  /proc/self/maps: {}",
        listed.clone().unwrap_or_else(|| "(not listed)".into())
    )?;

    // Read back through the object: a fresh open and map, as another process would.
    let fresh = SharedMemory::open(
        &name,
        &ShmOptions::new()
            .creation(Creation::OpenExisting)
            .access(Access::ReadOnly),
    )
    .perror("shm_open")?;
    let shared_back = bytes_in_object(&fresh, 0, TEXT)?;
    let private_back = bytes_in_object(&fresh, CONTROL_AT, CONTROL)?;
    drop(fresh);
    outln!(
        "a fresh shm_open and mmap finds {shared_back}/{} bytes written through MAP_SHARED \
         after the close, {private_back}/{} written through MAP_PRIVATE",
        TEXT.len(),
        CONTROL.len()
    )?;

    drop(control);
    map.unmap().perror("munmap")?;
    cleanup::unlink(ObjectKind::SharedMemory, &name).perror("shm_unlink")?;
    outln!(
        "verdict: after close(fd {fd}) {} descriptors referred to the object and fd {fd} was \
         {slot} by the next open, yet /proc/self/maps {} the object and a fresh open and map \
         read back {shared_back}/{} bytes written through the mapping ({private_back}/{} of \
         the MAP_PRIVATE control's)",
        holders.len(),
        if listed.is_some() {
            "still listed"
        } else {
            "no longer listed"
        },
        TEXT.len(),
        CONTROL.len()
    )?;
    Ok(())
}
