# Markdown table of scripts/pfgm_2d_results.sh output: python3 scripts/pfgm_results_table.py OUT/results.txt
import re, sys
rows = []
for line in open(sys.argv[1]):
    m = re.match(r"(\S+) (\S+) (\S+) (\S+) \| (.*)", line.strip())
    if not m: continue
    d, meth, solver, steps, rest = m.groups()
    nfe = re.search(r"NFE (\d+)", rest).group(1)
    sw, swf = re.search(r"sliced-W2 (\S+) \(floor (\S+)\)", rest).groups()
    mmd, mmdf = re.search(r"MMD (\S+) \(floor (\S+)\)", rest).groups()
    label = solver if steps == "0" else f"{solver} {steps}"
    rows.append((d, "PFGM" if meth == "pfgm" else "rectified flow", label, nfe, float(sw), float(swf), float(mmd), float(mmdf)))
print("| data | method | solver | NFE | sliced-W2 | × floor | MMD² (floor) |")
print("|---|---|---|---|---|---|---|")
for d, meth, label, nfe, sw, swf, mmd, mmdf in rows:
    print(f"| {d} | {meth} | {label} | {nfe} | {sw:.3f} | {sw/swf:.2f} | {mmd:.2g} ({mmdf:.2g}) |")
print()
print("floors (sliced-W2): " + ", ".join(sorted({f"{r[0]} {r[5]:.3f}" for r in rows})))
