#!/usr/bin/env bash
# LRU training step time against the PyTorch peers, in one run, per sequence length:
#   fluxion bench-lru                     (this repo, chunk-parallel linear_scan)
#   shared/peer/lru_seq.py --task synth   (sequential python loop over time)
#   bench/peer_lru_parallel.py            (odd/even associative scan in torch)
# Same configuration for all (batch 32, 4 layers, d_model 128, state 256, Adam(W), fp32).
# Writes $OUT_DIR/lru_times.jsonl, bench/RESULTS_lru.md and bench/lru_step_time.png.
#
# Usage: bench/bench_lru.sh [LENGTHS] [STEPS]      e.g. bench/bench_lru.sh 256,1024,4096 3
# Env:   PEER_DIR (default <repo>/../shared/peer), FLUXION (default <repo>/build/fluxion),
#        SKIP_SEQ_ABOVE / SKIP_PAR_ABOVE: skip the sequential / parallel-scan peer above this
#          length (default: none; both need ~2.9-3.3 GB per 1,024 steps of length at batch 32,
#          so above 4,096 they do not fit in 24 GiB),
#        PEER_BF16=1: also time the sequential peer under bf16 autocast (--dtype bf16),
#        APPEND=1: add to $OUT_DIR/lru_times.jsonl instead of starting it afresh (the tables
#          then cover both runs),
#        OUT_DIR (default <repo>/build/bench-lru),
#        VARIANTS: fluxion execution modes timed at each length, space-separated, from
#          interp (the interpreter, always the comparison row), compiled (fused kernels),
#          bf16 (bf16 product policy, f32 where measured slower), compiled-bf16.
#          Default "interp"; more than one adds an acceleration table to RESULTS_lru.md.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEER_DIR=${PEER_DIR:-$REPO/../shared/peer}
FLUXION=${FLUXION:-$REPO/build/fluxion}
OUT_DIR=${OUT_DIR:-$REPO/build/bench-lru}
LENGTHS=${1:-256,512,1024,2048,4096,8192,16384}
STEPS=${2:-3}
SKIP_SEQ_ABOVE=${SKIP_SEQ_ABOVE:-0}
SKIP_PAR_ABOVE=${SKIP_PAR_ABOVE:-0}
PEER_BF16=${PEER_BF16:-0}
APPEND=${APPEND:-0}
VARIANTS=${VARIANTS:-interp}
PY=/usr/bin/python3
source "$(dirname "${BASH_SOURCE[0]}")/peer_env.sh"
# shellcheck disable=SC2046
export $(peer_env 2)
mkdir -p "$OUT_DIR"
JSONL=$OUT_DIR/lru_times.jsonl
[ "$APPEND" = 1 ] || : > "$JSONL"
COMMAND="bench/bench_lru.sh $LENGTHS $STEPS"
[ "$VARIANTS" = interp ] || COMMAND="VARIANTS=\"$VARIANTS\" $COMMAND"
for knob in SKIP_SEQ_ABOVE SKIP_PAR_ABOVE PEER_BF16 APPEND; do
  [ "${!knob}" = 0 ] || COMMAND="$knob=${!knob} $COMMAND"
done
variant_flags() {
  case $1 in
    interp) echo "" ;;
    compiled) echo "--compile" ;;
    bf16) echo "--precision bf16" ;;
    compiled-bf16) echo "--compile --precision bf16" ;;
    *) echo "unknown variant '$1' (interp, compiled, bf16, compiled-bf16)" >&2; exit 2 ;;
  esac
}
for v in $VARIANTS; do variant_flags "$v" > /dev/null; done

for L in ${LENGTHS//,/ }; do
  echo "== L=$L" >&2
  # All three under OMP_WAIT_POLICY=PASSIVE: on a shared, oversubscribed machine spinning
  # OpenMP threads wait for descheduled partners (measured: a 6-step LRU run took 20.9 s with
  # the default policy and 2.9 s with PASSIVE while other jobs held the cores).
  for v in $VARIANTS; do
    # shellcheck disable=SC2046  # the flags are separate words
    # A run that fails (e.g. killed for memory at 16,384) is reported and leaves a gap.
    "$FLUXION" bench-lru --seq-len "$L" --steps "$STEPS" --warmup 1 $(variant_flags "$v") |
      sed -n 's/^RESULT_JSON //p' >> "$JSONL" || echo "fluxion $v at length $L failed" >&2
  done
  # lru_seq.py always discards its first 5 steps as warm-up
  if [ "$SKIP_SEQ_ABOVE" -eq 0 ] || [ "$L" -le "$SKIP_SEQ_ABOVE" ]; then
    dtypes=fp32
    [ "$PEER_BF16" = 1 ] && dtypes="fp32 bf16"
    for dt in $dtypes; do
      impl="torch sequential (peer)"
      [ "$dt" = bf16 ] && impl="torch sequential bf16 autocast"
      (cd "$PEER_DIR" && $PY lru_seq.py --task synth --seq_len "$L" --steps $((STEPS + 5)) --threads 2 --dtype "$dt") |
        sed -n 's/^RESULT_JSON //p' |
        IMPL=$impl $PY -c 'import json,os,sys; r=json.loads(sys.stdin.read()); print(json.dumps({"impl":os.environ["IMPL"],"seq_len":r["seq_len"],"ms_per_step_median":r["ms_per_step_median"]}))' >> "$JSONL"
    done
  fi
  if [ "$SKIP_PAR_ABOVE" -eq 0 ] || [ "$L" -le "$SKIP_PAR_ABOVE" ]; then
    PEER_DIR=$PEER_DIR $PY "$REPO/bench/peer_lru_parallel.py" --seq_len "$L" --steps $((STEPS + 1)) --threads 2 |
      sed -n 's/^RESULT_JSON //p' |
      $PY -c 'import json,sys; r=json.loads(sys.stdin.read()); print(json.dumps({"impl":"torch parallel scan","seq_len":r["seq_len"],"ms_per_step_median":r["ms_per_step_median"]}))' >> "$JSONL"
  fi
done

"$FLUXION" plot-bench --in "$JSONL" --out "$REPO/bench/lru_step_time.png"
$PY - "$JSONL" "$REPO/bench/RESULTS_lru.md" "$COMMAND" <<'PYEOF'
import json, sys, platform, subprocess
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by, peak = {}, {}
for r in rows:
    by.setdefault(r["seq_len"], {})[r["impl"]] = r["ms_per_step_median"]
    if "peak_bytes" in r:
        peak.setdefault(r["seq_len"], {})[r["impl"]] = r["peak_bytes"] / 1e9
F, S, P = "fluxion", "torch sequential (peer)", "torch parallel scan"
cpu = subprocess.run(["sh", "-c", "lscpu | sed -n 's/^Model name: *//p'"], capture_output=True, text=True).stdout.strip()
out = ["# LRU training step: fluxion vs PyTorch", "",
       "Command: `%s` (one run; all three implementations at each length, one after the other)." % sys.argv[3], "",
       "Configuration of `shared/peer/lru_seq.py --task synth`: batch 32, 4 LRU blocks, d_model 128,"
       " state 256 (complex), adding-problem input (d_in 2), 2 classes, Adam(W) step, fp32, 2 threads."
       " Median wall time of the timed steps (after one warm-up step; lru_seq.py discards five). CPU: %s." % cpu, "",
       "| length | fluxion (ms) | torch sequential (ms) | torch parallel scan (ms) | sequential / fluxion | parallel / fluxion | fluxion peak memory (GB) |",
       "|---:|---:|---:|---:|---:|---:|---:|"]
def fmt(v): return "%.0f" % v if v is not None else "n/a"
def ratio(a, b): return "%.2fx" % (a / b) if a is not None and b else "n/a"
for L in sorted(by):
    d = by[L]
    f, s, p = d.get(F), d.get(S), d.get(P)
    pk = peak.get(L, {}).get(F)
    out.append("| %d | %s | %s | %s | %s | %s | %s |" % (L, fmt(f), fmt(s), fmt(p), ratio(s, f), ratio(p, f),
                                                       "%.1f" % pk if pk else "n/a"))
Ls = sorted(L for L in by if by[L].get(F))
if len(Ls) >= 2:
    a, b = Ls[0], Ls[-1]
    out += ["", "fluxion growth: %dx the length (%d -> %d) costs %.1fx the time (linear: %dx)."
            % (b // a, a, b, by[b][F] / by[a][F], b // a)]
variants = sorted({r["impl"] for r in rows if r["impl"].startswith("fluxion") and r["impl"] != F})
SB = "torch sequential bf16 autocast"
if variants:
    out += ["", "## fluxion acceleration (same lengths, same run)", "",
            "Step time of each execution mode and its speed-up over the interpreter (`fluxion`):"
            " `compiled` = `--compile` (fused elementwise kernels, planned memory), `bf16` ="
            " `--precision bf16` (bf16 products where this CPU runs them faster, f32 master weights).", "",
            "| length | interpreter (ms) | " + " | ".join("%s (ms) | speed-up" % v for v in variants)
            + " | torch fp32 (ms) | torch bf16 autocast (ms) | fastest fluxion vs torch fp32 | vs torch bf16 |",
            "|---:|---:|" + "---:|---:|" * len(variants) + "---:|---:|---:|---:|"]
    for L in sorted(by):
        d = by[L]
        cells = ["%d" % L, fmt(d.get(F))]
        for v in variants:
            cells += [fmt(d.get(v)), ratio(d.get(F), d.get(v))]
        times = [d[k] for k in [F] + variants if d.get(k)]
        best = min(times) if times else None
        cells += [fmt(d.get(S)), fmt(d.get(SB)), ratio(d.get(S), best), ratio(d.get(SB), best)]
        out.append("| " + " | ".join(cells) + " |")
    out += ["", "torch columns: the sequential peer (`lru_seq.py`), fp32 and `--dtype bf16`"
            " (autocast); n/a where it was not run."]
out += ["", "![step time vs length](lru_step_time.png)", ""]
open(sys.argv[2], "w").write("\n".join(out))
print("\n".join(out))
PYEOF
