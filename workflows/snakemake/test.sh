#!/usr/bin/env bash
# Runs the Snakemake workflow on local cores with snakemake from PyPI (pinned) and checks
# that each merged output equals one unsharded seqlens run, byte for byte: a multi-allelic,
# several-chunk VCF scored in 3 shards (bgzipped VCF with its tabix index), and the sample
# genome tiled every 3 bases in 3 shards (TSV). Needs python3 with venv and the seqlens CLI
# (target/debug/seqlens, or set SEQLENS_CLI). The test command runs it.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
seqlens=${SEQLENS_CLI:-$root/target/debug/seqlens}
venv=$root/target/snakemake-venv
if [ ! -x "$venv/bin/snakemake" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check snakemake==9.27.1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 2,400 SNVs (and a multi-allelic site per 100) sorted along the sample genome, REF read from
# it: three of the scorer's chunks of 1,024 alleles.
python3 - "$root/examples/data/genome.fa" "$work/snvs.vcf" <<'PY'
import sys
seqs, name = {}, None
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith(">"):
        name = line[1:].split()[0]
        seqs[name] = []
    elif line:
        seqs[name].append(line)
seqs = {k: "".join(v).upper() for k, v in seqs.items()}
out = ["##fileformat=VCFv4.2"]
out += [f"##contig=<ID={k},length={len(v)}>" for k, v in seqs.items()]
out.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
for k, s in seqs.items():
    per = 1200
    for i in range(per):
        pos = 300 + i * (len(s) - 600) // per
        ref = s[pos]
        alts = [b for b in "ACGT" if b != ref]
        alt = ",".join(alts[:2]) if i % 100 == 0 else alts[0]
        out.append(f"{k}\t{pos + 1}\t.\t{ref}\t{alt}\t.\tPASS\t.")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
PY

smk() {
  "$venv/bin/snakemake" -s "$root/workflows/snakemake/Snakefile" \
    --configfile "$root/workflows/snakemake/config.yaml" --directory "$work" --cores 2 --quiet \
    --config seqlens="$seqlens" model="$root/examples/models/demo.onnx" \
    genome="$root/examples/data/genome.fa" shards=3 threads=1 backend=cpu "$@"
}

echo "== variants: 3 shards, bgzipped VCF with its index, against one run"
smk job=variants vcf="$work/snvs.vcf" format=vcf index=True outdir="$work/v"
"$seqlens" variants --model examples/models/demo.onnx --vcf "$work/snvs.vcf" \
  --genome examples/data/genome.fa --backend cpu --out "$work/single.vcf.gz" --index 2>/dev/null
cmp "$work/v/variants.vcf.gz" "$work/single.vcf.gz"
cmp "$work/v/variants.vcf.gz.tbi" "$work/single.vcf.gz.tbi"
for i in 1 2 3; do
  grep -q "wrote" "$work/v/logs/variants.$i-of-3.log"
done

echo "== tiles: 3 shards of the genome every 3 bases, against one run"
smk job=tiles stride=3 outdir="$work/t"
"$seqlens" predict --model examples/models/demo.onnx --fasta examples/data/genome.fa \
  --stride 3 --backend cpu --out "$work/single.tsv" 2>/dev/null
cmp "$work/t/tiles.tsv" "$work/single.tsv"
echo "the merged outputs equal the single runs"
