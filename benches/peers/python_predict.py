#!/usr/bin/env python3
"""The Python package against onnxruntime's Python API in one process: the same model, the
same one-hot (N, 4, L) float32 array, the same thread count (SEQLENS_BENCH_THREADS, default
2: RAYON_NUM_THREADS for seqlens, intra_op_num_threads for onnxruntime), batch 64 on both.
Prints sequences per second and the ratio. Needs the seqlens wheel (scripts/test-python.sh
builds one; use `maturin build --release` for numbers) and onnxruntime==1.32.0.

Usage: RAYON_NUM_THREADS=2 python3 benches/peers/python_predict.py [model.onnx] [N]
"""
import os
import sys
import time

import numpy as np
import onnxruntime as ort

import seqlens

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "examples/models/demo.onnx")
n = int(sys.argv[2]) if len(sys.argv) > 2 else 2048
threads = int(os.environ.get("SEQLENS_BENCH_THREADS", "2"))
if os.environ.get("RAYON_NUM_THREADS") != str(threads):
    sys.exit(f"set RAYON_NUM_THREADS={threads} (seqlens' pool is sized when it loads)")

model = seqlens.Model.load(path, backend="cpu")
length = model.info()["metadata"]["length"]
rng = np.random.default_rng(42)
x = seqlens.one_hot(["".join("ACGT"[i] for i in row) for row in rng.integers(0, 4, (n, length))])

opts = ort.SessionOptions()
opts.intra_op_num_threads = threads
opts.inter_op_num_threads = 1
sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
name = sess.get_inputs()[0].name


def ort_predict(x):
    return np.concatenate([sess.run(None, {name: x[i:i + 64]})[0] for i in range(0, len(x), 64)])


def rate(f):
    f(x[:64])  # warm up
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        y = f(x)
        best = min(best, time.perf_counter() - start)
    return y, n / best


ours, ours_rate = rate(lambda x: model.predict(x, batch_size=64))
theirs, their_rate = rate(ort_predict)
diff = float(np.abs(ours - theirs.reshape(ours.shape)).max())
print(f"model={os.path.basename(path)} n={n} threads={threads} max_abs_diff={diff:.2e}")
print(f"seqlens (python) seq_per_s={ours_rate:.1f}")
print(f"onnxruntime (python) seq_per_s={their_rate:.1f}")
print(f"ratio seqlens/onnxruntime={ours_rate / their_rate:.2f}")
