#!/usr/bin/env bash
# Training speed on a quiet machine and with one busy process per core (issue #17, item 7).
# Prints the steps/s of `fluxion train --data moons` for each OpenMP wait setting, quiet and
# loaded, interleaved so that drift in the machine's background load hits every setting alike.
#   scripts/load_test.sh [reps] [steps]       (defaults: 3 reps of 600 steps)
# Settings are given as environment assignments in SETTINGS, e.g.
#   SETTINGS="GOMP_SPINCOUNT=300000 OMP_WAIT_POLICY=passive" scripts/load_test.sh
# ("GOMP_SPINCOUNT=300000" is libgomp's own default). BUSY busy loops (default: one per core)
# make the load. On a machine other people use, nothing is quiet: QUIET_PREFIX="chrt -r 10"
# (root) runs the quiet case in the real-time class, ahead of everyone else's processes.
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-3}
steps=${2:-600}
bin=${FLUXION_BIN:-build/fluxion}
read -r -a settings <<<"${SETTINGS:-GOMP_SPINCOUNT=300000 GOMP_SPINCOUNT=10000 OMP_WAIT_POLICY=passive}"
busy=${BUSY:-$(nproc)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; [ -n "${pids:-}" ] && kill $pids 2>/dev/null || true' EXIT

rate() {  # steps/s of one run, from the progress bar's last line
  rm -rf "$tmp/run"
  $2 env "$1" "$bin" train --data moons --steps "$steps" --out "$tmp/run" 2>&1 |
    tr '\r' '\n' | grep -o "$steps/$steps [0-9]*% [0-9.]* [its/]*" | tail -1 |
    awk '{print $4 == "it/s" ? $3 : 1 / $3}'
}

declare -A quiet loaded
for ((r = 0; r < reps; r++)); do
  for s in "${settings[@]}"; do quiet[$s]+="$(rate "$s" "${QUIET_PREFIX:-}") "; done
  pids=""
  for ((b = 0; b < busy; b++)); do (while :; do :; done) & pids+="$! "; done
  for s in "${settings[@]}"; do loaded[$s]+="$(rate "$s" "") "; done
  kill $pids; wait $pids 2>/dev/null || true; pids=""
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf "%-26s %-28s %-28s %s\n" setting "quiet steps/s" "loaded ($busy busy) steps/s" "quiet/loaded"
for s in "${settings[@]}"; do
  q=$(echo "${quiet[$s]}" | median); l=$(echo "${loaded[$s]}" | median)
  printf "%-26s %-28s %-28s %s\n" "$s" "${quiet[$s]}(med $q)" "${loaded[$s]}(med $l)" \
    "$(awk -v q="$q" -v l="$l" 'BEGIN {printf "%.2fx", q / l}')"
done
