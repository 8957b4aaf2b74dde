//! Lock files live in a directory of the user's own: a link or a directory others
//! may write planted at its name is refused, never used; the lock excludes.
//! (One test in this binary: it sets TMPDIR for the whole process.)

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::panic::catch_unwind;
use std::sync::mpsc::channel;
use std::time::Duration;

use demo_harness::{private_dir, NamesLock};

/// The panic message of `f`, which must panic.
fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let panic = catch_unwind(f).expect_err("expected a refusal");
    panic.downcast_ref::<String>().cloned().unwrap_or_default()
}

#[test]
fn the_lock_directory_is_the_users_own_and_the_lock_excludes() {
    let uid = nix::unistd::geteuid().as_raw();
    let tmp = std::env::temp_dir().join(format!("demo-harness-lock-test-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    std::env::set_var("TMPDIR", &tmp);
    let dir = tmp.join(format!("posix-ipc-lab-{uid}"));

    // A symbolic link at its name (to a directory this user owns, even) is refused.
    std::os::unix::fs::symlink(&tmp, &dir).unwrap();
    let refused = panic_message(|| drop(NamesLock::take("x")));
    assert!(refused.contains("is not a directory of uid"), "{refused}");
    std::fs::remove_file(&dir).unwrap();

    // So is a directory others may write.
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let refused = panic_message(|| drop(NamesLock::take("x")));
    assert!(refused.contains("mode 777"), "{refused}");
    std::fs::remove_dir(&dir).unwrap();

    // Made fresh: 0700, this user's, and the lock file is inside.
    let held = NamesLock::take("x");
    assert_eq!(private_dir(), dir);
    let meta = std::fs::symlink_metadata(&dir).unwrap();
    assert!(meta.is_dir() && meta.uid() == uid && meta.mode() & 0o777 == 0o700);
    assert!(dir.join("x.lock").is_file());

    // A second taker waits until the first lets go.
    let (taken, second) = channel();
    let waiter = std::thread::spawn(move || {
        let lock = NamesLock::take("x");
        let _ = taken.send(());
        drop(lock);
    });
    assert!(
        second.recv_timeout(Duration::from_millis(300)).is_err(),
        "taken while held"
    );
    drop(held);
    second
        .recv_timeout(Duration::from_secs(5))
        .expect("taken once released");
    waiter.join().unwrap();
    std::fs::remove_dir_all(&tmp).unwrap();
}
