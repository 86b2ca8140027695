# The paid, coordinated market job (issue 11, the submitter's side: src/market/coordination). Its
# scenarios run in the wasm suites (make test-wasm: tests/common/market.rs; the stack scenarios
# on the stack scripts/test-wasm.d/40-market.sh starts). examples/market/run.mjs also runs in
# test-docs, where it only says that it needs the repository's stack.
#   make demo-market   a paid 2-of-3 job on the local market (.sandrun/stack.json; `make stack` is
#                      started first when it is not running, and stopped after): every stage, the
#                      verification, the settlement, balances before and after
.PHONY: demo-market

demo-market: $(call DEPS,setup pkg devnode)
	@(cd examples/market && npm install --no-audit --no-fund --loglevel=error >/dev/null)
	@node examples/market/run.mjs
