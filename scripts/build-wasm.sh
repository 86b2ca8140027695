#!/usr/bin/env bash
# Rust → wasm: cargo (release, wasm32) → wasm-bindgen (--target web) → wasm-opt (npm binaryen).
# Output: build/wasm/sandrun_sdk_bg.wasm, sandrun_sdk.js, sandrun_sdk.d.ts (+ _bg.wasm.d.ts).
# Env: WASM_OPT_LEVEL (default -Oz), SANDRUN_MANIFEST (another Cargo.toml, for pipeline checks).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MANIFEST=${SANDRUN_MANIFEST:-$ROOT/Cargo.toml}
OUT=$ROOT/build/wasm
OPT_LEVEL=${WASM_OPT_LEVEL:--Oz}
WASM_OPT=$ROOT/tools/node_modules/.bin/wasm-opt
[ -x "$WASM_OPT" ] || { echo "build-wasm: $WASM_OPT missing: run scripts/setup.sh" >&2; exit 1; }

cargo build --release --target wasm32-unknown-unknown -p sandrun-sdk --manifest-path "$MANIFEST"

target_dir=$(cargo metadata --format-version 1 --no-deps --manifest-path "$MANIFEST" |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
input=$target_dir/wasm32-unknown-unknown/release/sandrun_sdk.wasm

rm -rf "$OUT.tmp" && mkdir -p "$OUT.tmp"
# --weak-refs is the default (and a hidden no-op flag) in 0.2.130; kept to say what we rely on:
# handles not freed by hand are released by FinalizationRegistry.
wasm-bindgen --target web --weak-refs --out-dir "$OUT.tmp" --out-name sandrun_sdk "$input"

# Features rustc 1.95 enables by default for wasm32-unknown-unknown (rustc --print cfg):
# bulk-memory, multivalue, mutable-globals, nontrapping-fptoint, reference-types, sign-ext.
# wasm-opt must be told, or it rejects/undoes them. Measured on the SDK: see docs/ (make size).
"$WASM_OPT" "$OPT_LEVEL" \
  --enable-bulk-memory --enable-multivalue --enable-mutable-globals \
  --enable-nontrapping-float-to-int --enable-reference-types --enable-sign-ext \
  "$OUT.tmp/sandrun_sdk_bg.wasm" -o "$OUT.tmp/sandrun_sdk_bg.opt.wasm"
mv "$OUT.tmp/sandrun_sdk_bg.opt.wasm" "$OUT.tmp/sandrun_sdk_bg.wasm"
rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
echo "build-wasm: $(wc -c < "$OUT/sandrun_sdk_bg.wasm") bytes → build/wasm/sandrun_sdk_bg.wasm ($OPT_LEVEL)"
