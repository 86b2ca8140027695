# The SDK's chain layer (src/market/chain). Its scenarios run in the wasm suites (make test-wasm:
# tests/common/chain.rs, services from scripts/test-wasm.d/20-chain.sh); examples/chain/run.mjs
# runs in test-docs with the other examples.
#   make demo-chain   a whole 2-of-3 lifecycle on a local anvil through the npm package, each step
#                     with its gas (examples/chain/run.mjs; exits 1 when one of its checks fails)
.PHONY: demo-chain

# The anvil examples/chain/run.mjs starts (also when test-docs runs it from a copy elsewhere).
export ANVIL ?= $(wildcard $(CURDIR)/tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil)

demo-chain: setup pkg
	@(cd examples/chain && npm install --no-audit --no-fund --loglevel=error >/dev/null)
	@node examples/chain/run.mjs
