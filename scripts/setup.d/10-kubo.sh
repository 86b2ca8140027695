#!/usr/bin/env bash
# Kubo (the IPFS reference daemon) for the IPFS tests and the dev stack, built from its Go module
# source: no registry reachable here ships a Kubo binary. Installed once to
# `scripts/kubo.sh installed-path` (~/.local/share/sandrun/kubo-v0.43.1/ipfs, outside the repo so
# that fresh clones on the same machine reuse it); skipped when that binary reports the version.
#
# Kubo v0.43.1 cannot be built with `go install github.com/ipfs/kubo/cmd/ipfs@v0.43.1`: its go.mod
# replaces go-libp2p by a fork (github.com/lidel/go-libp2p v0.0.0-20260914191659-9c4ee60cf924)
# that the Go module proxy refuses (403), and `go install pkg@version` refuses replace/exclude
# directives anyway; dropping the replace alone leaves go-libp2p v0.49.0, which does not compile
# against the quic-go v0.62 / webtransport-go v0.13 that Kubo requires. The fork exists only to
# pair go-libp2p with those; the upstream release go-libp2p v0.52.0 (served by the proxy) does the
# same, so we build v0.43.1's own module source with the replace dropped and v0.52.0 required.
# Everything IPFS-facing (boxo v0.43.0: UnixFS import, gateway) is v0.43.1's, and libp2p is idle
# here anyway (the daemon runs --offline with no swarm).
# Build time measured on this 2-core machine (shared with other builds at the time): 11 min 23 s
# wall, 5 min 35 s CPU, with empty Go caches (~560 MB of modules downloaded); about 2 min with the
# module and build caches filled; once installed, a run is a version check (~0.1 s).
set -euo pipefail
cd "$(dirname "$0")/../.."

version=$(bash scripts/kubo.sh version)
bin=$(bash scripts/kubo.sh installed-path)
if [ -x "$bin" ] && [ "$("$bin" version 2>/dev/null)" = "ipfs version $version" ]; then exit 0; fi

LIBP2P=v0.52.0
# Kubo v0.43 needs Go >= 1.26.5 (its go.mod). A Go >= 1.21 fetches that toolchain by itself
# through the module proxy (GOTOOLCHAIN=auto); an older or missing Go cannot, so the toolchain
# module is fetched from the proxy directly, as the go command would.
GO_TOOLCHAIN=go1.26.8
say() { echo "setup: $*"; }

go_minor() { "$1" env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p'; }
GO=$(command -v go || echo /usr/local/go/bin/go)
minor=$(go_minor "$GO" || true)
if [ "${minor:-0}" -lt 21 ]; then
  goroot=${XDG_DATA_HOME:-$HOME/.local/share}/sandrun/$GO_TOOLCHAIN
  if [ ! -x "$goroot/bin/go" ]; then
    arch=$(uname -m); case "$arch" in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; esac
    say "fetching the Go toolchain $GO_TOOLCHAIN from the Go module proxy"
    python3 - "$goroot" "$GO_TOOLCHAIN" "linux-$arch" <<'PY'
import io, os, shutil, sys, tempfile, urllib.request, zipfile
dest, toolchain, platform = sys.argv[1:4]
proxy = os.environ.get("GOPROXY", "https://proxy.golang.org").split(",")[0].split("|")[0]
module = f"v0.0.1-{toolchain}.{platform}"
with urllib.request.urlopen(f"{proxy}/golang.org/toolchain/@v/{module}.zip") as r:
    archive = zipfile.ZipFile(io.BytesIO(r.read()))
tmp = tempfile.mkdtemp(dir=os.path.dirname(dest) if os.path.isdir(os.path.dirname(dest)) else None)
prefix = f"golang.org/toolchain@{module}/"
for info in archive.infolist():
    if info.filename.startswith(prefix) and not info.is_dir():
        path = os.path.join(tmp, info.filename[len(prefix):])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with archive.open(info) as src, open(path, "wb") as out:
            shutil.copyfileobj(src, out)
        os.chmod(path, (info.external_attr >> 16) or 0o644)
os.makedirs(os.path.dirname(dest), exist_ok=True)
shutil.rmtree(dest, ignore_errors=True)
os.rename(tmp, dest)
PY
  fi
  GO=$goroot/bin/go
fi

say "building Kubo v$version from source (a few minutes on 2 cores; once per machine)"
start=$SECONDS
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod
dir=$("$GO" mod download -json "github.com/ipfs/kubo@v$version" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
cp -r "$dir" "$work/src" && chmod -R u+w "$work/src"
# (`&&`, not `set -e`: bash ignores -e inside a command whose status `||` tests.)
(
  cd "$work/src" &&
  "$GO" mod edit -dropreplace=github.com/libp2p/go-libp2p &&
  "$GO" get "github.com/libp2p/go-libp2p@$LIBP2P" &&
  "$GO" build -trimpath -o "$work/ipfs" ./cmd/ipfs
) >"$work/build.log" 2>&1 || { echo "setup: the Kubo build failed:" >&2; tail -n 30 "$work/build.log" >&2; exit 1; }
mkdir -p "$(dirname "$bin")"
mv "$work/ipfs" "$bin"
say "Kubo $("$bin" version | awk '{print $3}') installed at $bin in $((SECONDS - start)) s"
