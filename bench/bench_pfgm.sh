#!/usr/bin/env bash
# The PFGM field target, fluxion against PyTorch in one run, 2 threads each with the peer's
# best settings (peer_env.sh). Sizes: small batch B, large batch L, data dimension N.
# Usage: bench/bench_pfgm.sh ["B L N" ...]   Env: BENCH (default build/bench/bench_pfgm_target)
# Writes the table to stdout and to bench/RESULTS_pfgm.md.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=${BENCH:-$REPO/build/bench/bench_pfgm_target}
source "$REPO/bench/peer_env.sh"
# shellcheck disable=SC2046
export $(peer_env 2)
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=("128 4096 2" "128 4096 784")
CPU=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
{
  echo "# PFGM field target: fluxion vs PyTorch"
  echo
  echo "Command: \`bench/bench_pfgm.sh $(printf "\"%s\" " "$@")\` on $CPU, 2 threads each ($(date -u +%F))."
  echo "Load before: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)."
  echo "fluxion: gen::pfgm_field_target (from N >= 16 the GEMM form: cross term and weighted sum as"
  echo "oneDNN f32 GEMMs, log-weights in double, near-charge distances recomputed in double; below,"
  echo "the direct form). fluxion direct: every distance a double loop, per row. PyTorch 1.13: the"
  echo "reference code of losses.py, and the same maths with torch.cdist + softmax. Median ms of 20"
  echo "runs after 2 warm-ups, all in one run of this script."
  echo
  echo "| B × L × N | fluxion ms | fluxion direct ms | torch reference ms | torch cdist ms | best torch / fluxion |"
  echo "|---|---|---|---|---|---|"
  for s in "${SIZES[@]}"; do
    set -- $s
    f=$("$BENCH" "$1" "$2" "$3" | sed -n 's/^RESULT_JSON //p')
    # The reference code materialises [B, L, N+1] (1.6 GB at 128 x 4096 x 784): skipped above
    # 10^8 elements, where it takes tens of seconds per call.
    noref=""; [ $(($1 * $2 * $3)) -gt 100000000 ] && noref="--no-reference"
    t=$(/usr/bin/python3 "$REPO/bench/peer_pfgm_target.py" "$1" "$2" "$3" --threads 2 $noref |
      sed -n 's/^RESULT_JSON //p')
    /usr/bin/python3 - "$f" "$t" "$1 × $2 × $3" <<'PY'
import json, sys
f = {x["impl"]: x["ms"] for x in map(json.loads, sys.argv[1].splitlines())}
by = {x["impl"]: x["ms"] for x in map(json.loads, sys.argv[2].splitlines())}
best = min(by.values())
ref = f"{by['torch-reference']:.3f}" if "torch-reference" in by else "–"
print(f"| {sys.argv[3]} | {f['fluxion']:.3f} | {f['fluxion-direct']:.3f} | {ref} | {by['torch-cdist']:.3f} | {best / f['fluxion']:.2f} |")
PY
  done
  echo
  echo "Load after: $(cut -d' ' -f1-3 /proc/loadavg)."
} | tee "$REPO/bench/RESULTS_pfgm.md"
