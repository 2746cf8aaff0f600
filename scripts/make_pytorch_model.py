#!/usr/bin/env python3
"""A small Basset-style CNN in PyTorch, exported with torch.onnx.export, plus onnxruntime's
outputs on seeded random sequences. tests/engine.rs imports the ONNX file into the engine
and must match onnxruntime within 1e-5.

Writes tests/models/pytorch_cnn.onnx and tests/golden/pytorch_cnn.json.
Usage: pip install torch onnx onnxruntime && python3 scripts/make_pytorch_model.py
"""
import json
import os

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(4, 16, 9, padding=4)
        self.bn1 = nn.BatchNorm1d(16)
        self.pool = nn.MaxPool1d(2)
        self.conv2 = nn.Conv1d(16, 8, 5, dilation=2)
        self.fc1 = nn.Linear(8 * 42, 12)
        self.fc2 = nn.Linear(12, 3)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn1(self.conv1(x))))
        x = nn.functional.elu(self.conv2(x))
        x = torch.flatten(x, 1)
        return torch.sigmoid(self.fc2(torch.relu(self.fc1(x))))


def main():
    net = Net()
    # Non-trivial batch-norm statistics, then inference mode for export.
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.randn(16, 4, 100))
    net.eval()
    path = os.path.join(ROOT, "tests", "models", "pytorch_cnn.onnx")
    torch.onnx.export(net, torch.zeros(1, 4, 100), path, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, opset_version=13, dynamo=False)
    rng = np.random.default_rng(9)
    seqs = ["".join("ACGT"[i] for i in rng.integers(0, 4, 100)) for _ in range(4)]
    x = np.zeros((4, 4, 100), np.float32)
    for b, s in enumerate(seqs):
        for i, c in enumerate(s):
            x[b, "ACGT".index(c), i] = 1
    y = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    with torch.no_grad():
        assert np.allclose(net(torch.from_numpy(x)).numpy(), y, atol=1e-6)
    with open(os.path.join(ROOT, "tests", "golden", "pytorch_cnn.json"), "w") as f:
        json.dump({"torch": torch.__version__, "sequences": seqs, "outputs": y.tolist()}, f, indent=1)
    print("wrote", path)


if __name__ == "__main__":
    main()
