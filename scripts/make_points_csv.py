#!/usr/bin/env python3
"""Writes a point set as a user would bring one: CSV with a header row, one point per line.
    scripts/make_points_csv.py spiral2d OUT.csv [ROWS] [SEED]   2-D two-armed spiral, radius ~3
    scripts/make_points_csv.py helix3d  OUT.csv [ROWS] [SEED]   3-D helix, 2 turns, radius 2
Both with Gaussian noise of 0.1 per coordinate. Pure Python (no numpy needed)."""
import math
import random
import sys


def spiral2d(rng):
    t = rng.uniform(0.25, 1.0)
    arm = rng.choice((0.0, math.pi))
    a = 3 * math.pi * t + arm
    r = 3.0 * t
    return (r * math.cos(a) + rng.gauss(0, 0.1), r * math.sin(a) + rng.gauss(0, 0.1))


def helix3d(rng):
    t = rng.uniform(-1.0, 1.0)
    a = 2 * math.pi * 2 * t
    return (2 * math.cos(a) + rng.gauss(0, 0.1), 2 * math.sin(a) + rng.gauss(0, 0.1),
            2 * t + rng.gauss(0, 0.1))


def main(argv):
    if len(argv) < 3 or argv[1] not in ('spiral2d', 'helix3d'):
        sys.exit(__doc__)
    kind, out = argv[1], argv[2]
    rows = int(argv[3]) if len(argv) > 3 else 50000
    rng = random.Random(int(argv[4]) if len(argv) > 4 else 0)
    draw = spiral2d if kind == 'spiral2d' else helix3d
    with open(out, 'w') as f:
        f.write(','.join('xyz'[:2 if kind == 'spiral2d' else 3]) + '\n')
        for _ in range(rows):
            f.write(','.join(f'{v:.6f}' for v in draw(rng)) + '\n')


if __name__ == '__main__':
    main(sys.argv)
