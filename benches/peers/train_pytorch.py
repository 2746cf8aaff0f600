#!/usr/bin/env python3
"""PyTorch (CPU) trains the same architecture on the same data as `seqlens train` with
examples/models/demo.toml, or the deepbind or basset preset: same split sizes, batch size,
optimiser, epochs and thread count. Prints training throughput (sequences/s) and the test
AUROC. With --device cuda it trains on the GPU (cuDNN, fp32 without TF32, the data resident on
the device), the peer of `seqlens train --backend gpu` (benches/peers/train_gpu.sh).

Usage: python3 benches/peers/train_pytorch.py [--arch demo|deepbind|basset] [--epochs N]
       [--threads T] [--device cpu|cuda]
"""
import argparse
import time

import numpy as np
import torch
from torch import nn

p = argparse.ArgumentParser()
p.add_argument("--fasta", default="examples/data/train/motifs.fa")
p.add_argument("--arch", default="demo")
p.add_argument("--epochs", type=int, default=12)
p.add_argument("--batch-size", type=int, default=64)
p.add_argument("--lr", type=float, default=0.002)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--length", type=int, default=500)
p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
args = p.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(7)
dev = torch.device(args.device)
if dev.type == "cuda":
    torch.backends.cudnn.benchmark = True
    # fp32 throughout, like the WGSL kernels: no TF32 tensor-core shortcuts.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False

ids, seqs, ys = [], [], []
for line in open(args.fasta):
    if line.startswith(">"):
        f = line[1:].split()
        ids.append(f[0])
        ys.append([float(v) for v in f[1:]])
    else:
        seqs.append(line.strip())
lut = np.full(256, -1, dtype=np.int64)
for i, c in enumerate(b"ACGT"):
    lut[c] = i
    lut[c + 32] = i
x = np.zeros((len(seqs), 4, args.length), dtype=np.float32)
for n, s in enumerate(seqs):
    idx = lut[np.frombuffer(s[: args.length].encode(), dtype=np.uint8)]
    ok = idx >= 0
    x[n, idx[ok], np.arange(len(idx))[ok]] = 1
x, y = torch.from_numpy(x), torch.tensor(ys)
k = y.shape[1]
rng = np.random.default_rng(7)
order = rng.permutation(len(x))
nv = nt = len(x) // 10
te, va, tr = order[:nt], order[nt : nt + nv], order[nt + nv :]

if args.arch == "demo":
    # examples/models/demo.toml: "same" padding (odd kernels), no batch norm or dropout.
    model = nn.Sequential(
        nn.Conv1d(4, 128, 19, padding=9), nn.ReLU(), nn.MaxPool1d(4),
        nn.Conv1d(128, 64, 5, padding=2), nn.ReLU(), nn.AdaptiveMaxPool1d(1), nn.Flatten(),
        nn.Linear(64, k))
elif args.arch == "deepbind":
    # seqlens's deepbind preset: 16 x 24 conv ("same": 11 left, 12 right, as PyTorch pads an
    # even kernel), global max pool, dense 32 with dropout 0.5.
    model = nn.Sequential(
        nn.Conv1d(4, 16, 24, padding="same"), nn.ReLU(), nn.AdaptiveMaxPool1d(1), nn.Flatten(),
        nn.Linear(16, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, k))
elif args.arch == "basset":
    model = nn.Sequential(
        nn.Conv1d(4, 300, 19), nn.BatchNorm1d(300), nn.ReLU(), nn.MaxPool1d(3),
        nn.Conv1d(300, 200, 11), nn.BatchNorm1d(200), nn.ReLU(), nn.MaxPool1d(4),
        nn.Conv1d(200, 200, 7), nn.BatchNorm1d(200), nn.ReLU(), nn.MaxPool1d(4),
        nn.Flatten(), nn.LazyLinear(1000), nn.BatchNorm1d(1000), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(1000, 1000), nn.BatchNorm1d(1000), nn.ReLU(), nn.Dropout(0.3), nn.Linear(1000, k))
    model(x[:2])
else:
    raise SystemExit(f"unknown --arch {args.arch}")
model, x, y = model.to(dev), x.to(dev), y.to(dev)
opt = torch.optim.Adam(model.parameters(), lr=args.lr)
loss_fn = nn.BCEWithLogitsLoss()


def auroc(scores, labels):
    from itertools import groupby
    out = []
    for j in range(labels.shape[1]):
        s, l = scores[:, j], labels[:, j]
        ranks = np.empty(len(s))
        o = np.argsort(s, kind="mergesort")
        ranks[o] = np.arange(1, len(s) + 1)
        for v in np.unique(s):
            m = s == v
            ranks[m] = ranks[m].mean()
        pos = l > 0.5
        npos, nneg = pos.sum(), (~pos).sum()
        out.append((ranks[pos].sum() - npos * (npos + 1) / 2) / (npos * nneg))
    return float(np.mean(out))


seen, train_time = 0, 0.0
for epoch in range(args.epochs):
    model.train()
    perm = torch.from_numpy(rng.permutation(tr))
    t0 = time.perf_counter()
    for b in range(0, len(perm), args.batch_size):
        i = perm[b : b + args.batch_size]
        opt.zero_grad()
        loss = loss_fn(model(x[i]), y[i])
        loss.backward()
        opt.step()
        seen += len(i)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    train_time += time.perf_counter() - t0
    model.eval()
    with torch.no_grad():
        v = torch.sigmoid(model(x[va])).cpu().numpy()
    print(f"epoch {epoch + 1}: train loss {loss.item():.4f}, valid auroc {auroc(v, y[va].cpu().numpy()):.4f}", flush=True)
with torch.no_grad():
    t = torch.sigmoid(model(x[te])).cpu().numpy()
print(f"pytorch device={args.device} threads={args.threads} train_seq_per_s={seen / train_time:.1f} test_auroc={auroc(t, y[te].cpu().numpy()):.4f}")
