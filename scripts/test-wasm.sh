#!/usr/bin/env bash
# The wasm-bindgen-test suites: tests/node.rs in Node and tests/browser.rs in headless Chromium
# (wasm-bindgen-test-runner; each suite's wasm_bindgen_test_configure! picks where it runs; the
# browser goes through Debian's chromium-driver), against two dev nodes this script starts and
# stops, default mode and --compat, each signing with its own worker key.
# The suites read the endpoints at compile time (the browser has no environment):
#   option_env!("SANDRUN_TEST_ENDPOINT")         default http://127.0.0.1:18443
#   option_env!("SANDRUN_TEST_COMPAT_ENDPOINT")  default http://127.0.0.1:18444
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
for name in wasm-test wasm-test-compat; do
  rm -f "build/$name.key.pem"
  "$DEVNODE" --generate-key "build/$name.key.pem" >/dev/null
done
limits=(--jobs-per-hour 100000 --max-concurrent 16 --cpu-per-minute 100000)
trap 'scripts/devnode.sh stop wasm-test; scripts/devnode.sh stop wasm-test-compat' EXIT
scripts/devnode.sh start wasm-test "$PORT" worker --port "$PORT" --worker-key build/wasm-test.key.pem "${limits[@]}"
scripts/devnode.sh start wasm-test-compat "$COMPAT_PORT" worker --port "$COMPAT_PORT" --compat \
  --worker-key build/wasm-test-compat.key.pem "${limits[@]}"
export SANDRUN_TEST_ENDPOINT=http://127.0.0.1:$PORT
export SANDRUN_TEST_COMPAT_ENDPOINT=http://127.0.0.1:$COMPAT_PORT
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-300}
status=0
for t in "${want[@]}"; do
  echo "--- wasm-bindgen-test: tests/$t.rs ($([ "$t" = node ] && echo Node || echo headless Chromium))"
  CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver} \
    cargo test --target wasm32-unknown-unknown -p sandrun-sdk --test "$t" "$@" || status=1
done
exit $status
