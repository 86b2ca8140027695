# Sourced by scripts/test-wasm.sh after 40-market.sh: what the paid-job scenarios on the local
# market stack (tests/common/market.rs, `stack_*`) read of its stack.json, as compile-time
# variables (a page cannot read the file):
#   SANDRUN_TEST_STACK_RPC, _MARKET, _IPFS   its anvil, SandrunMarket and Kubo RPC API
#   SANDRUN_TEST_STACK_FAULTY                the faulty agent's address
# Unset when the stack did not start (no pkg/): those scenarios then say so and return.
if [ -n "${SANDRUN_TEST_STACK:-}" ] && [ -f "$SANDRUN_TEST_STACK" ]; then
  eval "$(node -e '
    const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const out = { RPC: s.rpcUrl, MARKET: s.market, IPFS: s.ipfsApi, FAULTY: s.agents.find((a) => a.faulty).address };
    for (const [k, v] of Object.entries(out)) console.log(`export SANDRUN_TEST_STACK_${k}=${JSON.stringify(v)}`);
  ' "$SANDRUN_TEST_STACK")"
fi
