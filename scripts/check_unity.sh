#!/usr/bin/env bash
# CI and fresh machines build the library and CLI as a unity build (FLUXION_UNITY, when ccache
# is absent); day-to-day builds with ccache do not. Two .cpp files whose file-local names clash
# compile apart but not together: this checks the unity build's syntax in build-unity-check/
# (about 2 CPU-minutes, no code generation) so such a clash is found before CI finds it.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build-unity-check
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFLUXION_BUILD_TESTS=OFF \
  -DFLUXION_BUILD_BENCH=OFF -DFLUXION_UNITY=ON >/dev/null
# Parse and type-check only: the objects are never linked.
sed -i 's/^  FLAGS = /  FLAGS = -fsyntax-only /' "$dir/build.ninja"
log=$(ninja -C "$dir" -k 0 -j"${JOBS:-$(nproc)}" fluxion_cli 2>&1 || true)
if grep -q "error:" <<<"$log"; then
  grep "error:" <<<"$log"
  echo "check_unity.sh: the unity build does not compile (above)"
  exit 1
fi
echo "check_unity.sh: the unity build compiles"
