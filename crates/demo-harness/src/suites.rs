//! The test suites every demo runs the same way, as macros that write its test
//! functions, so each demo's test file names only what is its own (its `DEMO`, its
//! number of steps, its transcript).

/// The broken-stdout tests of one demo (`> /dev/full`, `>&-`, a broken pipe,
/// `| head -1`; interrupted at every step and at random moments): expands to four
/// `#[test]` functions using the `DEMO` in scope. `keeps_objects` is true for a demo
/// whose successful run leaves its object on purpose (`excl_demo`).
#[macro_export]
macro_rules! broken_stdout_tests {
    (keeps_objects: $keeps:expr) => {
        #[test]
        fn full_closed_broken_or_head_stdout_fails_cleanly() {
            let _lock = DEMO.lock();
            $crate::broken_stdout::assert_every_sink_fails_cleanly(&DEMO, $keeps);
        }

        #[test]
        fn ctrl_c_at_every_step_with_stdout_closed() {
            let _lock = DEMO.lock();
            let reached = $crate::broken_stdout::interrupt_every_step(
                &DEMO,
                $crate::broken_stdout::Sink::Closed,
                ::nix::sys::signal::Signal::SIGINT,
                $crate::Target::Group,
            );
            assert!(reached >= 1, "not even the first step was reached");
        }

        #[test]
        fn sigterm_to_the_parent_at_every_step_into_a_broken_pipe() {
            let _lock = DEMO.lock();
            let reached = $crate::broken_stdout::interrupt_every_step(
                &DEMO,
                $crate::broken_stdout::Sink::BrokenPipe,
                ::nix::sys::signal::Signal::SIGTERM,
                $crate::Target::Parent,
            );
            assert!(reached >= 1, "not even the first step was reached");
        }

        #[test]
        fn random_interrupts_with_stdout_closed_broken_or_full_leak_nothing() {
            let _lock = DEMO.lock();
            for sink in $crate::broken_stdout::Sink::ALL {
                let runs = $crate::broken_stdout::soak(
                    &DEMO,
                    sink,
                    1,
                    ::std::time::Duration::from_millis(50),
                );
                assert!(runs > 0);
            }
        }
    };
}

/// The command-line tests of one demo (`--version`, `--steps`, a bounded `--step`
/// line, signals ignored at start): expands to four `#[test]` functions using the
/// `DEMO` in scope, its number of `steps` and the `transcript` of a plain run.
#[macro_export]
macro_rules! command_line_tests {
    (steps: $steps:expr, transcript: $transcript:expr) => {
        #[test]
        fn version() {
            $crate::command_line::assert_version(&DEMO);
        }

        #[test]
        fn steps_are_listed_without_running() {
            let _lock = DEMO.lock();
            $crate::command_line::assert_steps_listed(&DEMO, $steps);
        }

        #[test]
        fn step_with_endless_input_reads_a_bounded_line() {
            let _lock = DEMO.lock();
            $crate::command_line::assert_endless_step_input_is_bounded(&DEMO, $transcript);
        }

        #[test]
        fn signals_ignored_at_start_stay_ignored() {
            let _lock = DEMO.lock();
            $crate::command_line::assert_ignored_signals_stay_ignored(&DEMO, $transcript);
        }

        #[test]
        fn a_trace_that_cannot_be_written_is_reported() {
            let _lock = DEMO.lock();
            $crate::command_line::assert_unwritable_trace_is_reported(&DEMO, $transcript);
        }
    };
}
