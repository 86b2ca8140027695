# The `sandrun` CLI (cli/, shipped in the npm package as its `bin`). Its tests pack the package
# ($(SANDRUN_PKG), default pkg/, built by `make pkg`) together with cli/, install the tarball in a
# throwaway project and run `sandrun` against dev-node workers (tests/cli/run.mjs).
SANDRUN_PKG ?= pkg
.PHONY: test-cli
TEST_STEPS += test-cli
PKG_STEPS += test-cli

test-cli: $(call DEPS,setup devnode)
	@SANDRUN_PKG=$(SANDRUN_PKG) node tests/cli/run.mjs
