"""Write data/jaspar2024_core_vertebrates.meme.gz: JASPAR 2024 CORE vertebrates, the latest
version of each matrix (the non-redundant set), as a MEME file of letter probabilities.

Source: the `pyjaspar` package from PyPI (pinned in scripts/requirements.txt), which ships the
JASPAR 2024 SQLite database. JASPAR's matrices are CC BY 4.0 (data/JASPAR_LICENSE.md). seqlens
bundles this file as its default database for motif annotation (src/motif/jaspar.rs).

Each motif's probabilities are its counts over its column's total, written with 6 decimals:
the text is what seqlens and memelite both read, so both see the same numbers.

    python scripts/jaspar_meme.py
"""
import gzip
import os

from pyjaspar import jaspardb

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "data", "jaspar2024_core_vertebrates.meme.gz")


def main():
    db = jaspardb(release="JASPAR2024")
    motifs = db.fetch_motifs(collection="CORE", tax_group=["vertebrates"], all_versions=False)
    motifs = sorted(motifs, key=lambda m: m.matrix_id)
    lines = ["MEME version 4", "", "ALPHABET= ACGT", "", "strands: + -", "",
             "Background letter frequencies", "A 0.25 C 0.25 G 0.25 T 0.25", ""]
    for m in motifs:
        counts = [[float(m.counts[b][i]) for b in "ACGT"] for i in range(m.length)]
        lines.append(f"MOTIF {m.matrix_id} {m.name}")
        nsites = int(round(sum(counts[0])))
        lines.append(f"letter-probability matrix: alength= 4 w= {m.length} nsites= {nsites} E= 0")
        for col in counts:
            total = sum(col)
            lines.append(" ".join(f"{c / total:.6f}" for c in col))
        lines.append("URL https://jaspar.elixir.no/matrix/" + m.matrix_id)
        lines.append("")
    # mtime=0 keeps the file byte-identical between runs.
    with open(OUT, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
        f.write(("\n".join(lines)).encode())
    print("wrote", OUT, len(motifs), "motifs")


if __name__ == "__main__":
    main()
