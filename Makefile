# Shortcuts for the POSIX IPC lab. Every target is a plain cargo or script call;
# the scripts ask cargo where it put the binaries, so CARGO_TARGET_DIR works.
# `make help` lists the targets.
DEMOS := excl_demo mq_lifecycle sem_producer_consumer shm_with_sem nb_mq
NAME ?= mq_lifecycle

LABS := excl_race mmap_after_close unlink_while_open forgotten_unlink shm_race nb_queue umask_mode sem_no_undo

.PHONY: build help test run demos labs check inspect clean-ipc lint

build: ## build everything (the default)
	cargo build --workspace

help: ## list the targets
	@echo "make TARGET, where TARGET is one of:"
	@awk 'BEGIN { FS = ":.*## " } /^[a-z-]+:.*## / { printf "  %-10s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

test: ## run every test (the README's cargo test --workspace)
	cargo test --workspace

run: ## run one demo or lab: make run NAME=shm_with_sem [ARGS=--step]
	cargo run -q -p $(NAME) -- $(ARGS)

demos: ## run every demo once, in order (excl_demo twice, then --unlink)
	@for d in $(DEMOS); do echo "== $$d"; scripts/run $$d || exit 1; done
	@echo "== excl_demo (second run)"; scripts/run excl_demo
	@echo "== excl_demo --unlink"; scripts/run excl_demo --unlink

labs: ## run every lab once at its default size; each ends with its verdict
	@for l in $(LABS); do echo "== $$l"; scripts/run $$l || exit 1; done

check: ## compare every demo's piped stdout with its transcript
	scripts/check-transcripts

inspect: ## list the demos' objects that exist now (posix-ipc ls --prefix /ep_)
	scripts/inspect

clean-ipc: ## remove the demos' objects, and nothing else
	scripts/clean

lint: ## cargo fmt --check and clippy -D warnings
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
