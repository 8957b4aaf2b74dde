//! `mmap_after_close`: a mapping outlives the descriptor it was made from.
//!
//! Map a shared memory object, close the descriptor, and keep using the mapping:
//! the descriptor's number is free again (the next `open` gets it), yet the
//! mapping still works and `/proc/self/maps` still lists the object.

use demo_kit::facility::unique_name;
use demo_kit::{Failure, Perror, Usage};
use ipc_core::cleanup::{self, Strategy};
use ipc_core::ObjectKind;
use ipc_core::{Access, Creation, Mode, SharedMemory, ShmOptions};

const USAGE: Usage = Usage {
    name: "mmap_after_close",
    about: "Map a shared memory object, close its descriptor, and keep using the mapping:\n\
            the descriptor slot is reused, the mapping stays in /proc/self/maps.",
    flags: &[],
    options: &[("--size", "4096", "bytes to map")],
    steps: false,
};

const TEXT: &[u8] = b"written after close(fd)";

fn main() {
    // No thread and no descriptor of its own, so the descriptor numbers shown are
    // the object's alone.
    demo_kit::start(&USAGE, Strategy::InHandler, None, |cli, _| {
        run(cli.number(&USAGE, "--size", 64))
    });
}

/// The line of `/proc/self/maps` that maps `/dev/shm/FILE`, if any.
fn maps_line(file: &str) -> Option<String> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines()
        .find(|line| line.ends_with(&format!("/dev/shm/{file}")))
        .map(str::to_owned)
}

fn run(size: u64) -> Result<(), Failure> {
    let name = unique_name("mmap_after_close", "shm");
    let file = String::from_utf8_lossy(name.without_slash()).into_owned();
    let options = ShmOptions {
        creation: Creation::CreateExclusive,
        access: Access::ReadWrite,
        mode: Mode::from_bits_truncate(0o600),
    };
    let shm = cleanup::own(ObjectKind::SharedMemory, &name, || {
        SharedMemory::open(&name, &options)
    })
    .perror("shm_open")?;
    shm.set_len(size).perror("ftruncate")?;
    let map = shm.map(size as usize).perror("mmap")?;
    let fd = shm.raw_fd();
    println!("shm_open {name} = fd {fd}; mapped {size} bytes");
    println!(
        "  /proc/self/maps: {}",
        maps_line(&file).unwrap_or_else(|| "(not listed)".into())
    );

    shm.close().perror("close")?;
    let link = std::fs::read_link(format!("/proc/self/fd/{fd}")).ok();
    println!(
        "close(fd {fd}); /proc/self/fd/{fd} now: {}",
        link.map_or("gone".into(), |l| l.display().to_string())
    );

    // The slot is free: the next open gets the lowest free number, the same one.
    let other = std::fs::File::open("/dev/null")
        .map_err(|e| Failure::message(format!("open /dev/null: {e}")))?;
    let reused = std::os::fd::AsRawFd::as_raw_fd(&other);
    println!(
        "open(\"/dev/null\") = fd {reused}: the slot is {}",
        if reused == fd { "reused" } else { "not reused" }
    );

    map.write(0, TEXT).perror("write")?;
    let mut back = vec![0u8; TEXT.len()];
    map.read(0, &mut back).perror("read")?;
    let same = back.iter().zip(TEXT).filter(|(a, b)| a == b).count();
    let listed = maps_line(&file);
    println!(
        "the mapping after close: wrote and read back {same}/{} bytes",
        TEXT.len()
    );
    println!(
        "  /proc/self/maps: {}",
        listed.clone().unwrap_or_else(|| "(not listed)".into())
    );

    drop(other);
    map.unmap().perror("munmap")?;
    cleanup::unlink(ObjectKind::SharedMemory, &name).perror("shm_unlink")?;
    println!(
        "verdict: after close(fd {fd}) the mapping read back {same}/{} bytes, fd {fd} was {} by the next open, \
         and /proc/self/maps {} the object",
        TEXT.len(),
        if reused == fd { "reused" } else { "not reused" },
        if listed.is_some() { "still listed" } else { "no longer listed" }
    );
    Ok(())
}
