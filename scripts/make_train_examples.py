"""Write the small example files that `seqlens --help` examples run on (a test runs each one):

- examples/data/train/{train,valid,test}.fa: records 0-399, 400-499 and 500-599 of
  examples/data/train/motifs.fa (simulated sequences with planted JASPAR motifs, labels in the
  headers: CTCF GATA1 SPI1 FOXA1 HNF4A CEBPB REST TP53), an explicit three-way split;
- examples/data/train/ctcf_{pos,neg}.fa: train.fa's records with and without CTCF;
- examples/data/planted_motifs.meme: the eight planted motifs' JASPAR 2024 matrices, from
  examples/models/jaspar_motifs.json (CC BY 4.0, data/JASPAR_LICENSE.md), as letter
  probabilities with 6 decimals.

    python scripts/make_train_examples.py
"""
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN = os.path.join(ROOT, "examples", "data", "train")


def records(path):
    lines = open(path).read().split("\n")
    return [(lines[i], lines[i + 1]) for i in range(0, len(lines) - 1, 2)]


def write(name, recs):
    with open(os.path.join(TRAIN, name), "w") as f:
        f.writelines(f"{h}\n{s}\n" for h, s in recs)


def main():
    recs = records(os.path.join(TRAIN, "motifs.fa"))
    train, valid, test = recs[:400], recs[400:500], recs[500:600]
    write("train.fa", train)
    write("valid.fa", valid)
    write("test.fa", test)
    # The header is `>id CTCF GATA1 ...`: CTCF is the first label.
    write("ctcf_pos.fa", [(h.split()[0], s) for h, s in train if h.split()[1] == "1"])
    write("ctcf_neg.fa", [(h.split()[0], s) for h, s in train if h.split()[1] == "0"])

    motifs = json.load(open(os.path.join(ROOT, "examples", "models", "jaspar_motifs.json")))
    lines = ["MEME version 4", "", "ALPHABET= ACGT", "", "strands: + -", "",
             "Background letter frequencies", "A 0.25 C 0.25 G 0.25 T 0.25", ""]
    for m in motifs["motifs"]:
        c = m["counts"]
        width = len(c["A"])
        total = sum(c[b][0] for b in "ACGT")
        lines.append(f"MOTIF {m['id']} {m['name']}")
        lines.append(f"letter-probability matrix: alength= 4 w= {width} nsites= {int(total)} E= 0")
        for i in range(width):
            col = sum(c[b][i] for b in "ACGT")
            lines.append(" ".join(f"{c[b][i] / col:.6f}" for b in "ACGT"))
        lines.append("")
    with open(os.path.join(ROOT, "examples", "data", "planted_motifs.meme"), "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
