#!/usr/bin/python3
"""PyTorch peer of bench/bench_flows.cpp, in the style of ../shared/peer/*.py: one MonoFlow
iteration (D step + G step, MLPs 2->128x3->1 and 2->128x3->2, ReLU, batch 256, Adam
beta1 0.5, lr 2e-4 / 1e-4, ns loss) and one unadjusted Langevin step on 5,000 particles of the
8-Gaussian mixture (score in closed form, vectorised). Prints RESULT_JSON with median ms.
Run with the settings of bench/peer_env.sh:  env $(peer_env 2) /usr/bin/python3 bench/peer_flows.py
"""
import argparse, json, math, os, sys, time, statistics
# PEER_DIR (default <repo>/../shared/peer) locates the peer scripts' common.py.
sys.path.insert(0, os.environ.get('PEER_DIR', os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'peer')))
import torch
from common import setup_threads

ap = argparse.ArgumentParser()
ap.add_argument('--steps', type=int, default=300)
ap.add_argument('--threads', type=int, default=2)
args = ap.parse_args()
info = setup_threads(args.threads)
torch.manual_seed(0)


def mlp(i, o):
    return torch.nn.Sequential(torch.nn.Linear(i, 128), torch.nn.ReLU(), torch.nn.Linear(128, 128),
                               torch.nn.ReLU(), torch.nn.Linear(128, 128), torch.nn.ReLU(),
                               torch.nn.Linear(128, o))


D, G = mlp(2, 1), mlp(2, 2)
od = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
og = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.5, 0.999))
bce = torch.nn.BCEWithLogitsLoss()
ang = torch.arange(8, dtype=torch.float32) * (2 * math.pi / 8)
mu = torch.stack([4 * torch.cos(ang), 4 * torch.sin(ang)], 1)


def eight_gaussians(n):
    return mu[torch.randint(0, 8, (n,))] + 0.5 * torch.randn(n, 2)


def monoflow_step():
    real = eight_gaussians(256)
    with torch.no_grad():
        fake = G(torch.randn(256, 2))
    od.zero_grad(set_to_none=True)
    dr, df = D(real), D(fake)
    (bce(dr, torch.ones_like(dr)) + bce(df, torch.zeros_like(df))).backward()
    od.step()
    for p in D.parameters():  # best practice: no D gradients in the G step
        p.requires_grad_(False)
    og.zero_grad(set_to_none=True)
    (-torch.nn.functional.logsigmoid(D(G(torch.randn(256, 2)))).mean()).backward()
    og.step()
    for p in D.parameters():
        p.requires_grad_(True)


x = torch.randn(5000, 2)


def langevin_step(dt=0.01):
    global x
    with torch.no_grad():
        diff = mu[None] - x[:, None]  # [N, 8, 2]
        logits = -0.5 * (diff * diff).sum(-1) / 0.25
        g = torch.softmax(logits, 1)
        score = (g[..., None] * diff).sum(1) / 0.25
        x = x + dt * score + math.sqrt(2 * dt) * torch.randn_like(x)


def median_ms(f):
    t = []
    for s in range(args.steps + 20):
        a = time.perf_counter()
        f()
        t.append(time.perf_counter() - a)
    return statistics.median(t[20:]) * 1e3


res = dict(monoflow_ms=median_ms(monoflow_step), langevin_ms=median_ms(langevin_step), steps=args.steps,
           **info)
print('RESULT_JSON ' + json.dumps(res))
