# Shortcuts for the POSIX IPC lab. Every target is a plain cargo or script call.
DEMOS := excl_demo mq_lifecycle sem_producer_consumer shm_with_sem nb_mq
NAME ?= mq_lifecycle

LABS := excl_race mmap_after_close unlink_while_open forgotten_unlink shm_race nb_queue umask_mode sem_no_undo

.PHONY: help build test run demos labs check inspect clean-ipc lint install install-docs bench-ls
PREFIX ?= $(HOME)/.local

## List the targets (this text).
help:
	@awk '/^## /{ d = substr($$0, 4); next } /^[a-z][a-z-]*:/{ if (d != "") printf "  make %-13s %s\n", substr($$1, 1, length($$1) - 1), d; d = "" }' $(firstword $(MAKEFILE_LIST))
	@echo "  (PREFIX=$(PREFIX) for install and install-docs; NAME=... ARGS=... for run)"

## Build every crate.
build:
	cargo build --workspace

## Run every test.
test:
	cargo test --workspace

# make run NAME=shm_with_sem [ARGS=--step]
## Run one demo or lab: NAME=shm_with_sem ARGS=--step.
run:
	cargo run -q -p $(NAME) -- $(ARGS)

# Every demo once, in order (excl_demo twice, then --unlink).
## Run every demo once, in order.
demos: build
	@for d in $(DEMOS); do echo "== $$d"; ./target/debug/$$d || exit 1; done
	@echo "== excl_demo (second run)"; ./target/debug/excl_demo
	@echo "== excl_demo --unlink"; ./target/debug/excl_demo --unlink

# Every lab once, at its default size; the last line of each is its verdict.
## Run every lab once; the last line of each is its verdict.
labs: build
	@for l in $(LABS); do echo "== $$l"; ./target/debug/$$l || exit 1; done

## Compare the demos' output with the C transcripts.
check:
	scripts/check-transcripts

## List the demos' objects (posix-ipc ls --prefix /ep_).
inspect:
	scripts/inspect

## Remove the demos' objects.
clean-ipc:
	scripts/clean

## cargo fmt --check and clippy with warnings as errors.
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

## Install posix-ipc in $(PREFIX)/bin (cargo install --locked).
install:
	cargo install --locked --path crates/posix-ipc --root $(PREFIX)

## Install posix-ipc's man pages and bash, zsh and fish completions under $(PREFIX)/share.
install-docs:
	cargo run -q --locked -p posix-ipc -- generate man $(PREFIX)/share/man/man1
	cargo run -q --locked -p posix-ipc -- generate completions bash $(PREFIX)/share/bash-completion/completions
	cargo run -q --locked -p posix-ipc -- generate completions zsh $(PREFIX)/share/zsh/site-functions
	cargo run -q --locked -p posix-ipc -- generate completions fish $(PREFIX)/share/fish/vendor_completions.d

## Time posix-ipc ls and lsipc on 15,000 objects (scripts/bench-ls).
bench-ls:
	scripts/bench-ls
