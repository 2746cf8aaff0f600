#!/usr/bin/env python3
"""Small ONNX models, one per operator the engine imports beyond the exporters' tests, with
onnxruntime's outputs and hand-computed input gradients (tests/golden/ops.json, checked by
tests/ops.rs on tract, the engine and the GPU).

Each model is Conv(4 -> 5, kernel 5, pads 2) -> ACT -> ReduceMean over the length
(keepdims 0), where ACT is one or a few nodes acting on each channel, so output c of sequence x
is mean_j act(z)[c, j] with z = conv(x); its gradient with respect to the one-hot input is
computed here in numpy from the weights and act' (independent of seqlens and onnxruntime):

    d out[c] / d x[i, p] = (1/L) * sum_{j, k: p = j + k - 2} act'(z)[c, j] * W[c, i, k]

Usage: python3 scripts/make_op_models.py   (onnx, onnxruntime, numpy: scripts/requirements.txt)
"""
import json
import math
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "models", "ops")
L, C, K, PAD = 32, 5, 5, 2
rng = np.random.default_rng(12)

# name -> (ONNX nodes from z (the convolution's output) to a, constants they read,
# act(z), act'(z)) with z and a of shape [C, L]; every operator the engine imports that
# PyTorch and Keras exports emit on their own.
PHI = np.vectorize(lambda v: 0.5 * (1 + math.erf(v / math.sqrt(2))))  # the normal CDF
GK = math.sqrt(2 / math.pi)
M = np.linspace(-1.5, 2.0, C).astype(np.float32).reshape(C, 1)  # per-channel factor
B = np.linspace(0.5, -0.7, C).astype(np.float32).reshape(1, C, 1)  # per-channel addend
ACTS = {
    "tanh": ([helper.make_node("Tanh", ["z"], ["a"])], {}, np.tanh,
             lambda z: 1 - np.tanh(z) ** 2),
    "leaky_relu": ([helper.make_node("LeakyRelu", ["z"], ["a"], alpha=0.2)], {},
                   lambda z: np.where(z > 0, z, 0.2 * z), lambda z: np.where(z > 0, 1.0, 0.2)),
    # No alpha attribute: ONNX's default slope, 0.01.
    "leaky_relu_default": ([helper.make_node("LeakyRelu", ["z"], ["a"])], {},
                           lambda z: np.where(z > 0, z, 0.01 * z),
                           lambda z: np.where(z > 0, 1.0, 0.01)),
    # Arithmetic with constants, either side: relu((0.3 - z * M) / 4 + B).
    "const_arith": (
        [helper.make_node("Mul", ["z", "m"], ["zm"]),
         helper.make_node("Sub", ["s", "zm"], ["d"]),
         helper.make_node("Div", ["d", "four"], ["q"]),
         helper.make_node("Add", ["q", "bb"], ["r"]),
         helper.make_node("Relu", ["r"], ["a"])],
        {"m": M, "s": np.array(0.3, np.float32), "four": np.array([4.0], np.float32), "bb": B},
        lambda z: np.maximum((0.3 - z * M) / 4 + B[0], 0),
        lambda z: np.where((0.3 - z * M) / 4 + B[0] > 0, -M / 4, 0.0)),
    # A bias-free convolution's output read twice: z + B must not become its bias, or the
    # residual sum would count B twice. a = (z + B) + z.
    "add_twice": (
        [helper.make_node("Add", ["z", "bb"], ["zb"]),
         helper.make_node("Add", ["zb", "z"], ["a"])],
        {"bb": B},
        lambda z: 2 * z + B[0], lambda z: np.full_like(z, 2.0)),
    # ONNX's Gelu (opset 20), as PyTorch's default exporter writes nn.GELU: exact (erf) and
    # with the tanh approximation.
    "gelu": ([helper.make_node("Gelu", ["z"], ["a"])], {},
             lambda z: z * PHI(z), lambda z: PHI(z) + z * np.exp(-z * z / 2) / math.sqrt(2 * math.pi)),
    "gelu_tanh": ([helper.make_node("Gelu", ["z"], ["a"], approximate="tanh")], {},
                  lambda z: 0.5 * z * (1 + np.tanh(GK * (z + 0.044715 * z ** 3))),
                  lambda z: 0.5 * (1 + np.tanh(GK * (z + 0.044715 * z ** 3)))
                  + 0.5 * z * (1 - np.tanh(GK * (z + 0.044715 * z ** 3)) ** 2)
                  * GK * (1 + 3 * 0.044715 * z ** 2)),
}


def one_hot(seq):
    x = np.zeros((4, len(seq)), dtype=np.float32)
    for i, ch in enumerate(seq):
        x["ACGT".index(ch), i] = 1
    return x


def conv(x, w, b):
    xp = np.pad(x, ((0, 0), (PAD, PAD)))
    return np.stack([
        np.array([(w[c] * xp[:, j:j + K]).sum() for j in range(L)]) + b[c] for c in range(C)
    ])


def main():
    os.makedirs(OUT, exist_ok=True)
    seqs = ["".join("ACGT"[i] for i in rng.integers(0, 4, L)) for _ in range(3)]
    xs = np.stack([one_hot(s) for s in seqs])
    golden = {"sequences": seqs, "models": {}}
    for name, (tail, consts, act, dact) in ACTS.items():
        w = rng.normal(0, 0.6, size=(C, 4, K)).astype(np.float32)
        # add_twice's convolution has no bias (the case where an Add could be folded into it).
        b = np.zeros(C, np.float32) if name == "add_twice" else \
            rng.normal(0, 0.3, size=C).astype(np.float32)
        conv_inputs = ["x", "w"] if name == "add_twice" else ["x", "w", "b"]
        # Gelu is opset 20, where ReduceMean takes its axes as an input (since 18).
        opset = 20 if any(n.op_type == "Gelu" for n in tail) else 13
        reduce = (helper.make_node("ReduceMean", ["a", "axes"], ["y"], keepdims=0) if opset >= 18
                  else helper.make_node("ReduceMean", ["a"], ["y"], axes=[2], keepdims=0))
        nodes = [
            helper.make_node("Conv", conv_inputs, ["z"], kernel_shape=[K], pads=[PAD, PAD]),
            *tail,
            reduce,
        ]
        inits = {"w": w, **consts}
        if opset >= 18:
            inits["axes"] = np.array([2], np.int64)
        if "b" in conv_inputs:
            inits["b"] = b
        graph = helper.make_graph(
            nodes, name,
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, L])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", C])],
            initializer=[numpy_helper.from_array(v, k) for k, v in inits.items()],
        )
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="seqlens/scripts/make_op_models.py")
        m.ir_version = 9 if opset >= 20 else 8
        e = m.metadata_props.add()
        e.key, e.value = "seqlens.labels", json.dumps([f"y{c}" for c in range(C)])
        onnx.checker.check_model(m)
        path = os.path.join(OUT, name + ".onnx")
        onnx.save(m, path)
        out = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"x": xs})[0]
        # Gradient of output y0 for each sequence, [4, L], by the formula above.
        grads = []
        for x in xs:
            z = conv(x, w.astype(np.float64), b.astype(np.float64))
            np.testing.assert_allclose(act(z).mean(axis=1), out[len(grads)], atol=1e-5)
            d = dact(z)[0] / L
            g = np.zeros((4, L))
            for j in range(L):
                for k in range(K):
                    p = j + k - PAD
                    if 0 <= p < L:
                        g[:, p] += d[j] * w[0, :, k]
            grads.append(g)
        golden["models"][name] = {
            "outputs": out.astype(float).tolist(),
            "gradients_y0": [g.ravel().tolist() for g in grads],
        }
    with open(os.path.join(ROOT, "tests", "golden", "ops.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
