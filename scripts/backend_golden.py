#!/usr/bin/env python3
"""Expected numbers for tests/backends.rs, computed with onnxruntime and numpy only.

tests/backends.rs runs one body per behaviour on every backend (tract, the CPU engine, the
GPU) and compares with these numbers, which come from neither seqlens nor tract:

- DeepBind (tests/models/exporters/deepbind_legacy.onnx, 101 bases, outputs y[0], y[1]) on the
  five sequences of tests/golden/exporters.json (whose predictions and torch gradients are
  already there):
  - `rc_average`: the mean of the predictions on each sequence and on its reverse complement;
  - `zeros` and `uniform`: the predictions on the all-zero and the all-0.25 input (the
    baselines of integrated gradients, whose attributions sum to f(x) - f(baseline));
  - `ism`: for sequence 0 and positions ISM_FROM..ISM_TO, the change of each output when each
    position holds each base: `[position][base][output]`, 0 for the observed base.
- The demo model (examples/models/demo.onnx, 500 bases, 8 outputs) on the REF and ALT windows
  of the first four alleles of examples/data/variants.vcf, cut here from the FASTA text by the
  rules tests/variants.rs states (an SNV, an insertion and a deletion): `variants`, each
  `{id, diff}` with diff = ALT prediction - REF prediction.

Usage: python3 scripts/backend_golden.py   (writes tests/golden/backends.json)
"""
import json
import os

import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ISM_FROM, ISM_TO = 40, 60


def session(rel):
    return ort.InferenceSession(os.path.join(ROOT, rel), providers=["CPUExecutionProvider"])


def one_hot(seqs):
    x = np.zeros((len(seqs), 4, len(seqs[0])), np.float32)
    for b, s in enumerate(seqs):
        for i, c in enumerate(s):
            if c in "ACGT":
                x[b, "ACGT".index(c), i] = 1
    return x


def genome():
    recs, name = {}, None
    for line in open(os.path.join(ROOT, "examples", "data", "genome.fa")):
        line = line.strip()
        if line.startswith(">"):
            name = line[1:].split()[0]
            recs[name] = []
        elif line:
            recs[name].append(line)
    return {k: "".join(v) for k, v in recs.items()}


def main():
    seqs = json.load(open(os.path.join(ROOT, "tests", "golden", "exporters.json")))["sequences"]
    deepbind = session("tests/models/exporters/deepbind_legacy.onnx")
    run = lambda x: deepbind.run(None, {"x": x})[0]
    x = one_hot(seqs)
    # The reverse complement of a one-hot ACGT input: reverse the positions, and A<->T, C<->G
    # is reversing the channel order.
    rc = np.ascontiguousarray(x[:, ::-1, ::-1])
    out = {
        "onnxruntime": ort.__version__,
        "deepbind": {
            "rc_average": ((run(x) + run(rc)) / 2).tolist(),
            "zeros": run(np.zeros_like(x[:1]))[0].tolist(),
            "uniform": run(np.full_like(x[:1], 0.25))[0].tolist(),
            "ism_from": ISM_FROM,
            "ism_to": ISM_TO,
        },
    }
    ref = run(x[:1])[0]
    ism = []
    for t in range(ISM_FROM, ISM_TO):
        row = []
        for ci, base in enumerate("ACGT"):
            m = seqs[0][:t] + base + seqs[0][t + 1:]
            row.append((run(one_hot([m]))[0] - ref).tolist() if base != seqs[0][t] else [0.0, 0.0])
        ism.append(row)
    out["deepbind"]["ism"] = ism

    g = genome()
    # tests/variants.rs: L = 500. SNV chrA:2006 C>A: 249 bases of left flank in both windows.
    # Insertion chrA:9010 G>GGGAA: ref 249 left; alt 247 left, the 5-bp allele, then 248
    # bases after the REF base. Deletion chrB:1502 AAAG>A: ref 248 left; alt 249 left, "A",
    # then 250 bases after the 4-bp REF.
    a, b = g["chrA"], g["chrB"]
    assert a[2005] == "C" and b[1501:1505] == "AAAG"
    cases = [
        ("ctcf_snv", a[2005 - 249:2005 + 251], a[2005 - 249:2005] + "A" + a[2006:2005 + 251]),
        ("bg_snv", a[11999 - 249:11999 + 251], a[11999 - 249:11999] + "C" + a[12000:11999 + 251]),
        ("spi1_ins", a[9009 - 249:9009 + 251], a[9009 - 247:9009] + "GGGAA" + a[9010:9010 + 248]),
        ("hnf4a_del", b[1501 - 248:1501 + 252], b[1501 - 249:1501] + "A" + b[1505:1505 + 250]),
    ]
    assert a[11999] == "A"
    demo = session("examples/models/demo.onnx")
    variants = []
    for vid, r, alt in cases:
        assert len(r) == len(alt) == 500, vid
        y = demo.run(None, {"sequence": one_hot([r, alt])})[0]
        variants.append({"id": vid, "diff": (y[1] - y[0]).tolist()})
    out["variants"] = variants
    path = os.path.join(ROOT, "tests", "golden", "backends.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
