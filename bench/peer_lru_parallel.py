#!/usr/bin/python3
"""PyTorch LRU with a parallel (log-depth, work-efficient) associative scan: the same model,
task, optimizer and output as ../shared/peer/lru_seq.py (which it imports its helpers from),
with the python loop over time replaced by an odd/even recursive scan as in
jax.lax.associative_scan, operator (a1, b1) o (a2, b2) = (a2 a1, a2 b1 + b2).

    /usr/bin/python3 bench/peer_lru_parallel.py --task synth --seq_len 4096 --steps 5
    /usr/bin/python3 bench/peer_lru_parallel.py --check     # scan == sequential loop
PEER_DIR (default <repo>/../shared/peer) locates lru_seq.py's common.py.
"""
import argparse, math, os, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get('PEER_DIR', os.path.join(HERE, '..', '..', 'shared', 'peer')))
import torch, torch.nn as nn, torch.nn.functional as F  # noqa: E402
from common import setup_threads, autocast_ctx, summarize  # noqa: E402


def assoc_scan(a, b):
    """h_t = a_t h_{t-1} + b_t along dim 1 (h_{-1} = 0); a broadcasts against b (B, L, N)."""
    L = b.shape[1]
    if L == 1:
        return b
    a = a.expand(-1, L, -1) if a.shape[1] == 1 else a
    n2 = L // 2
    a_e, a_o = a[:, 0:2 * n2:2], a[:, 1:2 * n2:2]
    b_e, b_o = b[:, 0:2 * n2:2], b[:, 1:2 * n2:2]
    odd = assoc_scan(a_o * a_e, a_o * b_e + b_o)              # h at 1, 3, 5, ...
    n_even = (L + 1) // 2                                     # h at 0, 2, 4, ...
    even = torch.cat([b[:, :1], a[:, 2::2] * odd[:, :n_even - 1] + b[:, 2::2]], 1)
    if n_even > odd.shape[1]:
        odd = torch.cat([odd, torch.zeros_like(odd[:, :1])], 1)
    return torch.stack([even, odd], 2).reshape(b.shape[0], 2 * n_even, b.shape[2])[:, :L]


def check():
    torch.manual_seed(0)
    for L in (1, 2, 3, 7, 64, 100, 1000):
        lam = torch.polar(torch.rand(5) * 0.1 + 0.9, torch.rand(5) * 6.28).to(torch.complex128)
        bu = torch.randn(2, L, 5, dtype=torch.complex128)
        x, ref = torch.zeros(2, 5, dtype=torch.complex128), []
        for t in range(L):
            x = lam * x + bu[:, t]
            ref.append(x)
        err = (assoc_scan(lam.view(1, 1, -1), bu) - torch.stack(ref, 1)).abs().max().item()
        print(f"L={L}: max |parallel - sequential| = {err:.2e}")
        assert err < 1e-10


p = argparse.ArgumentParser()
p.add_argument('--steps', type=int, default=100)
p.add_argument('--dtype', choices=['fp32', 'bf16'], default='fp32')
p.add_argument('--threads', type=int, default=2)
p.add_argument('--task', choices=['synth'], default='synth')
p.add_argument('--seq_len', type=int, default=1024)
p.add_argument('--batch', type=int, default=32)
p.add_argument('--layers', type=int, default=4)
p.add_argument('--d_model', type=int, default=128)
p.add_argument('--d_state', type=int, default=256)
p.add_argument('--seed', type=int, default=0)
p.add_argument('--check', action='store_true')
args = p.parse_args()
if args.check:
    check()
    sys.exit(0)
info = setup_threads(args.threads)
torch.manual_seed(args.seed)


class LRU(nn.Module):  # lru_seq.py's LRU; only the scan differs
    def __init__(self, H, N, r_min=0.9, r_max=0.999, max_phase=2 * math.pi):
        super().__init__()
        u1, u2 = torch.rand(N), torch.rand(N)
        self.nu_log = nn.Parameter(torch.log(-0.5 * torch.log(u1 * (r_max ** 2 - r_min ** 2) + r_min ** 2)))
        self.theta_log = nn.Parameter(torch.log(max_phase * u2))
        lam_abs = torch.exp(-torch.exp(self.nu_log.detach()))
        self.gamma_log = nn.Parameter(torch.log(torch.sqrt(1 - lam_abs ** 2)))
        self.B_re = nn.Parameter(torch.randn(N, H) / math.sqrt(2 * H))
        self.B_im = nn.Parameter(torch.randn(N, H) / math.sqrt(2 * H))
        self.C_re = nn.Parameter(torch.randn(H, N) / math.sqrt(N))
        self.C_im = nn.Parameter(torch.randn(H, N) / math.sqrt(N))
        self.D = nn.Parameter(torch.randn(H))

    def forward(self, u):
        lam = torch.exp(torch.complex(-torch.exp(self.nu_log), torch.exp(self.theta_log)))
        gamma = torch.exp(self.gamma_log)
        bu = torch.complex((F.linear(u, self.B_re) * gamma).float(), (F.linear(u, self.B_im) * gamma).float())
        xs = assoc_scan(lam.view(1, 1, -1), bu)
        return F.linear(xs.real, self.C_re) - F.linear(xs.imag, self.C_im) + self.D * u


class Block(nn.Module):
    def __init__(self, H, N):
        super().__init__()
        self.norm = nn.LayerNorm(H); self.lru = LRU(H, N); self.glu = nn.Linear(H, 2 * H)

    def forward(self, x):
        h = self.lru(F.layer_norm(x.float(), self.norm.normalized_shape, self.norm.weight, self.norm.bias))
        return x + F.glu(self.glu(F.gelu(h)), -1)


class Model(nn.Module):
    def __init__(self, d_in, H, N, n_layers, n_cls):
        super().__init__()
        self.enc = nn.Linear(d_in, H)
        self.blocks = nn.ModuleList([Block(H, N) for _ in range(n_layers)])
        self.norm = nn.LayerNorm(H); self.head = nn.Linear(H, n_cls)

    def forward(self, u):
        x = self.enc(u)
        for b in self.blocks:
            x = b(x)
        x = F.layer_norm(x.float(), self.norm.normalized_shape, self.norm.weight, self.norm.bias)
        return self.head(x.mean(1))


g = torch.Generator().manual_seed(args.seed + 1)
L, d_in, n_cls = args.seq_len, 2, 2


def get_batch(B):  # lru_seq.py --task synth
    vals = torch.rand(B, L, generator=g)
    i1 = torch.randint(0, L // 2, (B,), generator=g); i2 = torch.randint(L // 2, L, (B,), generator=g)
    mark = torch.zeros(B, L); ar = torch.arange(B)
    mark[ar, i1] = 1; mark[ar, i2] = 1
    return torch.stack([vals, mark], -1), ((vals[ar, i1] + vals[ar, i2]) > 1.0).long()


H, N = args.d_model, args.d_state
model = Model(d_in, H, N, args.layers, n_cls)
no_wd = [p for n_, p in model.named_parameters() if any(k in n_ for k in ('nu_log', 'theta_log', 'gamma_log'))]
wd = [p for n_, p in model.named_parameters() if not any(k in n_ for k in ('nu_log', 'theta_log', 'gamma_log'))]
opt = torch.optim.AdamW([{'params': wd, 'weight_decay': 0.01}, {'params': no_wd, 'weight_decay': 0.0}], lr=1e-3)
B = args.batch
fwd = 2 * B * L * d_in * H + args.layers * (4 * 2 * B * L * H * N + 2 * B * L * H * 2 * H + 8 * B * L * N) + 2 * B * H * n_cls
times, losses = [], []
for step in range(args.steps):
    t0 = time.perf_counter()
    xb, yb = get_batch(B)
    with autocast_ctx(args.dtype):
        logits = model(xb)
    loss = F.cross_entropy(logits.float(), yb)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    losses.append(loss.item())
    times.append(time.perf_counter() - t0)
summarize(f'lru_parallel[synth,L={L}]', args, times, min(1, args.steps - 1), losses,
          sum(p.numel() for p in model.parameters()), B, 3 * fwd, info, dict(task='synth', seq_len=L))
