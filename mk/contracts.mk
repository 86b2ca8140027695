# The marketplace contract (contracts/), its tests on a real anvil (tests/contracts/), the gas
# report. The pure Rust chain crate (crates/sandrun-chain) is a workspace member: its tests run in
# `make test-native`.
#   make contracts        compile contracts/*.sol with solc-js into contracts/out/ (committed)
#   make test-contracts   artifacts match a fresh compile; node:test + viem against anvil
#   make gas              gas per function and for a 2-of-3 lifecycle
.PHONY: contracts test-contracts gas
TEST_STEPS += test-contracts

contracts: $(call DEPS,setup)
	@node scripts/compile-contracts.mjs

# node:test's TAP summary is turned into the "N passed, N failed" line `make test` adds up.
test-contracts: $(call DEPS,setup)
	@node scripts/compile-contracts.mjs --check
	@out=$$(mktemp); status=0; \
	node --test --test-reporter=tap tests/contracts/ >"$$out" 2>&1 || status=$$?; \
	grep -E '^(not ok|# (tests|pass|fail|cancelled))' "$$out" || true; \
	if [ $$status -ne 0 ]; then cat "$$out"; fi; \
	awk '/^# pass /{p=$$3} /^# fail /{f=$$3} END{printf "%d passed, %d failed (tests/contracts, node:test)\n", p, f}' "$$out"; \
	rm -f "$$out"; [ $$status -eq 0 ]

gas: $(call DEPS,setup)
	@node scripts/gas-report.mjs
