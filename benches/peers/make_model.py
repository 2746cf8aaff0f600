#!/usr/bin/env python3
"""Writes a benchmark model with random weights, never committed:

- deepsea: DeepSEA's layer specs (Zhou & Troyanskaya 2015): conv 320x8, pool 4, conv 480x8,
  pool 4, conv 960x8, dense 925, dense 919, sigmoid; 1000 bp, ~1.10 GFLOP per sequence,
  ~190 MB of weights.
- basset: Basset's (Kelley et al. 2016): conv 300x19, pool 3, conv 200x11, pool 4, conv 200x7,
  pool 4, dense 1000, dense 1000, dense 164, sigmoid; 600 bp (batch norm folded away, as it is
  at inference).

Usage: python3 benches/peers/make_model.py [deepsea|basset] [out.onnx]
       (default deepsea, written to benches/peers/<arch>.onnx)
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))

# Per architecture: input length, convolutions (filters, width, pool after), dense widths.
ARCHS = {
    "deepsea": (1000, [(320, 8, 4), (480, 8, 4), (960, 8, None)], [925, 919]),
    "basset": (600, [(300, 19, 3), (200, 11, 4), (200, 7, 4)], [1000, 1000, 164]),
}


def main():
    arch = sys.argv[1] if len(sys.argv) > 1 else "deepsea"
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, f"{arch}.onnx")
    if os.path.exists(out):
        print("exists:", out)
        return
    length, convs, dense = ARCHS[arch]
    rng = np.random.default_rng(1)

    def w(*shape):
        fan_in = int(np.prod(shape[1:]))
        return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)

    n = helper.make_node
    inits, nodes = {}, []
    x, channels, positions = "x", 4, length
    for i, (filters, width, pool) in enumerate(convs):
        inits[f"cw{i}"], inits[f"cb{i}"] = w(filters, channels, width), np.zeros(filters, np.float32)
        nodes += [n("Conv", [x, f"cw{i}", f"cb{i}"], [f"c{i}"], kernel_shape=[width]),
                  n("Relu", [f"c{i}"], [f"r{i}"])]
        x, channels, positions = f"r{i}", filters, positions - width + 1
        if pool:
            nodes.append(n("MaxPool", [x], [f"p{i}"], kernel_shape=[pool], strides=[pool]))
            x, positions = f"p{i}", positions // pool
    nodes.append(n("Flatten", [x], ["f"]))
    x, width = "f", channels * positions
    for i, units in enumerate(dense):
        inits[f"dw{i}"], inits[f"db{i}"] = w(units, width), np.zeros(units, np.float32)
        nodes.append(n("Gemm", [x, f"dw{i}", f"db{i}"], [f"d{i}"], transB=1))
        last = i == len(dense) - 1
        nodes.append(n("Sigmoid" if last else "Relu", [f"d{i}"], ["y" if last else f"a{i}"]))
        x, width = f"a{i}", units
    g = helper.make_graph(nodes, f"{arch}_random",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4, length])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", dense[-1]])],
                          initializer=[numpy_helper.from_array(v, k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="seqlens benches")
    m.ir_version = 8
    labels = json.dumps([f"feature_{i}" for i in range(dense[-1])])
    for k, v in {"seqlens.length": str(length), "seqlens.labels": labels}.items():
        e = m.metadata_props.add()
        e.key, e.value = k, v
    onnx.save(m, out)
    print("wrote", out)


if __name__ == "__main__":
    main()
