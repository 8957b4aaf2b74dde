//! Stale recovery removes only what no process holds.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::process::Stdio;

use demo_kit::create_replacing_stale;
use ipc_core::cleanup;
use ipc_core::ObjectKind;
use ipc_core::{Access, Creation, Errno, Name, SharedMemory, ShmOptions};

fn create(name: &Name) -> ipc_core::Result<SharedMemory> {
    SharedMemory::open(
        name,
        &ShmOptions::new()
            .creation(Creation::CreateExclusive)
            .access(Access::ReadWrite)
            .mode(0o600),
    )
}

fn path(name: &Name) -> std::path::PathBuf {
    ObjectKind::SharedMemory.file(name).unwrap()
}

#[test]
fn an_object_another_process_holds_is_left_alone() {
    let name = Name::new(&format!("/demo_kit_{}_held", std::process::id())).unwrap();
    drop(create(&name).unwrap());
    let inode = std::fs::metadata(path(&name)).unwrap().ino();
    // Another run of the demo, as far as anyone can tell: a process holding it.
    let mut holder = demo_harness::command("sh")
        .arg("-c")
        .arg("exec 3<\"$1\"; echo ready; exec sleep 60")
        .arg("sh")
        .arg(path(&name))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = [0u8; 6];
    holder
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut ready)
        .unwrap();

    let result = create_replacing_stale("test", ObjectKind::SharedMemory, &name, || create(&name));
    let still = std::fs::metadata(path(&name)).map(|m| m.ino());
    let _ = holder.kill();
    let _ = holder.wait();
    let _ = cleanup::unlink(ObjectKind::SharedMemory, &name);
    assert_eq!(result.map(|_| ()).unwrap_err().errno(), Errno::EEXIST);
    assert_eq!(still.ok(), Some(inode), "the held object was replaced");
}

#[test]
fn an_object_nobody_holds_is_recreated() {
    let name = Name::new(&format!("/demo_kit_{}_left", std::process::id())).unwrap();
    drop(create(&name).unwrap());
    let inode = std::fs::metadata(path(&name)).unwrap().ino();
    let result = create_replacing_stale("test", ObjectKind::SharedMemory, &name, || create(&name));
    let now = std::fs::metadata(path(&name)).map(|m| m.ino());
    let _ = cleanup::unlink(ObjectKind::SharedMemory, &name);
    assert!(result.is_ok(), "{:?}", result.err());
    assert_ne!(now.ok(), Some(inode), "not recreated");
}
