#!/usr/bin/env python3
"""Seqlet goldens from tangermeme's recursive_seqlets, for tests/seqlets.rs.

Tracks: 12 seeded per-position attribution tracks of 400 positions (float32), Laplace noise
with motif-like runs of raised values planted at known places, some negative. Called with
tangermeme's defaults (threshold 0.01, lengths 4..25, 1000 bins) and with other settings
(threshold 0.05, lengths 6..15, 500 bins, 3 flanking positions).

Writes tests/golden/seqlets.json: the tracks, and per setting the seqlets (example, start,
end, attribution, p-value), in tangermeme's order (by p-value).
Usage: pip install -r scripts/requirements.txt && python3 scripts/seqlets_golden.py
"""
import json
import os

import numpy as np
import tangermeme
from tangermeme.seqlet import recursive_seqlets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    rng = np.random.default_rng(21)
    n, l = 12, 400
    x = rng.laplace(0, 0.02, (n, l))
    for i in range(n):
        for _ in range(rng.integers(1, 4)):
            start, width = rng.integers(0, l - 20), rng.integers(5, 15)
            x[i, start:start + width] += rng.uniform(0.05, 0.3) * rng.choice([1, 1, -1])
    x = x.astype(np.float32)
    cases = {
        "defaults": {},
        "custom": {"threshold": 0.05, "min_seqlet_len": 6, "max_seqlet_len": 15, "n_bins": 500,
                   "additional_flanks": 3},
    }
    out = {"tangermeme": tangermeme.__version__, "tracks": [[float(v) for v in r] for r in x],
           "cases": {}}
    for name, kw in cases.items():
        s = recursive_seqlets(x, **kw)
        out["cases"][name] = {
            "options": kw,
            "seqlets": [[int(r["example_idx"]), int(r["start"]), int(r["end"]), float(r["attribution"]),
                         float(r["p-value"])] for _, r in s.iterrows()],
        }
        print(name, len(s), "seqlets")
    with open(os.path.join(ROOT, "tests", "golden", "seqlets.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
