#!/usr/bin/env bash
# Local Kubo (IPFS) daemons for the tests and the dev stack, offline and on loopback only.
#   scripts/kubo.sh bin                               the ipfs binary: $IPFS_BIN, else where
#                                                     scripts/setup.d/10-kubo.sh installs it
#   scripts/kubo.sh start NAME API_PORT GATEWAY_PORT  a fresh repo in .devnode/NAME-ipfs
#   scripts/kubo.sh stop NAME                         stops it and removes its repo
# `start` returns once the RPC API answers; state in .devnode/NAME.pid, output in .devnode/NAME.log
# (like scripts/devnode.sh). The node: `init --profile test`, no swarm, no bootstrap, no routing,
# `daemon --offline`; API and gateway on 127.0.0.1 with CORS headers (Access-Control-Allow-Origin
# *, and Cross-Origin-Resource-Policy: cross-origin, which wasm-bindgen-test-runner's page needs)
# so the browser suites can call them from another origin.
set -euo pipefail
cd "$(dirname "$0")/.."

KUBO_VERSION=0.43.1
INSTALLED=${XDG_DATA_HOME:-$HOME/.local/share}/sandrun/kubo-v$KUBO_VERSION/ipfs
IPFS_BIN=${IPFS_BIN:-$INSTALLED}
# Kubo's telemetry plugin has no collector in this build, but say no anyway: traffic stays local.
export IPFS_TELEMETRY=off

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# One RPC call over bash's /dev/tcp (curl is not on a fresh Debian): prints the status line.
api_status() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1" &&
    printf 'POST /api/v0/version HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 &&
    head -n 1 <&3) 2>/dev/null
}

cors='{"Access-Control-Allow-Origin": ["*"],
       "Access-Control-Allow-Methods": ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"],
       "Access-Control-Allow-Headers": ["Authorization", "Content-Type", "Accept", "Range", "X-Requested-With", "User-Agent"],
       "Access-Control-Expose-Headers": ["Content-Length", "Content-Range", "X-Chunked-Output", "X-Stream-Output", "X-Ipfs-Path", "X-Ipfs-Roots"],
       "Cross-Origin-Resource-Policy": ["cross-origin"]}'

case "${1:-}" in
  bin)
    echo "$IPFS_BIN" ;;
  version)
    echo "$KUBO_VERSION" ;;
  installed-path)
    echo "$INSTALLED" ;;
  start)
    [ $# -eq 4 ] || { echo "usage: $0 start NAME API_PORT GATEWAY_PORT" >&2; exit 2; }
    name=$2 api=$3 gateway=$4
    repo=$PWD/.devnode/$name-ipfs pidfile=.devnode/$name.pid log=.devnode/$name.log
    [ -x "$IPFS_BIN" ] || { echo "kubo: $IPFS_BIN missing (bash scripts/setup.d/10-kubo.sh, or set IPFS_BIN)" >&2; exit 1; }
    for port in "$api" "$gateway"; do
      if listening "$port"; then echo "kubo: port $port is already taken" >&2; exit 1; fi
    done
    mkdir -p .devnode
    rm -rf "$repo"
    export IPFS_PATH=$repo
    {
      "$IPFS_BIN" init --profile test --empty-repo
      # One `config replace` instead of ten `config` calls (each starts the binary: ~40 ms).
      "$IPFS_BIN" config show | python3 -c '
import json, sys
c = json.load(sys.stdin)
api, gateway, cors = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
c["Addresses"].update(API="/ip4/127.0.0.1/tcp/" + api, Gateway="/ip4/127.0.0.1/tcp/" + gateway,
                      Swarm=[], Announce=[], NoAnnounce=[])
c["Bootstrap"] = []
c["Routing"]["Type"] = "none"
c.setdefault("API", {})["HTTPHeaders"] = cors
c.setdefault("Gateway", {})["HTTPHeaders"] = cors
# A missing block is an error at once instead of a network search that cannot succeed offline.
c["Gateway"]["NoFetch"] = True
json.dump(c, sys.stdout)' "$api" "$gateway" "$cors" >"$repo/config.new"
      "$IPFS_BIN" config replace "$repo/config.new"
      rm "$repo/config.new"
    } >"$log" 2>&1 || { echo "kubo: init of $repo failed:" >&2; tail -n 20 "$log" >&2; exit 1; }
    nohup "$IPFS_BIN" daemon --offline >>"$log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    for _ in $(seq 1 300); do
      if [[ "$(api_status "$api")" == *" 200 "* ]] && listening "$gateway"; then
        echo "kubo: $name on 127.0.0.1 (API $api, gateway $gateway), pid $(cat "$pidfile"), repo $repo, log $log"
        exit 0
      fi
      if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        echo "kubo: $name exited at start:" >&2; tail -n 30 "$log" >&2; rm -f "$pidfile"; exit 1
      fi
      sleep 0.1
    done
    echo "kubo: $name's API did not answer on $api after 30 s:" >&2; tail -n 30 "$log" >&2; exit 1 ;;
  stop)
    [ $# -eq 2 ] || { echo "usage: $0 stop NAME" >&2; exit 2; }
    pidfile=.devnode/$2.pid
    if [ -f "$pidfile" ]; then
      pid=$(cat "$pidfile"); rm -f "$pidfile"
      if kill "$pid" 2>/dev/null; then
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
      fi
    fi
    rm -rf ".devnode/$2-ipfs" ;;
  *) echo "usage: $0 bin | start NAME API_PORT GATEWAY_PORT | stop NAME" >&2; exit 2 ;;
esac
