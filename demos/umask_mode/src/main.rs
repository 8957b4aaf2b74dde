//! `umask_mode`: the mode given to an open call is masked by the umask.
//!
//! Creates one object of each kind with mode 0666 under the umasks 000 (the
//! control: nothing masked), 022, 077 and 007, and prints the mode each really got:
//! `0666 & !umask`, with the umask read back from the kernel at each call.

use std::os::unix::fs::PermissionsExt;

use demo_kit::facility::{self, unique_name, Handle};
use demo_kit::{outln, Failure, Perror, Usage};
use ipc_core::cleanup::{self, Strategy};
use ipc_core::set_umask;
use ipc_core::ObjectKind;
use ipc_core::{Creation, Mode, Name};

const USAGE: Usage = Usage {
    name: "umask_mode",
    about: "Create each kind of object with mode 0666 under umasks 000 (the control), 022,\n\
            077 and 007, and print the requested and the resulting modes.",
    flags: &[],
    options: &[],
    steps: false,
};

const REQUESTED: u32 = 0o666;
/// The first row is the control: with umask 000 the mode is exactly what was asked,
/// so the other rows' differences are the umask's doing.
const UMASKS: [u32; 4] = [0o000, 0o022, 0o077, 0o007];

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

/// The umask in effect now, as the kernel reports it (`Umask:` in
/// `/proc/self/status`), not as this program believes it set it.
fn umask_in_effect() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("Umask:"))?;
    u32::from_str_radix(line.trim(), 8).ok()
}

fn run() -> Result<(), Failure> {
    let before = set_umask(Mode::empty());
    let result = table();
    set_umask(before);
    result
}

fn table() -> Result<(), Failure> {
    outln!(
        "{:<14} {:>9} {:>6} {:>8} {:>9}",
        "object",
        "requested",
        "umask",
        "expected",
        "resulting"
    )?;
    let mut matches = 0;
    let mut results = Vec::new();
    for umask in UMASKS {
        for kind in ObjectKind::ALL {
            let name = unique_name("umask_mode", &format!("{}_{umask:03o}", kind.label()));
            set_umask(Mode::from_bits_truncate(umask));
            let mut in_effect = None;
            let created = cleanup::own(kind, &name, || {
                in_effect = umask_in_effect();
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
            drop(handle);
            cleanup::unlink(kind, &name).perror("unlink")?;
            let Some(in_effect) = in_effect else {
                return Err(Failure::message(
                    "umask_mode: cannot read the umask from /proc/self/status",
                ));
            };
            let expected = REQUESTED & !in_effect;
            outln!(
                "{:<14} {:>9} {:>6} {:>8} {:>9}",
                kind.noun(),
                format!("{REQUESTED:04o}"),
                format!("{in_effect:03o}"),
                format!("{expected:04o}"),
                format!("{mode:04o}")
            )?;
            matches += usize::from(mode == expected);
            results.push((in_effect, mode));
        }
    }
    let mut umasks: Vec<u32> = results.iter().map(|r| r.0).collect();
    umasks.dedup();
    let per_umask: Vec<String> = umasks
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
    outln!(
        "verdict: mode {REQUESTED:04o} became {} ({matches}/{} objects got {REQUESTED:04o} & \
         ~umask, the umask read from /proc/self/status at each call)",
        per_umask.join(", "),
        results.len()
    )?;
    Ok(())
}
