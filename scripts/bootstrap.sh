#!/usr/bin/env bash
# Bootstrap: Node 24 (the official binary, shipped by the npm package node-linux-<arch>)
# and pnpm (the version pinned in package.json) go to .tools/; nothing outside the
# checkout changes except Debian packages that a test needs (scripts/system-deps.sh). Then it
# runs the package.json script named by the first argument, with the rest as its arguments.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
NODE_VERSION="$(tr -d '[:space:]' < "$ROOT/.node-version")"
PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"+]*\).*/\1/p' "$ROOT/package.json")"

die() { echo "sluice bootstrap: $*" >&2; exit 1; }
say() { echo "sluice bootstrap: $*" >&2; }

case "$(uname -s)" in Linux) ;; *) die "only Linux is supported by this script (found $(uname -s))";; esac
case "$(uname -m)" in
  x86_64) ARCH=x64 ;;
  aarch64) ARCH=arm64 ;;
  *) die "no Node $NODE_VERSION package for CPU $(uname -m)";;
esac
[ -n "$PNPM_VERSION" ] || die "package.json has no \"packageManager\": \"pnpm@X.Y.Z\""

NODE_PKG_DIR="$TOOLS/node-$NODE_VERSION"
NODE_BIN="$NODE_PKG_DIR/node_modules/node-linux-$ARCH/bin/node"
if [ ! -x "$NODE_BIN" ]; then
  command -v npm >/dev/null || die "npm is needed once to fetch Node $NODE_VERSION from the npm registry; install Debian's npm (apt-get install npm) and retry"
  say "installing Node $NODE_VERSION (npm package node-linux-$ARCH) into .tools/"
  mkdir -p "$NODE_PKG_DIR"
  npm install --prefix "$NODE_PKG_DIR" --no-save --no-package-lock --loglevel=error \
    "node-linux-$ARCH@$NODE_VERSION" >&2 || die "could not fetch node-linux-$ARCH@$NODE_VERSION from the npm registry (is it reachable? try: npm view node-linux-$ARCH@$NODE_VERSION version)"
  [ -x "$NODE_BIN" ] || die "node-linux-$ARCH@$NODE_VERSION installed but has no bin/node"
fi

PNPM_DIR="$TOOLS/pnpm-$PNPM_VERSION"
PNPM_JS="$PNPM_DIR/node_modules/pnpm/bin/pnpm.cjs"
if [ ! -f "$PNPM_JS" ]; then
  say "installing pnpm $PNPM_VERSION into .tools/"
  mkdir -p "$PNPM_DIR"
  PATH="$(dirname "$NODE_BIN"):$PATH" npm install --prefix "$PNPM_DIR" --no-save --no-package-lock --loglevel=error \
    "pnpm@$PNPM_VERSION" >&2 || die "could not fetch pnpm@$PNPM_VERSION from the npm registry"
fi

# .tools/bin is what every script below sees first on PATH: node 24 and pnpm.
mkdir -p "$TOOLS/bin"
ln -sfn "$NODE_BIN" "$TOOLS/bin/node"
cat > "$TOOLS/bin/pnpm" <<SH
#!/usr/bin/env bash
exec "$NODE_BIN" "$PNPM_JS" "\$@"
SH
chmod +x "$TOOLS/bin/pnpm"
export PATH="$TOOLS/bin:$PATH"
# node-gyp builds native addons against the headers shipped with this Node.
export npm_config_nodedir="$(dirname "$(dirname "$NODE_BIN")")"
export COREPACK_ENABLE_STRICT=0

# Install the workspace when the lockfile or a manifest changed since the last install.
STAMP="$ROOT/node_modules/.sluice-install-stamp"
manifests_hash() {
  local f files=()
  for f in "$ROOT/pnpm-lock.yaml" "$ROOT/pnpm-workspace.yaml" "$ROOT/package.json" "$ROOT"/packages/*/package.json "$ROOT"/apps/*/package.json; do
    [ -f "$f" ] && files+=("$f")
  done
  echo "$(cat "${files[@]}" | sha256sum | cut -d' ' -f1)-$NODE_VERSION"
}
WANT="$(manifests_hash)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  say "installing workspace dependencies (pnpm install)"
  if [ -n "${CI:-}" ]; then pnpm install --frozen-lockfile >&2; else pnpm install >&2; fi
  WANT="$(manifests_hash)"
  echo "$WANT" > "$STAMP"
fi

# The web console belongs to the set-up: sluice-server serves apps/web/dist, so it is built
# here whenever it is missing or older than anything it is made from.
WEB="$ROOT/apps/web"
if [ -f "$WEB/package.json" ]; then
  STALE=""
  if [ -f "$WEB/dist/index.html" ]; then
    STALE="$(find "$WEB/src" "$WEB/index.html" "$WEB/vite.config.ts" "$WEB/package.json" \
      "$ROOT/packages/api/src" "$ROOT/packages/config/src" -newer "$WEB/dist/index.html" -print -quit)"
  fi
  if [ ! -f "$WEB/dist/index.html" ] || [ -n "$STALE" ]; then
    say "building the web console (apps/web)"
    pnpm --silent --filter @sluice/web run build >&2 || die "the web console (apps/web) did not build; see the errors above"
  fi
fi

if [ "${1:-}" = "test" ] || [ "${1:-}" = "test:asan" ] || [ "${1:-}" = "bench" ] || [ "${1:-}" = "bench:gate" ] || [ "${1:-}" = "bench:results" ]; then
  "$ROOT/scripts/system-deps.sh" "$1"
fi

# The root package.json's scripts are the commands. They go through `pnpm run`, never `pnpm <name>`:
# pnpm has built-in commands of the same names (`pnpm server` is pnpm's store server), and
# `pnpm run NAME ARGS...` hands every word after NAME, flags included, to the script.
# --silent drops pnpm's own banner, so `./run ctl --format json ...` prints only the program's output.
SCRIPTS="$(node -p "Object.keys(require(process.argv[1]).scripts).join(' ')" "$ROOT/package.json")"
usage() {
  echo "usage: ./run <command> [args]   e.g. ./run edge --config examples/standalone.toml, ./run server serve, ./run test" >&2
  echo "commands (the scripts in package.json): $SCRIPTS" >&2
  exit 2
}
[ $# -gt 0 ] || usage
case " $SCRIPTS " in
  *" $1 "*) exec pnpm --silent run "$@" ;;
  *) echo "sluice: unknown command '$1'" >&2; usage ;;
esac
