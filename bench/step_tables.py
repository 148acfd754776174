"""Training-step sections of bench/RESULTS.md: fluxion's bench_train_step against a peer
script, one table per workload. Raw files: RUN_DIR/<section>/<variant>_r<round>.json, each the
RESULT_JSON payload of one run (fluxion variants are named fluxion_*, the peer's torch_*), and
RUN_DIR/<section>/settings.txt. run_all.sh labels each measured run <section>/<variant>/r<round>
in load.log, so disturbed runs can be left out here."""
import glob
import os
import re

from results import DISTURBED_PCT, fmt, load_json, load_log, median

TITLES = {
    'mlp': ('MLP training step (rectified flow 2D) vs ../shared/peer/rectified_flow_2d.py',
            'MLP [x,t] → 3×256 SiLU → 2, batch 1024, Adam, 8 Gaussians → moons; each step '
            'includes drawing the batch, as in the peer.'),
    'unet': ('DDPM U-Net training step vs ../shared/peer/ddpm_unet.py',
             'U-Net base 32, mult (1,2,2), one ResBlock per level, attention at 7×7 (711,329 '
             'parameters in both), ε-prediction, batch 64 of Fashion-MNIST, Adam 2e-4. Few '
             'steps per run (a step is about a second): 2 warm-up steps for fluxion, 5 for '
             'the peer. No FLOP count (the peer estimates it with hooks; fluxion does not).'),
}
VARIANT_NAMES = {
    'fluxion_interp': 'fluxion, interpreter, fp32',
    'fluxion_amp': 'fluxion, interpreter, `--precision bf16` (measured policy)',
    'fluxion_compiled': 'fluxion, compiled, fp32',
    'fluxion_amp_compiled': 'fluxion, compiled, `--precision bf16` (measured policy)',
    'torch_fp32': 'PyTorch fp32',
    'torch_bf16': 'PyTorch bf16 autocast',
}


def runs(section, run_dir):
    """{variant: [(round, result dict, disturbed)]}"""
    load = load_log(run_dir)
    out = {}
    for path in sorted(glob.glob(os.path.join(run_dir, section, '*_r*.json'))):
        m = re.match(r'(\w+)_r(\d+)\.json$', os.path.basename(path))
        if not m:
            continue
        label = f'{section}/{m[1]}/r{m[2]}'
        out.setdefault(m[1], []).append((int(m[2]), load_json(path),
                                         load.get(label, 0) >= DISTURBED_PCT))
    return out


def section(section, run_dir):
    title, what = TITLES[section]
    env = {}
    env_path = os.path.join(run_dir, section, 'settings.txt')
    if os.path.exists(env_path):
        env = dict(l.rstrip('\n').split('=', 1) for l in open(env_path) if '=' in l)
    peak = float(env.get('PEAK_GFLOPS') or 0) or None
    by_variant = runs(section, run_dir)
    dropped = []
    stats = {}
    alternating = by_variant.pop('fluxion_alternate', [])
    for variant, rs in by_variant.items():
        clean = [r for r in rs if not r[2]] or rs  # a noisy number beats none
        dropped += [f'{variant}/r{r[0]}' for r in rs if r not in clean]
        ms = [r[1]['ms_per_step_median'] for r in clean]
        flops = clean[0][1].get('train_flops_per_step_est')
        stats[variant] = (median(ms), min(ms), max(ms), flops, len(clean))
    ref = stats.get('torch_fp32', (None,))[0]
    lines = [f'## {title}', '', what, '',
             f'{env.get("THREADS", "?")} threads; median ms/step of each run after warm-up, '
             f'then the median over {env.get("ROUNDS", "?")} alternating rounds (undisturbed '
             f'ones only). Peak = {fmt(peak)} GFLOP/s (fp32 FMA); GFLOP/s counts the GEMM '
             'FLOPs only, as the peer does.', '',
             f'- torch: `{env.get("TORCH_ENV", "?")}`', '',
             '| variant | ms/step | min–max | GEMM GFLOP/s | % of peak | speed-up vs PyTorch fp32 |',
             '|---|---:|---:|---:|---:|---:|']
    order = [v for v in VARIANT_NAMES if v in stats] + [v for v in stats if v not in VARIANT_NAMES]
    for v in order:
        med, lo, hi, flops, _ = stats[v]
        gf = flops / med / 1e6 if flops and med else None
        pct = f'{100 * gf / peak:.0f}%' if gf and peak else '—'
        speed = f'{ref / med:.2f}×' if ref and med else '—'
        lines.append(f'| {VARIANT_NAMES.get(v, v)} | {fmt(med, 2)} | {fmt(lo, 1)}–{fmt(hi, 1)} '
                     f'| {fmt(gf)} | {pct} | {speed} |')
    if alternating:
        clean = [r for r in alternating if not r[2]] or alternating
        ratios = [r[1]['ratio_median'] for r in clean]
        per_round = ', '.join(f'{x:.2f}×' for x in ratios)
        lines += ['', 'Compiled vs interpreter in one process (`bench_train_step --alternate`: '
                  'both executors on copies of the model, taking turns step by step, so the '
                  'machine\'s drift hits both alike): median per-step ratio interpreter / '
                  f'compiled {median(ratios):.2f}× (rounds: {per_round}).']
    if dropped:
        lines += ['', f'Left out as disturbed (others took ≥{DISTURBED_PCT}% of the CPUs): '
                  f'{", ".join(dropped)}.']
    lines.append('')
    return '\n'.join(lines)
