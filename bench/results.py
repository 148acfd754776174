#!/usr/bin/python3
"""Turns the raw outputs of bench/run_all.sh into Markdown sections of bench/RESULTS.md.

  results.py section NAME RUN_DIR      print section NAME (peak, coretype, gemm, mlp) as Markdown
  results.py best-core RUN_DIR         print the OPENBLAS_CORETYPE that gave torch most GFLOP/s
  results.py peak RUN_DIR              print the 2-thread fp32 peak GFLOP/s
  results.py assemble RESULTS.md DIR   replace each section found in DIR/sections/*.md

RESULTS.md holds sections between '<!-- BEGIN name -->' and '<!-- END name -->'. assemble
replaces only the sections that this run produced, so `run_all.sh --only gemm` keeps the others,
and hand-written sections (e.g. the conclusion) survive every run. Standard library only, so it
runs under Debian's /usr/bin/python3 with nothing else installed.
"""
import glob
import json
import math
import os
import re
import statistics
import sys

# Sections in the order they appear in a fresh RESULTS.md; later benchmarks add theirs here.
ORDER = ['header', 'peak', 'coretype', 'gemm', 'mlp', 'unet', 'sample', 'roofline', 'ablation', 'conclusion']
PLACEHOLDER = {
    'conclusion': '## Conclusion\n\n_Hand-written; run_all.sh never overwrites this section._\n',
}
STEP_SECTIONS = ('mlp', 'unet')  # training-step tables, rendered by step_tables.py


def load_json(path):
    with open(path) as f:
        return json.load(f)


def try_json(path):
    """The JSON at path, or None when a step failed and left none (or a broken one)."""
    try:
        return load_json(path)
    except (OSError, ValueError):
        return None


def median(xs):
    return statistics.median(xs) if xs else None


def geomean(xs):
    xs = [x for x in xs if x]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def fmt(x, digits=1):
    return '—' if x is None else f'{x:.{digits}f}'


# ---------------------------------------------------------------- disturbed steps
DISTURBED_PCT = 10  # others' CPU share during a step above which its numbers are suspect


def load_log(run_dir):
    """{step label: others' CPU %} from run_all.sh's load.log."""
    out = {}
    path = os.path.join(run_dir, 'load.log')
    if os.path.exists(path):
        for line in open(path):
            m = re.match(r'(\S+) other=([\d.]+)%', line)
            if m:
                out[m[1]] = float(m[2])
    return out


def step_label(path):
    """The load.log label of the step that wrote `path` (see run_all.sh's `measured` calls)."""
    sect, name = os.path.basename(os.path.dirname(path)), os.path.basename(path)[:-len('.json')]
    m = re.match(r'fluxion_(\w+)_r(\d+)$', name) or re.match(r'torch_fp32_r(\d+)$', name)
    if m and name.startswith('fluxion'):
        return f'{sect}/{m[1]}/r{m[2]}'
    if m:
        return f'{sect}/torch/r{m[1]}'
    m = re.match(r'(\w+)_r(\d+)$', name)
    return f'{sect}/{m[1]}/r{m[2]}' if m else f'{sect}/{name}'


def clean_files(pattern, run_dir, dropped=None):
    """Files matching pattern whose step others did not disturb; all of them if none is clean,
    since a noisy number beats none. Dropped files are appended to `dropped`."""
    files = sorted(glob.glob(pattern))
    load = load_log(run_dir)
    clean = [f for f in files if load.get(step_label(f), 0) < DISTURBED_PCT]
    if not clean:
        return files
    if dropped is not None:
        dropped += [step_label(f) for f in files if f not in clean]
    return clean


# ---------------------------------------------------------------- peak
def parse_peak(run_dir):
    """{(kernel, threads): (best, median)} from peak_fma's PEAK lines; SKIP lines as None."""
    out = {}
    for path in sorted(glob.glob(os.path.join(run_dir, 'peak', 'peak_t*.txt'))):
        for line in open(path):
            m = re.match(r'PEAK kernel=(\S+) threads=(\d+) gflops=([\d.]+) median=([\d.]+)', line)
            if m:
                key = (m[1], int(m[2]))
                best, med = float(m[3]), float(m[4])
                prev = out.get(key)
                out[key] = (max(best, prev[0]) if prev else best, med)
            m = re.match(r'SKIP kernel=(\S+)', line)
            if m:
                out.setdefault((m[1], 0), None)
    return out


def peak_gflops(run_dir, threads):
    """Best fp32 FMA rate at `threads`: the widest FMA the CPU has (zmm if present, else ymm)."""
    peaks = parse_peak(run_dir)
    rates = [peaks[(k, threads)][0] for k in ('avx2_fp32_fma', 'avx512_fp32_fma')
             if peaks.get((k, threads))]
    return max(rates) if rates else None


def section_peak(run_dir):
    peaks = parse_peak(run_dir)
    clocks = []
    for path in sorted(glob.glob(os.path.join(run_dir, 'peak', 'peak_t*.txt'))):
        clocks += [l.strip() for l in open(path) if l.startswith('threads=')]
    threads = sorted({t for (_, t) in peaks if t})
    kernels = []
    for (k, _) in peaks:
        if k not in kernels:
            kernels.append(k)
    lines = ['## Instruction peak (bench/peak_fma)', '',
             'Best of the repetitions (median in parentheses), GFLOP/s. The fp32 peak of the '
             'widest supported FMA at the benchmark thread count is the denominator of every '
             '"% of peak" below.', '',
             '| kernel | ' + ' | '.join(f'{t} thread{"s" if t > 1 else ""}' for t in threads)
             + ' |',
             '|---|' + '---:|' * len(threads)]
    for k in kernels:
        cells = []
        for t in threads:
            v = peaks.get((k, t))
            cells.append(f'{v[0]:.1f} ({v[1]:.1f})' if v else 'not supported')
        lines.append(f'| {k} | ' + ' | '.join(cells) + ' |')
    lines += ['', 'Clock seen by a dependent imul chain: ' + '; '.join(clocks) + '.', '']
    return '\n'.join(lines)


# ---------------------------------------------------------------- torch / coretype
def torch_runs(pattern, run_dir, dropped=None):
    """{(dtype, n): [gflops, ...]} over the undisturbed torch bench_gemm.py JSON files."""
    out = {}
    for path in clean_files(pattern, run_dir, dropped):
        for r in load_json(path):
            out.setdefault((r['dtype'], r['n']), []).append(r['gflops'])
    return out


def coretype_table(run_dir):
    """[(core, status, {n: median gflops}, score)] from run_all.sh's coretype section."""
    rows = []
    for status_path in sorted(glob.glob(os.path.join(run_dir, 'coretype', '*.status'))):
        core = os.path.basename(status_path)[:-len('.status')]
        status = open(status_path).read().strip()
        runs = torch_runs(os.path.join(run_dir, 'coretype', f'{core}_r*.json'), run_dir)
        per_n = {n: median(v) for (d, n), v in runs.items() if d == 'fp32'}
        score = geomean(per_n.values()) if status.startswith('ok') else None
        rows.append((core, status, per_n, score))
    return rows


def best_core(run_dir):
    rows = [r for r in coretype_table(run_dir) if r[3]]
    if not rows:
        return ''
    core = max(rows, key=lambda r: r[3])[0]
    return '' if core == 'auto' else core


def section_coretype(run_dir):
    rows = coretype_table(run_dir)
    sizes = sorted({n for r in rows for n in r[2]})
    best = max((r for r in rows if r[3]), key=lambda r: r[3], default=None)
    lines = ['## OpenBLAS core for torch (OPENBLAS_CORETYPE)', '',
             'torch fp32 matmul goes to OpenBLAS, whose kernel choice depends on the detected '
             'core. '
             'Each candidate is run alternately, medians of the rounds, GFLOP/s. "auto" leaves the '
             'variable unset.', '',
             '| OPENBLAS_CORETYPE | result | ' + ' | '.join(f'n={n}' for n in sizes) +
             ' | geomean |', '|---|---|' + '---:|' * (len(sizes) + 1)]
    for core, status, per_n, score in rows:
        mark = ' **(best)**' if best and core == best[0] else ''
        lines.append(f'| {core}{mark} | {status} | ' +
                     ' | '.join(fmt(per_n.get(n)) for n in sizes) + f' | {fmt(score)} |')
    lines.append('')
    return '\n'.join(lines)


# ---------------------------------------------------------------- gemm
def gbench_runs(pattern, run_dir, dropped=None):
    """{(lib, dtype, n): {'gflops': [...], 'frac': [...], 'label', 'error'}} from the
    undisturbed Google Benchmark JSON files."""
    out = {}
    context = {}
    for path in clean_files(pattern, run_dir, dropped):
        data = load_json(path)
        context = data.get('context', context)
        for b in data['benchmarks']:
            if b.get('run_type') == 'aggregate':
                continue
            m = re.match(r'gemm/([^/]+)/([^/]+)/(\d+)', b['name'])
            if not m:
                continue
            e = out.setdefault((m[1], m[2], int(m[3])),
                               {'gflops': [], 'frac': [], 'label': '', 'error': ''})
            if b.get('error_occurred'):
                e['error'] = b.get('error_message', 'error')
                continue
            e['gflops'].append(b['GFLOPs'])
            if 'peak_frac' in b:
                e['frac'].append(b['peak_frac'])
            e['label'] = b.get('label', '')
    return out, context


def section_gemm(run_dir):
    dropped = []
    gb, ctx = {}, {}
    for lib in ('onednn', 'openblas'):  # per library, so each keeps its own clean rounds
        part, ctx_part = gbench_runs(os.path.join(run_dir, 'gemm', f'fluxion_{lib}_r*.json'),
                                     run_dir, dropped)
        gb.update(part)
        ctx = {**ctx_part, **ctx}
    torch = torch_runs(os.path.join(run_dir, 'gemm', 'torch_fp32_r*.json'), run_dir, dropped)
    torch.update(torch_runs(os.path.join(run_dir, 'gemm', 'torch_bf16.json'), run_dir))
    bf16_noisy = load_log(run_dir).get('gemm/torch_bf16', 0) >= DISTURBED_PCT
    env = {}
    env_path = os.path.join(run_dir, 'gemm', 'settings.txt')
    if os.path.exists(env_path):
        env = dict(l.rstrip('\n').split('=', 1) for l in open(env_path) if '=' in l)
    peak = float(env.get('PEAK_GFLOPS') or 0) or None
    sizes = sorted({n for (_, _, n) in gb} | {n for (_, n) in torch})
    rounds = env.get('ROUNDS', '?')

    def med(lib, dtype, n):
        e = gb.get((lib, dtype, n))
        return median(e['gflops']) if e else None

    def pct(x):
        return f'{100 * x / peak:.0f}%' if (x and peak) else '—'

    lines = ['## Square GEMM, C = A·B, row-major (bench/bench_gemm vs peer bench_gemm.py)', '',
             f'{env.get("THREADS", "?")} threads; GFLOP/s = 2n³/t, median over {rounds} '
             'alternating rounds, undisturbed ones only (each fluxion round itself the median of '
             f'3 Google Benchmark repetitions). Peak = {fmt(peak)} GFLOP/s (fp32 FMA, peak '
             'section).', '',
             f'- fluxion side: oneDNN {ctx.get("onednn", "?")} (ISA {ctx.get("onednn_isa", "?")}, '
             f'matmul primitive created once), OpenBLAS `{ctx.get("openblas_config", "n/a")}`, '
             f'core `{ctx.get("openblas_core", "n/a")}`.',
             f'- torch: `{env.get("TORCH_ENV", "?")}`.', '',
             '| n | dtype | fluxion-oneDNN | OpenBLAS | torch | oneDNN/torch | oneDNN % peak '
             '| OpenBLAS % peak |', '|---:|---|---:|---:|---:|---:|---:|---:|']
    notes = []
    for n in sizes:
        d = med('onednn', 'f32', n)
        o = med('openblas', 'f32', n)
        t = median(torch.get(('fp32', n), []))
        ratio = f'{d / t:.2f}' if d and t else '—'
        lines.append(f'| {n} | f32 | {fmt(d)} | {fmt(o)} | {fmt(t)} | {ratio} | {pct(d)} '
                     f'| {pct(o)} |')
    for n in sizes:
        native = gb.get(('onednn', 'bf16', n), {})
        via = med('onednn', 'bf16_via_f32', n)
        t = median(torch.get(('bf16', n), []))
        if native.get('gflops'):
            d, how = median(native['gflops']), ''
        else:
            d, how = via, ' ¹'
        ratio = f'{d / t:.2f}' if d and t else '—'
        lines.append(f'| {n} | bf16 | {fmt(d)}{how} | n/a ² | {fmt(t)} | {ratio} | {pct(d)} '
                     '| — |')
    for n in sizes:
        q = med('onednn', 'u8s8s32', n)
        if q:
            lines.append(f'| {n} | u8·s8→s32 | {fmt(q)} GOP/s | — | — | — | — ³ '
                         '| — |')
    err = next((e['error'] for k, e in gb.items() if k[1] == 'bf16' and e['error']), '')
    if err:
        notes.append(f'¹ oneDNN refused native bf16 matmul on this CPU ({err}), for bf16 '
                     'and f32 output alike. The number shown is bf16 storage upconverted to '
                     'f32 by oneDNN reorders inside the timed loop, then f32 matmul.')
    notes.append('² Debian\'s OpenBLAS 0.3.21 exports no sbgemm.')
    if bf16_noisy:
        notes.append('torch bf16 (one run) was measured while other processes were busy; its '
                     'kernel is single-threaded, so the number is less affected than a 2-thread '
                     'one would be.')
    if dropped:
        notes.append(f'Left out as disturbed (others took ≥{DISTURBED_PCT}% of the CPUs, see '
                     f'load.log): {", ".join(dropped)}.')
    notes.append('³ int8 shown because it is the low-precision matmul oneDNN implements on '
                 'plain AVX2; compared with no fp32 peak.')
    # The verdict the conclusion section relies on, recomputed every run.
    both = [(n, med('onednn', 'f32', n), med('openblas', 'f32', n)) for n in sizes]
    both = [(n, d, o) for n, d, o in both if d and o]
    if both:
        g = geomean([d / o for _, d, o in both])
        faster = 'oneDNN' if g >= 1 else 'OpenBLAS'
        per = ', '.join(f'n={n}: {d / o:.2f}' for n, d, o in both)
        notes.append(f'**f32 oneDNN/OpenBLAS ratio** (geomean over sizes) = {g:.2f} ({per}) '
                     f'→ {faster} is faster on this machine.')
    lines += [''] + [n + '\n' for n in notes]
    # Spread, so a reader can tell a real gap from host noise.
    lines += ['<details><summary>Spread (min–max GFLOP/s over all samples)</summary>', '',
              '| n | oneDNN f32 | OpenBLAS f32 | torch fp32 |', '|---:|---:|---:|---:|']
    for n in sizes:
        cells = []
        for xs in (gb.get(('onednn', 'f32', n), {}).get('gflops'),
                   gb.get(('openblas', 'f32', n), {}).get('gflops'), torch.get(('fp32', n))):
            cells.append(f'{min(xs):.0f}–{max(xs):.0f}' if xs else '—')
        lines.append(f'| {n} | ' + ' | '.join(cells) + ' |')
    lines += ['', '</details>', '']
    return '\n'.join(lines)


# ---------------------------------------------------------------- assemble
ROOFLINE_WORKLOADS = [
    ('mlp', 'MLP training step (rectified flow, 3×256 SiLU, batch 1024, Adam)'),
    ('unet', 'U-Net training step (DDPM, batch 64, Adam)'),
    ('lru', 'LRU training step (4 layers, H 128, N 256, batch 32)'),
    ('lru_ckpt', 'LRU training step, scans checkpointed (`--recompute-scans`)'),
    ('ddim', 'DDIM sampling (U-Net, batch 64), per sample'),
]


def section_roofline(run_dir):
    """Per workload: FLOPs and bytes from its graph, achieved rates, % of the FMA peak."""
    settings = dict(line.strip().split('=', 1) for line in
                    open(os.path.join(run_dir, 'roofline', 'settings.txt')) if '=' in line)
    threads = int(settings.get('THREADS', 2))
    peak = peak_gflops(run_dir, threads)
    rows = []
    for name, label in ROOFLINE_WORKLOADS:
        r = try_json(os.path.join(run_dir, 'roofline', name + '.json'))
        if not r:
            rows.append(f'| {label} | failed | | | | | | | | |')
            continue
        ms = r['ms_per_step_median']
        what = label
        if name.startswith('lru'):
            what += f', length {r.get("seq_len", "?")}'
        if name == 'ddim':
            what += f' ({r.get("network_calls", "?")} network calls)'
        gflop = r['gemm_flops'] / 1e9
        rate = r['achieved_gflops']
        pct = f'{100 * rate / peak:.0f}%' if peak else '—'
        intensity = r['gemm_flops'] / r['bytes_moved'] if r['bytes_moved'] else 0
        peak_gb = r.get('peak_bytes', 0) / 1e9
        rows.append(f'| {what} | {ms:.1f} | {gflop:.2f} | {r["other_flops"] / 1e9:.2f} | '
                    f'{r["bytes_moved"] / 1e9:.2f} | {intensity:.1f} | {rate:.1f} | {pct} | '
                    f'{r["achieved_gbytes_per_s"]:.1f} | {peak_gb:.2f} |')
    return '\n'.join([
        '## Roofline: each workload against the FMA peak (bench_train_step --compile)', '',
        f'{threads} threads, fp32, compiled; one run each (median step after warm-up). FLOPs and '
        'bytes are counted from the step\'s own graph (`compiler/cost_model.h`), not entered by '
        'hand: GEMM = matmul and convolution products (2·M·N·K; forward, backward-data and '
        'weight gradient alike), "other" = one per element for every elementwise op and '
        'reduction; bytes = what each executed step (fused kernel or library call) reads and '
        'writes. Peak = ' + (f'{peak:.1f}' if peak else '?') + ' GFLOP/s (fp32 FMA, peak '
        'section). % of peak counts GEMM FLOPs only. The convolutions may run Winograd, which '
        'does fewer multiplications than it is credited with here. Peak memory = the compiled '
        'step\'s planned buffers plus what it allocated at run time (outputs included); the '
        'checkpointed LRU\'s GEMM FLOPs include the projections it recomputes.', '',
        '| workload | ms | GEMM GFLOP | other GFLOP | GB moved | GEMM FLOP/byte | GEMM GFLOP/s '
        '| % of peak | GB/s | peak memory (GB) |',
        '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
        *rows, ''])


def section_sample(run_dir):
    """DDIM sampling: images/s of fluxion (compiled) and PyTorch, per dtype, and their ratio."""
    d = os.path.join(run_dir, 'sample')
    settings = dict(line.strip().split('=', 1) for line in
                    open(os.path.join(d, 'settings.txt')) if '=' in line)
    dropped = []
    rows = []
    for dtype in ('fp32', 'bf16'):
        fl = [try_json(f) for f in clean_files(os.path.join(d, f'fluxion_{dtype}_r*.json'),
                                               run_dir, dropped)]
        pt = [try_json(f) for f in clean_files(os.path.join(d, f'torch_{dtype}_r*.json'),
                                               run_dir, dropped)]
        fl = [r['images_per_s'] for r in fl if r]
        pt = [r['images_per_s'] for r in pt if r]
        f_med, p_med = median(fl), median(pt)
        ratio = f'**{f_med / p_med:.2f}×**' if f_med and p_med else '—'
        per_round = ', '.join(f'{a / b:.2f}' for a, b in zip(fl, pt))
        rows.append(f'| {dtype} | {fmt(f_med, 2)} | {fmt(p_med, 2)} | {ratio} | {per_round} |')
    note = f' Left out as disturbed (others >{DISTURBED_PCT}% of the CPUs): ' + \
        ', '.join(dropped) + '.' if dropped else ''
    return '\n'.join([
        '## DDIM sampling vs PyTorch (bench_train_step --workload ddim vs '
        'bench/ddpm_peer_sample.py)', '',
        f'The U-Net of the unet section with random weights, one batch of 64 images, '
        f'{settings.get("DDIM_STEPS", "?")} DDIM steps (network calls), median over the '
        'repetitions after one warm-up; fluxion compiled (`--precision bf16`: the measured '
        'policy), PyTorch under no_grad (bf16: autocast) with `' +
        settings.get('TORCH_ENV', '') + '`. Ratio = fluxion / PyTorch images/s (above 1: '
        'fluxion faster).' + note, '',
        '| dtype | fluxion images/s | PyTorch images/s | ratio (median) | ratio per round |',
        '|---|---:|---:|---:|---|', *rows, ''])


def section_ablation(run_dir):
    """Median ms/step with and without each switchable compiler change, per round."""
    lines = ['## Ablation: compiler changes with a switch (bench_train_step --compile)', '',
             'Alternating runs of the same binary; median ms/step (DDIM: per sample of 10 '
             'network calls) per run, then the median over rounds. Ratio = off / on (above 1: '
             'the change helps), per round (the two runs of a round are back to back, so the '
             'machine\'s drift hits both alike) and the median of those. Matmul epilogue fusion is off by default, on with '
             '`FLUXION_EPILOGUE_FUSION=1`; blocked writes (fused kernels storing convolution '
             'inputs in oneDNN\'s layout) are on by default, off with '
             '`FLUXION_NO_BLOCKED_WRITES=1`; blocked reads (convolution results left in '
             'oneDNN\'s layout for the fused kernels that read them) are on by default, off '
             'with `FLUXION_NO_BLOCKED_READS=1`; reshape sinking (GroupNorm\'s SiLU in the '
             'normalising kernel) is on by default, off with `FLUXION_NO_RESHAPE_SINK=1`; '
             'small-K dot expansion (products of 1 to 4 contracted values computed inside the '
             'fused kernels that read them) is on by default, off with '
             '`FLUXION_NO_SMALL_DOT_EXPANSION=1`; dual writes (activations that '
             'convolutions and other ops read, stored plain and blocked by their kernels) are '
             'on by default, off with `FLUXION_NO_DUAL_WRITES=1`; plain-layout 1x1 '
             'convolutions in sampling (oneDNN\'s GEMM kernel reading NCHW where no weight '
             'gradient shares a blocked copy) are on by default, off with '
             '`FLUXION_NO_PLAIN_POINTWISE=1`; group sums (GroupNorm\'s mean and variance '
             'sums computed by the blocked kernel that produces their input) are on by '
             'default, off with `FLUXION_NO_GROUP_SUMS=1`. LRU at length 1,024.', '',
             '| change | workload | on (ms) | off (ms) | off / on (median of rounds) | '
             'rounds (off / on) |',
             '|---|---|---:|---:|---:|---|']
    for change, key, workloads in (('matmul epilogues', 'epilogue', ('mlp', 'unet', 'lru')),
                                   ('small-K dot expansion', 'small_dots', ('mlp', 'lru')),
                                   ('blocked writes', 'blocked', ('unet', 'ddim')),
                                   ('reshape sinking', 'sink', ('unet', 'ddim')),
                                   ('blocked reads', 'reads', ('unet', 'ddim')),
                                   ('dual writes', 'dual', ('unet', 'ddim')),
                                   ('plain 1x1 convolutions', 'pointwise', ('ddim',)),
                                   ('group sums', 'gsums', ('unet', 'ddim'))):
        for w in workloads:
            on, off = [], []
            pattern = os.path.join(run_dir, 'ablation', f'{w}_{key}_on_r*.json')
            for path in sorted(glob.glob(pattern)):
                r_on = try_json(path)
                r_off = try_json(path.replace('_on_', '_off_'))
                if r_on and r_off:
                    on.append(r_on['ms_per_step_median'])
                    off.append(r_off['ms_per_step_median'])
            if not on:
                continue
            per_round = [b / a for a, b in zip(on, off)]
            ratios = ', '.join(f'{r:.3f}' for r in per_round)
            lines.append(f'| {change} | {w} | {median(on):.2f} | {median(off):.2f} | '
                         f'{median(per_round):.3f} | {ratios} |')
    return '\n'.join(lines + [''])


def split_sections(text):
    return {m[1]: m[2] for m in re.finditer(
        r'<!-- BEGIN (\w+) -->\n(.*?)<!-- END \1 -->', text, re.S)}


def assemble(results_path, run_dir):
    old = split_sections(open(results_path).read()) if os.path.exists(results_path) else {}
    new = {}
    for path in glob.glob(os.path.join(run_dir, 'sections', '*.md')):
        new[os.path.basename(path)[:-3]] = open(path).read()
    names = ORDER + [n for n in list(old) + list(new) if n not in ORDER]
    parts = ['# fluxion benchmark results\n',
             '<!-- Written by bench/run_all.sh. Each section sits between BEGIN/END markers;\n'
             '     a run replaces only the sections it measured. Add a section: a function in\n'
             '     run_all.sh that writes $RUN_DIR/sections/NAME.md, and NAME in results.py\n'
             '     ORDER.\n'
             '     The conclusion section is hand-written and never overwritten. -->\n']
    for name in dict.fromkeys(names):
        body = new.get(name, old.get(name, PLACEHOLDER.get(name)))
        if body is None:
            continue
        if not body.endswith('\n'):
            body += '\n'
        parts.append(f'<!-- BEGIN {name} -->\n{body}<!-- END {name} -->\n')
    with open(results_path, 'w') as f:
        f.write('\n'.join(parts))


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ''
    if cmd == 'section' and argv[2] in STEP_SECTIONS:
        import step_tables
        print(step_tables.section(argv[2], argv[3]))
    elif cmd == 'section':
        print({'peak': section_peak, 'coretype': section_coretype, 'gemm': section_gemm,
               'roofline': section_roofline, 'ablation': section_ablation,
               'sample': section_sample}[argv[2]](argv[3]))
    elif cmd == 'best-core':
        print(best_core(argv[2]))
    elif cmd == 'peak':
        threads = int(argv[3]) if len(argv) > 3 else 2
        print(fmt(peak_gflops(argv[2], threads)))
    elif cmd == 'assemble':
        assemble(argv[2], argv[3])
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main(sys.argv)
