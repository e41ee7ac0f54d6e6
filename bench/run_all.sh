#!/usr/bin/env bash
# Runs every benchmark against the given build directory; each prints its reference beside it.
# Benchmarks are bench/<name>/run.sh scripts and the executables built from bench/<name>/.
set -uo pipefail
BUILD=${1:-build/release}
cd "$(dirname "$0")/.."
for dir in bench/*/; do
  name=$(basename "$dir")
  if [ -x "$dir/run.sh" ]; then
    echo "== $name"
    "$dir/run.sh" "$BUILD" || echo "(benchmark $name failed)"
  fi
  for exe in $(find "$BUILD/bench/$name" -maxdepth 1 -type f -executable 2>/dev/null); do
    echo "== $name: $(basename "$exe")"
    "$exe" || echo "($(basename "$exe") failed)"
  done
done
