#!/usr/bin/python3
"""PyTorch counterpart of `fluxion sample --sampler ddim --steps S -n N` (and of
bench_train_step --workload ddim): the U-Net of shared/peer/ddpm_unet.py (its class
definitions, executed up to the training loop, so the model is the peer's exactly), random
weights, S network calls per batch of 64 under no_grad plus the DDIM update. Prints images/s;
with --reps R it samples one batch R + 1 times (the first is warm-up) and reports the median.
    /usr/bin/python3 bench/ddpm_peer_sample.py PEER_DIR [--steps 20] [-n 64] [--threads 2]
        [--dtype fp32|bf16] [--reps R] [--json OUT]
"""
import argparse, json, os, statistics, sys, time

p = argparse.ArgumentParser()
p.add_argument('peer')
p.add_argument('--steps', type=int, default=20)
p.add_argument('-n', type=int, default=64)
p.add_argument('--threads', type=int, default=2)
p.add_argument('--dtype', choices=['fp32', 'bf16'], default='fp32')
p.add_argument('--reps', type=int, default=0)
p.add_argument('--json')
a = p.parse_args()
sys.path.insert(0, a.peer)
src = open(os.path.join(a.peer, 'ddpm_unet.py')).read().split('model = UNet()')[0]
sys.argv = ['ddpm_unet.py', '--threads', str(a.threads)]
ns = {'__name__': 'peer'}
exec(compile(src, 'ddpm_unet.py', 'exec'), ns)  # defines UNet, abar, T (loads the data too)
torch, UNet, abar, T = ns['torch'], ns['UNet'], ns['abar'], ns['T']
autocast_ctx = ns['autocast_ctx']
model = UNet().eval()
taus = [i * T // a.steps for i in range(a.steps)]


def sample(n):
    with torch.no_grad():
        x = torch.randn(n, 1, 28, 28)
        for k in range(len(taus) - 1, -1, -1):
            t = taus[k]
            ab, abp = abar[t], (abar[taus[k - 1]] if k > 0 else torch.tensor(1.0))
            with autocast_ctx(a.dtype):
                eps = model(x, torch.full((n,), t, dtype=torch.long))
            eps = eps.float()
            x0 = ((x - (1 - ab).sqrt() * eps) / ab.sqrt()).clamp(-1, 1)
            eps = (x - ab.sqrt() * x0) / (1 - ab).sqrt()
            x = abp.sqrt() * x0 + (1 - abp).sqrt() * eps
    return x


if a.reps > 0:  # one batch of n, timed per repetition after a warm-up one
    times = []
    for r in range(a.reps + 1):
        t0 = time.perf_counter()
        sample(a.n)
        times.append(time.perf_counter() - t0)
    med = statistics.median(times[1:])
    print(f"torch: {a.n} images (ddim {a.steps} steps, {a.dtype}) median {med * 1e3:.1f} ms "
          f"= {a.n / med:.3f} images/s")
    if a.json:
        with open(a.json, 'w') as f:
            json.dump({'script': 'ddpm_peer_sample.py', 'dtype': a.dtype, 'threads': a.threads,
                       'batch': a.n, 'ddim_steps': a.steps, 'reps': a.reps,
                       'ms_per_batch_median': med * 1e3, 'images_per_s': a.n / med}, f)
    sys.exit(0)
t0 = time.perf_counter()
for b in range(0, a.n, 64):
    sample(min(64, a.n - b))
secs = time.perf_counter() - t0
print(f"torch: {a.n} images (ddim {a.steps} steps) in {secs:.1f} s = {a.n / secs:.3f} images/s")
