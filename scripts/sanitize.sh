#!/usr/bin/env bash
# Builds the tests and the CLI with AddressSanitizer + UndefinedBehaviorSanitizer (g++) in
# build-asan/ and runs the test suite under them. Any report fails the run: UBSan does not
# recover, ASan aborts on its first error.
#   scripts/sanitize.sh                         # the whole suite
#   SANITIZE_QUICK=1 scripts/sanitize.sh        # CI: without tests/sanitize_skip_quick.txt
#   scripts/sanitize.sh -R 'PointsNpy|Compile'  # extra arguments go to ctest
# Kernels the compiler builds at run time are plain g++ shared objects without sanitizers;
# the sanitized process loads them like any other library.
set -euo pipefail
cd "$(dirname "$0")/.."
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
# Unity build without ccache (CI): the clean sanitized build is most of CI's time.
LAUNCHER=(-DFLUXION_UNITY=ON)
command -v ccache >/dev/null && LAUNCHER=(-DFLUXION_UNITY=OFF -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# A build type of its own, so CMake adds no -O2/-DNDEBUG after our -O1 (asserts stay on).
# The tests' kernel cache is build/'s: the kernels are the same g++ objects in both builds
# (content-addressed), so after scripts/test.sh none is compiled again.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Sanitize -DFLUXION_BUILD_BENCH=OFF \
  "${LAUNCHER[@]}" -DCMAKE_CXX_FLAGS="$SAN -O1 -g1" \
  -DFLUXION_TEST_KERNEL_CACHE="$PWD/build/kernel-cache" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
start=$(date +%s)
cmake --build build-asan -j"${JOBS:-$(nproc)}" --target fluxion_tests fluxion_cli
echo "sanitize.sh: build took $(($(date +%s) - start)) s"
# halt_on_error: the first report fails the test. Leak checking stays on (the default).
export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:detect_stack_use_after_return=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
# CI's 30 minutes: the long statistical runs listed in tests/sanitize_skip_quick.txt stay out
# of the quick run (their code paths run in shorter tests).
skip=()
if [ -n "${SANITIZE_QUICK:-}" ]; then
  skip=(-E "^($(grep -v '^#' tests/sanitize_skip_quick.txt | awk 'NF {print $1}' | paste -sd'|'))\$")
fi
start=$(date +%s)
ctest --test-dir build-asan "${skip[@]}" --output-on-failure -j"${JOBS:-$(nproc)}" --timeout 1800 "$@"
echo "sanitize.sh: tests took $(($(date +%s) - start)) s"
