"""The Python package end to end, installed from its wheel (scripts/test-python.sh builds it
and installs it into a fresh venv). Expected numbers come from independent sources, named in
each test: the `seqlens` command line (SEQLENS_CLI, the binary cargo built), onnxruntime
(tests/golden, scripts/golden.py), PyTorch (scripts/make_pytorch_model.py) and tangermeme 1.6
(scripts/tangermeme_golden.py)."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import seqlens

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples/models/demo.onnx"
SAMPLE = ROOT / "examples/data/sample.fa"


def cli(*args):
    """Runs the seqlens command line and returns its stdout."""
    exe = os.environ.get("SEQLENS_CLI", str(ROOT / "target/debug/seqlens"))
    assert Path(exe).exists(), f"the seqlens binary is not at {exe}: build it or set SEQLENS_CLI"
    return subprocess.run([exe, *map(str, args)], check=True, capture_output=True, text=True).stdout


def golden_tsv(name):
    """A TSV of tests/golden as (labels, values)."""
    lines = (ROOT / "tests/golden" / name).read_text().splitlines()
    labels = lines[0].split("\t")[4:]
    values = np.array([[float(v) for v in ln.split("\t")[4:]] for ln in lines[1:]], np.float32)
    return labels, values


@pytest.fixture(scope="module")
def demo():
    return seqlens.Model.load(DEMO, backend="cpu")


def test_predict_fasta_writes_the_command_lines_table(demo):
    got = demo.predict_fasta(SAMPLE)
    assert got["tsv"] == cli("predict", "--model", DEMO, "--fasta", SAMPLE, "--backend", "cpu")
    assert got["values"].shape == (len(got["ids"]), len(got["labels"]))
    assert got["values"].dtype == np.float32


@pytest.mark.parametrize("rc, golden", [(False, "demo_sample.tsv"), (True, "demo_sample_rc.tsv")])
def test_sequences_and_arrays_predict_as_onnxruntime(demo, rc, golden):
    labels, want = golden_tsv(golden)
    assert demo.labels == labels
    records = seqlens.read_fasta(SAMPLE)
    np.testing.assert_allclose(demo.predict(records, rc_average=rc), want, atol=1e-5)
    # The windows the model saw, encoded as tangermeme would: the records' centre 500 bases
    # (the sample's shorter records are N-padded, which an array cannot say, so they are left out).
    windows = demo.predict_fasta(SAMPLE)
    fasta = dict(records)
    rows = [i for i, (c, s, e) in enumerate(zip(windows["chrom"], windows["start"], windows["end"]))
            if s >= 0 and e <= len(fasta[c])]
    assert len(rows) >= 4
    x = seqlens.one_hot([fasta[windows["chrom"][i]][windows["start"][i]:windows["end"][i]]
                         for i in rows])
    from_array = demo.predict(x, rc_average=rc)
    np.testing.assert_allclose(from_array, want[rows], atol=1e-5)
    # Any float dtype and memory order reads the same.
    np.testing.assert_allclose(demo.predict(np.asfortranarray(x.astype(np.float64)), rc_average=rc),
                               from_array, atol=1e-7)


def test_a_pytorch_model_predicts_as_pytorch():
    # scripts/make_pytorch_model.py: a Basset-style CNN exported with torch.onnx.export; its
    # outputs agree with torch's own within 1e-6 (asserted by the script).
    case = json.loads((ROOT / "tests/golden/pytorch_cnn.json").read_text())
    model = seqlens.Model.load(ROOT / "tests/models/pytorch_cnn.onnx")
    got = model.predict(seqlens.one_hot(case["sequences"]))
    np.testing.assert_allclose(got, np.array(case["outputs"], np.float32), atol=1e-5)


def test_variant_scores_equal_the_command_lines(demo):
    vcf, genome = ROOT / "examples/data/variants.vcf", ROOT / "examples/data/genome.fa"
    got = demo.score_variants(vcf, genome)
    want = cli("variants", "--model", DEMO, "--vcf", vcf, "--genome", genome, "--backend", "cpu")
    assert got["tsv"] == want
    ok = [v for v in got["variants"] if v["status"] == "ok"]
    assert ok and all(len(v["ref_pred"]) == len(demo.labels) for v in ok)


def test_variant_vcf_output_equals_the_command_lines(demo, tmp_path):
    genome = ROOT / "examples/data/genome.fa"
    # The sample VCF, its records sorted by position (an index needs them sorted).
    lines = (ROOT / "examples/data/variants.vcf").read_text().splitlines(keepends=True)
    head = [ln for ln in lines if ln.startswith("#")]
    body = sorted((ln for ln in lines if not ln.startswith("#")), key=lambda ln: (ln.split("\t")[0], int(ln.split("\t")[1])))
    vcf = tmp_path / "sorted.vcf"
    vcf.write_text("".join(head + body))
    mine, theirs = tmp_path / "py.vcf.gz", tmp_path / "cli.vcf.gz"
    got = demo.score_variants(vcf, genome, out=mine, index=True)
    cli("variants", "--model", DEMO, "--vcf", vcf, "--genome", genome, "--backend", "cpu", "--out", theirs, "--index")
    assert mine.read_bytes() == theirs.read_bytes()
    assert Path(f"{mine}.tbi").read_bytes() == Path(f"{theirs}.tbi").read_bytes()
    assert got["tsv"].count("\n") > 1
    with pytest.raises(seqlens.SeqlensError, match=r"out writes a VCF; name it \.vcf"):
        demo.score_variants(vcf, genome, out=tmp_path / "x.tsv")
    with pytest.raises(seqlens.SeqlensError, match=r"index=True indexes the VCF that out= writes"):
        demo.score_variants(vcf, genome, index=True)
    with pytest.raises(seqlens.SeqlensError, match=r"an index needs a bgzip-compressed VCF"):
        demo.score_variants(vcf, genome, out=tmp_path / "plain.vcf", index=True)
    assert not (tmp_path / "plain.vcf").exists()


def test_deeplift_shap_equals_tangermeme():
    doc = json.loads((ROOT / "tests/golden/deeplift.json").read_text())
    case = doc["models"]["deepbind"]
    model = seqlens.Model.load(ROOT / "tests/models/deeplift/deepbind.onnx", backend="cpu")
    ids = [f"s{i}" for i in range(len(case["sequences"]))]
    refs = dict(zip(ids, case["references"]))
    for t, want in case["targets"].items():
        got = model.attribute(list(zip(ids, case["sequences"])), method="deeplift-shap",
                              target=[model.labels[int(t)]], references=refs)
        hyp = np.array(want["hypothetical"], np.float32).reshape(got.shape)
        np.testing.assert_allclose(got, hyp, atol=1e-5 * max(1.0, np.abs(hyp).max()))


def test_ism_equals_predictions_of_each_substitution(demo):
    # Hand check: ISM's value at (base, position) is the prediction with that substitution
    # minus the reference's (zero at the observed base).
    seq = seqlens.read_fasta(SAMPLE)[0][1][:500]
    maps = demo.ism([seq], target=["CTCF"])
    assert maps.shape == (1, 4, 500)
    col = demo.labels.index("CTCF")
    ref = demo.predict([seq])[0, col]
    for pos in (0, 123, 499):
        for c, base in enumerate("ACGT"):
            mutant = seq[:pos] + base + seq[pos + 1:]
            want = demo.predict([mutant])[0, col] - ref
            assert abs(maps[0, c, pos] - want) < 1e-5, (pos, base)


def test_one_hot_and_reverse_complement_by_hand():
    x = seqlens.one_hot("ACGTN")
    assert x.shape == (4, 5) and x.dtype == np.float32
    np.testing.assert_array_equal(x, [[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 0]])
    assert seqlens.one_hot(["AC", "GT"]).shape == (2, 4, 2)
    np.testing.assert_array_equal(seqlens.one_hot("N", n="uniform"), [[0.25]] * 4)
    assert seqlens.reverse_complement("AACGTN") == "NACGTT"
    assert seqlens.read_vcf(ROOT / "examples/data/variants.vcf")[0]["chrom"] == "chrA"


def test_errors_are_exceptions_with_the_command_lines_messages(demo, tmp_path):
    def message(f):
        with pytest.raises(seqlens.SeqlensError) as e:
            f()
        return str(e.value)

    assert "invalid character 'X' at position 5" in message(lambda: demo.predict(["ACGTX"]))
    m = message(lambda: demo.predict(np.zeros((2, 5, 500), np.float32)))
    assert "5 channels" in m and "takes 4" in m
    assert "length 499" in message(lambda: demo.predict(np.zeros((1, 4, 499))))
    assert "shape (N, C, L)" in message(lambda: demo.predict(np.zeros((4, 500))))
    assert "not one string" in message(lambda: demo.predict("ACGT"))
    assert "no such file" in message(lambda: seqlens.Model.load(tmp_path / "missing.onnx")).lower()
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    assert "not a valid ONNX model" in message(lambda: seqlens.Model.load(bad))
    m = message(lambda: seqlens.Model.load(DEMO, overrides={"lenght": 100}))
    assert "unknown key 'lenght'" in m
    assert "unknown backend" in message(lambda: seqlens.Model.load(DEMO, backend="tpu")).lower()
    assert "'steps' is for integrated gradients" in message(
        lambda: demo.attribute(["ACGT"], method="ixg", steps=5))
    fa = tmp_path / "broken.fa"
    fa.write_text("ACGT\n")
    m = message(lambda: seqlens.read_fasta(fa))
    assert f"{fa}: line 1: expected a FASTA header" in m


def test_long_calls_release_the_gil_and_stop_on_ctrl_c():
    # In a child process: SIGINT arrives while predict runs without the GIL; a Python thread
    # keeps counting meanwhile, and the call raises KeyboardInterrupt long before it would end.
    code = f"""
import os, signal, threading, time, numpy as np, seqlens
m = seqlens.Model.load({str(DEMO)!r}, backend="cpu")
x = np.zeros((20000, 4, 500), np.float32)
ticks = []
def count():
    while len(ticks) < 1000:
        ticks.append(1); time.sleep(0.001)
threading.Thread(target=count, daemon=True).start()
threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
t = time.time()
try:
    m.predict(x, batch_size=16)
    print("finished", time.time() - t)
except KeyboardInterrupt:
    print("interrupted", time.time() - t, len(ticks))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    word, seconds, *ticks = out.stdout.split()
    assert word == "interrupted", out.stdout
    assert float(seconds) < 30
    assert int(ticks[0]) > 100, f"only {ticks[0]} ticks: the GIL was held"


def test_the_command_lines_npz_attributions_load_in_numpy_as_the_package_returns_them(demo, tmp_path):
    # numpy reads the .npz the CLI writes (arr_0, [sequences, symbols, positions]: what
    # `modisco motifs -a` and `-s` read); its values are the package's own attributions.
    attr, ohe = tmp_path / "attr.npz", tmp_path / "ohe.npz"
    cli("attribute", "--model", DEMO, "--fasta", SAMPLE, "--target", "CTCF", "--method", "ixg",
        "--backend", "cpu", "--out", attr, "--ohe", ohe)
    got = np.load(attr)["arr_0"]
    records = seqlens.read_fasta(SAMPLE)
    want = demo.attribute(records, method="ixg", target=["CTCF"])
    assert got.dtype == np.float32 and got.shape == want.shape == (len(records), 4, 500)
    np.testing.assert_allclose(got, want, atol=1e-6)
    x = np.load(ohe)["arr_0"]
    assert x.shape == got.shape
    # gradient x input is zero off the observed base.
    assert np.all(got[x == 0] == 0)
    fasta = dict(records)
    np.testing.assert_array_equal(x[0], seqlens.one_hot(fasta["ctcf_site"]))


def test_one_hot_arrays_attribute_as_their_sequences(demo):
    seqs = [s[:500] for _, s in seqlens.read_fasta(SAMPLE) if len(s) >= 500][:2]
    x = seqlens.one_hot(seqs)
    np.testing.assert_array_equal(demo.attribute(x, method="ism", target=["CTCF"]),
                                  demo.attribute(seqs, method="ism", target=["CTCF"]))
    with pytest.raises(seqlens.SeqlensError, match="only one-hot sequences decode"):
        demo.attribute(seqlens.one_hot(["N" * 500], n="uniform"))


def test_options_for_text_are_refused_for_arrays(demo):
    with pytest.raises(seqlens.SeqlensError, match="'unknown' says how to read characters"):
        demo.predict(np.zeros((1, 4, 500), np.float32), unknown="as-n")
