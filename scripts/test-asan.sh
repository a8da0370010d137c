#!/usr/bin/env bash
# The splice addon under AddressSanitizer and UndefinedBehaviorSanitizer: builds it with
# -fsanitize=address,undefined into packages/splice/build-asan (the ordinary build is left
# alone), then runs the splice unit tests and the hostile-socket suite on that binary
# (SLUICE_SPLICE_ADDON, which the loader takes with no fallback). Node itself is not
# instrumented, so libasan is preloaded. Every sanitizer report goes to a file; any file, or
# any failed test, fails the run. Run through ./run (`./run test:asan`), which brings node and pnpm.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SPLICE="$ROOT/packages/splice"
BUILD="$SPLICE/build-asan"
die() { echo "test:asan: $*" >&2; exit 1; }

command -v gcc >/dev/null || die "gcc is needed (apt-get install gcc)"
LIBASAN="$(gcc -print-file-name=libasan.so)"
LIBUBSAN="$(gcc -print-file-name=libubsan.so)"
[ -e "$LIBASAN" ] && [ -e "$LIBUBSAN" ] || die "libasan/libubsan not found next to gcc (apt-get install libasan8 libubsan1)"

# The gyp file and sources as they are, built in a folder of their own.
rm -rf "$BUILD"
mkdir -p "$BUILD"
cp "$SPLICE/binding.gyp" "$BUILD/"
ln -s ../src "$BUILD/src"
FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -g -O1"
echo "test:asan: building the addon with $FLAGS" >&2
(cd "$BUILD" && CFLAGS="$FLAGS" CXXFLAGS="$FLAGS" LDFLAGS="-fsanitize=address,undefined" \
  node "$SPLICE/node_modules/node-gyp/bin/node-gyp.js" rebuild --nodedir="${npm_config_nodedir:?run through ./run}" \
  --jobs=max >"$BUILD/build.log" 2>&1) || { tail -20 "$BUILD/build.log" >&2; die "the sanitizer build failed (log: $BUILD/build.log)"; }
ADDON="$BUILD/build/Release/sluice_splice.node"
nm -D "$ADDON" | grep __asan_init >/dev/null || die "$ADDON is not instrumented"

REPORTS="$(mktemp -d /tmp/sluice-asan-XXXXXX)"
# Node's own allocations are not instrumented and it exits without freeing: no leak checks.
# Anything else reported stops the process, writes its report and fails the run below.
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:log_path=$REPORTS/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$REPORTS/ubsan"
export SLUICE_SPLICE_ADDON="$ADDON"
status=0
LD_PRELOAD="$LIBASAN:$LIBUBSAN" node "$ROOT/node_modules/vitest/vitest.mjs" run \
  packages/splice/lib test/hostile-sockets.test.ts || status=$?
if compgen -G "$REPORTS/*" >/dev/null; then
  for report in "$REPORTS"/*; do
    echo "test:asan: sanitizer report $report:" >&2
    head -60 "$report" >&2
  done
  die "the sanitizers reported (reports in $REPORTS)"
fi
rm -rf "$REPORTS"
[ "$status" = 0 ] || die "tests failed under the sanitizers (vitest exit $status)"
echo "test:asan: clean: no sanitizer report, every test passed" >&2
