"""PyTorch side of bench/bench_pfgm.sh: the PFGM field target at the same sizes.
  reference  the code of Newbeeer/Poisson_flow losses.py (materialises [B, L, N+1])
  cdist      the same maths with torch.cdist and a softmax of -(N+1) log dist (no [B, L, N+1])
Prints the median ms of each and RESULT_JSON lines. Run with the peer settings (peer_env.sh).
"""
import argparse
import json
import time

import numpy as np
import torch


def reference(perturbed, data, gamma):
    data_dim = data.shape[1]
    real = torch.cat((data, torch.zeros((len(data), 1))), dim=1)
    gt_distance = torch.sum((perturbed.unsqueeze(1) - real) ** 2, dim=[-1]).sqrt()
    distance = torch.min(gt_distance, dim=1, keepdim=True)[0] / (gt_distance + 1e-7)
    distance = distance ** (data_dim + 1)
    distance = distance[:, :, None]
    coeff = distance / (torch.sum(distance, dim=1, keepdim=True) + 1e-7)
    diff = -(perturbed.unsqueeze(1) - real)
    gt_direction = torch.sum(coeff * diff, dim=1)
    gt_norm = gt_direction.norm(p=2, dim=1)
    gt_direction /= gt_norm.view(-1, 1) + gamma
    gt_direction *= np.sqrt(data_dim)
    return gt_direction


def with_cdist(perturbed, data, gamma):
    n = data.shape[1]
    x, z = perturbed[:, :n], perturbed[:, n:]
    d2 = torch.cdist(x, data) ** 2 + z ** 2
    w = torch.softmax(-0.5 * (n + 1) * torch.log(d2), dim=1)
    e = torch.cat((w @ data - x, -z), dim=1)
    return np.sqrt(n) * e / (e.norm(dim=1, keepdim=True) + gamma)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("B", type=int)
    p.add_argument("L", type=int)
    p.add_argument("N", type=int)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-reference", action="store_true",
                   help="skip the reference code (it materialises [B, L, N+1]: minutes at 784-D)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    g = torch.Generator().manual_seed(0)
    data = torch.randn(a.L, a.N, generator=g)
    at = torch.randn(a.B, a.N + 1, generator=g)
    at[:, -1] = at[:, -1].abs() + 0.01
    impls = [("cdist", with_cdist)] if a.no_reference else [("reference", reference),
                                                             ("cdist", with_cdist)]
    for name, fn in impls:
        ms = []
        with torch.no_grad():
            for r in range(a.repeats + 2):
                t0 = time.perf_counter()
                fn(at, data, 5.0)
                if r >= 2:
                    ms.append((time.perf_counter() - t0) * 1e3)
        med = float(np.median(ms))
        print(f"torch {name} B={a.B} L={a.L} N={a.N}: {med:.3f} ms (median of {a.repeats})")
        print("RESULT_JSON " + json.dumps({"impl": "torch-" + name, "B": a.B, "L": a.L, "N": a.N,
                                           "ms": med}))


if __name__ == "__main__":
    main()
