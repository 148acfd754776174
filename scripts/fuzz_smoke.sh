#!/usr/bin/env bash
# Builds every libFuzzer target (clang, ASan + UBSan) in build-fuzz/ and runs each for
# FUZZ_SECONDS (default 30) from its seed corpus. A crash, a sanitizer report or a broken
# contract fails the script and leaves the input in $FUZZ_OUT (default /tmp/fluxion-fuzz).
#   scripts/fuzz_smoke.sh                 # all targets
#   FUZZ_SECONDS=120 scripts/fuzz_smoke.sh fuzz_npy fuzz_csv
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-30}
out=${FUZZ_OUT:-/tmp/fluxion-fuzz}
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(fuzz_safetensors fuzz_json fuzz_mixture fuzz_csv fuzz_npy fuzz_npy_images fuzz_idx fuzz_png)

need=()
for p in clang libclang-rt-14-dev; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
LAUNCHER=()
command -v ccache >/dev/null && LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DFLUXION_BUILD_FUZZ=ON -DFLUXION_BUILD_TESTS=OFF \
  -DFLUXION_BUILD_BENCH=OFF "${LAUNCHER[@]}" >/dev/null
cmake --build build-fuzz -j"${JOBS:-$(nproc)}" --target "${targets[@]}"

mkdir -p "$out"
python3 fuzz/make_seeds.py "$out/seeds" >/dev/null
# One target per core at a time (libFuzzer runs one process per target): 7 targets x 30 s
# take 2 minutes on 2 cores instead of 3.5.
fuzz_one() {
  local t=$1 name=${1#fuzz_}
  local corpus="$out/corpus_$name"
  mkdir -p "$corpus"
  cp -n "$out/seeds/$name"/* "$corpus/" 2>/dev/null || true
  [ -d "fuzz/corpus_$name" ] && cp -n "fuzz/corpus_$name"/* "$corpus/"
  local args=(-max_total_time="$secs" -artifact_prefix="$out/$name-" -print_final_stats=1)
  [ -f "fuzz/$name.dict" ] && args+=(-dict="fuzz/$name.dict")
  # Headers and configs may be long: no 4 KB cap (a cap hid the deep-nesting crash).
  case $name in safetensors|json|mixture|csv) args+=(-max_len=200000) ;; *) args+=(-max_len=65536) ;; esac
  if ! "build-fuzz/fuzz/$t" "$corpus" "${args[@]}" 2>"$out/$name.log"; then
    tail -40 "$out/$name.log"
    echo "fuzz_smoke.sh: $t FAILED; input saved as $out/$name-*" >&2
    touch "$out/FAILED_$name"
    return 1
  fi
  echo "== $t ($secs s): $(grep -E "stat::number_of_executed_units" "$out/$name.log" | tail -1)"
}
jobs_max=${JOBS:-$(nproc)}
rm -f "$out"/FAILED_*
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
  fuzz_one "$t" &
done
wait
if compgen -G "$out/FAILED_*" >/dev/null; then
  echo "fuzz_smoke.sh: failed: $(cd "$out" && echo FAILED_* | sed 's/FAILED_//g')" >&2
  exit 1
fi
echo "fuzz_smoke.sh: all ${#targets[@]} targets ran $secs s each without a finding"
