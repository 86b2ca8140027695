#!/usr/bin/env bash
# Starts and stops a local anvil (chain id 31337) in the background.
#   scripts/anvil.sh start NAME PORT [ANVIL ARGS...]   e.g. start chain 8545
#   scripts/anvil.sh stop NAME
# scripts/devnode.sh does the process keeping (state in .devnode/NAME.pid, output in
# .devnode/NAME.log, a taken port refused unless REUSE=1); this adds anvil's arguments and waits
# until the JSON-RPC answers (anvil accepts connections a moment before it serves).
# ANVIL: the binary (default: the one in tools/node_modules).
set -euo pipefail
cd "$(dirname "$0")/.."
platform_bin=tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
if [ -z "${ANVIL:-}" ]; then
  # the binary itself rather than the npm wrapper (a Node process): the pid kept is anvil's
  if [ -x "$platform_bin" ]; then ANVIL=$platform_bin; else ANVIL=tools/node_modules/.bin/anvil; fi
fi

# node rather than curl: node is required anyway
answers() {
  node -e '
    fetch(process.argv[1], { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }) })
      .then((r) => r.json()).then((b) => process.exit(b.result ? 0 : 1), () => process.exit(1));' "http://127.0.0.1:$1"
}

case "${1:-}" in
  start)
    name=$2 port=$3; shift 3
    DEVNODE=$ANVIL bash scripts/devnode.sh start "$name" "$port" --host 127.0.0.1 --port "$port" --chain-id 31337 "$@" |
      sed 's/^devnode:/anvil:/'
    for _ in $(seq 1 100); do
      if answers "$port"; then exit 0; fi
      sleep 0.1
    done
    echo "anvil: $name does not answer JSON-RPC on $port after 10 s" >&2; exit 1 ;;
  stop) exec bash scripts/devnode.sh stop "$2" ;;
  *) echo "usage: $0 start NAME PORT [ANVIL ARGS...] | stop NAME" >&2; exit 2 ;;
esac
