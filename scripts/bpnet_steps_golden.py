#!/usr/bin/env python3
"""bpnet-lite's training steps, the reference for `seqlens train` on a two-output model
(tests/train_bpnet.rs).

bpnet-lite 1.1.0's `BPNet` (16 filters, 3 dilated residual layers, two strands, no control
track; input 300 bases, profile output 178 positions after trimming 61 from either end, and a
total count) starts from torch.manual_seed(0) and is exported to ONNX with its two outputs,
`profile` [batch, 2, 178] and `counts` [batch, 1], before the first step.

The data are written here too, to examples/data/profile/: 160 random 300-base sequences,
half with a planted GATA site (AGATAA), and stranded read counts over the central 178 bases
drawn from a Poisson whose rate peaks a few bases either side of each site (as ChIP-nexus
reads pile up at a bound factor's two edges). profiles.fa holds the sequences; profiles.tsv
the counts, one column per strand and position (`plus_0..plus_177, minus_0..minus_177`: the
profile output flattened per sequence). The same counts are written as genome tracks too:
peaks.bed over profiles.fa read as a genome, and {plus,minus}.{bedGraph,bw}.

The steps are bpnet-lite's `BPNet.fit`'s: batches of 32 in file order, Adam (lr 1e-3),
`_mixture_loss` (the multinomial NLL of both strands' counts under one softmax over both
strands, plus count_loss_weight 1 times the MSE of the predicted log count against
log(1 + total count)), and the gradient norm clipped to 1. Each step's total, profile and count
losses are recorded, and the trained model's two outputs on the first four sequences with
the counts they predict per strand and position (softmax over both strands times the total);
`seqlens train --init` with tests/data/bpnet_steps.toml must take the same steps, and its
exported model must give the same outputs.

Writes tests/models/bpnet_lite_init.onnx, tests/golden/bpnet_steps.json and
examples/data/profile/profiles.{fa,tsv}. If a seqlens binary is given, also runs it and
prints the largest difference.

Usage: pip install -r scripts/requirements.txt
       pip install --no-deps -r scripts/requirements-bpnet.txt
       python3 scripts/bpnet_steps_golden.py [target/release/seqlens]
"""
import json
import os
import sys

import numpy as np
import onnx
import torch
from bpnetlite.bpnet import BPNet
from bpnetlite.losses import _mixture_loss

from torch_steps_golden import compare_steps

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "examples", "data", "profile")
LENGTH, N, BATCH, EPOCHS, LR = 300, 160, 32, 2, 1e-3
FILTERS, LAYERS, TRIM = 16, 3, 61
OUT = LENGTH - 2 * TRIM


def make_data():
    rng = np.random.default_rng(7)
    seqs, counts = [], []
    pos = np.arange(OUT)
    for i in range(N):
        s = list(rng.choice(list("ACGT"), LENGTH))
        rate = np.full((2, OUT), 0.02)
        if i % 2 == 0:
            for _ in range(rng.integers(1, 3)):
                at = int(rng.integers(TRIM + 20, LENGTH - TRIM - 26))
                s[at:at + 6] = list("AGATAA")
                mid = at + 3 - TRIM
                height = rng.uniform(2.0, 6.0)
                rate[0] += height * np.exp(-0.5 * ((pos - (mid - 6)) / 2.5) ** 2)
                rate[1] += height * np.exp(-0.5 * ((pos - (mid + 6)) / 2.5) ** 2)
        seqs.append("".join(s))
        counts.append(rng.poisson(rate))
    os.makedirs(DATA, exist_ok=True)
    with open(os.path.join(DATA, "profiles.fa"), "w") as f:
        for i, s in enumerate(seqs):
            f.write(f">seq{i}\n{s}\n")
    with open(os.path.join(DATA, "profiles.tsv"), "w") as f:
        cols = [f"plus_{p}" for p in range(OUT)] + [f"minus_{p}" for p in range(OUT)]
        f.write("id\t" + "\t".join(cols) + "\n")
        for i, c in enumerate(counts):
            f.write(f"seq{i}\t" + "\t".join(str(v) for v in c.reshape(-1)) + "\n")
    write_signal(counts)
    return seqs, np.array(counts, np.float32)


def write_signal(counts):
    """The same counts as genome tracks: profiles.fa read as a genome (one 300-base contig per
    sequence), peaks.bed with one interval centred on each contig (its input window is the
    whole contig, its output window bases 61..239), and the reads per strand as bedGraph
    (positions without reads left out) and bigWig (pyBigWig)."""
    import pyBigWig
    with open(os.path.join(DATA, "peaks.bed"), "w") as f:
        for i in range(N):
            f.write(f"seq{i}\t{LENGTH // 2 - 10}\t{LENGTH // 2 + 10}\tpeak{i}\n")
    for strand, name in enumerate(["plus", "minus"]):
        with open(os.path.join(DATA, f"{name}.bedGraph"), "w") as f:
            f.write(f"track type=bedGraph name={name}\n")
            for i, c in enumerate(counts):
                for p in np.nonzero(c[strand])[0]:
                    f.write(f"seq{i}\t{TRIM + p}\t{TRIM + p + 1}\t{c[strand][p]}\n")
        bw = pyBigWig.open(os.path.join(DATA, f"{name}.bw"), "w")
        bw.addHeader([(f"seq{i}", LENGTH) for i in range(N)])
        for i, c in enumerate(counts):
            at = np.nonzero(c[strand])[0]
            if len(at):
                bw.addEntries([f"seq{i}"] * len(at), [int(TRIM + p) for p in at],
                              ends=[int(TRIM + p + 1) for p in at],
                              values=[float(c[strand][p]) for p in at])
        bw.close()


def one_hot(seqs):
    x = np.zeros((len(seqs), 4, LENGTH), np.float32)
    for b, s in enumerate(seqs):
        for i, c in enumerate(s):
            x[b, "ACGT".index(c), i] = 1
    return x


def main():
    seqs, y = make_data()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    net = BPNet(n_filters=FILTERS, n_layers=LAYERS, n_outputs=2, n_control_tracks=0,
                trimming=TRIM, verbose=False)
    init = os.path.join(ROOT, "tests", "models", "bpnet_lite_init.onnx")
    net.eval()
    torch.onnx.export(net, torch.zeros(1, 4, LENGTH), init, input_names=["sequence"],
                      output_names=["profile", "counts"],
                      dynamic_axes={"sequence": {0: "batch"}, "profile": {0: "batch"},
                                    "counts": {0: "batch"}},
                      opset_version=13, dynamo=False)
    onnx.checker.check_model(onnx.load(init), full_check=True)
    x = torch.from_numpy(one_hot(seqs))
    y = torch.from_numpy(y)
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    steps = []
    for epoch in range(EPOCHS):
        for b in range(0, N, BATCH):
            opt.zero_grad()
            net.train()
            logits, logcounts = net(x[b:b + BATCH])
            profile, count, loss = _mixture_loss(y[b:b + BATCH], logits, logcounts,
                                                 net.count_loss_weight)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1)
            opt.step()
            steps.append({"loss": loss.item(), "profile": profile.item(), "counts": count.item()})
    # The trained model's outputs on the first sequences: what the exported two-output ONNX
    # must give.
    net.eval()
    with torch.no_grad():
        profile, counts = net(x[:4])
        # BPNet's predicted counts per strand and position: one softmax over both strands'
        # logits, times the predicted total (exp of the log count).
        expected = torch.softmax(profile.reshape(4, -1), dim=-1) * torch.exp(counts)
    import bpnetlite
    out = os.path.join(ROOT, "tests", "golden", "bpnet_steps.json")
    with open(out, "w") as f:
        json.dump({"torch": torch.__version__, "bpnet_lite": bpnetlite.__version__,
                   "batch_size": BATCH, "epochs": EPOCHS, "lr": LR, "steps": steps,
                   "trained": {"ids": [f"seq{i}" for i in range(4)],
                               "profile": profile.reshape(4, -1).tolist(),
                               "counts": counts.reshape(4).tolist(),
                               "expected_counts": expected.tolist()}}, f)
    print("wrote", init, "and", out, f"({len(steps)} steps)")

    if len(sys.argv) > 1:
        compare_steps([sys.argv[1], "train", "--init", init,
                       "--config", os.path.join(ROOT, "tests", "data", "bpnet_steps.toml"),
                       "--fasta", os.path.join(DATA, "profiles.fa"),
                       "--labels", os.path.join(DATA, "profiles.tsv"),
                       "--valid-frac", "0", "--test-frac", "0"],
                      [s["loss"] for s in steps], "bpnet-lite")

if __name__ == "__main__":
    main()
