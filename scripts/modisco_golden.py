#!/usr/bin/env python3
"""TF-MoDISco-lite seqlet goldens from modisco-lite 3.0.0 (PyPI `modisco-lite`), for
tests/motif.rs.

Cases (float32 attribution tracks, as TFMoDISco sums one-hot x hypothetical contributions):
- `planted`: 80 tracks of 300 positions, seeded normal noise (sd 0.1), with 8-position bumps
  of +/-0.6 per position planted in most tracks; modisco-lite's default settings;
- `narrow`: the same tracks with window 11, flank 5, target FDR 0.1, passing fractions
  0.01-0.1;
- `large`: 1,100 tracks of 1,000 positions (1.08 million windows, above modisco-lite's
  subsample cap of one million) from an integer formula that tests/motif.rs rebuilds
  exactly; only the count, the thresholds, the first 50 seqlets and a checksum are kept.

For each: modiscolite.extract_seqlets.extract_seqlets's seqlets (track, start, end) and sign
threshold, the positive and negative thresholds it refined (caught on their way out of
_refine_thresholds), and the positive and negative metaclusters TFMoDISco makes from them
(each seqlet's central sum through modiscolite.core.TrackSet, compared with the threshold).

Affinity (`affinity`): on the planted tracks with seeded random bases and hypothetical
contributions (the track's value on the observed base, and a small formula, rebuilt by
tests/motif.rs, on the others), the positive metacluster's coarse neighbours and similarities
(affinitymat.cosine_similarity_from_seqlets), fine similarities (jaccard_from_seqlets), the
rows kept by the correlation filter (tfmodisco._filter_by_correlation) and the density-adapted
graph (tfmodisco._density_adaptation), and Leiden's best partition of it over 50 seeds
(cluster.LeidenCluster, leidenalg 0.11.0) with its modularity, with 500 neighbours and with 12.

Discovery (`discovery`): `seqlens attribute --method deeplift-shap` (the demo model, all labels
summed, 10 shuffles, seed 0, the CPU engine; built with cargo) on the first 300 training
sequences (examples/data/train/motifs.fa), then modiscolite.tfmodisco.TFMoDISco with its
defaults, and each pattern's ppm, trimmed at 0.3 of its largest contribution as modisco-lite's
report trims it, matched against the bundled JASPAR by memelite's TOMTOM: per pattern, its name,
seqlet count and best match.

Writes tests/golden/modisco.json.gz (gzipped: the tracks are 0.5 MB as text).
Usage: pip install -r scripts/requirements.txt && python3 scripts/modisco_golden.py
"""
import gzip
import json
import os
import subprocess
import tempfile

import numpy as np
from modiscolite import affinitymat, cluster, core, tfmodisco
from modiscolite import extract_seqlets as es

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "golden", "modisco.json.gz")


def planted():
    rng = np.random.RandomState(7)
    tracks = rng.normal(0, 0.1, size=(80, 300))
    for i in range(80):
        for _ in range(rng.randint(0, 3)):
            start = rng.randint(0, 292)
            tracks[i, start:start + 8] += 0.6 if rng.rand() < 0.7 else -0.6
    return tracks.astype(np.float32)


def large():
    """tests/motif.rs's `large_tracks`: exact multiples of 1/256."""
    i = np.arange(1100, dtype=np.int64)[:, None]
    j = np.arange(1000, dtype=np.int64)[None, :]
    noise = ((i * 7919 + j * 104729 + (i * j) % 977) % 401 - 200).astype(np.float64) / 256.0
    bump = np.where(((j + 13 * i) % 173) < 9, np.where(i % 3 == 0, -3.0, 3.0), 0.0)
    return (noise + bump).astype(np.float32)


def run(tracks, window, flank, fdr, lo, hi):
    caught = {}
    refine = es._refine_thresholds

    def catch(**kw):
        caught["t"] = refine(**kw)
        return caught["t"]

    es._refine_thresholds = catch
    try:
        seqlets, threshold = es.extract_seqlets(
            attribution_scores=tracks.copy(), window_size=window, flank=flank,
            suppress=int(0.5 * window) + flank, target_fdr=fdr,
            min_passing_windows_frac=lo, max_passing_windows_frac=hi,
            weak_threshold_for_counting_sign=0.8)
    finally:
        es._refine_thresholds = refine
    # TFMoDISco's split: a one-hot whose observed base carries the track's value.
    track_set, _ = make_track_set(tracks)
    made = track_set.create_seqlets(seqlets)
    pos, neg = [], []
    for s in made:
        f = int(0.5 * (len(s) - window))
        attr = np.sum(s.contrib_scores[f:-f])
        if attr > threshold:
            pos.append(s)
        elif attr < -threshold:
            neg.append(s)
    coords = lambda ss: [[int(s.example_idx), int(s.start), int(s.end)] for s in ss]
    return {
        "window": window, "flank": flank, "targetFdr": fdr,
        "minPassingWindowsFrac": lo, "maxPassingWindowsFrac": hi,
        "posThreshold": float(caught["t"][0]), "negThreshold": float(caught["t"][1]),
        "signThreshold": float(threshold),
        "seqlets": coords(seqlets), "positive": coords(pos), "negative": coords(neg),
    }


def make_track_set(tracks):
    """Random bases (seed 1); hypothetical contributions: the track's value on the observed
    base, ((31 i + 17 j + 7 k) mod 13 - 6) / 4096 on the others."""
    n, length = tracks.shape
    one_hot = np.zeros((n, length, 4), dtype=np.float32)
    bases = np.random.RandomState(1).randint(0, 4, size=(n, length))
    np.put_along_axis(one_hot, bases[:, :, None], 1.0, axis=2)
    i, j, k = np.meshgrid(np.arange(n), np.arange(length), np.arange(4), indexing="ij")
    other = ((((31 * i + 17 * j + 7 * k) % 13) - 6) / 4096).astype(np.float32)
    hyp = np.where(one_hot == 1, tracks[:, :, None], other).astype(np.float32)
    track_set = core.TrackSet(one_hot=one_hot, contrib_scores=one_hot * hyp,
                              hypothetical_contribs=hyp)
    return track_set, "".join("ACGT"[b] for b in bases.ravel())


def affinity(tracks, case):
    track_set, bases = make_track_set(tracks)
    pos = track_set.create_seqlets([core.Seqlet(t, s, e, False) for t, s, e in case["positive"]])
    out = {"bases": bases, "runs": []}
    for n_neighbors in (500, 12):
        coarse, neighbors = affinitymat.cosine_similarity_from_seqlets(
            seqlets=pos, n_neighbors=n_neighbors, sign=1)
        fine = affinitymat.jaccard_from_seqlets(seqlets=pos, seqlet_neighbors=neighbors,
                                                min_overlap=0.7)
        kept_seqlets, kept_neighbors, kept_fine = tfmodisco._filter_by_correlation(
            pos, neighbors, coarse, fine, 0.15)
        index = {id(s): i for i, s in enumerate(pos)}
        graph = tfmodisco._density_adaptation(kept_fine, kept_neighbors, 10.0).tocsr()
        graph.sort_indices()
        membership = cluster.LeidenCluster(graph, n_seeds=50)
        out["runs"].append({
            "leiden": [int(m) for m in membership],
            "modularity": modularity(graph, membership),
            "nNeighbors": n_neighbors,
            "neighbors": np.asarray(neighbors).tolist(),
            "coarse": np.asarray(coarse, dtype=np.float64).tolist(),
            "fine": np.asarray(fine, dtype=np.float64).tolist(),
            "kept": [index[id(s)] for s in kept_seqlets],
            "graph": [[[int(c), float(v)] for c, v in zip(graph.indices[a:b], graph.data[a:b])]
                      for a, b in zip(graph.indptr[:-1], graph.indptr[1:])],
        })
        if n_neighbors == 500:
            out["patterns"] = patterns(track_set, pos, membership)
        print("affinity", n_neighbors, len(pos), "seqlets,", len(kept_seqlets), "kept")
    return out


def patterns(track_set, seqlets, membership):
    """tfmodisco._patterns_from_clusters on the seqlets sorted strongest first, as
    seqlets_to_patterns sorts them, with leidenalg's clusters and TFMoDISco's defaults."""
    order = sorted(range(len(seqlets)), key=lambda i: -np.sum(np.abs(seqlets[i].contrib_scores)))
    bg = np.mean([s.sequence for s in seqlets], axis=(0, 1))
    built = tfmodisco._patterns_from_clusters(
        [seqlets[i] for i in order], track_set=track_set, min_overlap=0.7, min_frac=0.2,
        min_num=30, flank_to_add=10, window_size=30, bg_freq=bg,
        cluster_indices=np.asarray(membership)[order], track_sign=1)
    return {"order": order, "background": [float(v) for v in bg], "patterns": [{
        "seqlets": [[int(s.example_idx), int(s.start), int(s.end), bool(s.is_revcomp)]
                    for s in p.seqlets],
        "sequence": np.asarray(p.sequence).tolist(),
        "contrib": np.asarray(p.contrib_scores).tolist(),
        "hypothetical": np.asarray(p.hypothetical_contribs).tolist(),
    } for p in built]}


def modularity(graph, membership):
    """Newman's modularity of a partition of the symmetric weighted graph (self-loops counted
    once in a node's strength), by hand."""
    dense = graph.toarray()
    k = dense.sum(axis=1)
    total = k.sum()
    same = np.equal.outer(membership, membership)
    return float(((dense - np.outer(k, k) / total) * same).sum() / total)


def discovery(n=300):
    root = os.path.join(os.path.dirname(__file__), "..")
    with tempfile.TemporaryDirectory() as tmp:
        fasta, table = os.path.join(tmp, "seqs.fa"), os.path.join(tmp, "shap.tsv")
        with open(os.path.join(root, "examples/data/train/motifs.fa")) as f, open(fasta, "w") as out:
            records = f.read().split(">")[1:n + 1]
            out.write("".join(">" + r for r in records))
        labels = "CTCF,GATA1,SPI1,FOXA1,HNF4A,CEBPB,REST,TP53"
        subprocess.run(["cargo", "run", "--quiet", "--release", "--features", "cli", "--",
                        "attribute", "--model", "examples/models/demo.onnx", "--fasta", fasta,
                        "--method", "deeplift-shap", "--target", labels, "--shuffles", "10",
                        "--seed", "0", "--backend", "cpu", "--out", table], cwd=root, check=True)
        import sys
        sys.path.insert(0, os.path.join(root, "benches", "peers"))
        from modisco_compare import jaspar, read_table, trimmed_ppms
        one_hot, hyp = read_table(table)
    import modiscolite
    from memelite import tomtom
    pos, neg = modiscolite.tfmodisco.TFMoDISco(one_hot=one_hot, hypothetical_contribs=hyp)
    names, pwms = jaspar(os.path.join(root, "data/jaspar2024_core_vertebrates.meme.gz"))
    rows = trimmed_ppms(pos, neg)
    _, _, _, _, _, idx = tomtom([r[2] for r in rows], pwms, n_nearest=1)
    out = [[r[0], r[1], names[int(ix[0])].strip()] for r, ix in zip(rows, idx)]
    for r in out:
        print("discovery", *r)
    return {"sequences": n, "patterns": out}


def checksum(coords):
    total = 0
    for k, (t, s, _) in enumerate(coords):
        total = (total + (k + 1) * (t * 100003 + s)) % (1 << 61)
    return total


def main():
    p = planted()
    cases = {
        "planted": dict(run(p, 21, 10, 0.2, 0.03, 0.2), tracks=[[float(v) for v in r] for r in p]),
        "narrow": dict(run(p, 11, 5, 0.1, 0.01, 0.1), tracks="planted"),
    }
    cases["planted"]["affinity"] = affinity(p, cases["planted"])
    big = run(large(), 21, 10, 0.2, 0.03, 0.2)
    cases["large"] = {
        **{k: v for k, v in big.items() if k not in ("seqlets", "positive", "negative")},
        "tracks": "large_tracks",
        "count": len(big["seqlets"]), "first": big["seqlets"][:50],
        "checksum": str(checksum(big["seqlets"])),
        "positiveCount": len(big["positive"]), "positiveChecksum": str(checksum(big["positive"])),
        "negativeCount": len(big["negative"]), "negativeChecksum": str(checksum(big["negative"])),
    }
    for name, c in cases.items():
        n = len(c["seqlets"]) if "seqlets" in c else c["count"]
        print(name, n, "seqlets; thresholds", c["posThreshold"], c["negThreshold"], c["signThreshold"])
    with gzip.open(OUT, "wt") as f:
        json.dump({"source": "modisco-lite 3.0.0 (extract_seqlets, affinities, clusters, patterns, "
                   "TFMoDISco) and memelite 0.5 TOMTOM", "cases": cases,
                   "discovery": discovery()}, f)


if __name__ == "__main__":
    main()
