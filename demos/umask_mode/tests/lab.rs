//! The umask masks every kind of object's mode: checked from the verdict.

use demo_harness::Lab;
use ipc_core::ObjectKind;

#[test]
fn mode_is_masked_by_the_umask() {
    let mut tags = Vec::new();
    for umask in ["022", "077", "007"] {
        for (kind, tag) in [
            (ObjectKind::SharedMemory, "shm"),
            (ObjectKind::Semaphore, "sem"),
            (ObjectKind::MessageQueue, "mq"),
        ] {
            tags.push((kind, format!("{tag}_{umask}")));
        }
    }
    let tags: Vec<(ObjectKind, &str)> = tags.iter().map(|(k, t)| (*k, t.as_str())).collect();
    let lab = Lab::new("umask_mode", env!("CARGO_BIN_EXE_umask_mode"), &tags).run(&[]);
    assert_eq!(
        lab.verdict,
        "mode 0666 became 0644 under umask 022, 0600 under umask 077, 0660 under umask 007 \
         (9/9 objects got 0666 & ~umask)"
    );
}
