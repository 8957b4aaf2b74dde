//! `mq_lifecycle` under test, for each of its test files.

use demo_harness::Demo;
use ipc_core::ObjectKind;

/// The demo and its objects.
pub const DEMO: Demo = Demo::new(
    "mq_lifecycle",
    env!("CARGO_BIN_EXE_mq_lifecycle"),
    &[(ObjectKind::MessageQueue, "/ep_mq_lifecycle")],
);
