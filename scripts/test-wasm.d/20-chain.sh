# Sourced by scripts/test-wasm.sh: the chain scenarios' services (tests/common/chain.rs). An anvil
# on $((PORT + 20)) (chain id 31337; CORS is anvil's default, `Access-Control-Allow-Origin: *`),
# and the committed SandrunMarket deployed on it from dev account 0 with the local defaults. Each
# scenario deploys markets of its own as it needs; this one is the read-only reference.
# Exported for the scenarios (read at compile time with option_env!):
#   SANDRUN_TEST_RPC       http://127.0.0.1:<port>
#   SANDRUN_TEST_CHAIN_ID  31337
#   SANDRUN_TEST_MARKET    the deployed address
CHAIN_PORT=$((PORT + 20))
chain_name=wasm-anvil-$CHAIN_PORT
STOPS+=("scripts/anvil.sh stop $chain_name >/dev/null")
scripts/anvil.sh start "$chain_name" "$CHAIN_PORT" >/dev/null
export SANDRUN_TEST_RPC=http://127.0.0.1:$CHAIN_PORT
export SANDRUN_TEST_CHAIN_ID=31337
SANDRUN_TEST_MARKET=$(node scripts/deploy-market.mjs --rpc "$SANDRUN_TEST_RPC" |
  node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).address))')
export SANDRUN_TEST_MARKET
