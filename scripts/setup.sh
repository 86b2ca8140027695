#!/usr/bin/env bash
# Installs what the build and the tests need, only when it is missing. Idempotent; quiet and fast
# (about a second) when everything is present. Used by `make demo`, `make test` and CI.
#   Rust target wasm32-unknown-unknown · wasm-bindgen-cli 0.2.130 (= the crate's pin)
#   Debian chromium + chromium-driver + python3 · tools/ (npm ci: binaryen, esbuild, typescript,
#   playwright-core, vite)
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130
say() { echo "setup: $*"; }
export PATH="$HOME/.cargo/bin:$PATH"

# --- Rust -------------------------------------------------------------------------------------
if ! command -v cargo >/dev/null; then
  echo "setup: cargo not found; install Rust (rustup) first" >&2; exit 1
fi
if command -v rustup >/dev/null; then
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    say "adding rustup target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
fi
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ] ||
   ! command -v wasm-bindgen-test-runner >/dev/null; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (2-3 min)"
  # No --locked: its lockfile asks for a crate version the registry lacks.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force --quiet
fi

# --- Debian packages (chromium for the browser tests, python3 for the dev node's jobs) ---------
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
command -v python3 >/dev/null || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "setup: missing ${missing[*]} and no apt-get; install them by hand" >&2; exit 1
  fi
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  say "apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- npm tools (never Debian's binaryen: its wasm-opt breaks modules) ---------------------------
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "setup: node/npm not found; install Node.js >= 20.19" >&2; exit 1
fi
# The stamp holds the lock file's hash, not a time: a fresh checkout of the same lock (a git
# worktree sharing node_modules) must not reinstall, and an edited lock always does.
stamp=tools/node_modules/.setup-stamp
lock_sum=$(cat tools/package.json tools/package-lock.json | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
  say "npm ci in tools/"
  (cd tools && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$lock_sum" >"$stamp"
fi

# --- parts with installs of their own (Kubo, anvil, ...): scripts/setup.d/*.sh, in name order ---
for part in scripts/setup.d/*.sh; do
  if [ -f "$part" ]; then bash "$part"; fi
done
