//! `shm_with_sem` with a stdout that cannot take its transcript: `> /dev/full`, `>&-`,
//! a broken pipe and `| head -1`, each also interrupted at every step and at random
//! moments. Every run fails cleanly: status 1 and a line on stderr (or 0 when every
//! line got through), no panic, no process and no object left, in bounded time.
//!
//! Steps: 1 shm_open, 2 ftruncate, 3 mmap, 4 close, 5 sem_open, 6 fork, 7 waitpid,
//! 8 munmap + sem_close, 9 shm_unlink + sem_unlink.

mod common;

use common::DEMO;

demo_harness::broken_stdout_tests!(keeps_objects: false);
