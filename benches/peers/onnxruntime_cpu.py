#!/usr/bin/env python3
"""onnxruntime (CPU; SEQLENS_BENCH_THREADS intra-op threads, default 1) on the same model,
batches and input length as benches/predict.rs. Prints lines in the same format for
benches/peers/native.sh."""
import os
import sys
import time

import numpy as np
import onnxruntime as ort

path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "deepsea.onnx")
batches = [int(b) for b in os.environ.get("SEQLENS_BENCH_BATCHES", "1,64").replace(",", " ").split()]
opts = ort.SessionOptions()
opts.intra_op_num_threads = int(os.environ.get("SEQLENS_BENCH_THREADS", "1"))
opts.inter_op_num_threads = 1
sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
inp = sess.get_inputs()[0]
length = inp.shape[2] if isinstance(inp.shape[2], int) else 1000
rng = np.random.default_rng(42)
for batch in batches:
    idx = rng.integers(0, 4, size=(batch, length))
    x = np.zeros((batch, 4, length), np.float32)
    np.put_along_axis(x, idx[:, None, :], 1.0, axis=1)
    sess.run(None, {inp.name: x})
    runs, start = 0, time.perf_counter()
    while time.perf_counter() - start < 5 or runs < 3:
        sess.run(None, {inp.name: x})
        runs += 1
    secs = time.perf_counter() - start
    print(f"onnxruntime batch={batch} seq_per_s={runs * batch / secs:.2f} ms_per_batch={1000 * secs / runs:.1f}")
