#!/usr/bin/env python3
"""Goldens from tangermeme 1.6's greedy_substitution and beam_substitution for
tests/design.rs (tests/golden/design.json).

The PyTorch models are rebuilt from the ONNX files that scripts/tangermeme_golden.py wrote
(tests/models/deeplift/deepbind.onnx and basset.onnx; the Basset-like model's batch norms
are folded into its convolutions there, so it is rebuilt without them), and each rebuilt
model is checked against onnxruntime on the same inputs before it is used. Each case
designs one random sequence by single-base substitutions (motifs=None) and records the
designed sequences with their predictions and losses: tangermeme's MSE loss towards `y`, or,
without `y`, the negated mean of the masked outputs.

Usage: pip install -r scripts/requirements.txt && python3 scripts/design_golden.py
"""
import json
import os

import numpy as np
import onnx
import onnxruntime as ort
import tangermeme
import torch
from onnx import numpy_helper
from tangermeme.design import beam_substitution, greedy_substitution
from torch import nn

# The golden scripts' shared one-hot helpers (this directory is on the path when run).
from tangermeme_golden import decode, one_hot

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "tests", "models", "deeplift")


def deepbind():
    net = nn.Sequential(nn.Conv1d(4, 16, 11, padding=5), nn.ReLU(), nn.MaxPool1d(100),
                        nn.Flatten(), nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 2))
    names = ["conv.weight", "conv.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    return net, dict(zip(names, net.parameters()))


def basset():
    layers = []
    for cin, cout, k, p in [(4, 24, 19, 3), (24, 32, 11, 4), (32, 32, 7, 4)]:
        layers += [nn.Conv1d(cin, cout, k, padding=k // 2), nn.ReLU(), nn.MaxPool1d(p)]
    net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(160, 48), nn.ReLU(), nn.Linear(48, 2))
    names = ["onnx::Conv_43", "onnx::Conv_44", "onnx::Conv_46", "onnx::Conv_47",
             "onnx::Conv_49", "onnx::Conv_50", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    return net, dict(zip(names, net.parameters()))


def load(name, build, length, rng):
    path = os.path.join(MODELS, f"{name}.onnx")
    weights = {i.name: numpy_helper.to_array(i) for i in onnx.load(path).graph.initializer}
    net, params = build()
    with torch.no_grad():
        for key, p in params.items():
            p.copy_(torch.from_numpy(weights[key].copy()))
    net.eval()
    x = one_hot(["".join("ACGT"[i] for i in rng.integers(0, 4, length)) for _ in range(4)])
    with torch.no_grad():
        want = net(x).numpy()
    got = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"x": x.numpy()})[0]
    assert np.allclose(got, want, atol=1e-5), name
    return net


def main():
    rng = np.random.default_rng(5)
    nets = {"deepbind.onnx": load("deepbind", deepbind, 100, rng),
            "basset.onnx": load("basset", basset, 240, rng)}
    cases = [
        # model, y, output mask, region, beam (None: greedy), n_best, edits, tol
        ("deepbind.onnx", None, [True, False], None, None, 1, 6, 1e-3),
        ("deepbind.onnx", [2.0, -1.0], [True, True], (30, 70), None, 1, 5, 1e-3),
        ("deepbind.onnx", None, [False, True], None, None, 1, 20, 0.05),
        ("basset.onnx", None, [True, True], (60, 180), 3, 3, 4, 1e-3),
        ("basset.onnx", [1.5, 0.5], [True, True], None, 4, 2, 3, 1e-3),
    ]
    out = {"torch": torch.__version__, "tangermeme": tangermeme.__version__, "cases": []}
    for model, y, mask, region, beam, n_best, edits, tol in cases:
        net = nets[model]
        length = 100 if model == "deepbind.onnx" else 240
        seq = "".join("ACGT"[i] for i in rng.integers(0, 4, length))
        x = one_hot([seq])
        input_mask = None
        if region is not None:
            input_mask = torch.zeros(length, dtype=torch.bool)
            input_mask[region[0]:region[1]] = True
        yt = None if y is None else torch.tensor([y])
        kw = dict(y=yt, input_mask=input_mask, output_mask=torch.tensor(mask), tol=tol,
                  max_iter=edits, device="cpu")
        with torch.no_grad():
            if beam is None:
                designed = greedy_substitution(net, x, **kw)
            else:
                designed = beam_substitution(net, x, beam_size=beam, n_best=n_best, **kw)
            before = net(x)
            after = net(designed)
        m = torch.tensor(mask)
        if yt is None:
            losses = -after[:, m].mean(dim=1)
        else:
            losses = ((after[:, m] - yt[:, m]) ** 2).mean(dim=1)
        out["cases"].append({
            "model": model, "sequence": seq, "y": y, "mask": mask, "region": region,
            "beam": beam, "n_best": n_best, "edits": edits, "tol": tol,
            "before": before[0].double().tolist(),
            "designed": [decode(d) for d in designed],
            "after": after.double().tolist(),
            "loss": losses.double().tolist(),
        })
        print(model, "beam", beam, "edits", sum(a != b for a, b in zip(seq, decode(designed[0]))),
              "loss", losses.tolist())
    with open(os.path.join(ROOT, "tests", "golden", "design.json"), "w") as f:
        json.dump(out, f, indent=1)
    print("wrote tests/golden/design.json")


if __name__ == "__main__":
    main()
