//! `sem_producer_consumer` under test, for each of its test files.

use demo_harness::Demo;
use ipc_core::ObjectKind;

/// The demo and its objects.
pub const DEMO: Demo = Demo::new(
    "sem_producer_consumer",
    env!("CARGO_BIN_EXE_sem_producer_consumer"),
    &[
        (ObjectKind::Semaphore, "/ep_sem_empty"),
        (ObjectKind::Semaphore, "/ep_sem_full"),
    ],
);
