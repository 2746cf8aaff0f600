#!/usr/bin/env python3
"""seqlens splice vs cispliceai (TensorFlow CPU) on the same VCF, genome and genes, at 1 and
2 threads, in one run; prints seconds, variants per second and the ratio, and checks that
the two agree.

The data are synthetic (seeded, built here): 60 genes with planted exons (as in
scripts/make_splice_data.py) on 6 contigs, and 240 variants clustered as in an exome: 4 per
gene, within 60 bp of its exon boundaries (85% SNVs, 10% deletions, 5% insertions).

Threads are pinned with `taskset` (TensorFlow sizes its pools from the CPUs it may use;
seqlens also gets RAYON_NUM_THREADS). Both read the genome from the same plain FASTA.

Usage (after `cargo build --release` and with the venv of scripts/requirements-cispliceai.txt):
    /tmp/cis/bin/python benches/peers/splice_bench.py [--threads 1,2] [--variants 240]
    python3 benches/peers/splice_bench.py --data-only target/splice-bench   # data for the browser
"""
import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEQLENS = os.path.join(ROOT, "target", "release", "seqlens")

spec = importlib.util.spec_from_file_location("make_splice_data", os.path.join(ROOT, "scripts", "make_splice_data.py"))
msd = importlib.util.module_from_spec(spec)
spec.loader.exec_module(msd)


def build(tmp, n_variants, seed=7):
    msd.rng = np.random.default_rng(seed)
    rng = np.random.default_rng(seed + 1)
    genes, contigs, variants = [], [], []
    per_contig = 10
    n_genes = n_variants // 4
    for c in range((n_genes + per_contig - 1) // per_contig):
        name = f"chr{c + 1}"
        seq = msd.rand(8000)
        for g in range(per_contig):
            if len(genes) == n_genes:
                break
            k = int(rng.integers(3, 7))
            body, exons = msd.gene([int(rng.integers(90, 200)) for _ in range(k)],
                                   [int(rng.integers(400, 1500)) for _ in range(k - 1)])
            minus = bool(rng.integers(0, 2))
            g0 = len(seq)
            seq += msd.revcomp(body) if minus else body
            lb = len(body)
            tx = sorted((g0 + lb - e + 1, g0 + lb - s) for s, e in exons) if minus else [(g0 + s + 1, g0 + e) for s, e in exons]
            genes.append((f"G{len(genes)}", name, "-" if minus else "+", tx))
            seq += msd.rand(int(rng.integers(6000, 12000)))
        seq += msd.rand(8000)
        contigs.append((name, seq))
    fa = os.path.join(tmp, "genome.fa")
    with open(fa, "w") as f:
        for name, s in contigs:
            f.write(f">{name}\n")
            for i in range(0, len(s), 60):
                f.write(s[i:i + 60] + "\n")
    subprocess.run(["samtools", "faidx", fa], check=True)
    csv = os.path.join(tmp, "genes.csv")
    seqs = dict(contigs)
    with open(csv, "w") as f:
        f.write("gene_id,chr,strand,start,end,jn_start,jn_end\n")
        for gid, chrom, strand, tx in genes:
            a = ",".join(str(e[1]) for e in tx[:-1])
            b = ",".join(str(e[0]) for e in tx[1:])
            f.write(f'{gid},{chrom},{strand},{tx[0][0]},{tx[-1][1]},"{a}","{b}"\n')
            bounds = [e[0] for e in tx[1:]] + [e[1] for e in tx[:-1]]
            for _ in range(4):
                p = int(rng.choice(bounds)) + int(rng.integers(-60, 61))
                r = seqs[chrom][p - 1]
                kind = rng.random()
                if kind < 0.85:
                    variants.append((chrom, p, r, "ACGT"[("ACGT".index(r) + int(rng.integers(1, 4))) % 4]))
                elif kind < 0.95:
                    n = int(rng.integers(2, 6))
                    variants.append((chrom, p, seqs[chrom][p - 1:p - 1 + n], r))
                else:
                    variants.append((chrom, p, r, r + "".join(rng.choice(list("ACGT"), int(rng.integers(1, 5))))))
    variants.sort(key=lambda v: (int(v[0][3:]), v[1]))
    vcf = os.path.join(tmp, "variants.vcf")
    with open(vcf, "w") as f:
        f.write("##fileformat=VCFv4.2\n")
        for name, s in contigs:
            f.write(f"##contig=<ID={name},length={len(s)}>\n")
        f.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for i, (chrom, p, r, a) in enumerate(variants):
            f.write(f"{chrom}\t{p}\tv{i}\t{r}\t{a}\t.\t.\t.\n")
    return fa, csv, vcf, len(variants)


def cpus(threads):
    return ",".join(str(i) for i in range(threads))


def timed(cmd, env=None):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def info(path):
    out = {}
    for line in open(path):
        if not line.startswith("#"):
            f = line.rstrip("\n").split("\t")
            out[f[2]] = f[7].split("CISpliceAI=")[1].split(";")[0]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--variants", type=int, default=240)
    ap.add_argument("--data-only", metavar="DIR",
                    help="only write the data (genome.fa + .fai, genes.csv, variants.vcf) into DIR, "
                         "e.g. for benches/peers/browser/splice.mjs")
    args = ap.parse_args()
    if args.data_only:
        os.makedirs(args.data_only, exist_ok=True)
        _, _, _, n = build(args.data_only, args.variants)
        print(f"wrote {n} variants and their genome and genes to {args.data_only}")
        return
    cis = os.path.join(os.path.dirname(sys.executable), "cis-vcf")
    with tempfile.TemporaryDirectory() as tmp:
        fa, csv, vcf, n = build(tmp, args.variants)
        print(f"{n} variants in {n // 4} genes; genome {os.path.getsize(fa) / 1e6:.1f} MB")
        rows = []
        for t in [int(x) for x in args.threads.split(",")]:
            out_c = os.path.join(tmp, f"cis{t}.vcf")
            out_s = os.path.join(tmp, f"seqlens{t}.vcf")
            tc = timed(["taskset", "-c", cpus(t), cis, fa, "-a", csv, "-i", vcf, "-o", out_c])
            env = dict(os.environ, RAYON_NUM_THREADS=str(t))
            ts = timed(["taskset", "-c", cpus(t), SEQLENS, "splice", "--vcf", vcf, "--genome", fa, "-a", csv,
                        "--backend", "cpu", "--out", out_s], env)
            a, b = info(out_c), info(out_s)
            same = sum(a[k] == b[k] for k in a)
            ds_close = 0
            for k in a:
                x = [float(v) for v in a[k].split("|")[2:6]]
                y = [float(v) for v in b[k].split("|")[2:6]]
                ds_close += all(abs(p - q) <= 0.0100001 for p, q in zip(x, y))
            rows.append((t, tc, ts, same, ds_close))
            print(f"threads {t}: cispliceai {tc:.1f} s ({n / tc:.2f} variants/s), seqlens {ts:.1f} s "
                  f"({n / ts:.2f} variants/s): {tc / ts:.2f}x; INFO identical for {same}/{n}, "
                  f"every DS within 0.01 for {ds_close}/{n}", flush=True)
        print("\n| threads | cispliceai (s) | seqlens (s) | seqlens / cispliceai speed |")
        print("|---|---|---|---|")
        for t, tc, ts, _, _ in rows:
            print(f"| {t} | {tc:.1f} | {ts:.1f} | {tc / ts:.2f}x |")


if __name__ == "__main__":
    main()
