# Sourced by scripts/test-wasm.sh: a whole local market (scripts/stack.mjs: three signing workers,
# anvil, Kubo, SandrunMarket, three node agents, the third faulty) for the coordinated-job
# scenarios, on $((PORT + 100)).. (workers +100..+102, anvil +110, Kubo +120/+121), its files in
# build/stack-$PORT. The node agents run the packed SDK, so this needs pkg/ (make pkg; `make test`
# builds it before the wasm suites); without it the stack is not started and SANDRUN_TEST_STACK
# stays unset. Exported (read at compile time with option_env!):
#   SANDRUN_TEST_STACK   the stack.json path: { rpcUrl, chainId, market, ipfsApi, gateways,
#                        workers, accounts, agents }
# The market node scenarios (tests/common/market_node.rs) run their own agents and do not use it.
if [ -f pkg/full/node.mjs ]; then
  stack_dir=build/stack-$PORT
  STOPS+=("node scripts/stack.mjs stop --dir $stack_dir >/dev/null")
  node scripts/stack.mjs stop --dir "$stack_dir" >/dev/null
  SANDRUN_TEST_STACK=$(node scripts/stack.mjs start --port $((PORT + 100)) --dir "$stack_dir")
  export SANDRUN_TEST_STACK
else
  echo "test-wasm: no pkg/ (make pkg): the market stack is not started, SANDRUN_TEST_STACK unset" >&2
fi
