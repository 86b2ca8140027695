#!/usr/bin/env bash
# Starts and stops dev nodes in the background for make demo / make test.
#   scripts/devnode.sh start NAME PORT SUBCOMMAND [ARGS...]   e.g. start test 18443 worker --port 18443
#   scripts/devnode.sh stop NAME
# State in .devnode/NAME.pid, output in .devnode/NAME.log. `start` returns once PORT accepts
# connections; it refuses a port already taken (another node, or another program) unless
# REUSE=1, in which case it leaves the running one alone (and `stop` later does nothing).
# DEVNODE: the binary (default target/debug/sandrun-devnode).
set -euo pipefail
cd "$(dirname "$0")/.."
DEVNODE=${DEVNODE:-target/debug/sandrun-devnode}
mkdir -p .devnode

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

case "${1:-}" in
  start)
    name=$2 port=$3; shift 3
    pidfile=.devnode/$name.pid log=.devnode/$name.log
    if listening "$port"; then
      if [ "${REUSE:-0}" = 1 ]; then echo "devnode: something already listens on $port; using it"; rm -f "$pidfile"; exit 0; fi
      echo "devnode: port $port is already taken (stop what runs there, or set another port)" >&2; exit 1
    fi
    [ -x "$DEVNODE" ] || { echo "devnode: $DEVNODE missing (cargo build -p sandrun-devnode)" >&2; exit 1; }
    nohup "$DEVNODE" "$@" >"$log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    for _ in $(seq 1 300); do
      if listening "$port"; then echo "devnode: $name ($*) on 127.0.0.1:$port, pid $(cat "$pidfile"), log $log"; exit 0; fi
      if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        echo "devnode: $name exited at start:" >&2; tail -n 30 "$log" >&2; rm -f "$pidfile"; exit 1
      fi
      sleep 0.1
    done
    echo "devnode: $name not listening on $port after 30 s:" >&2; tail -n 30 "$log" >&2; exit 1 ;;
  stop)
    pidfile=.devnode/$2.pid
    [ -f "$pidfile" ] || exit 0
    pid=$(cat "$pidfile"); rm -f "$pidfile"
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi ;;
  *) echo "usage: $0 start NAME PORT SUBCOMMAND [ARGS...] | stop NAME" >&2; exit 2 ;;
esac
