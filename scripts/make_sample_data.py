#!/usr/bin/env python3
"""Build the sample data and the JASPAR scanner model, reproducibly.

(The default model, examples/models/demo.onnx, is trained by `seqlens train`; see
examples/models/demo.toml.) The scanner, examples/models/jaspar_scanner.onnx, is a JASPAR
motif scanner written directly as an ONNX graph: its first-layer
filters are the log-odds matrices of eight real JASPAR 2024 CORE motifs (CC BY 4.0, read from
the `pyjaspar` package), on both strands. It is NOT a trained predictor: each output is
sigmoid(best motif match - threshold), a smooth "does this window contain the motif" score.

The sample genome and sequences are random DNA (seeded) with motif instances sampled from the
same matrices planted at recorded positions, so the demo has something to find.

Usage: python3 scripts/make_sample_data.py   (writes examples/models and examples/data)
"""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "examples", "models")
DATA = os.path.join(ROOT, "examples", "data")
LENGTH = 500
MOTIFS = [  # (label, JASPAR 2024 CORE matrix id)
    ("CTCF", "MA0139.2"),
    ("GATA1", "MA0035.5"),
    ("SPI1", "MA0080.7"),
    ("FOXA1", "MA0148.5"),
    ("HNF4A", "MA0114.5"),
    ("CEBPB", "MA0466.4"),
    ("REST", "MA0138.3"),
    ("TP53", "MA0106.3"),
]
BASES = "ACGT"


def load_counts():
    """Counts matrices, from pyjaspar when available, else from the committed JSON copy."""
    path = os.path.join(MODELS, "jaspar_motifs.json")
    try:
        from pyjaspar import jaspardb

        db = jaspardb(release="JASPAR2024")
        out = []
        for label, mid in MOTIFS:
            m = db.fetch_motif_by_id(mid)
            out.append({"label": label, "id": mid, "name": m.name,
                        "counts": {b: [float(x) for x in m.counts[b]] for b in BASES}})
        doc = {"source": "JASPAR 2024 CORE vertebrates, via the pyjaspar package (release JASPAR2024)",
               "license": "CC BY 4.0 (https://jaspar.elixir.no/faq/)",
               "motifs": out}
        with open(path, "w") as f:
            json.dump(doc, f, indent=1)
        return out
    except ImportError:
        with open(path) as f:
            return json.load(f)["motifs"]


def log_odds(counts, pseudo=0.8):
    c = np.array([counts[b] for b in BASES], dtype=np.float64)  # [4, w]
    p = (c + pseudo / 4) / (c.sum(axis=0, keepdims=True) + pseudo)
    return np.log2(p / 0.25)


def build_model(motifs):
    pwms = [log_odds(m["counts"]) for m in motifs]
    width = max(p.shape[1] for p in pwms)
    k = len(pwms)
    w = np.zeros((2 * k, 4, width), dtype=np.float32)
    thresholds = np.zeros(k, dtype=np.float32)
    for i, p in enumerate(pwms):
        n = p.shape[1]
        w[i, :, :n] = p
        w[k + i, :, :n] = p[::-1, ::-1]  # reverse complement: flip bases (ACGT->TGCA) and positions
        # Scores above 80 % of the best possible match count as a hit.
        thresholds[i] = 0.8 * p.max(axis=0).sum()
    nodes = [
        helper.make_node("Conv", ["sequence", "W"], ["scores"], kernel_shape=[width], pads=[0, width - 1]),
        helper.make_node("GlobalMaxPool", ["scores"], ["best"]),
        helper.make_node("Reshape", ["best", "strand_shape"], ["by_strand"]),
        helper.make_node("ReduceMax", ["by_strand"], ["best_any"], axes=[1], keepdims=0),
        helper.make_node("Sub", ["best_any", "threshold"], ["margin"]),
        helper.make_node("Sigmoid", ["margin"], ["motif_presence"]),
    ]
    graph = helper.make_graph(
        nodes,
        "jaspar_scanner",
        [helper.make_tensor_value_info("sequence", TensorProto.FLOAT, ["batch", 4, LENGTH])],
        [helper.make_tensor_value_info("motif_presence", TensorProto.FLOAT, ["batch", k])],
        initializer=[
            numpy_helper.from_array(w, "W"),
            numpy_helper.from_array(np.array([-1, 2, k], dtype=np.int64), "strand_shape"),
            numpy_helper.from_array(thresholds, "threshold"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="seqlens/scripts/make_sample_data.py", producer_version="1")
    model.ir_version = 8
    props = {
        "seqlens.alphabet": "dna",
        "seqlens.layout": "NCL",
        "seqlens.length": str(LENGTH),
        "seqlens.n_policy": "zero",
        "seqlens.labels": json.dumps([m["label"] for m in motifs]),
        "seqlens.task": "demo-motif-scanner",
        "seqlens.description": "JASPAR 2024 motif scanner (not trained): sigmoid(best log-odds match - 0.8 * max score), both strands",
    }
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    return model


def sample_motif(rng, counts):
    c = np.array([counts[b] for b in BASES], dtype=np.float64)
    p = c / c.sum(axis=0, keepdims=True)
    return "".join(BASES[rng.choice(4, p=p[:, j])] for j in range(c.shape[1]))


def consensus(counts):
    c = np.array([counts[b] for b in BASES])
    return "".join(BASES[j] for j in c.argmax(axis=0))


def random_dna(rng, n, gc=0.42):
    p = [(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2]
    return "".join(BASES[i] for i in rng.choice(4, size=n, p=p))


def plant(seq, motif, pos):
    return seq[:pos] + motif + seq[pos + len(motif):]


def wrap(seq, width=60):
    return "\n".join(seq[i:i + width] for i in range(0, len(seq), width))


def write_fai(fasta_path, width=60):
    lines, offset = [], 0
    with open(fasta_path, "rb") as f:
        data = f.read()
    for chunk in data.split(b">")[1:]:
        header, _, body = chunk.partition(b"\n")
        name = header.split()[0].decode()
        seq_offset = offset + 1 + len(header) + 1
        length = len(body.replace(b"\n", b""))
        lines.append(f"{name}\t{length}\t{seq_offset}\t{width}\t{width + 1}\n")
        offset += 1 + len(chunk)
    with open(fasta_path + ".fai", "w") as f:
        f.writelines(lines)


def make_data(motifs):
    rng = np.random.default_rng(20261125)
    by_label = {m["label"]: m for m in motifs}
    os.makedirs(DATA, exist_ok=True)

    # A small two-contig genome with planted motifs.
    planted = []
    contigs = {"chrA": random_dna(rng, 20000), "chrB": random_dna(rng, 12000)}
    for chrom, pos, label in [("chrA", 2000, "CTCF"), ("chrA", 5230, "GATA1"), ("chrA", 9000, "SPI1"),
                              ("chrA", 14100, "FOXA1"), ("chrB", 1500, "HNF4A"), ("chrB", 6000, "REST"),
                              ("chrB", 11800, "CEBPB")]:
        motif = consensus(by_label[label]["counts"])
        contigs[chrom] = plant(contigs[chrom], motif, pos)
        planted.append((chrom, pos, label, motif))
    with open(os.path.join(DATA, "genome.fa"), "w") as f:
        for name, seq in contigs.items():
            f.write(f">{name} synthetic contig, seqlens demo\n{wrap(seq)}\n")
    write_fai(os.path.join(DATA, "genome.fa"))
    with open(os.path.join(DATA, "planted_motifs.tsv"), "w") as f:
        f.write("chrom\tstart\tend\tmotif\tsequence\n")
        for chrom, pos, label, motif in planted:
            f.write(f"{chrom}\t{pos}\t{pos + len(motif)}\t{label}\t{motif}\n")

    with open(os.path.join(DATA, "regions.bed"), "w") as f:
        f.write("track name=demo_regions description=\"seqlens demo regions\"\n")
        for chrom, pos, label, motif in planted:
            f.write(f"{chrom}\t{pos - 50}\t{pos + len(motif) + 50}\t{label}_site\n")
        f.write("chrA\t17000\t17400\tbackground\n")
        f.write("chrB\t100\t300\tnear_contig_start\n")

    # Variants: an SNV inside the CTCF site, an SNV elsewhere, an insertion, a deletion and a
    # multi-allelic site. REF alleles are read from the genome so they match.
    def ref(chrom, pos1, n=1):
        return contigs[chrom][pos1 - 1:pos1 - 1 + n]

    ctcf = next(p for p in planted if p[2] == "CTCF")
    snv1 = ctcf[1] + 6  # 1-based position of the 6th base of the site
    alt1 = next(b for b in "ACGT" if b != ref("chrA", snv1))
    rows = [
        ("chrA", snv1, "ctcf_snv", ref("chrA", snv1), alt1),
        ("chrA", 12000, "bg_snv", ref("chrA", 12000), next(b for b in "ACGT" if b != ref("chrA", 12000))),
        ("chrA", 9010, "spi1_ins", ref("chrA", 9010), ref("chrA", 9010) + "GGAA"),
        ("chrB", 1502, "hnf4a_del", ref("chrB", 1502, 4), ref("chrB", 1502)),
        ("chrB", 6005, "rest_multi", ref("chrB", 6005),
         ",".join(b for b in "ACGT" if b != ref("chrB", 6005))[:3]),
    ]
    with open(os.path.join(DATA, "variants.vcf"), "w") as f:
        f.write("##fileformat=VCFv4.2\n##source=seqlens/scripts/make_sample_data.py\n")
        for name, seq in contigs.items():
            f.write(f"##contig=<ID={name},length={len(seq)}>\n")
        f.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for chrom, pos, vid, r, a in rows:
            f.write(f"{chrom}\t{pos}\t{vid}\t{r}\t{a}\t.\tPASS\t.\n")

    # Sequences for `seqlens predict --fasta`: model length, longer (center-cropped), shorter
    # (N-padded), lowercase, with N runs, and one with no planted motif.
    seqs = []
    s = random_dna(rng, 500)
    seqs.append(("ctcf_site", "CTCF motif at 240", plant(s, sample_motif(rng, by_label["CTCF"]["counts"]), 240)))
    s = random_dna(rng, 800)
    seqs.append(("gata1_long", "GATA1 at 390, 800 bp (center-cropped)", plant(s, sample_motif(rng, by_label["GATA1"]["counts"]), 390)))
    s = random_dna(rng, 300)
    seqs.append(("spi1_short", "SPI1 at 120, 300 bp (N-padded)", plant(s, sample_motif(rng, by_label["SPI1"]["counts"]), 120)))
    s = random_dna(rng, 500)
    seqs.append(("foxa1_lower", "FOXA1 at 60, soft-masked", plant(s, sample_motif(rng, by_label["FOXA1"]["counts"]), 60).lower()))
    s = random_dna(rng, 500)
    s = plant(s, sample_motif(rng, by_label["REST"]["counts"]), 300)
    seqs.append(("rest_with_n", "REST at 300, N run at 50", s[:50] + "N" * 25 + s[75:]))
    seqs.append(("background", "no planted motif", random_dna(rng, 500)))
    s = random_dna(rng, 1200)
    s = plant(s, sample_motif(rng, by_label["TP53"]["counts"]), 100)
    s = plant(s, sample_motif(rng, by_label["CEBPB"]["counts"]), 1000)
    seqs.append(("tp53_cebpb_1200", "TP53 at 100, CEBPB at 1000; tile with --stride", s))
    with open(os.path.join(DATA, "sample.fa"), "w") as f:
        for name, desc, seq in seqs:
            f.write(f">{name} {desc}\n{wrap(seq)}\n")
    with open(os.path.join(DATA, "sample.fq"), "w") as f:
        for name, _, seq in seqs[:3]:
            f.write(f"@{name}\n{seq}\n+\n{'I' * len(seq)}\n")


def main():
    motifs = load_counts()
    os.makedirs(MODELS, exist_ok=True)
    onnx.save(build_model(motifs), os.path.join(MODELS, "jaspar_scanner.onnx"))
    make_data(motifs)
    print("wrote", os.path.join(MODELS, "jaspar_scanner.onnx"), "and", DATA)


if __name__ == "__main__":
    main()
