#!/usr/bin/env bash
# CI and fresh machines build the library and CLI as a unity build (FLUXION_UNITY, when ccache
# is absent); day-to-day builds with ccache do not. Two .cpp files whose file-local names clash
# compile apart but not together: this checks the unity build's syntax in build-unity-check/
# (library, CLI and tests; about 3 CPU-minutes, no code generation) so such a clash is found before CI finds it.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build-unity-check
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFLUXION_BUILD_TESTS=ON \
  -DFLUXION_BUILD_BENCH=OFF -DFLUXION_UNITY=ON >/dev/null
# Parse and type-check only: the objects are never linked.
sed -i 's/^  FLAGS = /  FLAGS = -fsyntax-only /' "$dir/build.ninja"
# The objects of the library, the CLI and the tests (linking would fail on the empty objects).
objs=$(grep -o "^build [^:]*Unity/unity_[0-9]*_cxx\.cxx\.o" "$dir/build.ninja" | cut -d" " -f2)
# shellcheck disable=SC2086
log=$(ninja -C "$dir" -k 0 -j"${JOBS:-$(nproc)}" $objs 2>&1 || true)
if grep -q "error:" <<<"$log"; then
  grep "error:" <<<"$log"
  echo "check_unity.sh: the unity build does not compile (above)"
  exit 1
fi
echo "check_unity.sh: the unity build compiles"
