#!/usr/bin/env bash
# Runs every benchmark against the given build directory; each prints its reference beside it.
set -uo pipefail
BUILD=${1:-build/release}
cd "$(dirname "$0")/.."
for b in bench/*/run.sh; do
  echo "== $(basename "$(dirname "$b")")"
  "$b" "$BUILD" || echo "(benchmark $b failed)"
done
