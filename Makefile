# Shortcuts for the POSIX IPC lab. Every target is a plain cargo or script call.
DEMOS := excl_demo mq_lifecycle sem_producer_consumer shm_with_sem nb_mq
NAME ?= mq_lifecycle

.PHONY: build test run demos check inspect clean-ipc lint

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

check:
	scripts/check-transcripts

inspect:
	scripts/inspect

clean-ipc:
	scripts/clean

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
