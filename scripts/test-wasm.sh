#!/usr/bin/env bash
# The wasm-bindgen-test suites: tests/node.rs in Node and tests/browser.rs in headless Chromium
# (wasm-bindgen-test-runner; each suite's wasm_bindgen_test_configure! picks where it runs; the
# browser goes through Debian's chromium-driver), against two dev nodes this script starts and
# stops, default mode and --compat, each signing with its own worker key.
# The suites read the endpoints at compile time (the browser has no environment):
#   option_env!("SANDRUN_TEST_ENDPOINT")         default http://127.0.0.1:18443
#   option_env!("SANDRUN_TEST_COMPAT_ENDPOINT")  default http://127.0.0.1:18444
#   SANDRUN_TEST_POOL_WORKERS, _COORDINATOR, _BROKER, _SPARE_PORT, _DEVNODE: the pool dev nodes
#   (tests/common/pool.rs), from SANDRUN_TEST_POOL_PORT (default SANDRUN_TEST_PORT + 7).
# Usage: scripts/test-wasm.sh [node|browser|all] [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}; shift || true
PORT=${SANDRUN_TEST_PORT:-18443}
COMPAT_PORT=${SANDRUN_TEST_COMPAT_PORT:-18444}

suites=$(cargo metadata --format-version 1 --no-deps | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const p = JSON.parse(s).packages.find((p) => p.name === "sandrun-sdk");
    console.log(p.targets.filter((t) => t.kind.includes("test")).map((t) => t.name).join(" "));
  });')
want=()
case $which in node) want=(node) ;; browser) want=(browser) ;; all) want=(node browser) ;; *) echo "usage: $0 [node|browser|all]" >&2; exit 2 ;; esac
for t in "${want[@]}"; do
  if [[ " $suites " != *" $t "* ]]; then echo "test-wasm: no test target '$t' (tests/$t.rs) in sandrun-sdk" >&2; exit 1; fi
done

# Results must be signed (the suites verify signatures), so each node gets a fresh worker key;
# the limits are raised because the suites submit far more than 20 jobs an hour from one IP.
DEVNODE=${DEVNODE:-target/debug/sandrun-devnode}
mkdir -p build
# Names carry the base port, so runs on other ports (SANDRUN_TEST_PORT) do not share pid files.
main=wasm-test-$PORT compat=wasm-test-compat-$PORT
for name in $main $compat; do
  rm -f "build/$name.key.pem"
  "$DEVNODE" --generate-key "build/$name.key.pem" >/dev/null
done
limits=(--jobs-per-hour 100000 --max-concurrent 16 --cpu-per-minute 100000)
# Pools (issue 5): three default-mode workers with their own keys, the third corrupting one output
# before signing (--fault alter-output), a pool coordinator over the two honest ones, a broker.
# Ports (SANDRUN_TEST_POOL_PORT..+4 = worker a, b, faulty, coordinator, broker; +5 is left for
# the Node suite's own broker, which the broker-restart test starts and stops itself). The default
# follows SANDRUN_TEST_PORT (+7), so runs on other base ports do not collide; names carry the port.
POOL_PORT=${SANDRUN_TEST_POOL_PORT:-$((PORT + 7))}
pool_names=(wasm-pool-a-$POOL_PORT wasm-pool-b-$POOL_PORT wasm-pool-bad-$POOL_PORT wasm-pool-coord-$POOL_PORT wasm-pool-broker-$POOL_PORT)
# What to stop on exit: the dev nodes below, and whatever the parts in scripts/test-wasm.d/ start.
STOPS=()
trap 'for s in "${STOPS[@]}"; do eval "$s" || true; done' EXIT
STOPS+=('for n in $main $compat $main-fault $compat-fault "${pool_names[@]}"; do scripts/devnode.sh stop "$n" || true; done')
scripts/devnode.sh start $main "$PORT" worker --port "$PORT" --worker-key build/$main.key.pem "${limits[@]}"
scripts/devnode.sh start $compat "$COMPAT_PORT" worker --port "$COMPAT_PORT" --compat \
  --worker-key build/$compat.key.pem "${limits[@]}"
declare -A pool_ids
for i in 0 1 2; do
  name=${pool_names[$i]} port=$((POOL_PORT + i))
  rm -f "build/$name.key.pem"
  pool_ids[$i]=$("$DEVNODE" --generate-key "build/$name.key.pem" | tail -n 1)
  fault=(); [ "$i" = 2 ] && fault=(--fault alter-output)
  scripts/devnode.sh start "$name" "$port" worker --port "$port" --worker-key "build/$name.key.pem" "${limits[@]}" "${fault[@]}"
done
cat > build/wasm-pool-workers-$POOL_PORT.json <<JSON
[{"endpoint":"http://127.0.0.1:$POOL_PORT","worker_id":"${pool_ids[0]}","max_concurrent_jobs":4},
 {"endpoint":"http://127.0.0.1:$((POOL_PORT + 1))","worker_id":"${pool_ids[1]}","max_concurrent_jobs":4}]
JSON
scripts/devnode.sh start "${pool_names[3]}" $((POOL_PORT + 3)) pool --port $((POOL_PORT + 3)) \
  --workers build/wasm-pool-workers-$POOL_PORT.json --health-interval-secs 1
rm -f build/wasm-pool-broker-$POOL_PORT.sqlite3*
scripts/devnode.sh start "${pool_names[4]}" $((POOL_PORT + 4)) broker --port $((POOL_PORT + 4)) --db build/wasm-pool-broker-$POOL_PORT.sqlite3
export SANDRUN_TEST_POOL_WORKERS=http://127.0.0.1:$POOL_PORT,http://127.0.0.1:$((POOL_PORT + 1)),http://127.0.0.1:$((POOL_PORT + 2))
export SANDRUN_TEST_COORDINATOR=http://127.0.0.1:$((POOL_PORT + 3))
export SANDRUN_TEST_BROKER=http://127.0.0.1:$((POOL_PORT + 4))
export SANDRUN_TEST_SPARE_PORT=$((POOL_PORT + 5))
export SANDRUN_TEST_DEVNODE=$(realpath "$DEVNODE")
# Two more nodes (default and --compat) with scoped faults for the plugin scenarios
# (tests/common/plugins.rs): a path /~NAME-x carries fault NAME, other paths none.
FAULT_PORT=${SANDRUN_TEST_FAULT_PORT:-$((PORT + 50))}
FAULT_COMPAT_PORT=${SANDRUN_TEST_FAULT_COMPAT_PORT:-$((PORT + 51))}
faults=(--fault status-503,scope=s503 --fault status-429,scope=s429 --fault drop-connection,scope=drop
  --fault status-500,scope=s500 --fault status-503,scope=flaky,first=2 --fault delay-ms:1500,scope=slow
  --fault drop-connection,scope=nostream,path=/stream/)
scripts/devnode.sh start $main-fault "$FAULT_PORT" worker --port "$FAULT_PORT" --worker-key build/$main.key.pem "${limits[@]}" "${faults[@]}"
scripts/devnode.sh start $compat-fault "$FAULT_COMPAT_PORT" worker --port "$FAULT_COMPAT_PORT" --compat \
  --worker-key build/$compat.key.pem "${limits[@]}" "${faults[@]}"
export SANDRUN_TEST_FAULT_ENDPOINT=http://127.0.0.1:$FAULT_PORT
export SANDRUN_TEST_FAULT_COMPAT_ENDPOINT=http://127.0.0.1:$FAULT_COMPAT_PORT
export SANDRUN_TEST_ENDPOINT=http://127.0.0.1:$PORT
export SANDRUN_TEST_COMPAT_ENDPOINT=http://127.0.0.1:$COMPAT_PORT
# Parts with services of their own (anvil, Kubo, pinning services): each scripts/test-wasm.d/*.sh is
# sourced here, starts what its scenarios need, adds its stop command to STOPS and exports the
# environment its scenarios read at compile time (tests/common/*.rs, option_env!).
for part in scripts/test-wasm.d/*.sh; do
  if [ -f "$part" ]; then source "$part"; fi
done
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
# tests/support/node-ws.js loads the ws package from here.
export SANDRUN_TOOLS=$PWD/tools
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-300}
# Chromium with the flags this machine's notes ask for, as tests/pkg and tests/cli start it:
# chromedriver already passes --headless, --no-sandbox, --no-first-run,
# --disable-background-networking, --disable-sync and a fresh --user-data-dir; these three it
# does not (no GPU here; no component updates or QUIC on a network that refuses them).
# wasm-bindgen-test-runner adds these capabilities to its own.
cat > build/webdriver-$PORT.json <<'JSON'
{ "goog:chromeOptions": { "args": ["--disable-gpu", "--disable-component-update", "--disable-quic"] } }
JSON
export WASM_BINDGEN_TEST_WEBDRIVER_JSON=$PWD/build/webdriver-$PORT.json

kill_tree() {
  local child
  for child in $(pgrep -P "$1"); do kill_tree "$child"; done
  kill "$1" 2>/dev/null || true
}

# One suite run. In Chromium, wasm-bindgen-test-runner's own file server (rouille over tiny_http
# 0.12) sometimes leaves some of the page's module requests unanswered: the page never finishes
# loading, no test starts, and the runner waits out WASM_BINDGEN_TEST_TIMEOUT. Seen with `ss`
# during a stall: two of Chromium's six connections to it held requests it never read (Recv-Q
# 597 and 599 bytes) while its busy connection threads sat in reads of the other, idle
# keep-alive connections (a lost hand-off in its per-connection thread pool, by its code).
# Measured here: 4 of 10 page loads stalled when the runner is started alone, with or without
# the flags above; in whole-suite runs, 15 of 43 page loads stalled, and stalls come in
# streaks (five in a row once, more than the 5 runs allowed until then). A page that does start,
# starts its tests about 1 s after the runner opens it, so a watchdog stops a runner whose page
# has not started within PAGE_START_S (20 s), and the run is made again (at most PAGE_RUNS
# times in all, 12; a stall costs about 25 s). So is a run whose runner ended without a result
# line while no test failed or panicked (the page or the runner died). A test that fails is
# never run again: one that hangs fails by name after the scenario limit (tests/common/mod.rs,
# `within`).

# What failed, repeated after the runner's own output (which ends with the page's whole console
# and a backtrace), so that the last lines of a long CI log name the failed tests, the panics and
# the runner's verdict.
failure_summary() {
  local what
  what=$(awk -v failed="$FAILED" '$0 ~ failed || /^Failed to detect/ { print; if (/^Failed/) lost = 1; next }
              /Invoking test: / { sub(/^ *Invoking test: /, ""); last = $0; next }
              /panicked at/ { sub(/^ +/, ""); line = $0; getline; sub(/^ +/, ""); print line " " $0 }
              END { if (lost && last != "") print "the last test the page started: " last }' "$2" |
    awk '!seen[$0]++' | head -n 30)
  echo "test-wasm: tests/$1.rs failed:"
  if [ -n "$what" ]; then sed 's/^/  /' <<< "$what"; else echo "  (no test named; see the runner's output above)"; fi
}
PAGE_START_S=${PAGE_START_S:-20}
PAGE_RUNS=${PAGE_RUNS:-12}
# What the runner prints once the page has started its tests (one selected test: "1 test"), and
# once a test failed; the watchdog and the lost-run check read the same lines.
STARTED='^running [0-9]+ tests?\b'
FAILED='^test .* FAIL(ED)?$'
run_suite() {
  local t=$1; shift
  local attempt log rc
  for ((attempt = 1; attempt <= PAGE_RUNS; attempt++)); do
    log=$(mktemp)
    CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver} \
      cargo test --target wasm32-unknown-unknown -p sandrun-sdk --test "$t" "$@" > >(tee "$log") 2>&1 &
    local cargo_pid=$! opened= stalled= lost=
    while kill -0 "$cargo_pid" 2>/dev/null; do
      sleep 2
      if [ "$t" = browser ] && [ -z "$opened" ] && grep -q "^Running headless tests" "$log"; then opened=$SECONDS; fi
      if [ -n "$opened" ] && ! grep -qE "$STARTED" "$log" && ((SECONDS - opened > PAGE_START_S)); then
        stalled=1
        kill_tree "$cargo_pid"
        break
      fi
    done
    rc=0; wait "$cargo_pid" || rc=$?
    if [ -z "$stalled" ] && [ "$rc" != 0 ]; then
      failure_summary "$t" "$log"
      # The page started its tests, then the runner ended with no result line, and no test
      # failed or panicked (a scenario that hangs fails by name: tests/common/mod.rs, `within`):
      # the page or the runner died, not a test. That is run again, like a page that never
      # started; a test's own failure never is.
      if grep -qE "$STARTED" "$log" && ! grep -qE "^test result:|$FAILED|panicked at" "$log"; then
        lost=1
      fi
    fi
    rm -f "$log"
    if [ -n "$lost" ]; then
      echo "test-wasm: the runner ended without a result and no test failed or panicked; run $attempt of $PAGE_RUNS lost" >&2
      continue
    fi
    if [ -z "$stalled" ]; then return $rc; fi
    echo "test-wasm: the test page did not start its tests within ${PAGE_START_S} s (the runner's file server stalled on the page's scripts); run $attempt of $PAGE_RUNS stopped" >&2
  done
  return 1
}

status=0
for t in "${want[@]}"; do
  echo "--- wasm-bindgen-test: tests/$t.rs ($([ "$t" = node ] && echo Node || echo headless Chromium))"
  run_suite "$t" "$@" || status=1
done
exit $status
