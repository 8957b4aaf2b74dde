//! `nb_mq` with a stdout that cannot take its transcript: `> /dev/full`, `>&-`,
//! a broken pipe and `| head -1`, each also interrupted at every step and at random
//! moments. Every run fails cleanly: status 1 and a line on stderr (or 0 when every
//! line got through), no panic, no process and no object left, in bounded time.
//!
//! Steps: 1 mq_open, 2 mq_receive (empty), 3 mq_send, 4 mq_receive, 5 mq_close, 6 mq_unlink.

mod common;

use common::DEMO;

demo_harness::broken_stdout_tests!(keeps_objects: false);
