#!/usr/bin/env python3
"""Low-precision exports, loaded in onnxruntime: the reference for tests/quantized.rs.

`seqlens train` trains a small DeepBind (width 0.5) on examples/data/train/train.fa three
times with the same seed, exporting its weights as float32, float16 (Cast nodes) and int8
(DequantizeLinear, one scale per output channel). onnx's checker accepts each file, and
onnxruntime predicts examples/data/train/test.fa with each; seqlens (tract and its engine)
must give onnxruntime's numbers for the same files.

Writes tests/models/deepbind_{fp32,fp16,int8}.onnx and tests/golden/quantized.json.
Usage: python3 scripts/quantized_golden.py target/release/seqlens
"""
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN = os.path.join(ROOT, "examples", "data", "train")
LABELS = "CTCF,GATA1,SPI1,FOXA1,HNF4A,CEBPB,REST,TP53"


def one_hot(seqs, length):
    x = np.zeros((len(seqs), 4, length), np.float32)
    for b, s in enumerate(seqs):
        for i, c in enumerate(s[:length]):
            if c in "ACGT":
                x[b, "ACGT".index(c), i] = 1
    return x


def main():
    seqlens = sys.argv[1]
    lines = open(os.path.join(TRAIN, "test.fa")).read().split("\n")
    ids = [h[1:].split()[0] for h in lines[0::2] if h]
    seqs = lines[1::2][: len(ids)]
    golden = {"ids": ids, "models": {}}
    for precision in ["fp32", "fp16", "int8"]:
        path = os.path.join(ROOT, "tests", "models", f"deepbind_{precision}.onnx")
        subprocess.run([seqlens, "train", "--preset", "deepbind", "--width", "0.5",
                        "--fasta", os.path.join(TRAIN, "train.fa"), "--label-names", LABELS,
                        "--valid-fasta", os.path.join(TRAIN, "valid.fa"),
                        "--test-fasta", os.path.join(TRAIN, "test.fa"),
                        "--epochs", "2", "--seed", "3", "--precision", precision, "--out", path],
                       check=True)
        onnx.checker.check_model(onnx.load(path), full_check=True)
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        y = sess.run(None, {"sequence": one_hot(seqs, 500)})[0]
        golden["models"][precision] = {"bytes": os.path.getsize(path), "outputs": y.tolist()}
    golden["onnxruntime"] = ort.__version__
    with open(os.path.join(ROOT, "tests", "golden", "quantized.json"), "w") as f:
        json.dump(golden, f)
    for p, m in golden["models"].items():
        d = np.abs(np.array(m["outputs"]) - np.array(golden["models"]["fp32"]["outputs"])).max()
        print(f"{p}: {m['bytes']} bytes, largest difference from fp32 {d:.3g}")


if __name__ == "__main__":
    main()
