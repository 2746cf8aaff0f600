#!/usr/bin/env python3
"""TF-MoDISco-lite (PyPI modisco-lite 3.0.0) on an attribution table from
`seqlens attribute --method deeplift-shap`, for comparison with `seqlens motifs
--attributions` on the same table: each pattern's seqlet count and its best matches in the
bundled JASPAR (memelite's TOMTOM, the ppm trimmed at 0.3 of the largest contribution, as
modisco-lite's report trims it), and the wall time of a first run (numba compiling its
kernels) and of a second run in the same process, at the thread count numba is given.

Usage: python3 benches/peers/modisco_compare.py TABLE.tsv [JASPAR.meme.gz] > peer.tsv
"""
import gzip
import sys
import tempfile
import time

import numpy as np


def read_table(path):
    ids, seqs, hyps = [], {}, {}
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        cols = [header.index(c) for c in "ACGT"]
        for line in f:
            p = line.rstrip("\n").split("\t")
            if p[0] not in seqs:
                ids.append(p[0])
                seqs[p[0]], hyps[p[0]] = [], []
            seqs[p[0]].append(p[3])
            hyps[p[0]].append([float(p[c]) for c in cols])
    one_hot = np.array([[[float(b.upper() == x) for x in "ACGT"] for b in seqs[i]] for i in ids],
                       dtype=np.float32)
    hyp = np.array([hyps[i] for i in ids], dtype=np.float32)
    return one_hot, hyp


def jaspar(path):
    """The MEME database's names and matrices, as memelite reads them."""
    from memelite.io import read_meme
    with gzip.open(path, "rt") as f, tempfile.NamedTemporaryFile("w", suffix=".meme") as t:
        t.write(f.read())
        t.flush()
        motifs = read_meme(t.name)
    return list(motifs.keys()), list(motifs.values())


def trimmed_ppms(pos, neg):
    """(name, seqlet count, ppm columns) per pattern, the ppm trimmed at 0.3 of the largest
    summed absolute contribution, as modisco-lite's report trims it."""
    rows = []
    for tag, patterns in (("pos", pos or []), ("neg", neg or [])):
        for i, p in enumerate(patterns):
            score = np.abs(np.asarray(p.contrib_scores)).sum(axis=1)
            keep = np.where(score >= score.max() * 0.3)[0]
            ppm = np.asarray(p.sequence)[keep.min():keep.max() + 1]
            rows.append((f"{tag}_patterns.pattern_{i}", len(p.seqlets), ppm.T))
    return rows


def main():
    table = sys.argv[1]
    db = sys.argv[2] if len(sys.argv) > 2 else "data/jaspar2024_core_vertebrates.meme.gz"
    one_hot, hyp = read_table(table)
    import modiscolite
    from memelite import tomtom
    times = []
    for _ in range(2):
        start = time.time()
        pos, neg = modiscolite.tfmodisco.TFMoDISco(one_hot=one_hot, hypothetical_contribs=hyp)
        times.append(time.time() - start)
    names, pwms = jaspar(db)
    rows = trimmed_ppms(pos, neg)
    print(f"# modisco-lite 3.0.0 TFMoDISco: {times[0]:.1f} s first run, {times[1]:.1f} s second",
          file=sys.stderr)
    print("query\tseqlets\trank\tmotif_name\tp_value")
    if rows:
        p, _, _, _, _, idx = tomtom([r[2] for r in rows], pwms, n_nearest=3)
        for (name, n, _), pv, ix in zip(rows, p, idx):
            for rank in range(3):
                print(f"{name}\t{n}\t{rank + 1}\t{names[int(ix[rank])]}\t{pv[rank]:.3e}")


if __name__ == "__main__":
    main()
