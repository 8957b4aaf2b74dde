# Shortcuts for the POSIX IPC lab. Every target is a plain cargo or script call.
DEMOS := excl_demo mq_lifecycle sem_producer_consumer shm_with_sem nb_mq
NAME ?= mq_lifecycle

LABS := excl_race mmap_after_close unlink_while_open forgotten_unlink shm_race nb_queue umask_mode sem_no_undo

.PHONY: build test run demos labs check inspect clean-ipc lint

build:
	cargo build --workspace

test:
	cargo test --workspace

# make run NAME=shm_with_sem [ARGS=--step]
run:
	cargo run -q -p $(NAME) -- $(ARGS)

# Every demo once, in order (excl_demo twice, then --unlink).
demos: build
	@for d in $(DEMOS); do echo "== $$d"; ./target/debug/$$d || exit 1; done
	@echo "== excl_demo (second run)"; ./target/debug/excl_demo
	@echo "== excl_demo --unlink"; ./target/debug/excl_demo --unlink

# Every lab once, at its default size; the last line of each is its verdict.
labs: build
	@for l in $(LABS); do echo "== $$l"; ./target/debug/$$l || exit 1; done

check:
	scripts/check-transcripts

inspect:
	scripts/inspect

clean-ipc:
	scripts/clean

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
