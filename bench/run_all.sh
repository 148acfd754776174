#!/usr/bin/env bash
# fluxion's side-by-side benchmarks against the PyTorch peer, in one command: builds bench/
# standalone (so it works while the library is mid-change), runs each section, and rewrites
# that section of bench/RESULTS.md. Raw outputs stay in $BUILD_DIR/results/.
#
# Usage: bench/run_all.sh [--only SECTION[,SECTION...]] [--rounds N] [--quick]
#   sections: peak coretype gemm mlp unet sample roofline ablation   (the others reuse the last
#             peak/coretype results, or run them)
# Env:   PEER_DIR     peer scripts (default: <repo>/../shared/peer, beside the clone in CI)
#        BUILD_DIR    default <repo>/build-bench
#        THREADS      default 2
#        QUIET_WAIT_S how long, in all, to wait for other jobs to leave the CPUs (default 600)
#
# Add a section: write section_NAME (it leaves $RUN_DIR/sections/NAME.md), append NAME to
# ALL_SECTIONS, and add NAME to ORDER in results.py.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEER_DIR=${PEER_DIR:-$REPO/../shared/peer}
PEER_DIR=$(cd "$PEER_DIR" 2>/dev/null && pwd || echo "$PEER_DIR")
BUILD_DIR=${BUILD_DIR:-$REPO/build-bench}
THREADS=${THREADS:-2}
QUIET_WAIT_S=${QUIET_WAIT_S:-600}
PY=/usr/bin/python3 # Debian's interpreter: the one that has python3-torch (peer README)
RESULTS_MD=$REPO/bench/RESULTS.md
RUN_DIR=$BUILD_DIR/results
ALL_SECTIONS=(peak coretype gemm mlp unet sample roofline ablation)
ROUNDS=3
SIZES=256,512,1024,2048
ONLY=""
QUICK=""
COMMAND_LINE="bench/run_all.sh${*:+ $*}"

usage() { sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --only) ONLY=$2; shift 2 ;;
    --only=*) ONLY=${1#--only=}; shift ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --rounds=*) ROUNDS=${1#--rounds=}; shift ;;
    --quick) ROUNDS=1; SIZES=256,512; QUICK=1; shift ;; # smoke test of the whole pipeline
    -h | --help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

log() { echo "[run_all $(date +%H:%M:%S)] $*" >&2; }

# ------------------------------------------------------------------ setup
# Installs what the benchmarks link or compare against, when missing (Debian, as root).
ensure_packages() {
  local pkgs=(cmake ninja-build g++ pkg-config libdnnl-dev libbenchmark-dev libopenblas-dev
    python3-torch) missing=()
  for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

build() {
  log "building bench/ in $BUILD_DIR"
  cmake -S "$REPO/bench" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD_DIR" -j2 --target peak_fma bench_gemm >/dev/null
}

# ------------------------------------------------------------------ load accounting
# Other jobs on a 2-core machine (builds, test suites) skew every number. Before each step we
# wait until the CPUs are idle; during it we record how much CPU time others took, from
# /proc/stat minus our own children's CPU time, so RESULTS.md can say how clean a run was.
CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc)
stat_busy_steal() { awk '/^cpu /{print $2+$3+$4+$7+$8, $9}' /proc/stat; }
# user+sys of our reaped children, from the `times` builtin. It must run in this shell, not in
# a $(...) subshell, whose children counters start at zero; hence the file.
children_cpu_ticks() {
  times >"$RUN_DIR/.times"
  tail -n1 "$RUN_DIR/.times" | awk -v hz="$CLK_TCK" '{
    s = 0
    for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] }
    print int(s * hz) }'
}
busy_pct_now() { # share of all CPUs busy over one second
  local b0 b1 s
  read -r b0 s < <(stat_busy_steal); sleep 1; read -r b1 s < <(stat_busy_steal)
  echo $(((b1 - b0) * 100 / (CLK_TCK * NCPU)))
}
QUIET_DEADLINE=$((SECONDS + QUIET_WAIT_S)) # one budget for the whole run, not per step
wait_quiet() {
  local busy
  while busy=$(busy_pct_now); [ "$busy" -ge 10 ]; do
    if [ $SECONDS -ge $QUIET_DEADLINE ]; then
      log "warning: CPUs ${busy}% busy with other work, wait budget spent; measuring anyway"
      return 0
    fi
    log "waiting for other jobs to finish (CPUs ${busy}% busy)"
    sleep 5
  done
}

# measured LABEL CMD...: waits for quiet CPUs, runs CMD, appends others' CPU share to load.log.
# A step that others disturbed (>10% of the CPUs) is rerun while the wait budget lasts.
measured() {
  local label=$1 b0 s0 b1 s1 c0 c1 t0 rc line other try
  shift
  for try in 1 2 3; do
    wait_quiet
    children_cpu_ticks >"$RUN_DIR/.c0"
    read -r b0 s0 < <(stat_busy_steal)
    t0=$(date +%s.%N)
    rc=0
    "$@" || rc=$?
    read -r b1 s1 < <(stat_busy_steal)
    children_cpu_ticks >"$RUN_DIR/.c1"
    c0=$(cat "$RUN_DIR/.c0") c1=$(cat "$RUN_DIR/.c1")
    line=$(awk -v l="$label" -v b=$((b1 - b0)) -v c=$((c1 - c0)) -v st=$((s1 - s0)) \
      -v t0="$t0" -v t1="$(date +%s.%N)" -v hz="$CLK_TCK" -v n="$NCPU" 'BEGIN {
        cap = (t1 - t0) * hz * n; o = (b - c) / cap * 100; if (o < 0) o = 0
        printf "%s other=%.1f%% steal=%.1f%% wall=%.1fs", l, o, st / cap * 100, t1 - t0 }')
    other=${line#* other=}
    other=${other%%.*}
    if [ "$other" -lt 10 ] || [ $try -eq 3 ] || [ $SECONDS -ge $QUIET_DEADLINE ]; then break; fi
    log "$label: other processes took ${other}% of the CPUs meanwhile; rerunning"
  done
  echo "$line" >>"$RUN_DIR/load.log"
  return $rc
}

# ------------------------------------------------------------------ peer (torch) settings
source "$REPO/bench/peer_env.sh"
# CORE empty = leave OPENBLAS_CORETYPE unset. (Set but empty is not the same: OpenBLAS 0.3.21
# then picks Haswell instead of auto-detecting.)
torch_env() { peer_env "$THREADS" "$1"; }
torch_gemm() { # CORE JSON_OUT LOG ARGS...: the peer's bench_gemm.py under the best settings
  local core=$1 json=$2 out=$3
  shift 3
  # shellcheck disable=SC2046
  env $(torch_env "$core") "$PY" "$PEER_DIR/bench_gemm.py" --threads "$THREADS" --json "$json" \
    "$@" >"$out" 2>&1
}

# ------------------------------------------------------------------ sections
section_peak() {
  local dir=$RUN_DIR/peak
  rm -rf "$dir" && mkdir -p "$dir"
  for t in 1 "$THREADS"; do
    log "peak: fp32 FMA, $t thread(s)"
    measured "peak/t$t" "$BUILD_DIR/peak_fma" "$t" 9 >"$dir/peak_t$t.txt"
  done
  "$PY" "$REPO/bench/results.py" section peak "$RUN_DIR" >"$RUN_DIR/sections/peak.md"
}

# torch's fp32 matmul speed depends on the OpenBLAS kernel set; find the best one that runs.
section_coretype() {
  local dir=$RUN_DIR/coretype core name ok=()
  rm -rf "$dir" && mkdir -p "$dir"
  for core in auto Zen Haswell SkylakeX Cooperlake; do
    local want=$core
    [ "$core" = auto ] && want=""
    name=$(env ${want:+OPENBLAS_CORETYPE=$want} "$PY" -c 'import ctypes
ob = ctypes.CDLL("libopenblas.so.0"); ob.openblas_get_corename.restype = ctypes.c_char_p
print(ob.openblas_get_corename().decode())' 2>/dev/null || echo "?")
    if [ -n "$want" ] && [ "${name,,}" != "${want,,}" ]; then
      echo "not applied: OpenBLAS substitutes $name" >"$dir/$core.status"
      continue
    fi
    local rc=0
    # Subshell, so bash's "Illegal instruction" job message stays off the terminal.
    (torch_gemm "$want" "$dir/probe.json" "$dir/${core}_probe.log" --sizes 256 --dtypes fp32 \
      --samples 1 --sample_time 0.01) 2>/dev/null || rc=$?
    if [ $rc -ne 0 ]; then
      [ $rc -eq 132 ] && rc="132, illegal instruction"
      echo "crashes (exit $rc)" >"$dir/$core.status"
      continue
    fi
    echo "ok$([ "$core" = auto ] && echo " (auto-detects $name)")" >"$dir/$core.status"
    ok+=("$core")
  done
  rm -f "$dir/probe.json"
  for r in $(seq 1 "$ROUNDS"); do
    for core in "${ok[@]}"; do
      log "coretype: round $r/$ROUNDS, OPENBLAS_CORETYPE=$core"
      local want=$core
      [ "$core" = auto ] && want=""
      measured "coretype/$core/r$r" torch_gemm "$want" "$dir/${core}_r$r.json" \
        "$dir/${core}_r$r.log" --sizes 512,1024 --dtypes fp32 --samples 5
    done
  done
  "$PY" "$REPO/bench/results.py" section coretype "$RUN_DIR" >"$RUN_DIR/sections/coretype.md"
}

# One process per library, so one library's idle spinning threads never steal the cores the
# other is being timed on; same OpenBLAS core as torch gets, for a like-for-like pair.
fluxion_gemm() { # LIB ROUND
  local lib=$1 r=$2
  env OMP_NUM_THREADS="$THREADS" ${GEMM_CORE:+OPENBLAS_CORETYPE=$GEMM_CORE} \
    "$BUILD_DIR/bench_gemm" --threads="$THREADS" --sizes="$SIZES" --peak_gflops="$GEMM_PEAK" \
    --benchmark_filter="^gemm/$lib/" --benchmark_repetitions=3 --benchmark_min_time=0.3 \
    --benchmark_out="$GEMM_DIR/fluxion_${lib}_r$r.json" --benchmark_out_format=json \
    >"$GEMM_DIR/fluxion_${lib}_r$r.log" 2>&1
}
torch_fp32() { # ROUND
  torch_gemm "$GEMM_CORE" "$GEMM_DIR/torch_fp32_r$1.json" "$GEMM_DIR/torch_fp32_r$1.log" \
    --sizes "$SIZES" --dtypes fp32
}

section_gemm() {
  [ -d "$RUN_DIR/peak" ] || section_peak
  [ -d "$RUN_DIR/coretype" ] || section_coretype
  GEMM_DIR=$RUN_DIR/gemm
  GEMM_PEAK=$("$PY" "$REPO/bench/results.py" peak "$RUN_DIR" "$THREADS")
  GEMM_CORE=$("$PY" "$REPO/bench/results.py" best-core "$RUN_DIR")
  rm -rf "$GEMM_DIR" && mkdir -p "$GEMM_DIR"
  cat >"$GEMM_DIR/settings.txt" <<EOF
PEAK_GFLOPS=$GEMM_PEAK
THREADS=$THREADS
ROUNDS=$ROUNDS
OPENBLAS_CORETYPE=$GEMM_CORE
TORCH_ENV=$(torch_env "$GEMM_CORE")
EOF
  # Alternate which side goes first, so slow drifts (clock, host load) hit both equally.
  for r in $(seq 1 "$ROUNDS"); do
    log "gemm: round $r/$ROUNDS"
    if [ $((r % 2)) -eq 1 ]; then
      measured "gemm/onednn/r$r" fluxion_gemm onednn "$r"
      measured "gemm/openblas/r$r" fluxion_gemm openblas "$r"
      measured "gemm/torch/r$r" torch_fp32 "$r"
    else
      measured "gemm/torch/r$r" torch_fp32 "$r"
      measured "gemm/openblas/r$r" fluxion_gemm openblas "$r"
      measured "gemm/onednn/r$r" fluxion_gemm onednn "$r"
    fi
  done
  # torch bf16 on a CPU without AVX-512 falls back to a slow native kernel (~1 min for all
  # sizes): one run with fewer samples is enough to place it.
  log "gemm: torch bf16"
  measured "gemm/torch_bf16" torch_gemm "$GEMM_CORE" "$GEMM_DIR/torch_bf16.json" \
    "$GEMM_DIR/torch_bf16.log" --sizes "$SIZES" --dtypes bf16 --samples 3
  "$PY" "$REPO/bench/results.py" section gemm "$RUN_DIR" >"$RUN_DIR/sections/gemm.md"
}

# ------------------------------------------------------------------ training steps
# bench_train_step links the library, so it comes from a top-level build (tests off).
build_train_step() {
  [ -n "${TRAIN_STEP_BUILT:-}" ] && return 0
  log "building the fluxion library and bench_train_step in $BUILD_DIR/lib"
  # ccache when present (a rebuild of the whole library otherwise); a unity build without it.
  local launch=(-DFLUXION_UNITY=ON)
  command -v ccache >/dev/null && launch=(-DFLUXION_UNITY=OFF -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S "$REPO" -B "$BUILD_DIR/lib" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DFLUXION_BUILD_TESTS=OFF -DFLUXION_BUILD_BENCH=ON "${launch[@]}" >/dev/null
  cmake --build "$BUILD_DIR/lib" -j2 --target bench_train_step >/dev/null
  TRAIN_STEP_BUILT=1
}
peer_step() { # SCRIPT DTYPE JSON_OUT ARGS...: a peer training script, best settings
  local script=$1 dtype=$2 json=$3 log=${3%.json}.log
  shift 3
  # shellcheck disable=SC2046
  env $(torch_env "$STEP_CORE") "$PY" "$PEER_DIR/$script" --dtype "$dtype" --threads "$THREADS" \
    "$@" >"$log" 2>&1
  grep '^RESULT_JSON ' "$log" | tail -n1 | cut -d' ' -f2- >"$json"
  [ -s "$json" ]
}
fluxion_step() { # JSON_OUT ARGS...
  local json=$1
  shift
  env OMP_NUM_THREADS="$THREADS" "$BUILD_DIR/lib/bench/bench_train_step" --threads "$THREADS" \
    --json "$json" "$@" >"${json%.json}.log" 2>&1
}

fluxion_step_env() { # VAR=VALUE JSON_OUT ARGS...: fluxion_step with one more variable set
  local var=$1 json=$2
  shift 2
  env "$var" OMP_NUM_THREADS="$THREADS" "$BUILD_DIR/lib/bench/bench_train_step" \
    --threads "$THREADS" --json "$json" "$@" >"${json%.json}.log" 2>&1
}

# train_step_section NAME STEPS "FLUXION ARGS" PEER_SCRIPT "PEER ARGS": alternating rounds of
# fluxion and the peer in fp32, then the peer's bf16 autocast once per round.
train_step_section() {
  local name=$1 steps=$2 fargs=$3 script=$4 pargs=$5 dir=$RUN_DIR/$1 r
  [ -d "$RUN_DIR/peak" ] || section_peak
  [ -d "$RUN_DIR/coretype" ] || section_coretype
  build_train_step
  STEP_CORE=$("$PY" "$REPO/bench/results.py" best-core "$RUN_DIR")
  local rounds=$ROUNDS
  rm -rf "$dir" && mkdir -p "$dir"
  cat >"$dir/settings.txt" <<EOF
PEAK_GFLOPS=$("$PY" "$REPO/bench/results.py" peak "$RUN_DIR" "$THREADS")
THREADS=$THREADS
ROUNDS=$rounds
TORCH_ENV=$(torch_env "$STEP_CORE")
EOF
  for r in $(seq 1 "$rounds"); do
    log "$name: round $r/$rounds"
    # shellcheck disable=SC2086 # the argument strings are word lists
    if [ $((r % 2)) -eq 1 ]; then
      measured "$name/fluxion_interp/r$r" fluxion_step "$dir/fluxion_interp_r$r.json" \
        --steps "$steps" $fargs
      measured "$name/fluxion_amp/r$r" fluxion_step "$dir/fluxion_amp_r$r.json" \
        --steps "$steps" --precision bf16 $fargs
      measured "$name/fluxion_compiled/r$r" fluxion_step "$dir/fluxion_compiled_r$r.json" \
        --steps "$steps" --compile $fargs
      measured "$name/fluxion_amp_compiled/r$r" fluxion_step \
        "$dir/fluxion_amp_compiled_r$r.json" --steps "$steps" --compile --precision bf16 $fargs
      measured "$name/torch_fp32/r$r" peer_step "$script" fp32 "$dir/torch_fp32_r$r.json" \
        --steps "$steps" $pargs
    else
      measured "$name/torch_fp32/r$r" peer_step "$script" fp32 "$dir/torch_fp32_r$r.json" \
        --steps "$steps" $pargs
      measured "$name/fluxion_amp/r$r" fluxion_step "$dir/fluxion_amp_r$r.json" \
        --steps "$steps" --precision bf16 $fargs
      measured "$name/fluxion_compiled/r$r" fluxion_step "$dir/fluxion_compiled_r$r.json" \
        --steps "$steps" --compile $fargs
      measured "$name/fluxion_amp_compiled/r$r" fluxion_step \
        "$dir/fluxion_amp_compiled_r$r.json" --steps "$steps" --compile --precision bf16 $fargs
      measured "$name/fluxion_interp/r$r" fluxion_step "$dir/fluxion_interp_r$r.json" \
        --steps "$steps" $fargs
    fi
    # shellcheck disable=SC2086
    measured "$name/fluxion_alternate/r$r" fluxion_step "$dir/fluxion_alternate_r$r.json" \
      --steps "$steps" --alternate $fargs
    # shellcheck disable=SC2086
    measured "$name/torch_bf16/r$r" peer_step "$script" bf16 "$dir/torch_bf16_r$r.json" \
      --steps "$steps" $pargs
  done
  "$PY" "$REPO/bench/results.py" section "$name" "$RUN_DIR" >"$RUN_DIR/sections/$name.md"
}

section_mlp() {
  local steps=300
  [ -n "$QUICK" ] && steps=30
  train_step_section mlp "$steps" "--workload mlp" rectified_flow_2d.py "--batch 1024"
}

section_unet() { # about 2 minutes a round on 2 cores
  local steps=12
  [ -n "$QUICK" ] && steps=7
  train_step_section unet "$steps" "--workload unet --batch 64 --warmup 2" ddpm_unet.py \
    "--batch 64"
}

# DDIM sampling throughput: bench_train_step --workload ddim (the U-Net of the unet section,
# compiled, fp32 and bf16) against bench/ddpm_peer_sample.py (the peer's U-Net, the same DDIM
# update, no_grad; fp32 and bf16 autocast), one batch of 64, alternating rounds.
peer_sample() { # DTYPE JSON_OUT STEPS REPS
  # shellcheck disable=SC2046
  env $(torch_env "$STEP_CORE") "$PY" "$REPO/bench/ddpm_peer_sample.py" "$PEER_DIR" \
    --dtype "$1" --json "$2" --steps "$3" --reps "$4" --threads "$THREADS" -n 64 \
    >"${2%.json}.log" 2>&1
}
section_sample() {
  local dir=$RUN_DIR/sample r ddim=50 reps=3
  [ -n "$QUICK" ] && ddim=5 reps=2
  [ -d "$RUN_DIR/coretype" ] || section_coretype
  build_train_step
  STEP_CORE=$("$PY" "$REPO/bench/results.py" best-core "$RUN_DIR")
  rm -rf "$dir" && mkdir -p "$dir"
  echo "DDIM_STEPS=$ddim" >"$dir/settings.txt"
  echo "TORCH_ENV=$(torch_env "$STEP_CORE")" >>"$dir/settings.txt"
  for r in $(seq 1 "$ROUNDS"); do
    log "sample: round $r/$ROUNDS (DDIM $ddim steps, batch 64)"
    local order=(fluxion torch)
    [ $((r % 2)) -eq 0 ] && order=(torch fluxion)
    for side in "${order[@]}"; do
      if [ $side = fluxion ]; then
        measured "sample/fp32/r$r" fluxion_step "$dir/fluxion_fp32_r$r.json" \
          --workload ddim --compile --ddim-steps $ddim --steps $((reps + 1)) --warmup 1
        measured "sample/bf16/r$r" fluxion_step "$dir/fluxion_bf16_r$r.json" \
          --workload ddim --compile --precision bf16 --ddim-steps $ddim --steps $((reps + 1)) \
          --warmup 1
      else
        measured "sample/torch/r$r" peer_sample fp32 "$dir/torch_fp32_r$r.json" $ddim $reps
        measured "sample/torch_bf16/r$r" peer_sample bf16 "$dir/torch_bf16_r$r.json" $ddim $reps
      fi
    done
  done
  "$PY" "$REPO/bench/results.py" section sample "$RUN_DIR" >"$RUN_DIR/sections/sample.md"
}

# The distance to the limit: each workload compiled in fp32, its GEMM FLOPs and bytes counted
# from its own graph (bench_train_step; compiler/cost_model.h), against the FMA peak.
section_roofline() {
  local dir=$RUN_DIR/roofline
  [ -d "$RUN_DIR/peak" ] || section_peak
  build_train_step
  rm -rf "$dir" && mkdir -p "$dir"
  echo "THREADS=$THREADS" >"$dir/settings.txt"
  local mlp=300 unet=12 lru=4096 lru_steps=4 ddim=50 ddim_reps=3
  [ -n "$QUICK" ] && mlp=30 unet=4 lru=256 lru_steps=3 ddim=5 ddim_reps=2
  log "roofline: mlp, unet, lru (length $lru, plain and checkpointed), ddim ($ddim steps)"
  measured roofline/mlp fluxion_step "$dir/mlp.json" --workload mlp --compile --steps $mlp
  measured roofline/unet fluxion_step "$dir/unet.json" --workload unet --compile --steps $unet \
    --warmup 2
  measured roofline/lru fluxion_step "$dir/lru.json" --workload lru --compile --seq-len $lru \
    --steps $lru_steps --warmup 1
  measured roofline/lru_ckpt fluxion_step "$dir/lru_ckpt.json" --workload lru --compile \
    --recompute-scans --seq-len $lru --steps $lru_steps --warmup 1
  measured roofline/ddim fluxion_step "$dir/ddim.json" --workload ddim --compile \
    --ddim-steps $ddim --steps $ddim_reps --warmup 1
  "$PY" "$REPO/bench/results.py" section roofline "$RUN_DIR" >"$RUN_DIR/sections/roofline.md"
}

# Switchable compiler changes against the default in alternating rounds (the same binary, so
# the same load): matmul epilogue fusion (opt-in, FLUXION_EPILOGUE_FUSION=1), small-K dot
# expansion, blocked writes, reshape sinking, blocked reads, dual writes and plain-layout 1x1
# convolutions in sampling (on by default).
section_ablation() {
  local dir=$RUN_DIR/ablation r mlp=300 unet=12 lru=6 lru_len=1024 ddim=10
  build_train_step
  [ -n "$QUICK" ] && mlp=30 unet=4 lru=3 lru_len=256 ddim=2
  rm -rf "$dir" && mkdir -p "$dir"
  for r in $(seq 1 "$ROUNDS"); do
    log "ablation: round $r/$ROUNDS"
    for w in mlp unet lru; do
      local steps=$mlp extra=""
      [ $w = unet ] && steps=$unet extra="--warmup 2"
      [ $w = lru ] && steps=$lru extra="--seq-len $lru_len --warmup 1"
      # shellcheck disable=SC2086
      measured "ablation/$w/on/r$r" fluxion_step_env FLUXION_EPILOGUE_FUSION=1 \
        "$dir/${w}_epilogue_on_r$r.json" --workload $w --compile --steps $steps $extra
      # shellcheck disable=SC2086
      measured "ablation/$w/off/r$r" fluxion_step "$dir/${w}_epilogue_off_r$r.json" \
        --workload $w --compile --steps $steps $extra
    done
    # Small-K dot expansion (on by default): the MLP's input layer and its output layer's
    # input gradient, the LRU's encoder, computed inside the kernels that read them.
    for w in mlp lru; do
      local steps=$mlp extra=""
      [ $w = lru ] && steps=$lru extra="--seq-len $lru_len --warmup 1"
      # shellcheck disable=SC2086
      measured "ablation/$w/small_dots_on/r$r" fluxion_step "$dir/${w}_small_dots_on_r$r.json" \
        --workload $w --compile --steps $steps $extra
      # shellcheck disable=SC2086
      measured "ablation/$w/small_dots_off/r$r" fluxion_step_env FLUXION_NO_SMALL_DOT_EXPANSION=1 \
        "$dir/${w}_small_dots_off_r$r.json" --workload $w --compile --steps $steps $extra
    done
    # Blocked writes (on by default): the U-Net step and DDIM sampling, where convolutions
    # read what fused kernels write.
    for w in unet ddim; do
      local args="--workload unet --steps $unet --warmup 2"
      [ $w = ddim ] && args="--workload ddim --ddim-steps $ddim --steps 4 --warmup 1"
      # shellcheck disable=SC2086
      measured "ablation/$w/blocked_on/r$r" fluxion_step "$dir/${w}_blocked_on_r$r.json" \
        --compile $args
      # shellcheck disable=SC2086
      measured "ablation/$w/blocked_off/r$r" fluxion_step_env FLUXION_NO_BLOCKED_WRITES=1 \
        "$dir/${w}_blocked_off_r$r.json" --compile $args
      # Reshape sinking (on by default): GroupNorm's SiLU in the normalising kernel.
      # shellcheck disable=SC2086
      measured "ablation/$w/sink_on/r$r" fluxion_step "$dir/${w}_sink_on_r$r.json" \
        --compile $args
      # shellcheck disable=SC2086
      measured "ablation/$w/sink_off/r$r" fluxion_step_env FLUXION_NO_RESHAPE_SINK=1 \
        "$dir/${w}_sink_off_r$r.json" --compile $args
      # Blocked reads (on by default): convolution results left blocked for their kernels.
      # shellcheck disable=SC2086
      measured "ablation/$w/reads_on/r$r" fluxion_step "$dir/${w}_reads_on_r$r.json" \
        --compile $args
      # shellcheck disable=SC2086
      measured "ablation/$w/reads_off/r$r" fluxion_step_env FLUXION_NO_BLOCKED_READS=1 \
        "$dir/${w}_reads_off_r$r.json" --compile $args
      # Dual writes (on by default): activations that convolutions and other ops read,
      # stored plain and blocked by their kernels.
      # shellcheck disable=SC2086
      measured "ablation/$w/dual_on/r$r" fluxion_step "$dir/${w}_dual_on_r$r.json" \
        --compile $args
      # shellcheck disable=SC2086
      measured "ablation/$w/dual_off/r$r" fluxion_step_env FLUXION_NO_DUAL_WRITES=1 \
        "$dir/${w}_dual_off_r$r.json" --compile $args
      # Group sums (on by default): GroupNorm's mean and variance sums taken by the blocked
      # kernel that produces their input.
      # shellcheck disable=SC2086
      measured "ablation/$w/gsums_on/r$r" fluxion_step "$dir/${w}_gsums_on_r$r.json" \
        --compile $args
      # shellcheck disable=SC2086
      measured "ablation/$w/gsums_off/r$r" fluxion_step_env FLUXION_NO_GROUP_SUMS=1 \
        "$dir/${w}_gsums_off_r$r.json" --compile $args
    done
    # Plain-layout 1x1 convolutions (on by default): sampling only (training graphs keep the
    # blocked kernel, so the U-Net step is the same either way).
    local dargs="--workload ddim --ddim-steps $ddim --steps 4 --warmup 1"
    # shellcheck disable=SC2086
    measured "ablation/ddim/pointwise_on/r$r" fluxion_step "$dir/ddim_pointwise_on_r$r.json" \
      --compile $dargs
    # shellcheck disable=SC2086
    measured "ablation/ddim/pointwise_off/r$r" fluxion_step_env FLUXION_NO_PLAIN_POINTWISE=1 \
      "$dir/ddim_pointwise_off_r$r.json" --compile $dargs
  done
  "$PY" "$REPO/bench/results.py" section ablation "$RUN_DIR" >"$RUN_DIR/sections/ablation.md"
}

cpuinfo() { awk -F': ' -v k="$1" '$1 ~ "^"k"[ \t]*$" {print $2; exit}' /proc/cpuinfo; }
pkg_version() { dpkg -s "$1" 2>/dev/null | awk '/^Version/{print $2}'; }

section_header() {
  local flags no512="" kind=bare-metal commit torch_ver load
  flags=$(cpuinfo flags | tr ' ' '\n' |
    grep -E '^(avx|avx2|fma|f16c|avx512[a-z0-9_]*|amx[a-z0-9_]*|avx_vnni)$' | sort | tr '\n' ' ')
  flags=${flags% }
  grep -qw avx512f /proc/cpuinfo || no512=" (no AVX-512, so no native bf16/fp16 arithmetic)"
  grep -qw hypervisor /proc/cpuinfo && kind="virtual machine"
  commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')
  torch_ver=$("$PY" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo "n/a")
  load=$(awk '{ o = $2; s = $3; sub(/other=/, "", o); sub(/steal=/, "", s); o += 0; s += 0
      if (o > mo) { mo = o; ml = $1 } if (s > ms) ms = s }
    END { printf "max %.1f%% (%s), VM steal max %.1f%%", mo, ml ? ml : "-", ms }' \
    "$RUN_DIR/load.log")
  cat >"$RUN_DIR/sections/header.md" <<EOF
## Run

- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $commit
- CPU: $(cpuinfo "model name") ($(cpuinfo vendor_id) family $(cpuinfo "cpu family"), model \
$(cpuinfo model), stepping $(cpuinfo stepping)), $NCPU logical CPUs, $kind
- SIMD flags: ${flags:-none}$no512
- Software: $(gcc --version | head -n1); oneDNN $(pkg_version libdnnl-dev); OpenBLAS \
$(pkg_version libopenblas0-pthread); torch $torch_ver
- Threads: $THREADS; peer scripts: \`$PEER_DIR\`
- Command: \`$COMMAND_LINE\` (sections run: ${SECTIONS[*]})
- Others' CPU share during the measured steps of this run: $load

EOF
}

# ------------------------------------------------------------------ main
if [ -n "$ONLY" ]; then
  IFS=, read -r -a SECTIONS <<<"$ONLY"
else
  SECTIONS=("${ALL_SECTIONS[@]}")
fi
for s in "${SECTIONS[@]}"; do
  declare -F "section_$s" >/dev/null || { echo "unknown section: $s" >&2; exit 2; }
done
if [ ! -f "$PEER_DIR/bench_gemm.py" ]; then
  echo "peer scripts not found in $PEER_DIR (set PEER_DIR)" >&2
  exit 2
fi

ensure_packages
build
mkdir -p "$RUN_DIR"
rm -rf "$RUN_DIR/sections" && mkdir -p "$RUN_DIR/sections"
: >"$RUN_DIR/load.log"
for s in "${SECTIONS[@]}"; do
  "section_$s"
  # Sections of one RESULTS.md can come from different runs (--only): say when and how.
  # shellcheck disable=SC2016 # the backticks are Markdown
  printf '_Measured %s by `%s`._\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" "$COMMAND_LINE" \
    >>"$RUN_DIR/sections/$s.md"
done
section_header
"$PY" "$REPO/bench/results.py" assemble "$RESULTS_MD" "$RUN_DIR"
log "wrote $RESULTS_MD (raw outputs in $RUN_DIR)"
