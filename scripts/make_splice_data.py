#!/usr/bin/env python3
"""The bundled splice-variant example (examples/data/splice/): a synthetic genome with
planted genes, their annotation (cispliceai's CSV format and GTF), and a VCF whose variants
cover what CI-SpliceAI scoring must get right.

The genes are random sequence (seeded) with planted exons: acceptors as branch point +
polypyrimidine tract + CAG|G, donors as CAG|GTAAGT. CI-SpliceAI predicts these sites with
high probability, so variants at them have clear effects. It is NOT real human sequence.

- genome.fa (+ .fai), and genome.fa.gz (+ .fai, .gzi) compressed with `bgzip` and indexed
  with `samtools faidx` (Debian packages tabix and samtools), as genomes are shipped: chr1 (plus-strand geneA with an alternative isoform, minus-strand
  geneB, intergenic space between), chr2 (geneC from the contig's first base, an intergenic
  stretch, and its end within 6 kb of a variant), chr3 (150 kb without genes, so that the
  bgzf copy spans several blocks), chrM (a short contig).
- genes.csv: cispliceai's annotation format (gene_id,chr,strand,start,end,jn_start,jn_end;
  1-based; jn_start = last exon base before each intron, jn_end = first exon base after it,
  over all transcripts).
- genes.gtf: the same genes as GTF (gene, transcript and exon lines, 1-based inclusive).
- variants.vcf: SNVs at donors and acceptors on both strands, exonic and deep-intronic SNVs,
  insertions, deletions (one removes a donor), an MNV, a multi-allelic site, intergenic
  variants, variants near chr2's start and end, a REF mismatch, an unknown contig and a
  symbolic allele.

Usage: python3 scripts/make_splice_data.py   (numpy; bgzip and samtools for the .gz copy)
"""
import os
import subprocess

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "examples", "data", "splice")
rng = np.random.default_rng(20261201)
COMP = str.maketrans("ACGT", "TGCA")


def rand(n, gc=0.42):
    p = [(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2]
    return "".join(rng.choice(list("ACGT"), int(n), p=p))


def pyrimidines(n):
    return "".join(rng.choice(list("CT"), n, p=[0.45, 0.55]))


def gene(exon_lengths, intron_lengths):
    """A plus-strand gene body: its sequence and exon intervals (0-based, half-open)."""
    seq, exons = "", []
    for i, n in enumerate(exon_lengths):
        start = len(seq)
        body = rand(n, 0.5)
        if i > 0:
            body = "G" + body[1:]              # acceptor: ...CAG|G
        if i < len(exon_lengths) - 1:
            body = body[:-3] + "CAG"            # donor:    CAG|GTAAGT...
        seq += body
        exons.append((start, len(seq)))
        if i < len(intron_lengths):
            n_in = intron_lengths[i]
            seq += "GTAAGT" + rand(n_in - 6 - 7 - 15 - 18 - 3) + "TACTAAC" + rand(15) + pyrimidines(18) + "CAG"
    return seq, exons


def revcomp(s):
    return s.translate(COMP)[::-1]


def main():
    os.makedirs(OUT, exist_ok=True)
    genes = []  # (gene_id, chrom, strand, transcripts: [[(start, end) 1-based inclusive exons]])

    # chr1: geneA (+) at 9,001, geneB (-) after an intergenic gap
    a_seq, a_exons = gene([160, 120, 140, 110, 200], [700, 450, 900, 600])
    b_seq, b_exons = gene([180, 130, 150, 170], [650, 800, 500])
    chr1 = rand(9000)
    a0 = len(chr1)
    chr1 += a_seq + rand(9000)
    b0 = len(chr1)
    chr1 += revcomp(b_seq) + rand(9000)
    a_tx = [(a0 + s + 1, a0 + e) for s, e in a_exons]
    # an alternative isoform of geneA that skips exon 3
    genes.append(("ENSG_A", "chr1", "+", [a_tx, a_tx[:2] + a_tx[3:]]))
    # minus strand: exon (s, e) of the forward body sits at b0 + len - e .. b0 + len - s
    lb = len(b_seq)
    b_tx = sorted((b0 + lb - e + 1, b0 + lb - s) for s, e in b_exons)
    genes.append(("ENSG_B", "chr1", "-", [b_tx]))

    # chr2: geneC (+) from the contig's first base; intergenic stretch; end 3 kb past a variant
    c_seq, c_exons = gene([150, 130, 160], [500, 600])
    chr2 = c_seq + rand(16000)
    genes.append(("ENSG_C", "chr2", "+", [[(s + 1, e) for s, e in c_exons]]))
    chrm = rand(1500)
    # a long contig without genes, so the bgzf copy has several blocks to seek between
    chr3 = rand(150000)

    contigs = [("chr1", chr1), ("chr2", chr2), ("chr3", chr3), ("chrM", chrm)]
    with open(os.path.join(OUT, "genome.fa"), "w") as f, open(os.path.join(OUT, "genome.fa.fai"), "w") as fai:
        off = 0
        for name, s in contigs:
            header = f">{name}\n"
            f.write(header)
            off += len(header)
            fai.write(f"{name}\t{len(s)}\t{off}\t60\t61\n")
            for i in range(0, len(s), 60):
                f.write(s[i:i + 60] + "\n")
            off += len(s) + (len(s) + 59) // 60

    # annotation: CSV as cispliceai's, and GTF
    with open(os.path.join(OUT, "genes.csv"), "w") as csv, open(os.path.join(OUT, "genes.gtf"), "w") as gtf:
        csv.write("gene_id,chr,strand,start,end,jn_start,jn_end\n")
        gtf.write("##description: synthetic genes of scripts/make_splice_data.py\n")
        for gid, chrom, strand, txs in genes:
            start = min(e[0] for t in txs for e in t)
            end = max(e[1] for t in txs for e in t)
            jn_start = sorted({t[i][1] for t in txs for i in range(len(t) - 1)})
            jn_end = sorted({t[i + 1][0] for t in txs for i in range(len(t) - 1)})
            csv.write(f'{gid},{chrom},{strand},{start},{end},"{",".join(map(str, jn_start))}","{",".join(map(str, jn_end))}"\n')
            attrs = f'gene_id "{gid}"; gene_name "{gid[5:]}";'
            gtf.write(f"{chrom}\tsynthetic\tgene\t{start}\t{end}\t.\t{strand}\t.\t{attrs}\n")
            for k, t in enumerate(txs):
                tid = f"{gid}_T{k + 1}"
                gtf.write(f"{chrom}\tsynthetic\ttranscript\t{t[0][0]}\t{t[-1][1]}\t.\t{strand}\t.\t{attrs} transcript_id \"{tid}\";\n")
                order = t if strand == "+" else t[::-1]
                for n, (s, e) in enumerate(order):
                    gtf.write(f"{chrom}\tsynthetic\texon\t{s}\t{e}\t.\t{strand}\t.\t{attrs} transcript_id \"{tid}\"; exon_number \"{n + 1}\";\n")

    plain = os.path.join(OUT, "genome.fa")
    subprocess.run(["bgzip", "-c", "-@1", plain], check=True, stdout=open(plain + ".gz", "wb"))
    subprocess.run(["samtools", "faidx", plain + ".gz"], check=True)

    seqs = dict(contigs)

    def base(chrom, pos):  # 1-based
        return seqs[chrom][pos - 1]

    def bases(chrom, pos, n):
        return seqs[chrom][pos - 1:pos - 1 + n]

    def other(b, k=1):
        return "ACGT"[("ACGT".index(b) + k) % 4]

    records = []

    def snv(chrom, pos, alt_shift, vid):
        r = base(chrom, pos)
        records.append((chrom, pos, vid, r, other(r, alt_shift)))

    ax, bx, cx = a_tx, sorted(b_tx), genes[2][3][0]
    # geneA (+): donor after exon 1 is ax[0][1]; its G of GT is ax[0][1] + 1
    snv("chr1", ax[0][1] + 1, 2, "A_donor1_G>")
    snv("chr1", ax[1][0] - 1, 1, "A_acceptor2_G>")
    snv("chr1", (ax[2][0] + ax[2][1]) // 2, 1, "A_exon3_mid")
    snv("chr1", ax[2][1] + 250, 1, "A_deep_intron3")
    p = ax[1][1]  # last base of exon 2: delete the GTAA after it
    records.append(("chr1", p, "A_del_donor2", bases("chr1", p, 5), base("chr1", p)))
    p = ax[3][0] - 10  # inside the polypyrimidine tract of acceptor 4
    records.append(("chr1", p, "A_ins_ppt4", base("chr1", p), base("chr1", p) + "AGGTAAG"))
    p = ax[3][1] - 1
    records.append(("chr1", p, "A_mnv_exon4_end", bases("chr1", p, 2), other(base("chr1", p)) + other(base("chr1", p + 1))))
    p = ax[4][0] + 2
    r = base("chr1", p)
    records.append(("chr1", p, "A_multiallelic", r, f"{other(r, 1)},{other(r, 2)}"))
    # geneB (-): in genome order its introns start at bx[i][1] + 1 (acceptor side, AG
    # reads CT) and end at bx[i + 1][0] - 1 (donor side, GT reads AC)
    snv("chr1", bx[1][0] - 1, 1, "B_donor_minus")
    snv("chr1", bx[0][1] + 1, 2, "B_acceptor_minus")
    p = bx[2][0] - 30
    records.append(("chr1", p, "B_ins_intron", base("chr1", p), base("chr1", p) + "CTTACCTG"))
    p = bx[1][1] - 3
    records.append(("chr1", p, "B_del_exon_end", bases("chr1", p, 4), base("chr1", p)))
    # intergenic (between geneA and geneB, and after geneB)
    gap = (ax[-1][1] + bx[0][0]) // 2
    snv("chr1", gap, 1, "intergenic_1")
    snv("chr1", len(chr1) - 4000, 3, "intergenic_near_chr1_end")
    # near chr2's start: in geneC (which starts at base 1), and intergenic
    snv("chr2", cx[0][1] + 1, 2, "C_donor1_near_start")
    snv("chr2", cx[1][0] - 1, 1, "C_acceptor2_near_start")
    p = cx[2][1] + 2500
    records.append(("chr2", p, "C_near_start_del", bases("chr2", p, 3), base("chr2", p)))
    # near chr2's end (N past it)
    snv("chr2", len(chr2) - 3000, 1, "near_end")
    # statuses: REF mismatch, unknown contig, symbolic allele
    p = ax[2][0] + 5
    records.append(("chr1", p, "ref_mismatch", other(base("chr1", p)), base("chr1", p)))
    records.append(("chr9", 5000, "unknown_contig", "A", "G"))
    records.append(("chr1", gap + 40, "symbolic", base("chr1", gap + 40), "<DEL>"))
    records.sort(key=lambda r: ([c for c, _ in contigs] + ["chr9"]).index(r[0]) * 10**9 + r[1])

    with open(os.path.join(OUT, "variants.vcf"), "w") as f:
        f.write("##fileformat=VCFv4.2\n")
        for name, s in contigs:
            f.write(f"##contig=<ID={name},length={len(s)}>\n")
        f.write("##contig=<ID=chr9>\n")
        f.write("##source=seqlens scripts/make_splice_data.py (synthetic)\n")
        f.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for chrom, pos, vid, r, alt in records:
            f.write(f"{chrom}\t{pos}\t{vid}\t{r}\t{alt}\t.\tPASS\t.\n")
    print(f"wrote {OUT}: {len(records)} variants, genes " + ", ".join(g[0] for g in genes))


if __name__ == "__main__":
    main()
