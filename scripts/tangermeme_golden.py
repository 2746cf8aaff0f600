#!/usr/bin/env python3
"""Goldens from tangermeme: deep_lift_shap for tests/deeplift.rs, and marginalize and space
for tests/perturb.rs.

Three PyTorch models written with torch.nn modules (so that tangermeme's rules attach):
- deepbind: conv, ReLU, a max pool over the whole length, dense, ReLU, dense;
- basset: three conv + batch norm (non-trivial running statistics) + ReLU + max pool
  blocks, dense, ReLU, dense;
- bpnet: a wide conv and four dilated residual blocks (x + ReLU(conv(x))), the mean over
  the length, dense;
- classifier: deepbind with a softmax over its outputs;
- splice: convs, a residual block, a per-position softmax over three classes (as SpliceAI
  ends), the mean over the length.
Each but the softmax ones outputs logits, is exported to ONNX with PyTorch's legacy
exporter (checked against onnxruntime), and is explained by tangermeme 1.6 with given
references: for each sequence, dinucleotide shuffles from tangermeme's own shuffle,
written beside the numbers so that seqlens uses the very same references.

Written for targets 0 and 1: the averaged hypothetical contributions (hypothetical=True),
the contributions of the observed bases (hypothetical=False), and per (sequence, reference)
pair f(x), f(reference) and the convergence delta |sum((x - r) * m) - (f(x) - f(r))| from
tangermeme's own multipliers (raw_outputs=True).

marginalize and space (tests/golden/perturb.json), on the Basset-like model: 6 random
backgrounds; a motif with an N (which keeps the background's base) centred and at a given
start; two motifs at spacings 0, 3 and 11, centred; y_before and y_after.

Writes tests/models/deeplift/*.onnx, tests/golden/deeplift.json and tests/golden/perturb.json.
Usage: pip install -r scripts/requirements.txt && python3 scripts/tangermeme_golden.py
"""
import json
import os
import shutil
import warnings

import numpy as np
import onnxruntime as ort
import tangermeme
import torch
from tangermeme.deep_lift_shap import deep_lift_shap
from tangermeme.ersatz import dinucleotide_shuffle
from tangermeme.marginalize import marginalize
from tangermeme.space import space
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "models", "deeplift")
torch.manual_seed(0)


class DeepBind(nn.Module):
    def __init__(self, length):
        super().__init__()
        self.conv = nn.Conv1d(4, 16, 11, padding=5)
        self.relu1 = nn.ReLU()
        self.pool = nn.MaxPool1d(length)
        self.fc1 = nn.Linear(16, 32)
        self.relu2 = nn.ReLU()
        self.fc2 = nn.Linear(32, 2)

    def forward(self, x):
        h = torch.flatten(self.pool(self.relu1(self.conv(x))), 1)
        return self.fc2(self.relu2(self.fc1(h)))


class Basset(nn.Module):
    def __init__(self, length):
        super().__init__()
        blocks = []
        for cin, cout, k, p in [(4, 24, 19, 3), (24, 32, 11, 4), (32, 32, 7, 4)]:
            blocks += [nn.Conv1d(cin, cout, k, padding=k // 2), nn.BatchNorm1d(cout), nn.ReLU(),
                       nn.MaxPool1d(p)]
        self.body = nn.Sequential(*blocks)
        self.fc1 = nn.Linear(32 * (length // 3 // 4 // 4), 48)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(48, 2)

    def forward(self, x):
        return self.fc2(self.relu(self.fc1(torch.flatten(self.body(x), 1))))


class BpNet(nn.Module):
    def __init__(self, length):
        super().__init__()
        self.stem = nn.Conv1d(4, 32, 21, padding=10)
        self.stem_relu = nn.ReLU()
        self.convs = nn.ModuleList(nn.Conv1d(32, 32, 3, padding=2 ** i, dilation=2 ** i)
                                   for i in range(1, 5))
        self.relus = nn.ModuleList(nn.ReLU() for _ in range(4))
        self.fc = nn.Linear(32, 2)

    def forward(self, x):
        h = self.stem_relu(self.stem(x))
        for conv, relu in zip(self.convs, self.relus):
            h = h + relu(conv(h))
        return self.fc(h.mean(dim=2))


class Classifier(DeepBind):
    """DeepBind with a softmax over its two outputs (probabilities, as classifiers export)."""

    def __init__(self, length):
        super().__init__(length)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        return self.softmax(super().forward(x))


class Splice(nn.Module):
    """A SpliceAI-like head: per-position softmax over three classes, then the mean over
    the length (tangermeme explains one value per output)."""

    def __init__(self, length):
        super().__init__()
        self.c1 = nn.Conv1d(4, 16, 9, padding=4)
        self.relu = nn.ReLU()
        self.c2 = nn.Conv1d(16, 16, 3, padding=4, dilation=4)
        self.relu2 = nn.ReLU()
        self.head = nn.Conv1d(16, 3, 1)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        h = self.relu(self.c1(x))
        h = h + self.relu2(self.c2(h))
        return self.softmax(self.head(h)).mean(dim=2)


def one_hot(seqs):
    x = np.zeros((len(seqs), 4, len(seqs[0])), np.float32)
    for b, s in enumerate(seqs):
        for i, c in enumerate(s):
            x[b, "ACGT".index(c), i] = 1
    return torch.from_numpy(x)


def decode(x):
    return "".join("ACGT"[i] for i in x.argmax(0).tolist())


def perturb(net, length, rng):
    seqs = ["".join("ACGT"[i] for i in rng.integers(0, 4, length)) for _ in range(6)]
    x = one_hot(seqs)
    out = {"model": "basset.onnx", "backgrounds": seqs, "cases": []}
    rows = lambda y: y.double().tolist()
    for motif, start in [("TGACTCANNGCA", None), ("TGACTCANNGCA", 17)]:
        with torch.no_grad():
            r = marginalize(net, x, motif, start=start, device="cpu")
        out["cases"].append({"motifs": [motif], "spacing": [[]], "start": start,
                             "before": rows(r.y_before), "after": rows(r.y_after[:, None])})
    spacing = [[0], [3], [11]]
    with torch.no_grad():
        r = space(net, x, ["TGACTCA", "GATAAG"], spacing, device="cpu")
    out["cases"].append({"motifs": ["TGACTCA", "GATAAG"], "spacing": spacing, "start": None,
                         "before": rows(r.y_before), "after": rows(r.y_afters)})
    with open(os.path.join(ROOT, "tests", "golden", "perturb.json"), "w") as f:
        json.dump(out, f, indent=1)
    print("wrote tests/golden/perturb.json")


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    golden = {"torch": torch.__version__, "tangermeme": tangermeme.__version__, "models": {}}
    rng = np.random.default_rng(11)
    for name, cls, length in [("deepbind", DeepBind, 100), ("basset", Basset, 240), ("bpnet", BpNet, 150),
                              ("classifier", Classifier, 100), ("splice", Splice, 120)]:
        net = cls(length)
        # Non-trivial batch-norm statistics.
        net.train()
        with torch.no_grad():
            for _ in range(3):
                net(torch.randn(16, 4, length))
        net.eval()
        seqs = ["".join("ACGT"[i] for i in rng.integers(0, 4, length)) for _ in range(3)]
        x = one_hot(seqs)
        refs = dinucleotide_shuffle(x, n=4, random_state=7)
        path = os.path.join(OUT, f"{name}.onnx")
        torch.onnx.export(net, (torch.zeros(2, 4, length),), path, input_names=["x"],
                          output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
                          opset_version=13, dynamo=False)
        with torch.no_grad():
            want = net(x).numpy()
        got = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"x": x.numpy()})[0]
        assert np.allclose(got, want, atol=1e-5), name
        entry = {"file": f"{name}.onnx", "sequences": seqs,
                 "references": [[decode(r) for r in rs] for rs in refs], "targets": {}}
        for target in (0, 1):
            kw = dict(target=target, references=refs, device="cpu", warning_threshold=1e9)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                hyp = deep_lift_shap(net, x, hypothetical=True, **kw)
                obs = deep_lift_shap(net, x, hypothetical=False, **kw)
                raw = deep_lift_shap(net, x, raw_outputs=True, **kw)  # (n, refs, 4, L)
            with torch.no_grad():
                fx = net(x)[:, target]
                fr = net(refs.reshape(-1, 4, length)).reshape(len(seqs), refs.shape[1], -1)[:, :, target]
            diffs = ((x[:, None] - refs) * raw).sum(dim=(2, 3))
            deltas = (diffs - (fx[:, None] - fr)).abs()
            entry["targets"][str(target)] = {
                "hypothetical": [h.ravel().tolist() for h in hyp.double()],
                "observed": [o.ravel().tolist() for o in obs.double()],
                "f_x": fx.double().tolist(),
                "f_references": fr.double().tolist(),
                "deltas": deltas.double().tolist(),
            }
            print(name, "target", target, "max delta", float(deltas.max()))
        golden["models"][name] = entry
        if name == "basset":
            perturb(net, length, rng)
    with open(os.path.join(ROOT, "tests", "golden", "deeplift.json"), "w") as f:
        json.dump(golden, f, indent=1)
    print("wrote tests/golden/deeplift.json")


if __name__ == "__main__":
    main()
