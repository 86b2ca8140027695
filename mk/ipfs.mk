# IPFS (issue 10, first half): the pure Rust crate crates/sandrun-ipfs and the Kubo it is checked
# against. Kubo is installed by scripts/setup.d/10-kubo.sh and run by scripts/kubo.sh.
#   make test-ipfs   the crate's tests: reference CIDs, walker, and cross-checks with a real Kubo
#   make bench-ipfs  local CID of a 50 MiB file: the crate natively, Kubo, the JS importer, the SDK
# The crate is standalone for now (its own lockfile and target dir, crates/*/target is ignored).
IPFS_CRATE := crates/sandrun-ipfs
TEST_STEPS += test-ipfs

.PHONY: test-ipfs bench-ipfs

test-ipfs: $(call DEPS,setup)
	@cd $(IPFS_CRATE) && CARGO_TARGET_DIR=target cargo test --locked --no-fail-fast

bench-ipfs: $(call DEPS,setup)
	@cd $(IPFS_CRATE) && CARGO_TARGET_DIR=target cargo build -q --locked --release --example cid
	@node bench/ipfs.mjs
