# The local market (issue 11): dev-node workers, anvil, Kubo, SandrunMarket and three node
# agents (scripts/stack.mjs; the agents are scripts/market-node.mjs on the packed SDK).
#   make stack        starts it, writes .sandrun/stack.json and prints its path
#   make stack-stop   stops exactly what `make stack` started (recorded in .sandrun/started.json)
# STACK_PORT (default 47000) is the base port: workers +0..+2, anvil +10, Kubo +20/+21.
.PHONY: stack stack-stop

STACK_PORT ?= 47000

stack: $(call DEPS,setup pkg devnode)
	@node scripts/stack.mjs start --port $(STACK_PORT)

stack-stop:
	@node scripts/stack.mjs stop
