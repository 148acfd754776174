#!/bin/bash
# fluxion vs PyTorch on the 2-D particle-flow workloads (bench_flows.cpp, peer_flows.py), two
# threads each, alternating 3 rounds in one run; prints the medians and the ratios.
#   bench/bench_flows.sh [build-dir]
set -e
cd "$(dirname "$0")/.."
. bench/peer_env.sh
BUILD=${1:-build}
export PEER_DIR=${PEER_DIR:-$(cd .. && pwd)/shared/peer}
[ -f "$PEER_DIR/common.py" ] || PEER_DIR=/work/shared/peer
for r in 1 2 3; do
  env OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE $BUILD/bench/bench_flows --steps 300 | sed "s/^/fluxion /"
  env $(peer_env 2) /usr/bin/python3 bench/peer_flows.py --steps 300 --threads 2 | sed "s/^/torch /"
done | /usr/bin/python3 -c '
import json, sys, statistics
r = {"fluxion": [], "torch": []}
for line in sys.stdin:
    who, rest = line.split(" ", 1)
    if "RESULT_JSON" in rest:
        r[who].append(json.loads(rest.split("RESULT_JSON ", 1)[1]))
for k in ["monoflow_ms", "langevin_ms"]:
    f = statistics.median(x[k] for x in r["fluxion"]); t = statistics.median(x[k] for x in r["torch"])
    print(f"{k}: fluxion {f:.3f} ms, torch {t:.3f} ms, torch/fluxion {t/f:.2f}x")
'
