//! `shm_with_sem` under test, for each of its test files.

use demo_harness::Demo;
use ipc_core::ObjectKind;

/// The demo and its objects.
pub const DEMO: Demo = Demo::new(
    "shm_with_sem",
    env!("CARGO_BIN_EXE_shm_with_sem"),
    &[
        (ObjectKind::SharedMemory, "/ep_safe_shm"),
        (ObjectKind::Semaphore, "/ep_shm_lock"),
    ],
);
