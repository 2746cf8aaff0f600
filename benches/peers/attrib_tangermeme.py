#!/usr/bin/env python3
"""The tangermeme side of benches/peers/attrib.sh: Basset (Kelley et al. 2016: 300x19, 200x11,
200x7 convolutions with batch norm, ReLU and max pooling, two 1000-unit dense layers, 164
outputs) at 1,000 bp, seeded random weights, written as torch.nn modules so that
tangermeme's DeepLIFT rules attach, exported to ONNX for seqlens.

  python3 attrib_tangermeme.py DIR N   writes DIR/basset.onnx and DIR/seqs.fa (N sequences),
                                       then prints one line per measurement:
                                       tangermeme <what> <seconds per sequence>
Timed on one thread (torch.set_num_threads(1)): deep_lift_shap (20 dinucleotide shuffles,
target 0), saturation_mutagenesis (fast=True, its default, and fast=False), and
greedy_substitution (3 rounds over 100 positions of the first sequence, seconds per
design), recursive_seqlets over 1,000 tracks of 1,000 positions (seconds per track), and
annotate_seqlets (memelite's TOMTOM, one thread) of 500 random seqlets of 6-20 bases against
the bundled JASPAR 2024 (seconds per seqlet; DIR/seqlets.meme holds them for seqlens).
"""
import gzip
import os
import tempfile

import pandas as pd
from tangermeme.annotate import annotate_seqlets
from memelite.io import read_meme
import sys
import time
import warnings

import numpy as np
import torch
from torch import nn
from tangermeme.deep_lift_shap import deep_lift_shap
from tangermeme.design import greedy_substitution
from tangermeme.saturation_mutagenesis import saturation_mutagenesis
from tangermeme.seqlet import recursive_seqlets

torch.set_num_threads(1)
torch.manual_seed(0)
L = 1000


def basset():
    layers = []
    for cin, cout, k, p in [(4, 300, 19, 3), (300, 200, 11, 4), (200, 200, 7, 4)]:
        layers += [nn.Conv1d(cin, cout, k, padding=k // 2), nn.BatchNorm1d(cout), nn.ReLU(),
                   nn.MaxPool1d(p)]
    n = 200 * (L // 3 // 4 // 4)
    layers += [nn.Flatten(), nn.Linear(n, 1000), nn.ReLU(), nn.Linear(1000, 1000), nn.ReLU(),
               nn.Linear(1000, 164)]
    return nn.Sequential(*layers).eval()


def timed(f, n):
    f()  # warm-up
    t = time.perf_counter()
    f()
    return (time.perf_counter() - t) / n


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    net = basset()
    torch.onnx.export(net, (torch.zeros(1, 4, L),), f"{out}/basset.onnx", input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
                      opset_version=13, dynamo=False)
    rng = np.random.default_rng(3)
    idx = rng.integers(0, 4, (n, L))
    with open(f"{out}/seqs.fa", "w") as f:
        for i, row in enumerate(idx):
            f.write(f">s{i}\n{''.join('ACGT'[j] for j in row)}\n")
    x = torch.zeros(n, 4, L)
    x[torch.arange(n)[:, None], torch.from_numpy(idx), torch.arange(L)[None]] = 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = timed(lambda: deep_lift_shap(net, x, target=0, n_shuffles=20, random_state=0, device="cpu"), n)
        print(f"tangermeme deeplift-shap {s:.4f}")
        s = timed(lambda: saturation_mutagenesis(net, x, target=0, device="cpu"), n)
        print(f"tangermeme fast-ism {s:.4f}")
        s = timed(lambda: saturation_mutagenesis(net, x, target=0, device="cpu", fast=False), n)
        print(f"tangermeme ism {s:.4f}")
        # Greedy design of the first sequence: 3 rounds of single-base substitutions in
        # positions 450-550, maximising output 0 (tol 0, so all three rounds run).
        inputs = torch.zeros(L, dtype=torch.bool)
        inputs[450:550] = True
        outputs = torch.zeros(164, dtype=torch.bool)
        outputs[0] = True
        s = timed(lambda: greedy_substitution(net, x[:1], input_mask=inputs, output_mask=outputs,
                                              max_iter=3, tol=0, device="cpu"), 1)
        print(f"tangermeme design {s:.4f}")
    tracks = rng.laplace(0, 0.02, (1000, L)).astype(np.float32)
    for i in range(1000):
        a = rng.integers(0, L - 20)
        tracks[i, a:a + 10] += 0.2
    s = timed(lambda: recursive_seqlets(tracks), 1000)
    print(f"tangermeme seqlets {s:.6f}")
    np.savetxt(f"{out}/tracks.txt", tracks)

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with tempfile.NamedTemporaryFile("w", suffix=".meme", delete=False) as tmp:
        tmp.write(gzip.open(f"{root}/data/jaspar2024_core_vertebrates.meme.gz", "rt").read())
    motifs = read_meme(tmp.name)
    os.unlink(tmp.name)
    m = 500
    lens = rng.integers(6, 21, m)
    seqs = ["".join("ACGT"[j] for j in rng.integers(0, 4, k)) for k in lens]
    x = torch.zeros(m, 4, 20)
    for i, s in enumerate(seqs):
        for p, b in enumerate(s):
            x[i, "ACGT".index(b), p] = 1
    table = pd.DataFrame({"example_idx": range(m), "start": 0, "end": lens})
    with open(f"{out}/seqlets.meme", "w") as f:
        f.write("MEME version 4\n\nALPHABET= ACGT\n\n")
        for i, s in enumerate(seqs):
            f.write(f"MOTIF q{i}\nletter-probability matrix: alength= 4 w= {len(s)}\n")
            f.write("".join(" ".join("1" if b == c else "0" for c in "ACGT") + "\n" for b in s))
    s = timed(lambda: annotate_seqlets(x, table, motifs, n_nearest=1, n_jobs=1), m)
    print(f"tangermeme annotate {s:.6f}")


if __name__ == "__main__":
    main()
