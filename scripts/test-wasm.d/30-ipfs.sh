# Sourced by scripts/test-wasm.sh: the IPFS scenarios' services (tests/common/ipfs.rs), all on
# 127.0.0.1, each stop command in STOPS:
#   $((PORT + 30)), +31  Kubo (scripts/kubo.sh: offline, its own repo): RPC API and gateway
#   +32  the Pinning Service API's own mock (tests/support/pinning-mock.mjs), token ipfs-mock-token
#   +33  the dev node's pinning service on that Kubo (sandrun-devnode pinning), token ipfs-dev-token
#   +34  a hostile gateway over Kubo's that flips a byte of a block (raw or in a CAR)
#   +35  one that drops a CAR's last block
#   +36  one that answers 502 to everything
#   +37  one that waits 5 s before every answer
#   +38  nothing listens there (a gateway that is down)
# Exported for the scenarios (read at compile time with option_env!): SANDRUN_TEST_IPFS_API,
# _IPFS_GATEWAY, _IPFS_MOCK_PINNING, _IPFS_DEV_PINNING, _IPFS_TAMPER, _IPFS_MISSING, _IPFS_5XX,
# _IPFS_SLOW, _IPFS_DOWN.
IPFS_PORT=$((PORT + 30))
ipfs_name=wasm-ipfs-$IPFS_PORT
STOPS+=("scripts/kubo.sh stop $ipfs_name")
scripts/kubo.sh start "$ipfs_name" "$IPFS_PORT" $((IPFS_PORT + 1)) >/dev/null
export SANDRUN_TEST_IPFS_API=http://127.0.0.1:$IPFS_PORT
export SANDRUN_TEST_IPFS_GATEWAY=http://127.0.0.1:$((IPFS_PORT + 1))

mock_log=.devnode/wasm-ipfs-mock-$IPFS_PORT.log
node tests/support/pinning-mock.mjs --port $((IPFS_PORT + 2)) --token ipfs-mock-token >"$mock_log" 2>&1 &
mock_pid=$!
STOPS+=("kill $mock_pid 2>/dev/null")
for _ in $(seq 1 300); do
  grep -q '^pinning-mock: ' "$mock_log" && break
  kill -0 $mock_pid 2>/dev/null || { echo "pinning mock exited:" >&2; cat "$mock_log" >&2; exit 1; }
  sleep 0.1
done
export SANDRUN_TEST_IPFS_MOCK_PINNING=http://127.0.0.1:$((IPFS_PORT + 2))

ipfs_dev=(wasm-ipfs-pinning wasm-ipfs-tamper wasm-ipfs-missing wasm-ipfs-5xx wasm-ipfs-slow)
ipfs_dev=("${ipfs_dev[@]/%/-$IPFS_PORT}")
STOPS+=("for n in ${ipfs_dev[*]}; do scripts/devnode.sh stop \$n; done")
rm -f "build/${ipfs_dev[0]}.sqlite3"*
scripts/devnode.sh start "${ipfs_dev[0]}" $((IPFS_PORT + 3)) pinning --port $((IPFS_PORT + 3)) \
  --kubo "$SANDRUN_TEST_IPFS_API" --token ipfs-dev-token --db "build/${ipfs_dev[0]}.sqlite3" --pin-timeout-secs 10 >/dev/null
export SANDRUN_TEST_IPFS_DEV_PINNING=http://127.0.0.1:$((IPFS_PORT + 3))
faults=(tamper-block car-missing-block status-5xx:502 slow:5000)
for i in 0 1 2 3; do
  port=$((IPFS_PORT + 4 + i))
  scripts/devnode.sh start "${ipfs_dev[$((i + 1))]}" $port gateway --port $port \
    --upstream "$SANDRUN_TEST_IPFS_GATEWAY" --fault "${faults[$i]}" >/dev/null
done
export SANDRUN_TEST_IPFS_TAMPER=http://127.0.0.1:$((IPFS_PORT + 4))
export SANDRUN_TEST_IPFS_MISSING=http://127.0.0.1:$((IPFS_PORT + 5))
export SANDRUN_TEST_IPFS_5XX=http://127.0.0.1:$((IPFS_PORT + 6))
export SANDRUN_TEST_IPFS_SLOW=http://127.0.0.1:$((IPFS_PORT + 7))
export SANDRUN_TEST_IPFS_DOWN=http://127.0.0.1:$((IPFS_PORT + 8))
