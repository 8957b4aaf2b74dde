//! `umask_mode`: the mode given to an open call is masked by the umask.
//!
//! Creates one object of each kind with mode 0666 under the umasks 022, 077 and
//! 007, and prints the mode each really got: `0666 & !umask`.

use std::os::unix::fs::PermissionsExt;

use demo_kit::facility::{self, label, tag, unique_name, Handle, ALL};
use demo_kit::{Failure, Perror, Usage};
use ipc_core::cleanup::{self, Strategy};
use ipc_core::set_umask;
use ipc_core::{Creation, Mode, Name};

const USAGE: Usage = Usage {
    name: "umask_mode",
    about: "Create each kind of object with mode 0666 under umasks 022, 077 and 007, and\n\
            print the requested and the resulting modes.",
    flags: &[],
    options: &[],
    steps: false,
};

const REQUESTED: u32 = 0o666;
const UMASKS: [u32; 3] = [0o022, 0o077, 0o007];

fn main() {
    // One process with a queue to unlink: the helper-thread cleanup.
    demo_kit::start(&USAGE, Strategy::HelperThread, None, |_, _| run());
}

/// The permission bits the object really has, read from its file.
fn mode_of(handle: &Handle, name: &Name) -> Result<u32, Failure> {
    let file = String::from_utf8_lossy(name.without_slash()).into_owned();
    let path = match handle {
        Handle::Shm(shm) => format!("/proc/self/fd/{}", shm.raw_fd()),
        Handle::Mq(queue) => format!("/proc/self/fd/{}", queue.raw()),
        // glibc keeps no descriptor open for a semaphore: look at its file.
        Handle::Sem(_) => format!("/dev/shm/sem.{file}"),
    };
    std::fs::metadata(&path)
        .map(|m| m.permissions().mode() & 0o777)
        .map_err(|e| Failure::message(format!("stat {path}: {e}")))
}

fn run() -> Result<(), Failure> {
    let before = set_umask(Mode::empty());
    println!(
        "{:<14} {:>9} {:>6} {:>8} {:>9}",
        "object", "requested", "umask", "expected", "resulting"
    );
    let mut matches = 0;
    let mut results = Vec::new();
    for umask in UMASKS {
        for kind in ALL {
            let name = unique_name("umask_mode", &format!("{}_{umask:03o}", tag(kind)));
            set_umask(Mode::from_bits_truncate(umask));
            let created = cleanup::own(kind, &name, || {
                facility::open(
                    kind,
                    &name,
                    Creation::CreateExclusive,
                    Mode::from_bits_truncate(REQUESTED),
                )
            });
            set_umask(Mode::empty());
            let handle = created.perror("create")?;
            let mode = mode_of(&handle, &name)?;
            let expected = REQUESTED & !umask;
            println!(
                "{:<14} {:>9} {:>6} {:>8} {:>9}",
                label(kind),
                format!("{REQUESTED:04o}"),
                format!("{umask:03o}"),
                format!("{expected:04o}"),
                format!("{mode:04o}")
            );
            matches += usize::from(mode == expected);
            results.push((umask, mode));
            drop(handle);
            cleanup::unlink(kind, &name).perror("unlink")?;
        }
    }
    set_umask(before);
    let per_umask: Vec<String> = UMASKS
        .iter()
        .map(|&u| {
            let modes: Vec<u32> = results.iter().filter(|r| r.0 == u).map(|r| r.1).collect();
            if modes.iter().all(|&m| m == modes[0]) {
                format!("{:04o} under umask {u:03o}", modes[0])
            } else {
                let shown: Vec<String> = modes.iter().map(|m| format!("{m:04o}")).collect();
                format!("{} under umask {u:03o}", shown.join("/"))
            }
        })
        .collect();
    println!(
        "verdict: mode 0666 became {} ({matches}/{} objects got 0666 & ~umask)",
        per_umask.join(", "),
        results.len()
    );
    Ok(())
}
