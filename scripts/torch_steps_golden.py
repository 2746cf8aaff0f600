#!/usr/bin/env python3
"""PyTorch's training steps, the reference for `seqlens train`'s (tests/train_torch.rs).

A small CNN with batch norm (conv 15 -> batch norm -> ReLU -> max pool 4 -> conv 5 -> ReLU ->
max pool over the rest -> linear to 8 logits) starts from torch.manual_seed(0)'s default
initialisation and is exported to ONNX as it is before the first step. PyTorch then trains it
for two epochs on examples/data/train/train.fa (400 sequences of 500 bases, eight labels in
the headers): Adam (lr 1e-3, PyTorch's defaults otherwise), BCEWithLogitsLoss, batches of 32
in file order (no shuffle), no dropout or augmentation. Every step's loss is recorded.

`seqlens train --init` on the exported model with the same data and settings must take the
same steps: tests/train_torch.rs runs it and compares each step's loss with these.

Writes tests/models/torch_steps_init.onnx and tests/golden/torch_steps.json. If a seqlens
binary is given, also runs it and prints the largest difference.

Usage: pip install -r scripts/requirements.txt
       python3 scripts/torch_steps_golden.py [target/release/seqlens]
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "examples", "data", "train", "train.fa")
LENGTH, BATCH, EPOCHS, LR = 500, 32, 2, 1e-3
LABELS = "CTCF,GATA1,SPI1,FOXA1,HNF4A,CEBPB,REST,TP53"


def read_fasta(path):
    lines = open(path).read().split("\n")
    heads, seqs = lines[0::2], lines[1::2]
    ys = [[float(v) for v in h.split()[1:]] for h in heads if h]
    return seqs[: len(ys)], np.array(ys, np.float32)


def one_hot(seqs):
    x = np.zeros((len(seqs), 4, LENGTH), np.float32)
    for b, s in enumerate(seqs):
        assert len(s) == LENGTH, len(s)
        for i, c in enumerate(s):
            if c in "ACGT":
                x[b, "ACGT".index(c), i] = 1
    return x


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(4, 16, 15, padding=7)
        self.bn1 = nn.BatchNorm1d(16)
        self.pool1 = nn.MaxPool1d(4)
        self.conv2 = nn.Conv1d(16, 16, 5, padding=2)
        self.pool2 = nn.MaxPool1d(LENGTH // 4)
        self.fc = nn.Linear(16, 8)

    def forward(self, x):
        x = self.pool1(torch.relu(self.bn1(self.conv1(x))))
        x = self.pool2(torch.relu(self.conv2(x)))
        return self.fc(torch.flatten(x, 1))


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    net = Net()
    init = os.path.join(ROOT, "tests", "models", "torch_steps_init.onnx")
    net.eval()
    torch.onnx.export(net, torch.zeros(1, 4, LENGTH), init, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, opset_version=13,
                      dynamo=False, training=torch.onnx.TrainingMode.TRAINING)
    # In eval mode both exporters fold the batch norm into the convolution, which would leave
    # nothing to train in training mode. Exported in training mode, it is a BatchNormalization
    # with four running-statistics outputs besides its result: keep the result only, which
    # is the inference node with the same parameters.
    model = onnx.load(init)
    for node in model.graph.node:
        if node.op_type == "BatchNormalization":
            del node.output[1:]
            keep = [a for a in node.attribute if a.name != "training_mode"]
            del node.attribute[:]
            node.attribute.extend(keep)
    onnx.checker.check_model(model)
    onnx.save(model, init)
    seqs, y = read_fasta(DATA)
    x = torch.from_numpy(one_hot(seqs))
    y = torch.from_numpy(y)
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    loss_fn = nn.BCEWithLogitsLoss()
    losses = []
    for epoch in range(EPOCHS):
        for b in range(0, len(x), BATCH):
            opt.zero_grad()
            loss = loss_fn(net(x[b:b + BATCH]), y[b:b + BATCH])
            loss.backward()
            opt.step()
            losses.append(loss.item())
    out = os.path.join(ROOT, "tests", "golden", "torch_steps.json")
    with open(out, "w") as f:
        json.dump({"torch": torch.__version__, "batch_size": BATCH, "epochs": EPOCHS, "lr": LR,
                   "losses": losses}, f, indent=1)
    print("wrote", init, "and", out, f"({len(losses)} steps)")

    if len(sys.argv) > 1:
        compare_steps([sys.argv[1], "train", "--init", init, "--fasta", DATA, "--label-names",
                       LABELS, "--valid-fasta", os.path.join(ROOT, "examples", "data", "train",
                                                             "valid.fa"),
                       "--test-frac", "0", "--no-shuffle", "--batch-size", str(BATCH),
                       "--epochs", str(EPOCHS), "--lr", str(LR)], losses, "PyTorch")


def compare_steps(command, want, peer):
    """Runs a `seqlens train` command with a step log and prints each step's loss beside the
    peer's (`want`), and the largest difference."""
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "steps.tsv")
        subprocess.run(command + ["--step-log", log], check=True)
        ours = [float(l.split("\t")[2]) for l in open(log).read().split("\n")[1:] if l]
    diff = [abs(a - b) for a, b in zip(ours, want)]
    print(f"seqlens vs {peer}, {len(ours)} steps: largest |loss difference| {max(diff):.3g}")
    for i, (a, b) in enumerate(zip(ours, want)):
        print(f"step {i + 1:3d}  {peer} {b:.6f}  seqlens {a:.6f}")

if __name__ == "__main__":
    main()
