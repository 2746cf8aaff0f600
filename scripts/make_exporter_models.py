#!/usr/bin/env python3
"""Models as today's PyTorch exports them, for the loader and the engine's importer: a
DeepBind-style CNN that pools with torch.amax, a small Basset-style CNN (conv, batch norm,
max-pool, dense), DanQ (conv, max-pool, bidirectional LSTM, flattened batch-first into dense
layers) and a GRU variant of it (bidirectional GRU, max over the length), DeepSEA, a
BPNet-like model with a profile and a counts head, a channels-last Keras-style model,
padded, ceil-mode and dilated pooling, and depthwise, grouped and longer-than-input
convolutions,
each exported with the legacy exporter (dynamo=False) and with the default dynamo exporter, which names symbolic dimensions itself and repeats them in every
intermediate shape; the DeepBind one also with the dynamo exporter's default external data
(weights in model.onnx.data). Random weights (seeded), non-trivial batch-norm statistics.

Expected numbers are onnxruntime's, on seeded random sequences one-hot encoded here with
numpy (and checked against PyTorch itself); input gradients of output y[0] are torch
autograd's. tests/exporters.rs (tract and the engine) and
tests/js/node.test.mjs (the npm package, external data passed as bytes) must match them.

Writes tests/models/exporters/*.onnx (+ .data) and tests/golden/exporters.json.
Usage: pip install torch onnx onnxscript onnxruntime numpy && python3 scripts/make_exporter_models.py
"""
import json
import os
import shutil

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "models", "exporters")
LENGTH = 101
torch.manual_seed(0)


class DeepBind(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 16, 11, padding=5)
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 2)

    def forward(self, x):
        h = torch.amax(torch.relu(self.conv(x)), dim=2)
        return torch.sigmoid(self.fc2(torch.relu(self.fc1(h))))


class Basset(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(4, 12, 9, padding=4)
        self.b1 = nn.BatchNorm1d(12)
        self.c2 = nn.Conv1d(12, 8, 5, padding=2)
        self.b2 = nn.BatchNorm1d(8)
        self.fc = nn.Linear(8 * 11, 3)

    def forward(self, x):
        x = nn.functional.max_pool1d(torch.relu(self.b1(self.c1(x))), 3)
        x = nn.functional.max_pool1d(torch.relu(self.b2(self.c2(x))), 2, 3)
        return torch.sigmoid(self.fc(torch.flatten(x, 1)))


class DanQ(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 16, 11, padding=5)
        self.lstm = nn.LSTM(16, 8, batch_first=True, bidirectional=True)
        self.fc1 = nn.Linear(16 * (LENGTH // 4), 12)
        self.fc2 = nn.Linear(12, 2)

    def forward(self, x):
        h = nn.functional.max_pool1d(torch.relu(self.conv(x)), 4)
        h, _ = self.lstm(h.transpose(1, 2))
        return torch.sigmoid(self.fc2(torch.relu(self.fc1(torch.flatten(h, 1)))))


class DanGru(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 16, 11, padding=5)
        self.gru = nn.GRU(16, 8, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(16, 2)

    def forward(self, x):
        h = nn.functional.max_pool1d(torch.relu(self.conv(x)), 4)
        h, _ = self.gru(h.transpose(1, 2))
        return torch.sigmoid(self.fc(torch.amax(h.transpose(1, 2), dim=2)))


class DeepSea(nn.Module):
    """DeepSEA (Zhou & Troyanskaya 2015), scaled down: three conv/ReLU blocks with max
    pooling and dropout, then two dense layers and a sigmoid per label."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(4, 16, 5)
        self.c2 = nn.Conv1d(16, 24, 5)
        self.c3 = nn.Conv1d(24, 32, 5)
        self.drop = nn.Dropout(0.2)
        self.fc1 = nn.Linear(32, 8)
        self.fc2 = nn.Linear(8, 4)

    def forward(self, x):
        x = self.drop(nn.functional.max_pool1d(torch.relu(self.c1(x)), 4, 4))
        x = self.drop(nn.functional.max_pool1d(torch.relu(self.c2(x)), 4, 4))
        x = self.drop(torch.relu(self.c3(x)))
        return torch.sigmoid(self.fc2(torch.relu(self.fc1(torch.flatten(x, 1)))))


class BpNet(nn.Module):
    """A BPNet-like model (Avsec et al. 2021, as bpnet-lite builds it): a wide first
    convolution, dilated residual convolutions, and two heads: a cropped per-position profile
    ([batch, 2, positions]) and counts from the mean over the length ([batch, 2])."""

    def __init__(self):
        super().__init__()
        self.iconv = nn.Conv1d(4, 16, 21, padding=10)
        self.rconvs = nn.ModuleList(nn.Conv1d(16, 16, 3, padding=d, dilation=d) for d in (2, 4))
        self.fconv = nn.Conv1d(16, 2, 15, padding=7)
        self.linear = nn.Linear(16, 2)

    def forward(self, x):
        h = torch.relu(self.iconv(x))
        for conv in self.rconvs:
            h = h + torch.relu(conv(h))
        profile = self.fconv(h)[:, :, 10:-10]
        counts = self.linear(torch.mean(h, dim=2))
        return profile, counts


class KerasStyle(nn.Module):
    """A channels-last model as Keras builds one: the input is [batch, length, 4], the
    convolution runs on the transposed tensor, and Flatten reads position-major."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 12, 7, padding=3)
        self.fc = nn.Linear(12 * (LENGTH // 4), 3)

    def forward(self, x):
        h = nn.functional.max_pool1d(torch.relu(self.conv(x.transpose(1, 2))), 4)
        return torch.sigmoid(self.fc(torch.flatten(h.transpose(1, 2), 1)))


class Pools(nn.Module):
    """Pooling as PyTorch users write it beyond the plain window: padded ceil-mode max
    pooling, padded ceil-mode average pooling that counts the padding (PyTorch's default),
    dilated max pooling, and padded average pooling that does not count it."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(4, 8, 5, padding=2)
        self.p1 = nn.MaxPool1d(3, 2, padding=1, ceil_mode=True)
        self.c2 = nn.Conv1d(8, 8, 3, padding=1)
        self.p2 = nn.AvgPool1d(4, 3, padding=2, ceil_mode=True)
        self.p3 = nn.MaxPool1d(3, 1, dilation=2)
        self.p4 = nn.AvgPool1d(3, 2, padding=1, count_include_pad=False)
        self.fc = nn.LazyLinear(2)
        self(torch.zeros(1, 4, LENGTH))  # sizes the dense layer

    def forward(self, x):
        h = self.p1(torch.relu(self.c1(x)))
        h = self.p2(torch.relu(self.c2(h)))
        h = self.p4(self.p3(h))
        return torch.sigmoid(self.fc(torch.flatten(h, 1)))


class Separable(nn.Module):
    """Depthwise-separable and grouped convolutions (as in compact CNNs), and a kernel longer
    than twice its input: after max pooling to 9 positions, a 21-wide convolution with same
    padding (issue 12 found such a layer panicking)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(4, 16, 5, padding=2)
        self.depthwise = nn.Conv1d(16, 16, 9, padding=4, groups=16)
        self.pointwise = nn.Conv1d(16, 8, 1)
        self.grouped = nn.Conv1d(8, 8, 3, padding=1, groups=2)
        self.long = nn.Conv1d(8, 4, 21, padding=10)
        self.fc = nn.Linear(4 * 9, 2)

    def forward(self, x):
        h = torch.relu(self.pointwise(self.depthwise(torch.relu(self.c1(x)))))
        h = nn.functional.max_pool1d(torch.relu(self.grouped(h)), 11)
        h = torch.relu(self.long(h))
        return torch.sigmoid(self.fc(torch.flatten(h, 1)))


def export(net, name, dynamo, external=False, nlc=False, outputs=("y",)):
    path = os.path.join(OUT, f"{name}.onnx")
    x = torch.zeros(2, LENGTH, 4) if nlc else torch.zeros(2, 4, LENGTH)
    if dynamo:
        torch.onnx.export(net, (x,), path, input_names=["x"], output_names=list(outputs),
                          dynamic_shapes={"x": {0: torch.export.Dim("batch")}},
                          dynamo=True, external_data=external)
    else:
        torch.onnx.export(net, (x,), path, input_names=["x"], output_names=list(outputs),
                          dynamic_axes={k: {0: "batch"} for k in ("x", *outputs)},
                          opset_version=13, dynamo=False)
    return path


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    rng = np.random.default_rng(5)
    seqs = ["".join("ACGT"[i] for i in rng.integers(0, 4, LENGTH)) for _ in range(5)]
    x = np.zeros((len(seqs), 4, LENGTH), np.float32)
    for b, s in enumerate(seqs):
        for i, c in enumerate(s):
            x[b, "ACGT".index(c), i] = 1
    golden = {"torch": torch.__version__, "onnxruntime": ort.__version__, "sequences": seqs, "models": {}}
    for arch, net in [("deepbind", DeepBind()), ("basset", Basset()), ("danq", DanQ()),
                      ("dangru", DanGru()), ("deepsea", DeepSea()), ("bpnet", BpNet()),
                      ("keras", KerasStyle()), ("pools", Pools()),
                      ("separable", Separable())]:
        nlc = arch == "keras"
        xin = torch.from_numpy(x.transpose(0, 2, 1).copy() if nlc else x)
        outputs = ("profile", "counts") if arch == "bpnet" else ("y",)
        net.train()
        with torch.no_grad():
            for _ in range(3):
                net(torch.randn(16, LENGTH, 4) if nlc else torch.randn(16, 4, LENGTH))
        net.eval()
        with torch.no_grad():
            want = net(xin)
        # Every output flattened per sequence and concatenated, as seqlens reports them.
        flat = lambda ys: np.concatenate(
            [np.asarray(y).reshape(len(seqs), -1) for y in (ys if isinstance(ys, (tuple, list)) else [ys])], 1)
        want = flat([w.numpy() for w in want] if isinstance(want, tuple) else want.numpy())
        xg = xin.clone().requires_grad_(True)
        y = net(xg)
        y = y[1] if isinstance(y, tuple) else y
        y[:, 0].sum().backward()
        g = xg.grad.numpy()
        # Gradients as seqlens reports them: [channels, length] per sequence.
        g = g.transpose(0, 2, 1) if nlc else g
        grads = [gi.ravel().tolist() for gi in g.astype(float)]
        cases = [(f"{arch}_legacy", False, False), (f"{arch}_dynamo", True, False)]
        if arch == "deepbind":
            cases.append((f"{arch}_dynamo_external", True, True))
        for name, dynamo, external in cases:
            path = export(net, name, dynamo, external, nlc, outputs)
            y = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"x": xin.numpy()})
            y = flat(y)
            assert np.allclose(y, want, atol=1e-5), name
            files = sorted(f for f in os.listdir(OUT) if f.startswith(name + ".onnx"))
            # The gradients are of the last output's first value (bpnet: counts[0]).
            golden["models"][name] = {"files": files, "outputs": y.tolist(), "gradients_y0": grads,
                                      "target": f"{outputs[-1]}[0]" if len(outputs) > 1 else "y[0]"}
            print("wrote", name, files)
    with open(os.path.join(ROOT, "tests", "golden", "exporters.json"), "w") as f:
        json.dump(golden, f, indent=1)


if __name__ == "__main__":
    main()
