#!/usr/bin/env bash
# Starts and stops a local anvil (chain id 31337) in the background, like scripts/devnode.sh.
#   scripts/anvil.sh start NAME PORT [ANVIL ARGS...]   e.g. start chain 8545
#   scripts/anvil.sh stop NAME
# State in .devnode/NAME.pid, output in .devnode/NAME.log. `start` returns once the JSON-RPC
# answers; it refuses a port already taken unless REUSE=1 (then it leaves that one alone, and
# `stop` later does nothing). ANVIL: the binary (default: the one in tools/node_modules).
set -euo pipefail
cd "$(dirname "$0")/.."
platform_bin=tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
if [ -z "${ANVIL:-}" ]; then
  # the binary itself rather than the npm wrapper (a Node process): its pid is anvil's pid
  if [ -x "$platform_bin" ]; then ANVIL=$platform_bin; else ANVIL=tools/node_modules/.bin/anvil; fi
fi
mkdir -p .devnode

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# the RPC answers (anvil listens a moment before it serves); node, not curl: node is required anyway
answers() {
  listening "$1" && node -e '
    fetch(process.argv[1], { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }) })
      .then((r) => r.json()).then((b) => process.exit(b.result ? 0 : 1), () => process.exit(1));' "http://127.0.0.1:$1"
}

case "${1:-}" in
  start)
    name=$2 port=$3; shift 3
    pidfile=.devnode/$name.pid log=.devnode/$name.log
    if listening "$port"; then
      if [ "${REUSE:-0}" = 1 ]; then echo "anvil: something already listens on $port; using it"; rm -f "$pidfile"; exit 0; fi
      echo "anvil: port $port is already taken (stop what runs there, or set another port)" >&2; exit 1
    fi
    [ -x "$ANVIL" ] || { echo "anvil: $ANVIL missing (make setup installs tools/)" >&2; exit 1; }
    nohup "$ANVIL" --host 127.0.0.1 --port "$port" --chain-id 31337 "$@" >"$log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    for _ in $(seq 1 300); do
      if answers "$port"; then echo "anvil: $name on http://127.0.0.1:$port (chain 31337), pid $(cat "$pidfile"), log $log"; exit 0; fi
      if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        echo "anvil: $name exited at start:" >&2; tail -n 30 "$log" >&2; rm -f "$pidfile"; exit 1
      fi
      sleep 0.1
    done
    echo "anvil: $name not answering on $port after 30 s:" >&2; tail -n 30 "$log" >&2; exit 1 ;;
  stop)
    pidfile=.devnode/$2.pid
    [ -f "$pidfile" ] || exit 0
    pid=$(cat "$pidfile"); rm -f "$pidfile"
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi ;;
  *) echo "usage: $0 start NAME PORT [ANVIL ARGS...] | stop NAME" >&2; exit 2 ;;
esac
