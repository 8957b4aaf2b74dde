# Shortcuts for the POSIX IPC lab. Every target is a plain cargo or script call;
# the scripts ask cargo where it put the binaries, so CARGO_TARGET_DIR works.
# `make help` lists the targets.
DEMOS := excl_demo mq_lifecycle sem_producer_consumer shm_with_sem nb_mq
NAME ?= mq_lifecycle

LABS := excl_race mmap_after_close unlink_while_open forgotten_unlink shm_race nb_queue umask_mode sem_no_undo

.PHONY: build help test run demos labs check inspect clean-ipc lint install install-docs bench-ls
PREFIX ?= $(HOME)/.local

build: ## build everything (the default)
	cargo build --workspace

help: ## list the targets
	@echo "make TARGET, where TARGET is one of:"
	@awk 'BEGIN { FS = ":.*## " } /^[a-z-]+:.*## / { printf "  %-13s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

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

install: ## install posix-ipc in $(PREFIX)/bin (cargo install --locked)
	cargo install --locked --path crates/posix-ipc --root $(PREFIX)

install-docs: ## install posix-ipc's man pages and shell completions under $(PREFIX)/share
	cargo run -q --locked -p posix-ipc -- generate man $(PREFIX)/share/man/man1
	cargo run -q --locked -p posix-ipc -- generate completions bash $(PREFIX)/share/bash-completion/completions
	cargo run -q --locked -p posix-ipc -- generate completions zsh $(PREFIX)/share/zsh/site-functions
	cargo run -q --locked -p posix-ipc -- generate completions fish $(PREFIX)/share/fish/vendor_completions.d

bench-ls: ## time posix-ipc ls and lsipc on 15,000 objects (scripts/bench-ls)
	scripts/bench-ls
