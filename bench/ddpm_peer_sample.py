#!/usr/bin/python3
"""PyTorch counterpart of `fluxion sample --sampler ddim --steps S -n N`: the U-Net of
shared/peer/ddpm_unet.py (its class definitions, executed up to the training loop, so the
model is the peer's exactly), random weights, S network calls per batch of 64 under
no_grad plus the DDIM update. Prints images/s.
    /usr/bin/python3 bench/ddpm_peer_sample.py PEER_DIR [--steps 20] [-n 64] [--threads 2]
"""
import argparse, os, sys, time

p = argparse.ArgumentParser()
p.add_argument('peer')
p.add_argument('--steps', type=int, default=20)
p.add_argument('-n', type=int, default=64)
p.add_argument('--threads', type=int, default=2)
a = p.parse_args()
sys.path.insert(0, a.peer)
src = open(os.path.join(a.peer, 'ddpm_unet.py')).read().split('model = UNet()')[0]
sys.argv = ['ddpm_unet.py', '--threads', str(a.threads)]
ns = {'__name__': 'peer'}
exec(compile(src, 'ddpm_unet.py', 'exec'), ns)  # defines UNet, abar, T (loads the data too)
torch, UNet, abar, T = ns['torch'], ns['UNet'], ns['abar'], ns['T']
model = UNet().eval()
taus = [i * T // a.steps for i in range(a.steps)]
t0 = time.perf_counter()
with torch.no_grad():
    for b in range(0, a.n, 64):
        x = torch.randn(min(64, a.n - b), 1, 28, 28)
        for k in range(len(taus) - 1, -1, -1):
            t = taus[k]
            ab, abp = abar[t], (abar[taus[k - 1]] if k > 0 else torch.tensor(1.0))
            eps = model(x, torch.full((x.shape[0],), t, dtype=torch.long))
            x0 = ((x - (1 - ab).sqrt() * eps) / ab.sqrt()).clamp(-1, 1)
            eps = (x - ab.sqrt() * x0) / (1 - ab).sqrt()
            x = abp.sqrt() * x0 + (1 - abp).sqrt() * eps
secs = time.perf_counter() - t0
print(f"torch: {a.n} images (ddim {a.steps} steps) in {secs:.1f} s = {a.n / secs:.3f} images/s")
