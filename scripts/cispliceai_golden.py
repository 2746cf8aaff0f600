#!/usr/bin/env python3
"""Reference splice-variant scores for the parity tests, from CI-SpliceAI's own
implementation (PyPI cispliceai 1.2.2, with TensorFlow), on the bundled example
(examples/data/splice/: genome.fa, genes.csv, variants.vcf).

Writes tests/golden/cispliceai/:
- `cis-vcf*.vcf`: the output of cispliceai's command line `cis-vcf` (unchanged code) for the
  default settings, `--mask`, `--all`, `--outside` and `--distance 50`.
- `profile.json`: TensorFlow's acceptor and donor probabilities (the model as cispliceai
  loads it) over chr1:9,000-9,400 and the reverse complement of chr1:21,300-21,700 of the
  example genome, for the profile-prediction tests;
- `golden.json`: for the same settings, every allele's annotations with unrounded delta
  scores and positions, per overlapping gene (the `--all` view), from
  - "reference": cispliceai as published, and
  - "fixed": cispliceai with three bugs fixed by the patch below, which seqlens does not
    copy:
    1. near a contig START the sequence is N-padded, but the gene mask and the annotated
       splice sites (`--mask`) are placed as if it were not, shifted by the padding;
    2. a variant outside every gene is meant to be scored "without gene mask", yet the
       stand-in area ends one base short, so the last len(REF) (+1 if odd) - 1 bases of the
       window are masked to N;
    3. near a contig END the sequence is not N-padded: the window is short, and scores
       there are computed on a zero-padded batch.
  seqlens must equal "fixed" everywhere, and "reference" wherever the bugs do not reach
  (the test checks which alleles those are).

The two contigs' variants, the REF mismatch and indels are all in examples/data/splice/
(scripts/make_splice_data.py). The unknown contig and the symbolic allele are left out of
the cispliceai runs (they crash it: pyfaidx KeyError, int('<')); seqlens reports them.

Usage:
    python3 -m venv /tmp/cis && /tmp/cis/bin/pip install -r scripts/requirements-cispliceai.txt
    /tmp/cis/bin/python scripts/cispliceai_golden.py
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "examples", "data", "splice")
OUT = os.path.join(ROOT, "tests", "golden", "cispliceai")
CONFIGS = {
    "default": dict(distance=1000, mask=False, outside=False),
    "mask": dict(distance=1000, mask=True, outside=False),
    "outside": dict(distance=1000, mask=False, outside=True),
    "d50_mask": dict(distance=50, mask=True, outside=False),
}
CRASHERS = {"unknown_contig", "symbolic"}
# Within a window of chr2's end: cispliceai's unpadded window crashes it (--distance 50: an
# empty prediction) or scores a short window; only the fixed version runs it.
NEAR_END = {"near_end", "intergenic_near_chr1_end"}


def vcf_lines():
    with open(os.path.join(DATA, "variants.vcf")) as f:
        return f.read().splitlines()


def runnable_vcf(tmp, name, leave_out):
    """The example VCF without the records named in `leave_out`."""
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        for line in vcf_lines():
            if line.startswith("#") or line.split("\t")[2] not in leave_out:
                f.write(line + "\n")
    return path


def cis_vcf(inp, tmp, name, args):
    out = os.path.join(OUT, f"cis-vcf{name}.vcf")
    exe = os.path.join(os.path.dirname(sys.executable), "cis-vcf")
    subprocess.run([exe, os.path.join(tmp, "genome.fa"), "-a", os.path.join(DATA, "genes.csv"),
                    "-i", inp, "-o", out] + args, check=True)
    # drop the header lines that hold absolute paths or dates
    with open(out) as f:
        lines = [l for l in f if not l.startswith(("##bcftools", "##reference", "##source="))]
    with open(out, "w") as f:
        f.writelines(lines)


def fix_bugs():
    """Patches cispliceai's DNAPreprocessor.get_ml_data with the three fixes named above."""
    from cispliceai import const, data

    def get_ml_data(self, var_spec):
        var_spec = var_spec.copy()
        window_size = var_spec.max_dist_from_var + const.CONTEXT_LEN // 2
        areas = self.get_overlapping_areas(var_spec.chrom, var_spec.pos, var_spec.annotation_table)
        extract_start, extract_len = var_spec.pos - window_size, 2 * window_size + len(var_spec.ref)
        if extract_len % 2 != 0:
            extract_len += 1
        if len(areas) == 0:
            # fix 2: the stand-in area covers the whole window
            areas = [data.AnnotatedArea(s, s, extract_start, extract_start + extract_len, [], [])
                     for s in ["+", "-"]]
        # fixes 1 and 3: N past either end of the contig, coordinates left as they are
        lo = max(extract_start, 1)
        seq = self._fasta.extract(var_spec.reference_path, var_spec.chrom, lo, extract_start + extract_len - lo)
        seq = "N" * (lo - extract_start) + seq
        seq = seq + "N" * (extract_len - len(seq))
        offset = const.CONTEXT_LEN // 2 + var_spec.max_dist_from_var
        assert seq[offset:offset + len(var_spec.ref)] == var_spec.ref, \
            'REF annotation mismatch - Expected "%s", found "%s"' % (var_spec.ref, seq[offset:offset + len(var_spec.ref)])
        x = self._onehot_seq(seq)
        out = []
        for area in areas:
            if not var_spec.keep_nucs_outside_gene:
                mask = np.max([[0, 0], [area.start - extract_start, extract_start + extract_len - area.end]], axis=0)
                x_ref = np.concatenate([np.zeros((mask[0], 4), dtype=x.dtype), x[mask[0]:len(x) - mask[1]],
                                        np.zeros((mask[1], 4), dtype=x.dtype)])
            else:
                x_ref = x
            x_var = self.apply_var(x_ref, x, var_spec.ref, var_spec.alt, var_spec.max_dist_from_var)
            if area.strand == "-":
                x_ref, x_var = self._reverse_complement(x_ref), self._reverse_complement(x_var)
            out.append(data.AreaWithML(area, var_spec, (extract_start, extract_start + extract_len), x_ref, x_var))
        return out

    data.DNAPreprocessor.get_ml_data = get_ml_data


def record_top_positions():
    """Adds to every annotation the 5 largest values of each score with their positions
    (`top`), so the tests can tell a well-defined delta position from a near tie (a variant
    without effect has deltas of ~1e-7 everywhere, and any position is its argmax)."""
    from cispliceai import annotation, const

    plain = annotation.VariantEffect.get_annotation

    def get_annotation(self, mask):
        a = plain(self, mask)
        if self.error is not None:
            return a
        # the (masked) delta, exactly as get_annotation computes it
        delta = self.delta.copy()
        if mask:
            lo, hi = self.area.extract_range
            mask_acc, mask_don = np.zeros((2, len(delta)), dtype=bool)
            for sites, m in ((self.area.acceptors, mask_acc), (self.area.donors, mask_don)):
                idx = np.array([s for s in sites if lo + const.CONTEXT_LEN // 2 <= s < hi - const.CONTEXT_LEN // 2],
                               dtype=int) - lo - const.CONTEXT_LEN // 2
                m[idx] = True
            al, dl = delta[:, 1] < 0, delta[:, 2] < 0
            delta[(~al & mask_acc), 1] = 0
            delta[(~dl & mask_don), 2] = 0
            delta[(al & ~mask_acc), 1] = 0
            delta[(dl & ~mask_don), 2] = 0
        d = self.max_dist_from_var
        top = {}
        for key, col, sign in (("AG", 1, 1), ("AL", 1, -1), ("DG", 2, 1), ("DL", 2, -1)):
            v = sign * delta[:, col]
            order = np.argsort(-v, kind="stable")[:5]
            top[key] = [[int(i) - d, float(v[i])] for i in order]
        a["top"] = top
        return a

    annotation.VariantEffect.get_annotation = get_annotation


def annotations(inp, genome, cfg):
    """Every allele's annotations (all genes, unrounded), in VCF order."""
    import pysam
    from cispliceai import annotation, data
    annotator = annotation.Annotator(batch_size_mb=10.0)
    rows = []
    with pysam.VariantFile(inp) as f:
        recs = list(f)
    jobs = [annotation.AnnotationJob(
        data.VariantSpecification(chrom=r.chrom, pos=r.pos, ref=r.ref, alt=alt, reference_path=genome,
                                  annotation_table=os.path.join(DATA, "genes.csv"),
                                  max_dist_from_var=cfg["distance"], keep_nucs_outside_gene=cfg["outside"]),
        mask=cfg["mask"]) for r in recs for alt in r.alts]
    results = annotator.run_jobs(jobs)
    i = 0
    for r in recs:
        for alt in r.alts:
            res = results[i]
            i += 1
            rows.append({
                "id": r.id, "chrom": r.chrom, "pos": r.pos, "ref": r.ref, "alt": alt,
                "annotations": [dict(a) for a in res.annotations],
                "most_significant": str(res.most_significant_annotation),
            })
    return rows


def profiles():
    """TensorFlow's probabilities on two windows, with 5,000 bases of context on each side."""
    from cispliceai.model import CISpliceAI
    import pyfaidx
    model = CISpliceAI()
    fa = pyfaidx.Fasta(os.path.join(DATA, "genome.fa"), sequence_always_upper=True, rebuild=False)
    out = []
    for chrom, start, end, strand in (("chr1", 9000, 9400, "+"), ("chr1", 21300, 21700, "-")):
        seq = fa[chrom][start - 5000:end + 5000].seq   # 0-based start..end, with context
        if strand == "-":
            seq = seq.translate(str.maketrans("ACGTN", "TGCAN"))[::-1]
        x = np.eye(5, dtype=np.float32)[["NACGT".index(c) for c in seq]][:, 1:]
        y = model.predict([x])[0]                       # [positions, 3]
        out.append({"chrom": chrom, "start": start, "end": end, "strand": strand,
                    "sequence": seq, "acceptor": y[:, 1].tolist(), "donor": y[:, 2].tolist()})
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "profile.json"), "w") as f:
        json.dump(profiles(), f)
    with tempfile.TemporaryDirectory() as tmp:
        # pyfaidx writes its own .fai beside the FASTA: work on a copy
        genome = os.path.join(tmp, "genome.fa")
        with open(os.path.join(DATA, "genome.fa")) as src, open(genome, "w") as dst:
            dst.write(src.read())
        inp = runnable_vcf(tmp, "reference.vcf", CRASHERS | NEAR_END)
        inp_fixed = runnable_vcf(tmp, "fixed.vcf", CRASHERS)
        # cispliceai's own command line, unchanged
        cis_vcf(inp, tmp, "", [])
        cis_vcf(inp, tmp, "-mask", ["--mask"])
        cis_vcf(inp, tmp, "-all", ["--all"])
        cis_vcf(inp, tmp, "-outside", ["--outside"])
        cis_vcf(inp, tmp, "-d50-mask", ["--distance", "50", "--mask"])
        record_top_positions()
        golden = {"excluded": {"reference": sorted(CRASHERS | NEAR_END), "fixed": sorted(CRASHERS)},
                  "configs": CONFIGS, "reference": {}, "fixed": {}}
        for name, cfg in CONFIGS.items():
            golden["reference"][name] = annotations(inp, genome, cfg)
        fix_bugs()
        for name, cfg in CONFIGS.items():
            golden["fixed"][name] = annotations(inp_fixed, genome, cfg)
    with open(os.path.join(OUT, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    fixed = {n: {r["id"] + r["alt"]: r for r in golden["fixed"][n]} for n in CONFIGS}
    changed = sum(r != fixed[n][r["id"] + r["alt"]] for n in CONFIGS for r in golden["reference"][n])
    print(f"wrote {OUT}: {len(golden['fixed']['default'])} alleles x {len(CONFIGS)} settings; "
          f"{changed} allele results differ between cispliceai and its fixed version")


if __name__ == "__main__":
    main()
