//! `excl_demo` under test, for each of its test files.

use demo_harness::Demo;
use ipc_core::ObjectKind;

/// The demo and its objects (a finished run leaves its object on purpose).
pub const DEMO: Demo = Demo::new(
    "excl_demo",
    env!("CARGO_BIN_EXE_excl_demo"),
    &[(ObjectKind::SharedMemory, "/ep_exclusive")],
)
.keeping_objects();
