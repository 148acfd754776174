#!/usr/bin/env bash
# The hour-scale PFGM Fashion-MNIST run, set like scripts/ddpm_fmnist.sh so the two compare:
# the same U-Net (plus PFGM's v_z channel), 3,600 steps of batch 64, Adam 5e-4 with 200 warm-up
# steps and cosine decay, gradient clip 1, EMA 0.998; PFGM's large batch 4096 charges per field
# target (the reference's), the step compiled as DDPM's was. Then scored with FD-FMNIST /
# precision / recall at the network calls of the DDPM rows (DDIM 20, DDIM 50, RK45).
# Usage: scripts/pfgm_fmnist.sh [RUN_DIR]   (RESUME=1 continues an interrupted run;
#        FLUXION=path/to/fluxion runs another binary, e.g. a copy while the tree is rebuilt)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} OMP_WAIT_POLICY=PASSIVE
OUT=${1:-runs/pfgm_fmnist}
F=${FLUXION:-./build/fluxion}
$F train pfgm --data fashion-mnist --steps 3600 --batch 64 --large-batch 4096 --lr 5e-4 \
  --warmup 200 --lr-decay cosine --ema 0.998 --compile --checkpoint-every 300 --grid 64 \
  --out "$OUT" ${RESUME:+--resume}
# n images per sampler against as many test images; the floor uses the same n. The network
# runs compiled (the interpreter's samples bit for bit).
$F eval pfgm --run "$OUT" --solver euler-z --ode-steps 20 -n 1000 --compile
$F eval pfgm --run "$OUT" --solver heun --ode-steps 25 -n 1000 --compile
$F eval pfgm --run "$OUT" --solver rk45 -n 250 --compile
$F eval pfgm --run "$OUT" --solver euler --ode-steps 20 -n 1000 --compile
