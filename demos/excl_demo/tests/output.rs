//! `excl_demo` with a stdout that cannot take its transcript: `> /dev/full`, `>&-`,
//! a broken pipe and `| head -1`, each also interrupted at every step and at random
//! moments. Every run fails cleanly: status 1 and a line on stderr (or 0 when every
//! line got through), no panic, no process and no object left, in bounded time.
//!
//! Steps: 1 shm_open O_EXCL, 2 ftruncate (first run), 3 shm_open (later run), 4 close, 5 shm_unlink (--unlink).

mod common;

use common::DEMO;

demo_harness::broken_stdout_tests!(keeps_objects: true);
