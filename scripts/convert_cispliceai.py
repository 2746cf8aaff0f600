#!/usr/bin/env python3
"""Converts CI-SpliceAI (PyPI `cispliceai` 1.2.2, CC BY 4.0) into the files seqlens ships in
examples/models/cispliceai/, and checks the converted model against TensorFlow.

CI-SpliceAI: Strauch Y, Lord J, Niranjan M, Baralle D, "CI-SpliceAI - Improving machine
learning predictions of disease causing splicing variants using curated alternative splice
sites", PLOS ONE 17(6): e0269159 (2022), doi:10.1371/journal.pone.0269159. SpliceAI's own weights (Illumina,
non-commercial) are NOT used; these are CI-SpliceAI's, which its authors license CC BY 4.0.

What it does:
1. `pip download`s the cispliceai 1.2.2 wheel from PyPI and reads from it the frozen
   TensorFlow graph (cispliceai/data/CI-SpliceAI.pb), the gene tables (grch37.csv,
   grch38.csv) and the LICENSE.
2. Rebuilds the five-member ensemble from the graph's weights as a channels-first ONNX graph
   of the ops the seqlens engine imports (Conv with dilation, BatchNormalization, Relu, Add,
   Slice, Softmax over channels, Mean), input [N, 4, L], output [N, 3, L - 10000], with the
   seqlens metadata of a per-position (profile) model. tf2onnx's own export of this graph
   emulates dilation with SpaceToBatch and 2-D convolutions, which neither tract (non-constant
   Pad) nor the engine import.
3. Checks it against TensorFlow (the graph loaded exactly as cispliceai loads it) with
   onnxruntime, on one-hot inputs with N runs at several lengths: max |difference| must be
   below 1e-5.
4. Writes an fp16-weight variant (weights stored as float16, cast to float32 in the graph,
   computed in float32) and reports how far its probabilities are from float32's.
5. Writes the gene tables compactly (gzip TSV, junctions delta-encoded), after checking that
   they decode back to the CSV exactly.

Usage:
    python3 -m venv /tmp/cis && /tmp/cis/bin/pip install -r scripts/requirements-cispliceai.txt
    /tmp/cis/bin/python scripts/convert_cispliceai.py
"""
import gzip
import hashlib
import io
import os
import pathlib
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "examples", "models", "cispliceai")
VERSION = "1.2.2"
MEMBERS = 5
CHANNELS = 32
# SpliceAI-10k: (kernel, dilation) of the 16 residual units; a 1x1 "dense" convolution joins
# the skip path after every 4 units.
UNITS = [(11, 1)] * 4 + [(11, 4)] * 4 + [(21, 10)] * 4 + [(41, 25)] * 4
CONTEXT = 10000
LABELS = ["neither", "acceptor", "donor"]
# fp16 weights are shipped only if every probability stays this close to float32's.
FP16_TOLERANCE = 5e-3


def fetch_wheel(tmp):
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
         f"cispliceai=={VERSION}", "-d", tmp, "-q"],
        check=True)
    [whl] = [f for f in os.listdir(tmp) if f.endswith(".whl")]
    path = os.path.join(tmp, whl)
    with open(path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    z = zipfile.ZipFile(path)
    files = {n.split("/")[-1]: z.read(n) for n in z.namelist()
             if n.startswith("cispliceai/data/") or n.endswith("LICENSE")}
    return whl, sha, files


def graph_consts(pb_bytes):
    import tensorflow as tf
    from tensorflow.python.framework import tensor_util
    gd = tf.compat.v1.GraphDef()
    gd.ParseFromString(pb_bytes)
    return {n.name: tensor_util.MakeNdarray(n.attr["value"].tensor)
            for n in gd.node if n.op == "Const"}


def member_weights(consts, m):
    """Conv i (1..39) and batch norm j (1..32) of ensemble member m, by their Keras names.
    Member 0's ops have no suffix, member m's end in _m."""
    sfx = "" if m == 0 else f"_{m}"
    def conv(i):
        k = consts[f"model_1/conv1d_{i}/conv1d{sfx}/ExpandDims_1/ReadVariableOp/resource"]
        b = consts[f"model_1/conv1d_{i}/BiasAdd{sfx}/ReadVariableOp/resource"]
        # Keras [kernel, in, out] -> ONNX [out, in, kernel]
        return np.ascontiguousarray(k.transpose(2, 1, 0)).astype(np.float32), b.astype(np.float32)
    def bn(j):
        p = f"model_1/batch_normalization_{j}/batchnorm{sfx}"
        return dict(
            var=consts[f"{p}/ReadVariableOp/resource"],
            eps=float(consts[f"{p}/add/y"]),
            gamma=consts[f"{p}/mul/ReadVariableOp/resource"],
            mean=consts[f"{p}/ReadVariableOp_1/resource"],
            beta=consts[f"{p}/ReadVariableOp_2/resource"],
        )
    return conv, bn


class Builder:
    def __init__(self):
        self.nodes, self.inits = [], []

    def init(self, name, arr):
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def conv(self, name, x, w, b, dilation=1):
        k = w.shape[2]
        pad = dilation * (k - 1) // 2  # Keras padding="same" with odd kernels
        self.nodes.append(helper.make_node(
            "Conv", [x, self.init(name + ".weight", w), self.init(name + ".bias", b)], [name],
            name=name, kernel_shape=[k], dilations=[dilation], pads=[pad, pad], strides=[1]))
        return name

    def bn(self, name, x, p):
        ins = [x] + [self.init(f"{name}.{k}", p[k].astype(np.float32))
                     for k in ("gamma", "beta", "mean", "var")]
        self.nodes.append(helper.make_node("BatchNormalization", ins, [name], name=name,
                                           epsilon=p["eps"]))
        return name

    def op(self, op, name, ins, **attrs):
        self.nodes.append(helper.make_node(op, ins, [name], name=name, **attrs))
        return name


def build_onnx(consts):
    g = Builder()
    starts = g.init("crop.starts", np.array([CONTEXT // 2], np.int64))
    ends = g.init("crop.ends", np.array([-CONTEXT // 2], np.int64))
    axes = g.init("crop.axes", np.array([2], np.int64))
    outs = []
    for m in range(MEMBERS):
        conv, bn = member_weights(consts, m)
        p = f"m{m}/"
        ci, bi = 1, 1
        x = g.conv(p + "conv_in", "x", *conv(ci)); ci += 1
        skip = g.conv(p + "skip_in", x, *conv(ci)); ci += 1
        for u, (k, d) in enumerate(UNITS):
            q = f"{p}unit{u + 1}/"
            h = g.op("Relu", q + "relu1", [g.bn(q + "bn1", x, bn(bi))]); bi += 1
            w, b = conv(ci); ci += 1
            assert w.shape[2] == k, (q, w.shape)
            h = g.conv(q + "conv1", h, w, b, d)
            h = g.op("Relu", q + "relu2", [g.bn(q + "bn2", h, bn(bi))]); bi += 1
            w, b = conv(ci); ci += 1
            assert w.shape[2] == k, (q, w.shape)
            h = g.conv(q + "conv2", h, w, b, d)
            x = g.op("Add", q + "add", [h, x])
            if (u + 1) % 4 == 0:
                dense = g.conv(f"{p}dense{(u + 1) // 4}", x, *conv(ci)); ci += 1
                skip = g.op("Add", f"{p}skip{(u + 1) // 4}", [skip, dense])
        assert (ci, bi) == (39, 33), (ci, bi)  # conv 39 is the output layer
        crop = g.op("Slice", p + "crop", [skip, starts, ends, axes])
        logits = g.conv(p + "conv_out", crop, *conv(ci))
        outs.append(g.op("Softmax", p + "softmax", [logits], axis=1))
    g.op("Mean", "y", outs)
    graph = helper.make_graph(
        g.nodes, "cispliceai",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, "L"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, "P"])],
        initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="seqlens/scripts/convert_cispliceai.py",
                              producer_version=VERSION)
    model.ir_version = 8
    model.doc_string = (
        "CI-SpliceAI (Strauch et al., PLOS ONE 2022, doi:10.1371/journal.pone.0269159), "
        f"converted from PyPI cispliceai {VERSION}; CC BY 4.0. Research use, not a clinical device.")
    props = {
        "seqlens.alphabet": "dna",
        "seqlens.layout": "NCL",
        "seqlens.n_policy": "zero",
        "seqlens.output": "profile",
        "seqlens.labels": '["neither", "acceptor", "donor"]',
        "seqlens.offset": str(CONTEXT // 2),
        "seqlens.context": str(CONTEXT),
        "seqlens.citation": "Strauch Y, Lord J, Niranjan M, Baralle D. CI-SpliceAI. PLOS ONE 17(6): e0269159 (2022)",
        "seqlens.task": "splice-site probabilities per position (neither, acceptor, donor); "
                        "mean of the five CI-SpliceAI models",
        "seqlens.license": "CC BY 4.0 (CI-SpliceAI weights, Strauch et al. 2022, doi:10.1371/journal.pone.0269159)",
    }
    for k, v in props.items():
        e = model.metadata_props.add()
        e.key, e.value = k, v
    onnx.checker.check_model(model)
    return model


def to_fp16(model):
    """Float16 initializers for the weights, each cast back to float32 inside the graph."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    casts, keep = [], []
    for t in g.initializer:
        if t.data_type == TensorProto.FLOAT and t.name.endswith((".weight", ".bias", ".gamma", ".beta", ".mean", ".var")):
            a = numpy_helper.to_array(t).astype(np.float16)
            keep.append(numpy_helper.from_array(a, t.name + ".f16"))
            casts.append(helper.make_node("Cast", [t.name + ".f16"], [t.name], name=t.name + ".cast",
                                          to=TensorProto.FLOAT))
        else:
            keep.append(t)
    del g.initializer[:]
    g.initializer.extend(keep)
    nodes = casts + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    onnx.checker.check_model(m)
    return m


def test_inputs(rng):
    """One-hot [length, 4] inputs, as cispliceai builds them (N = all zeros)."""
    out = []
    for n in (15000, 12002, 12003, 10001):
        idx = rng.integers(0, 4, n)
        x = np.eye(4, dtype=np.float32)[idx]
        x[rng.integers(0, n - 300):][:250] = 0  # an N run
        out.append(x)
    # gene-like sequence: a real-ish exon/intron structure is not needed for a numeric check,
    # but a sequence with splice consensus sites gives non-trivial acceptor/donor outputs
    seq = "".join(rng.choice(list("ACGT"), 15000))
    for at in range(5200, 9800, 700):
        seq = seq[:at] + "CAGGTAAGT" + seq[at + 9:at + 300] + "TTTTTTTTTTCAGG" + seq[at + 314:]
    out.append(np.eye(4, dtype=np.float32)[["ACGT".index(c) for c in seq]])
    return out


def compare(tf_model, onnx_bytes, inputs):
    sess = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    worst = 0.0
    for x in inputs:
        want = tf_model.predict([x])[0]                       # [L - 10000, 3]
        got = sess.run(None, {"x": x.T[None]})[0][0].T       # [3, P] -> [P, 3]
        assert got.shape == want.shape, (got.shape, want.shape)
        worst = max(worst, float(np.abs(got - want).max()))
    return worst


def encode_genes(csv_bytes):
    """cispliceai's gene CSV -> the compact table: one gene per line,
    gene_id chrom strand start length jn_start jn_end, where each junction list is the first
    junction's offset from start, then the gaps between successive junctions."""
    import pandas as pd
    df = pd.read_csv(io.BytesIO(csv_bytes), dtype=str)
    lines = ["#seqlens gene table v1: gene_id chrom strand start length jn_start jn_end "
             "(1-based, as cispliceai's CSV; junction lists delta-encoded from start)"]
    for r in df.itertuples():
        s, e = int(r.start), int(r.end)
        def enc(v):
            vals = [int(x) for x in v.split(",")]
            return ",".join(map(str, [vals[0] - s] + [b - a for a, b in zip(vals, vals[1:])]))
        lines.append(f"{r.gene_id}\t{r.chr}\t{r.strand}\t{s}\t{e - s}\t{enc(r.jn_start)}\t{enc(r.jn_end)}")
    text = "\n".join(lines) + "\n"
    # decode and compare with the CSV
    back = []
    for line in text.splitlines()[1:]:
        g, c, st, s, ln, a, b = line.split("\t")
        def dec(v):
            acc, vals = int(s), []
            for d in v.split(","):
                acc += int(d)
                vals.append(str(acc))
            return ",".join(vals)
        back.append((g, c, st, s, str(int(s) + int(ln)), dec(a), dec(b)))
    want = list(df[["gene_id", "chr", "strand", "start", "end", "jn_start", "jn_end"]].itertuples(index=False, name=None))
    assert back == [tuple(str(v) for v in w) for w in want], "gene table round trip failed"
    return gzip.compress(text.encode(), 9, mtime=0), len(df)


def main():
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        whl, sha, files = fetch_wheel(tmp)
        pb_path = os.path.join(tmp, "CI-SpliceAI.pb")
        with open(pb_path, "wb") as f:
            f.write(files["CI-SpliceAI.pb"])
        consts = graph_consts(files["CI-SpliceAI.pb"])
        model = build_onnx(consts)
        onnx_bytes = model.SerializeToString()

        from cispliceai.model import CISpliceAI
        tf_model = CISpliceAI(pathlib.Path(pb_path))  # its loader wants a Path
        inputs = test_inputs(np.random.default_rng(11))
        worst = compare(tf_model, onnx_bytes, inputs)
        print(f"fp32 ONNX vs TensorFlow: max |diff| {worst:.3g} over {len(inputs)} inputs")
        assert worst < 1e-5, worst
        with open(os.path.join(OUT, "cispliceai.onnx"), "wb") as f:
            f.write(onnx_bytes)

        half = to_fp16(model).SerializeToString()
        worst16 = compare(tf_model, half, inputs)
        print(f"fp16-weight ONNX vs TensorFlow: max |diff| {worst16:.3g}")
        half_path = os.path.join(OUT, "cispliceai.fp16.onnx")
        if worst16 < FP16_TOLERANCE:
            with open(half_path, "wb") as f:
                f.write(half)
        else:
            print(f"fp16 variant exceeds {FP16_TOLERANCE}; not written")
            if os.path.exists(half_path):
                os.remove(half_path)

        for build in ("grch37", "grch38"):
            data, n = encode_genes(files[f"{build}.csv"])
            with open(os.path.join(OUT, f"genes_{build}.tsv.gz"), "wb") as f:
                f.write(data)
            print(f"genes_{build}.tsv.gz: {n} genes, {len(data)} bytes")
        with open(os.path.join(OUT, "CISPLICEAI_LICENSE.txt"), "wb") as f:
            f.write(files["LICENSE"])
        with open(os.path.join(OUT, "SOURCE.txt"), "w") as f:
            f.write(f"{whl}\nsha256 {sha}\nfp32 max |diff| vs TensorFlow {worst:.3g}\n"
                    f"fp16 max |diff| vs TensorFlow {worst16:.3g}\n")


if __name__ == "__main__":
    main()
