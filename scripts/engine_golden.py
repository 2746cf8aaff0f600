#!/usr/bin/env python3
"""onnxruntime outputs for the engine-exported models in tests/models/engine_*.onnx.

The models are written by the engine's exporter (tests/engine.rs, SEQLENS_BLESS=1); this
script checks them with onnx.checker, runs them in onnxruntime on seeded random sequences
(one-hot encoded here with numpy) and stores inputs and outputs in
tests/golden/engine_models.json, which tests/engine.rs compares with the engine.

Usage: python3 scripts/engine_golden.py
"""
import json
import os

import numpy as np
import onnx
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def one_hot(seqs):
    x = np.zeros((len(seqs), 4, len(seqs[0])), dtype=np.float32)
    for b, s in enumerate(seqs):
        for i, ch in enumerate(s):
            x[b, "ACGT".index(ch), i] = 1.0
    return x


def main():
    rng = np.random.default_rng(2026)
    out = {}
    for name in ["engine_a.onnx", "engine_b.onnx"]:
        path = os.path.join(ROOT, "tests", "models", name)
        onnx.checker.check_model(onnx.load(path))
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        length = sess.get_inputs()[0].shape[2]
        seqs = ["".join("ACGT"[i] for i in rng.integers(0, 4, length)) for _ in range(6)]
        y = sess.run(None, {"sequence": one_hot(seqs)})[0]
        out[name] = {"sequences": seqs, "outputs": y.tolist()}
    with open(os.path.join(ROOT, "tests", "golden", "engine_models.json"), "w") as f:
        json.dump(out, f, indent=1)
    print("wrote tests/golden/engine_models.json")


if __name__ == "__main__":
    main()
