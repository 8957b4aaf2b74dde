//! `sem_producer_consumer` with a stdout that cannot take its transcript: `> /dev/full`, `>&-`,
//! a broken pipe and `| head -1`, each also interrupted at every step and at random
//! moments. Every run fails cleanly: status 1 and a line on stderr (or 0 when every
//! line got through), no panic, no process and no object left, in bounded time.
//!
//! Steps: 1 sem_open x2, 2 fork, 3 produce, 4 waitpid, 5 sem_close x2, 6 sem_unlink x2.

mod common;

use common::DEMO;

demo_harness::broken_stdout_tests!(keeps_objects: false);
