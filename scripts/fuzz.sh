#!/usr/bin/env bash
# The long fuzzing run: every *.fuzz.test.ts with FUZZ_RUNS new inputs per property (default a
# million) and no test timeout. The test suite runs the same files with a few hundred inputs each.
# An input that fails is appended to the target's committed corpus (packages/test-kit/src/fuzz.ts).
# Usage: ./run fuzz [--runs N] [TARGET...]   (TARGET: the name of a fuzz file without .fuzz.test.ts,
# e.g. client-hello, decode, frames, load, api-bodies; default all)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS=1000000
FILTERS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs)
      [ $# -ge 2 ] && [[ "$2" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: --runs needs a positive whole number" >&2; exit 2; }
      RUNS="$2"
      shift 2
      ;;
    -*) echo "fuzz: unknown option $1 (usage: ./run fuzz [--runs N] [TARGET...])" >&2; exit 2 ;;
    *) FILTERS+=("$1.fuzz.test.ts"); shift ;;
  esac
done
[ ${#FILTERS[@]} -gt 0 ] || FILTERS=(".fuzz.test.ts")
echo "fuzz: $RUNS inputs per property: ${FILTERS[*]}" >&2
cd "$ROOT"
FUZZ_RUNS="$RUNS" exec npx vitest run --project unit --testTimeout=0 "${FILTERS[@]}"
