#!/usr/bin/env python3
"""TOMTOM goldens from memelite 0.5 (the implementation tangermeme 1.6's annotate_seqlets
calls), for tests/motif.rs.

Database: the bundled JASPAR 2024 CORE vertebrates file (data/jaspar2024_core_vertebrates.meme.gz,
written by scripts/jaspar_meme.py), read with memelite's read_meme.
Queries (seeded):
- 6 seqlets: bases sampled from a JASPAR motif's probabilities with 0-3 random flanking bases,
  one with an N, as one-hot columns;
- 2 random seqlets of 8 and 12 bases;
- 2 motif-like queries: a JASPAR matrix mixed 70/30 with a random probability matrix.
memelite's tomtom with its defaults (both strands, 100 score bins, 1000 median bins, 100 target
bins) gives every query's p-value, score, offset, overlap and strand for each motif;
scipy.stats.false_discovery_control gives Benjamini-Hochberg q-values over the database; and
tangermeme's annotate_seqlets gives the seqlets' three best motifs.

Writes tests/golden/tomtom.json.gz (gzipped: the full tables are 0.45 MB as text).
Usage: pip install -r scripts/requirements.txt && python3 scripts/tomtom_golden.py
"""
import gzip
import json
import os
import tempfile

import memelite
import numpy as np
import pandas as pd
import tangermeme
import torch
from memelite.io import read_meme
from memelite.tomtom import tomtom
from scipy.stats import false_discovery_control
from tangermeme.annotate import annotate_seqlets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def one_hot(bases):
    x = np.zeros((4, len(bases)))
    for i, b in enumerate(bases):
        if b in "ACGT":
            x["ACGT".index(b), i] = 1.0
    return x


def main():
    with tempfile.NamedTemporaryFile("w", suffix=".meme", delete=False) as tmp:
        tmp.write(gzip.open(os.path.join(ROOT, "data", "jaspar2024_core_vertebrates.meme.gz"), "rt").read())
    motifs = read_meme(tmp.name)
    os.unlink(tmp.name)
    names = list(motifs)
    pwms = list(motifs.values())
    rng = np.random.default_rng(15)

    queries = []
    for k, planted in enumerate(["MA0139.2 CTCF", "MA0079.5 SP1", "MA0107.1 RELA", "MA0018.5 CREB1",
                                 "MA0114.5 HNF4A", "MA0080.7 SPI1"]):
        key = next(n for n in names if n.startswith(planted.split()[0]))
        pwm = pwms[names.index(key)]
        bases = "".join("ACGT"[rng.choice(4, p=pwm[:, i] / pwm[:, i].sum())] for i in range(pwm.shape[1]))
        left = "".join(rng.choice(list("ACGT"), rng.integers(0, 4)))
        right = "".join(rng.choice(list("ACGT"), rng.integers(0, 4)))
        seq = left + bases + right
        if k == 3:
            seq = seq[:2] + "N" + seq[3:]
        queries.append({"id": f"seqlet_{key.split()[1]}", "bases": seq})
    for width in (8, 12):
        queries.append({"id": f"random_{width}", "bases": "".join(rng.choice(list("ACGT"), width))})
    for key in ("MA0140.3 GATA1::TAL1", "MA0102.5 CEBPA"):
        key = next(n for n in names if n.startswith(key.split()[0]))
        pwm = pwms[names.index(key)]
        noise = rng.dirichlet(np.ones(4), pwm.shape[1]).T
        mixed = np.round(0.7 * pwm + 0.3 * noise, 6)
        mixed = mixed / mixed.sum(axis=0, keepdims=True)
        queries.append({"id": f"mixed_{key.split()[1]}", "columns": mixed.T.tolist()})

    Qs = [one_hot(q["bases"]) if "bases" in q else np.array(q["columns"]).T.copy() for q in queries]
    p, scores, offsets, overlaps, strands = tomtom(Qs, pwms)
    for i, q in enumerate(queries):
        q["p"] = [float(v) for v in p[i]]
        q["q"] = [float(v) for v in false_discovery_control(p[i], method="bh")]
        q["score"] = [int(v) for v in scores[i]]
        q["offset"] = [int(v) for v in offsets[i]]
        q["overlap"] = [int(v) for v in overlaps[i]]
        q["strand"] = [int(v) for v in strands[i]]
        order = np.argsort(p[i], kind="stable")[:3]
        print(q["id"], [(names[j], float(p[i, j])) for j in order])

    # tangermeme's annotate_seqlets on the seqlets, as one sequence each.
    seqlets = [q for q in queries if "bases" in q]
    width = max(len(q["bases"]) for q in seqlets)
    X = torch.zeros(len(seqlets), 4, width)
    for i, q in enumerate(seqlets):
        X[i, :, :len(q["bases"])] = torch.from_numpy(one_hot(q["bases"]))
    table = pd.DataFrame({"example_idx": range(len(seqlets)), "start": 0,
                          "end": [len(q["bases"]) for q in seqlets]})
    idxs, pvals = annotate_seqlets(X, table, motifs, n_nearest=3)
    for i, q in enumerate(seqlets):
        q["annotate"] = {"motifs": [names[int(j)] for j in idxs[i]], "p": [float(v) for v in pvals[i]]}

    out = {"memelite": memelite.__version__, "tangermeme": tangermeme.__version__,
           "database": "data/jaspar2024_core_vertebrates.meme.gz", "names": names, "queries": queries}
    path = os.path.join(ROOT, "tests", "golden", "tomtom.json.gz")
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
        f.write(json.dumps(out, separators=(",", ":")).encode())
    print("wrote", path)


if __name__ == "__main__":
    main()
