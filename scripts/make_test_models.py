#!/usr/bin/env python3
"""Small ONNX models that exercise the model loader's edge cases, and their expected outputs
from onnxruntime (tests/golden/test_models.json).

- fixed_batch1.onnx   input [1, 4, 24], no seqlens metadata: fixed batch of one, default labels
- nlc_dynamic.onnx    input [batch, 30, 4] (Keras-style channels-last), no metadata
- protein_anylen.onnx input [batch, 20, length]: protein alphabet, any length
- unsupported_op.onnx uses Det, an ONNX operator tract does not implement

Usage: python3 scripts/make_test_models.py
"""
import json
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "models")
rng = np.random.default_rng(7)


def save(name, nodes, inp, out, inits, props=None):
    g = helper.make_graph(nodes, name, [inp], [out], initializer=[numpy_helper.from_array(v, k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="seqlens/scripts/make_test_models.py")
    m.ir_version = 8
    for k, v in (props or {}).items():
        e = m.metadata_props.add()
        e.key, e.value = k, v
    path = os.path.join(OUT, name + ".onnx")
    onnx.save(m, path)
    return path


def w(*shape):
    return rng.normal(0, 0.5, size=shape).astype(np.float32)


def one_hot(seq, alphabet, layout="NCL"):
    x = np.zeros((len(alphabet), len(seq)), dtype=np.float32)
    for i, ch in enumerate(seq):
        j = alphabet.find(ch)
        if j >= 0:
            x[j, i] = 1
    return x if layout == "NCL" else x.T


def random_seq(alphabet, n):
    return "".join(alphabet[i] for i in rng.integers(0, len(alphabet), n))


def main():
    os.makedirs(OUT, exist_ok=True)
    F = TensorProto.FLOAT
    expected = {}
    dna, protein = "ACGT", "ACDEFGHIKLMNPQRSTVWY"

    p = save("fixed_batch1",
             [helper.make_node("Conv", ["x", "W", "B"], ["c"], kernel_shape=[5]),
              helper.make_node("Relu", ["c"], ["r"]),
              helper.make_node("GlobalAveragePool", ["r"], ["g"]),
              helper.make_node("Flatten", ["g"], ["y"])],
             helper.make_tensor_value_info("x", F, [1, 4, 24]),
             helper.make_tensor_value_info("y", F, [1, 3]),
             {"W": w(3, 4, 5), "B": w(3)})
    seqs = [random_seq(dna, 24) for _ in range(3)]
    s = ort.InferenceSession(p)
    expected["fixed_batch1"] = {"sequences": seqs, "outputs": [s.run(None, {"x": one_hot(q, dna)[None]})[0][0].tolist() for q in seqs]}

    p = save("nlc_dynamic",
             [helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 1]),
              helper.make_node("Conv", ["t", "W"], ["c"], kernel_shape=[3]),
              helper.make_node("GlobalMaxPool", ["c"], ["g"]),
              helper.make_node("Flatten", ["g"], ["f"]),
              helper.make_node("Gemm", ["f", "D", "E"], ["z"], transB=1),
              helper.make_node("Sigmoid", ["z"], ["prob"])],
             helper.make_tensor_value_info("x", F, ["batch", 30, 4]),
             helper.make_tensor_value_info("prob", F, ["batch", 1]),
             {"W": w(2, 4, 3), "D": w(1, 2), "E": w(1)})
    seqs = [random_seq(dna, 30) for _ in range(5)]
    s = ort.InferenceSession(p)
    out = s.run(None, {"x": np.stack([one_hot(q, dna, "NLC") for q in seqs])})[0]
    expected["nlc_dynamic"] = {"sequences": seqs, "outputs": out.tolist()}

    p = save("protein_anylen",
             [helper.make_node("Conv", ["x", "W"], ["c"], kernel_shape=[3]),
              helper.make_node("GlobalMaxPool", ["c"], ["g"]),
              helper.make_node("Flatten", ["g"], ["y"])],
             helper.make_tensor_value_info("x", F, ["batch", 20, "length"]),
             helper.make_tensor_value_info("y", F, ["batch", 4]),
             {"W": w(4, 20, 3)},
             {"seqlens.labels": json.dumps(["helix", "sheet", "coil", "disorder"]), "seqlens.task": "regression"})
    seqs = [random_seq(protein, n) for n in (12, 12, 40, 7)]
    s = ort.InferenceSession(p)
    expected["protein_anylen"] = {"sequences": seqs, "outputs": [s.run(None, {"x": one_hot(q, protein)[None]})[0][0].tolist() for q in seqs]}

    save("unsupported_op",
         [helper.make_node("Det", ["x"], ["y"], name="determinant")],
         helper.make_tensor_value_info("x", F, ["batch", 4, 4]),
         helper.make_tensor_value_info("y", F, ["batch"]), {})

    with open(os.path.join(ROOT, "tests", "golden", "test_models.json"), "w") as f:
        json.dump(expected, f, indent=1)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
