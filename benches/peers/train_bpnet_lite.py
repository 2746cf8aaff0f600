#!/usr/bin/env python3
"""bpnet-lite's side of benches/peers/train_bpnet.sh: bpnet-lite 1.1's BPNet trained on the
bench's profile data (FASTA + TSV of counts per strand and position) as BPNet.fit steps
(Adam, _mixture_loss, gradient norm clipped to 1) for the given epochs, batch size and
threads. Only the training steps are timed (forward, loss, backward, clipping, update), as
seqlens' sequences/s counts them. Prints `train_seq_per_s=...`.
"""
import argparse
import time

import numpy as np
import torch
from bpnetlite.bpnet import BPNet
from bpnetlite.losses import _mixture_loss


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--fasta", required=True)
    p.add_argument("--labels", required=True)
    p.add_argument("--filters", type=int, default=64)
    p.add_argument("--depth", type=int, default=8)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    seqs = [l.strip() for l in open(a.fasta) if l.strip() and not l.startswith(">")]
    rows = [l.rstrip("\n").split("\t")[1:] for l in open(a.labels)][1:]
    y = torch.tensor(np.array(rows, np.float32))
    n, length = len(seqs), len(seqs[0])
    x = np.zeros((n, 4, length), np.float32)
    for b, s in enumerate(seqs):
        for i, c in enumerate(s):
            if c in "ACGT":
                x[b, "ACGT".index(c), i] = 1
    x = torch.from_numpy(x)
    torch.manual_seed(0)
    net = BPNet(n_filters=a.filters, n_layers=a.depth, n_outputs=2, n_control_tracks=0,
                verbose=False)
    y = y.reshape(n, 2, -1)
    assert y.shape[2] == length - 2 * net.trimming, (y.shape, net.trimming)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    net.train()
    seen, spent = 0, 0.0
    for _ in range(a.epochs):
        order = torch.randperm(n)
        for b in range(0, n, a.batch_size):
            idx = order[b:b + a.batch_size]
            t = time.perf_counter()
            opt.zero_grad()
            logits, logcounts = net(x[idx])
            _, _, loss = _mixture_loss(y[idx], logits, logcounts, net.count_loss_weight)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1)
            opt.step()
            spent += time.perf_counter() - t
            seen += len(idx)
    print(f"train_seq_per_s={seen / spent:.1f} loss={loss.item():.3f}")


if __name__ == "__main__":
    main()
