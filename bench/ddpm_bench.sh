#!/bin/bash
# DDPM U-Net on Fashion-MNIST: fluxion's training step against shared/peer/ddpm_unet.py
# (PyTorch, its best environment on this CPU) in the same run, then fluxion's sampling
# throughput. Same model (711,329 parameters), batch 64, Adam 2e-4, no clipping, no EMA.
#   bench/ddpm_bench.sh   (env: STEPS=30 THREADS=2 SAMPLES=64 BIN=build/fluxion PEER=../shared/peer)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
source "$REPO/bench/peer_env.sh"
BIN=${BIN:-$REPO/build/fluxion}
PEER=${PEER:-$REPO/../shared/peer}
STEPS=${STEPS:-30}
SAMPLES=${SAMPLES:-64}
THREADS=${THREADS:-2}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
export OMP_NUM_THREADS=$THREADS
echo "== PyTorch: $PEER/ddpm_unet.py --steps $STEPS --threads $THREADS"
env $(peer_env "$THREADS") /usr/bin/python3 "$PEER/ddpm_unet.py" --steps "$STEPS" --threads "$THREADS" | grep -v RESULT_JSON
echo "== fluxion ($THREADS threads): train --method ddpm --steps $STEPS --batch 64 --clip 0 --ema 0"
"$BIN" train --method ddpm --data fashion-mnist --steps "$STEPS" --batch 64 --clip 0 --ema 0 \
  --grid 0 --out "$OUT/run" 2>&1 | grep -v "^train ddpm"
echo "== fluxion: sample (DDIM 20 steps, $SAMPLES images, batch 64)"
"$BIN" sample --run "$OUT/run" --sampler ddim --steps 20 -n "$SAMPLES" --out "$OUT/s.png" 2>&1 |
  grep -v "^sample"
echo "== PyTorch: the same DDIM sampling (bench/ddpm_peer_sample.py)"
env $(peer_env "$THREADS") /usr/bin/python3 "$REPO/bench/ddpm_peer_sample.py" "$PEER" --steps 20 -n "$SAMPLES" \
  --threads "$THREADS" | grep "^torch"
