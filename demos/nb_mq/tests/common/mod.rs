//! `nb_mq` under test, for each of its test files.

use demo_harness::Demo;
use ipc_core::ObjectKind;

/// The demo and its objects.
pub const DEMO: Demo = Demo::new(
    "nb_mq",
    env!("CARGO_BIN_EXE_nb_mq"),
    &[(ObjectKind::MessageQueue, "/ep_nonblock_mq")],
);
