#!/usr/bin/env python3
"""Expected outputs for the golden tests, computed with onnxruntime.

Encoding here is written independently of seqlens (numpy, following the documented rules:
ACGT one-hot in NCL order, N and other codes all-zero for the demo model's "zero" policy,
center-crop / N-pad to the model length, BED windows centered on the interval and padded with
N past contig ends). The Rust, Node and browser tests compare seqlens against these files
within 1e-5.

Usage: python3 scripts/golden.py   (writes tests/golden/*.tsv)
"""
import os

import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "examples", "data")
OUT = os.path.join(ROOT, "tests", "golden")
MODEL = os.path.join(ROOT, "examples", "models", "demo.onnx")
COMP = str.maketrans("ACGTacgtNn", "TGCAtgcaNn")


def read_fasta(path):
    recs, name, buf = [], None, []
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith(">"):
            if name is not None:
                recs.append((name, "".join(buf)))
            name, buf = line[1:].split()[0], []
        else:
            buf.append(line.strip())
    if name is not None:
        recs.append((name, "".join(buf)))
    return recs


def fit(seq, n):
    if len(seq) >= n:
        s = (len(seq) - n) // 2
        return seq[s:s + n], s
    left = (n - len(seq)) // 2
    return "N" * left + seq + "N" * (n - len(seq) - left), -left


def one_hot(seq):
    x = np.zeros((4, len(seq)), dtype=np.float32)
    for i, ch in enumerate(seq.upper()):
        j = "ACGT".find(ch)
        if j >= 0:
            x[j, i] = 1.0
    return x


def run(sess, seqs):
    x = np.stack([one_hot(s) for s in seqs])
    return sess.run(None, {"sequence": x})[0]


def write(path, labels, rows):
    with open(path, "w") as f:
        f.write("id\tchrom\tstart\tend\t" + "\t".join(labels) + "\n")
        for (rid, chrom, start, end), vals in rows:
            f.write(f"{rid}\t{chrom}\t{start}\t{end}\t" + "\t".join(repr(float(v)) for v in vals) + "\n")


def main():
    import json
    import onnx

    model = onnx.load(MODEL)
    meta = {p.key: p.value for p in model.metadata_props}
    labels = json.loads(meta["seqlens.labels"])
    n = int(meta["seqlens.length"])
    sess = ort.InferenceSession(MODEL, providers=["CPUExecutionProvider"])
    os.makedirs(OUT, exist_ok=True)

    recs = read_fasta(os.path.join(DATA, "sample.fa"))
    fitted = [fit(s, n) for _, s in recs]
    coords = [(name, name, off, off + n) for (name, _), (_, off) in zip(recs, fitted)]
    fwd = run(sess, [s for s, _ in fitted])
    rev = run(sess, [s.translate(COMP)[::-1] for s, _ in fitted])
    write(os.path.join(OUT, "demo_sample.tsv"), labels, list(zip(coords, fwd)))
    write(os.path.join(OUT, "demo_sample_rc.tsv"), labels, list(zip(coords, (fwd + rev) / 2)))

    genome = dict(read_fasta(os.path.join(DATA, "genome.fa")))
    rows = []
    for line in open(os.path.join(DATA, "regions.bed")):
        if line.startswith(("track", "browser", "#")) or not line.strip():
            continue
        f = line.split("\t")
        chrom, s, e, name = f[0], int(f[1]), int(f[2]), f[3].strip()
        start = (s + e) // 2 - n // 2
        seq = "".join(genome[chrom][i] if 0 <= i < len(genome[chrom]) else "N" for i in range(start, start + n))
        rows.append(((name, chrom, start, start + n), seq))
    out = run(sess, [s for _, s in rows])
    write(os.path.join(OUT, "demo_regions.tsv"), labels, [(c, v) for (c, _), v in zip(rows, out)])
    print("wrote", OUT)


if __name__ == "__main__":
    main()
