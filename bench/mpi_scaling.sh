#!/usr/bin/env bash
# Data-parallel scaling on one machine: 1 rank x 2 threads against 2 ranks x 1 thread, for the
# MLP (rectified flow), U-Net (DDPM) and LRU workloads, alternated A B A B so that both sides
# see the same machine load. Prints each run's median step time and, for 2 ranks, the
# allreduce's size and time per step. Usage: bench/mpi_scaling.sh [build/fluxion] [repeats]
set -euo pipefail
FX=${1:-build/fluxion}
REPEATS=${2:-2}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
MPIRUN=(mpirun --allow-run-as-root --oversubscribe -np 2 -x OMP_NUM_THREADS=1)
declare -A WORK=(
  [mlp]="train --data moons --steps 300 --batch 1024"
  [unet]="train --method ddpm --data fashion-mnist --limit 2048 --steps 15 --batch 32 --grid 0"
  [lru]="train --method lru --task recall --steps 60 --eval-every 1000"
)
echo "# $(lscpu | grep 'Model name' | sed 's/  */ /g'); $(nproc) cpus; $(uptime | sed 's/.*load/load/')"
for w in mlp unet lru; do
  for r in $(seq "$REPEATS"); do
    for side in 1x2 2x1; do
      dir="$OUT/$w-$side-$r"
      if [ "$side" = 1x2 ]; then
        OMP_NUM_THREADS=2 $FX ${WORK[$w]} --log-every 1000 --out "$dir" >"$dir.log" 2>&1
      else
        "${MPIRUN[@]}" $FX ${WORK[$w]} --log-every 1000 --out "$dir" >"$dir.log" 2>&1
      fi
      med=$(grep -o 'train step median [0-9.]* ms' "$dir.log" | grep -o '[0-9.]*' | head -1)
      comm=$(grep -o 'allreduce of [0-9]* floats ([0-9.]* MB) per step, [0-9.]* ms' "$dir.log" || true)
      echo "$w $side run $r: step median ${med} ms ${comm:+| $comm}"
    done
  done
done
echo "# $(uptime | sed 's/.*load/load/')"
