#!/usr/bin/env bash
# Rectified-flow MLP training step: fluxion interpreter vs fluxion compiled vs the PyTorch
# peer (shared/peer/rectified_flow_2d.py, fp32), in the same session, ROUNDS rounds
# alternating fluxion and PyTorch so background load hits all three alike. Prints a
# Markdown table (per-round medians, then the median over rounds) for
# bench/RESULTS_compiler.md.
#
# Usage: bench/run_compiler.sh [ROUNDS] [STEPS]      (defaults 3 and 200)
# Env:   BUILD_DIR (default <repo>/build, the top-level build that has bench_compiler),
#        PEER_DIR (default <repo>/../shared/peer), THREADS (default 2),
#        FX_ENV extra environment for fluxion, e.g. FX_ENV=OMP_WAIT_POLICY=PASSIVE (better
#        while other jobs load the CPUs; on an idle machine oneDNN prefers the default)
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$REPO/bench/peer_env.sh"
BUILD_DIR=${BUILD_DIR:-$REPO/build}
PEER_DIR=${PEER_DIR:-$REPO/../shared/peer}
THREADS=${THREADS:-2}
FX_ENV=${FX_ENV:-}
ROUNDS=${1:-3}
STEPS=${2:-200}
WARMUP=20
cmake --build "$BUILD_DIR" -j2 --target bench_compiler >/dev/null
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for r in $(seq 1 "$ROUNDS"); do
  echo "[run_compiler] round $r/$ROUNDS: fluxion" >&2
  env $FX_ENV OMP_NUM_THREADS=$THREADS "$BUILD_DIR/bench/bench_compiler" --steps "$STEPS" --warmup "$WARMUP" \
    >"$OUT/fx_$r.txt" 2>&1
  echo "[run_compiler] round $r/$ROUNDS: pytorch" >&2
  (cd "$PEER_DIR" && env $(peer_env "$THREADS") /usr/bin/python3 rectified_flow_2d.py --steps $((STEPS + 5)) \
    --dtype fp32 --threads "$THREADS") >"$OUT/pt_$r.txt" 2>&1
done
/usr/bin/python3 - "$OUT" "$ROUNDS" "$STEPS" <<'PY'
import json, statistics, sys
out, rounds, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def result(path):
    for line in open(path):
        if line.startswith('RESULT_JSON '):
            return json.loads(line[len('RESULT_JSON '):])
    sys.exit(f'no RESULT_JSON in {path}:\n' + open(path).read())
rows = []
for r in range(1, rounds + 1):
    fx, pt = result(f'{out}/fx_{r}.txt'), result(f'{out}/pt_{r}.txt')
    rows.append((fx['interp_ms'], fx['compiled_ms'], pt['ms_per_step_median'], fx))
print(f'| round | interpreter ms/step | compiled ms/step | PyTorch ms/step | compiled vs interpreter | compiled vs PyTorch |')
print('|---|---|---|---|---|---|')
for i, (a, b, c, _) in enumerate(rows, 1):
    print(f'| {i} | {a:.2f} | {b:.2f} | {c:.2f} | {a / b:.2f}x | {c / b:.2f}x |')
m = [statistics.median(x[k] for x in rows) for k in range(3)]
print(f'| median | {m[0]:.2f} | {m[1]:.2f} | {m[2]:.2f} | {m[0] / m[1]:.2f}x | {m[2] / m[1]:.2f}x |')
fx = rows[-1][3]
print()
print(f"Compiled step: {fx['kernels']} fused kernels ({fx['fused_nodes']} graph nodes), "
      f"{fx['library_calls']} library calls; losses bit-identical to the interpreter's in "
      f"{fx['identical_losses']} of {fx['steps']} steps (max relative difference {fx['max_rel_loss_diff']}); "
      f"peak intermediate memory {fx['compiled_peak_bytes'] / 2**20:.2f} MB compiled vs "
      f"{fx['interp_peak_bytes'] / 2**20:.2f} MB interpreted; kernel compile "
      f"{'from the disk cache' if fx['cache_hit'] else '%.0f ms' % fx['kernel_compile_ms']}, "
      f"compile() {fx['compile_total_ms']:.0f} ms.")
PY
