#!/usr/bin/env python3
"""Writes the fuzz targets' seed inputs into fuzz/seeds/<target>/ from the repository's own
small example and test files (no download). The fuzzers' grown corpora live in
fuzz/corpus/<target>/; both are committed, and `cargo fuzz run TARGET corpus/T seeds/T` reads
both.

The `indexed` target takes one packed input: u16 LE length of the .fai text, u16 LE length of
the .gzi bytes, then the .fai, the .gzi and the FASTA. Its seeds pack a small genome, plain
and bgzf (blocks written here as bgzip does: gzip members with a BC extra field giving each
block's size), with the indexes that `seqlens index` writes (SEQLENS, default
target/release/seqlens).

Usage: python3 fuzz/make_seeds.py
"""
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(ROOT, "fuzz", "seeds")


def put(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(os.path.join(ROOT, path), "rb") as f:
        return f.read()


def bgzf(data, block=200):
    """bgzip's format: each block a gzip member whose BC extra field holds its size - 1."""
    out = b""
    for i in range(0, len(data), block):
        chunk = data[i:i + block]
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = c.compress(chunk) + c.flush()
        header = b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x06\x00BC\x02\x00"
        out += header + struct.pack("<H", len(body) + 25) + body
        out += struct.pack("<II", zlib.crc32(chunk), len(chunk))
    # The empty end-of-file block.
    return out + bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def main():
    if os.path.isdir(SEEDS):
        shutil.rmtree(SEEDS)
    # Sequences: FASTA, FASTQ, gzip and small hand cases of what htslib accepts.
    put("sequences", "sample.fa", read("examples/data/sample.fa")[:2000])
    put("sequences", "sample.fq", read("examples/data/sample.fq")[:2000])
    put("sequences", "sample.fq.gz", zlib.compress(read("examples/data/sample.fq")[:1000], wbits=31))
    put("sequences", "multiline.fq", b"@r1 desc\nACGT\nNNAC\n+\nIIII\nIIII\n@r2\nAC\n+r2\n!!\n")
    put("sequences", "crlf.fa", b">a x\r\nACGTN\r\nacgt\r\n\r\n>b\r\nRYKM\r\n")
    # VCF, bgzip VCF and typed variants.
    put("vcf", "variants.vcf", read("examples/data/variants.vcf"))
    put("vcf", "splice.vcf", read("examples/data/splice/variants.vcf"))
    put("vcf", "splice.vcf.gz", bgzf(read("examples/data/splice/variants.vcf")))
    put("vcf", "cis.vcf", read("tests/golden/cispliceai/cis-vcf-d50-mask.vcf"))
    put("vcf", "typed.txt", b"chr1:100 A>G\nchr2:5 AC>A\n1-200-T-TA\n")
    # BED.
    put("bed", "regions.bed", read("examples/data/regions.bed"))
    put("bed", "tracks.bed", b"track name=x\n# c\nchr1\t0\t10\tp1\t5\t+\nchr2\t5\t9\n")
    # Models: the small ONNX test models (tract, metadata, external data refusal, engine).
    models = [
        "tests/models/unsupported_op.onnx",
        "tests/models/nlc_dynamic.onnx",
        "tests/models/fixed_batch1.onnx",
        "tests/models/engine_b.onnx",
        "tests/models/protein_anylen.onnx",
        "tests/models/engine_a.onnx",
        "tests/models/pytorch_cnn.onnx",
    ]
    for m in models:
        for target in ("model", "engine"):
            put(target, os.path.basename(m), read(m))
    # Bindings: gene tables and sequences with IUPAC codes.
    put("bindings", "genes.csv", read("examples/data/splice/genes.csv"))
    put("bindings", "genes.gtf", read("examples/data/splice/genes.gtf")[:1500])
    put("bindings", "iupac.txt", b"ACGTNRYKMSWBDHVacgtnu-.*X")
    # Indexed FASTA: a small genome of mixed line widths, plain and bgzf, indexed by seqlens.
    seqlens = os.environ.get("SEQLENS", os.path.join(ROOT, "target", "release", "seqlens"))
    rng = random.Random(7)
    genome = b""
    for name, n, width in [(b"chr1", 250, 60), (b"chr2", 61, 61), (b"chrM", 17, 5)]:
        seq = bytes(rng.choice(b"ACGTN") for _ in range(n))
        genome += b">" + name + b" desc\n"
        genome += b"".join(seq[i:i + width] + b"\n" for i in range(0, n, width))
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in [("plain.fa", genome), ("bgzf.fa.gz", bgzf(genome))]:
            path = os.path.join(tmp, name)
            with open(path, "wb") as f:
                f.write(data)
            subprocess.run([seqlens, "index", path], check=True, stderr=subprocess.DEVNULL)
            fai = open(path + ".fai", "rb").read()
            gzi = open(path + ".gzi", "rb").read() if os.path.exists(path + ".gzi") else b""
            put("indexed", name, struct.pack("<HH", len(fai), len(gzi)) + fai + gzi + data)
    print(f"wrote seeds under {os.path.relpath(SEEDS, ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
