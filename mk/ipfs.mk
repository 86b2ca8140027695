# IPFS: the pure Rust crate crates/sandrun-ipfs (a workspace member: its tests, reference CIDs and
# cross-checks with a real Kubo, run in `make test-native`) and the Kubo it is checked against,
# installed by scripts/setup.d/10-kubo.sh and run by scripts/kubo.sh.
#   make bench-ipfs  local CID of a 50 MiB file: the crate natively, Kubo, the JS importer, the SDK

.PHONY: bench-ipfs

bench-ipfs: $(call DEPS,setup pkg)
	@cargo build -q --release -p sandrun-ipfs --example cid
	@node bench/ipfs.mjs
