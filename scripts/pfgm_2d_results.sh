#!/usr/bin/env bash
# PFGM and rectified flow on the 2-D sets, scored at equal network calls (docs/pfgm.md).
# Usage: scripts/pfgm_2d_results.sh [STEPS] [SETS]   e.g. scripts/pfgm_2d_results.sh 3000 "moons"
# Env: FLUXION (default build/fluxion), OUT (default build/pfgm-2d), N (eval samples, 2000).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FLUXION=${FLUXION:-$REPO/build/fluxion}
OUT=${OUT:-$REPO/build/pfgm-2d}
STEPS=${1:-3000}
SETS=${2:-moons 8gaussians checkerboard}
N=${N:-2000}
PFGM_FLAGS=${PFGM_FLAGS:-}
mkdir -p "$OUT"
for d in $SETS; do
  for m in pfgm rectified-flow; do
    run=$OUT/$m-$d
    [ -f "$run/model.safetensors" ] ||
      "$FLUXION" train $m --data "$d" --steps "$STEPS" --seed 0 --out "$run" \
        $([ $m = pfgm ] && echo $PFGM_FLAGS) >/dev/null
    for s in "rk45 0" "euler 10" "euler 20" "euler 50" "euler 100" "heun 10" "heun 50"; do
      set -- $s
      line=$("$FLUXION" eval $m --run "$run" -n "$N" --seed 1 --solver $1 \
        $([ "$2" != 0 ] && echo --ode-steps $2) 2>&1 || true)
      echo "$d $m $1 $2 | $line" | tee -a "$OUT/results.txt"
    done
  done
done
