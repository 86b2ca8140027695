# Sandrun SDK. On a fresh machine:  make demo   ·   make test
# Other targets: pkg (npm package in pkg/), size, bench, clean, and the parts of `test`:
# test-native, test-wasm (test-wasm-node, test-wasm-browser), test-pkg.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
export PATH := $(HOME)/.cargo/bin:$(PATH)

# The dev node binary used by the demo and the tests (debug: shares the build with cargo test;
# its dependencies are optimised by [profile.dev.package."*"]). DEVNODE_PROFILE=release also works.
DEVNODE_PROFILE ?= debug
DEVNODE := target/$(DEVNODE_PROFILE)/sandrun-devnode
export DEVNODE
DEMO_PORT ?= 8443
DEMO_SCRIPT ?= examples/hello/run.mjs
# SKIP_DEPS=1 (set by `make test` for its steps) skips prerequisites it has already made.
DEPS = $(if $(SKIP_DEPS),,$(1))

.PHONY: help setup wasm pkg devnode demo test test-native test-wasm test-wasm-node \
        test-wasm-browser test-pkg size bench bench-pool multi-node clean distclean

help:
	@echo "make demo    install what is missing, build, start a local dev node, run examples/hello"
	@echo "make test    install what is missing, run every test (native, wasm in Node + Chromium, packaging)"
	@echo "make pkg     build the npm package into pkg/        make size   wasm/JS sizes vs the budget"
	@echo "make bench   SDK vs curl against a local worker     make clean  remove build outputs"
	@echo "make multi-node  2-of-3 consensus over three workers   make bench-pool  100 jobs over a 3-worker pool"

setup:
	@bash scripts/setup.sh

wasm: $(call DEPS,setup)
	@bash scripts/build-wasm.sh

pkg: wasm
	@node scripts/assemble-pkg.mjs

# Built by `cargo test --no-run`, so that the dev node and the native tests share one build (a
# plain `cargo build -p sandrun-devnode` unifies other features and recompiles most crates).
devnode: setup
ifeq ($(DEVNODE_PROFILE),release)
	@cargo build -q --release -p sandrun-devnode
else
	@cargo test -q --workspace --no-run 2>/dev/null || { \
	  echo "devnode: the workspace's tests do not build (make test-native shows why); building the dev node alone"; \
	  cargo build -q -p sandrun-devnode; }
endif

# Starts `sandrun-devnode all` unless something already listens on DEMO_PORT, runs the example,
# and stops the node it started.
demo: setup pkg devnode
	@if [ -f examples/hello/package.json ]; then (cd examples/hello && npm install --no-audit --no-fund --loglevel=error >/dev/null); fi
	@trap 'scripts/devnode.sh stop demo' EXIT; \
	REUSE=1 scripts/devnode.sh start demo $(DEMO_PORT) all --worker-port $(DEMO_PORT); \
	SANDRUN_ENDPOINT=http://127.0.0.1:$(DEMO_PORT) node $(DEMO_SCRIPT)

# The steps of `make test`, in order. Parts of the project with their own make file (mk/*.mk)
# append theirs; a step listed in PKG_STEPS needs the package and is skipped when `pkg` failed.
TEST_STEPS := test-native pkg size test-wasm-node test-wasm-browser test-pkg
PKG_STEPS := size test-pkg
-include mk/*.mk

# Every step runs even when an earlier one fails (except those that need the package when it did
# not build); the exit status is non-zero if any failed. The last line adds up the runners' counts.
test: setup devnode
	@mkdir -p build; : > build/test.log; failed=""; start=$$SECONDS; \
	for step in $(TEST_STEPS); do \
	  echo; echo "==> make $$step"; \
	  if [[ " $(PKG_STEPS) " == *" $$step "* ]] && [[ "$$failed" == *" pkg"* ]]; then echo "<== $$step: not run (the package did not build)"; failed="$$failed $$step"; continue; fi; \
	  if $(MAKE) -s --no-print-directory $$step SKIP_DEPS=1 2>&1 | tee -a build/test.log; then echo "<== $$step: ok"; \
	  else echo "<== $$step: FAILED"; failed="$$failed $$step"; fi; \
	done; \
	echo; [ -z "$$failed" ] && echo "make test: every step passed ($$((SECONDS - start)) s)" || echo "make test: FAILED:$$failed ($$((SECONDS - start)) s)"; \
	awk -v nfail="$$(wc -w <<< "$$failed")" '/^test result:/ { for (i = 1; i <= NF; i++) { if ($$(i+1) ~ /^passed/) p += $$i; if ($$(i+1) ~ /^failed/) f += $$i } } \
	     /^[0-9]+ passed, [0-9]+ failed/ { p += $$1; f += $$3 } \
	     END { if (f < nfail) f = nfail; printf "total: %d passed, %d failed\n", p, f }' build/test.log; \
	[ -z "$$failed" ]

test-native: $(call DEPS,devnode)
	cargo test --workspace --no-fail-fast

test-wasm: test-wasm-node test-wasm-browser

test-wasm-node: $(call DEPS,setup devnode)
	@bash scripts/test-wasm.sh node

test-wasm-browser: $(call DEPS,setup devnode)
	@bash scripts/test-wasm.sh browser

test-pkg: $(call DEPS,setup devnode pkg)
	@node tests/pkg/run.mjs

# The size table of every entry; fails when the core entry is over its budget.
size: $(call DEPS,pkg)
	@node scripts/size.mjs --check

bench: $(call DEPS,setup pkg devnode)
	@node bench/run.mjs && node bench/plugins.mjs

# 100 jobs distributed over 3 local workers through a pool: throughput and the SDK's memory.
bench-pool: $(call DEPS,setup pkg devnode)
	@node --expose-gc bench/pool.mjs

# examples/multi-node: a 2-of-3 job over three workers it starts (one faulty), with the evidence.
multi-node: setup pkg devnode
	@(cd examples/multi-node && npm install --no-audit --no-fund --loglevel=error >/dev/null)
	@node examples/multi-node/run.mjs

clean:
	rm -rf build pkg .devnode

distclean: clean
	rm -rf target tools/node_modules
