#!/usr/bin/env python3
"""Writes a DeepSEA-shaped ONNX model with random weights (Zhou & Troyanskaya 2015 layer
specs: conv 320x8, pool 4, conv 480x8, pool 4, conv 960x8, dense 925, dense 919, sigmoid;
~1.10 GFLOP per 1000-bp sequence, ~190 MB of weights). Generated, never committed.

Usage: python3 benches/peers/make_deepsea.py [out.onnx]   (default benches/peers/deepsea.onnx)
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "deepsea.onnx")
    if os.path.exists(out):
        print("exists:", out)
        return
    rng = np.random.default_rng(1)

    def w(*shape):
        fan_in = int(np.prod(shape[1:]))
        return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)

    inits = {
        "w1": w(320, 4, 8), "b1": np.zeros(320, np.float32),
        "w2": w(480, 320, 8), "b2": np.zeros(480, np.float32),
        "w3": w(960, 480, 8), "b3": np.zeros(960, np.float32),
        "w4": w(925, 960 * 53), "b4": np.zeros(925, np.float32),
        "w5": w(919, 925), "b5": np.zeros(919, np.float32),
    }
    n = helper.make_node
    nodes = [
        n("Conv", ["x", "w1", "b1"], ["c1"], kernel_shape=[8]), n("Relu", ["c1"], ["r1"]),
        n("MaxPool", ["r1"], ["p1"], kernel_shape=[4], strides=[4]),
        n("Conv", ["p1", "w2", "b2"], ["c2"], kernel_shape=[8]), n("Relu", ["c2"], ["r2"]),
        n("MaxPool", ["r2"], ["p2"], kernel_shape=[4], strides=[4]),
        n("Conv", ["p2", "w3", "b3"], ["c3"], kernel_shape=[8]), n("Relu", ["c3"], ["r3"]),
        n("Flatten", ["r3"], ["f"]),
        n("Gemm", ["f", "w4", "b4"], ["d4"], transB=1), n("Relu", ["d4"], ["r4"]),
        n("Gemm", ["r4", "w5", "b5"], ["d5"], transB=1), n("Sigmoid", ["d5"], ["y"]),
    ]
    g = helper.make_graph(nodes, "deepsea_random",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4, 1000])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 919])],
                          initializer=[numpy_helper.from_array(v, k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="seqlens benches")
    m.ir_version = 8
    for k, v in {"seqlens.length": "1000", "seqlens.labels": json.dumps([f"feature_{i}" for i in range(919)])}.items():
        e = m.metadata_props.add()
        e.key, e.value = k, v
    onnx.save(m, out)
    print("wrote", out)


if __name__ == "__main__":
    main()
