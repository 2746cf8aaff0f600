#!/usr/bin/env python3
"""Seeded simulation of the demo model's training data: random DNA (42 % GC) with instances
of eight JASPAR 2024 motifs (examples/models/jaspar_motifs.json, CC BY 4.0) sampled from
their count matrices (sharpened towards the consensus), on a random strand, at random positions.

Each sequence carries one label per motif, 1 when that motif was planted (each with
probability 0.25, independently), written in the FASTA header: `>seq17 0 1 0 0 0 1 0 0`.

Usage: python3 scripts/simulate_training_data.py   (writes examples/data/train/motifs.fa)
"""
import json
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N, LENGTH, P_PLANT = 4000, 500, 0.25
BASES = "ACGT"
COMP = str.maketrans("ACGT", "TGCA")


def main():
    motifs = json.load(open(os.path.join(ROOT, "examples", "models", "jaspar_motifs.json")))["motifs"]
    rng = np.random.default_rng(20261125)
    probs = []
    for m in motifs:
        c = np.array([m["counts"][b] for b in BASES], dtype=np.float64)
        # Sharpened (p^2, renormalised) so sites are closer to the consensus: a demo task a
        # small CNN learns in a few epochs, not a model of real binding sites.
        q = (c / c.sum(axis=0, keepdims=True)) ** 2
        probs.append(q / q.sum(axis=0, keepdims=True))
    out = os.path.join(ROOT, "examples", "data", "train", "motifs.fa")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        for i in range(N):
            seq = list("".join(BASES[j] for j in rng.choice(4, size=LENGTH, p=[0.29, 0.21, 0.21, 0.29])))
            labels = []
            for p in probs:
                on = rng.random() < P_PLANT
                labels.append(int(on))
                if on:
                    site = "".join(BASES[rng.choice(4, p=p[:, j])] for j in range(p.shape[1]))
                    if rng.random() < 0.5:
                        site = site.translate(COMP)[::-1]
                    at = rng.integers(0, LENGTH - len(site))
                    seq[at:at + len(site)] = site
            f.write(f">seq{i} {' '.join(map(str, labels))}\n{''.join(seq)}\n")
    print("wrote", out, f"({N} sequences x {LENGTH} bp, labels: {', '.join(m['label'] for m in motifs)})")


if __name__ == "__main__":
    main()
