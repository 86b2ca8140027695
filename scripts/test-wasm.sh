#!/usr/bin/env bash
# The wasm-bindgen-test suites (the sandrun-sdk package's integration tests, tests/*.rs), run in
# Node and in headless Chromium (wasm-bindgen-test-runner + Debian chromium-driver), against two
# dev nodes this script starts and stops: default mode and --compat.
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
if [ -z "$suites" ]; then
  echo "test-wasm: the sandrun-sdk package has no integration test targets (tests/*.rs) yet: nothing to run"
  exit 0
fi

trap 'scripts/devnode.sh stop wasm-test; scripts/devnode.sh stop wasm-test-compat' EXIT
scripts/devnode.sh start wasm-test "$PORT" worker --port "$PORT"
scripts/devnode.sh start wasm-test-compat "$COMPAT_PORT" worker --port "$COMPAT_PORT" --compat
export SANDRUN_TEST_ENDPOINT=http://127.0.0.1:$PORT
export SANDRUN_TEST_COMPAT_ENDPOINT=http://127.0.0.1:$COMPAT_PORT
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-300}
args=(--target wasm32-unknown-unknown -p sandrun-sdk --test '*' "$@")

status=0
if [ "$which" = node ] || [ "$which" = all ]; then
  echo "--- wasm-bindgen-test in Node ($suites)"
  cargo test "${args[@]}" || status=1
fi
if [ "$which" = browser ] || [ "$which" = all ]; then
  echo "--- wasm-bindgen-test in headless Chromium ($suites)"
  WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver} cargo test "${args[@]}" || status=1
fi
exit $status
