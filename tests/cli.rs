//! The `seqlens` binary end to end: real files in, files out, compared with onnxruntime's
//! golden outputs; every bad input gives a message naming the file and what was wrong.

mod common;

use std::io::Write;
use std::process::{Command, Output};

use common::{assert_close, golden, parse_tsv, path};

fn seqlens(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seqlens"))
        .args(args)
        .current_dir(common::root())
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = seqlens(args);
    assert!(
        out.status.success(),
        "seqlens {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails(args: &[&str]) -> String {
    let out = seqlens(args);
    assert!(!out.status.success(), "seqlens {args:?} should fail");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!err.contains("panicked"), "{err}");
    err
}

const MODEL: &str = "examples/models/demo.onnx";

#[test]
fn predict_fasta_to_stdout_matches_onnxruntime() {
    let out = ok(&[
        "predict",
        "--model",
        MODEL,
        "--fasta",
        "examples/data/sample.fa",
    ]);
    assert_close(&parse_tsv(&out), &golden("demo_sample.tsv"), 1e-5);
}

#[test]
fn predict_rc_average_gzip_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("sample.fa.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(&std::fs::read(path("examples/data/sample.fa")).unwrap())
        .unwrap();
    enc.finish().unwrap();
    let out = dir.path().join("preds.tsv");
    let (gz, out_s) = (gz.to_str().unwrap(), out.to_str().unwrap());
    ok(&[
        "predict",
        "-m",
        MODEL,
        "--fasta",
        gz,
        "--rc-average",
        "--out",
        out_s,
    ]);
    let got = parse_tsv(&std::fs::read_to_string(&out).unwrap());
    assert_close(&got, &golden("demo_sample_rc.tsv"), 1e-5);

    let json = dir.path().join("preds.json");
    ok(&[
        "predict",
        "-m",
        MODEL,
        "--fasta",
        gz,
        "--out",
        json.to_str().unwrap(),
    ]);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let want = golden("demo_sample.tsv");
    assert_eq!(v["labels"][0], "CTCF");
    assert_eq!(v["rows"].as_array().unwrap().len(), want.ids.len());
    let first = v["rows"][0]["values"][0].as_f64().unwrap();
    assert!((first - want.values[0][0]).abs() < 1e-5);
}

#[test]
fn predict_bed_regions_match_onnxruntime() {
    let out = ok(&[
        "predict",
        "--model",
        MODEL,
        "--bed",
        "examples/data/regions.bed",
        "--genome",
        "examples/data/genome.fa",
    ]);
    assert_close(&parse_tsv(&out), &golden("demo_regions.tsv"), 1e-5);
}

#[test]
fn predict_fastq_input() {
    let out = ok(&["predict", "-m", MODEL, "--fasta", "examples/data/sample.fq"]);
    let t = parse_tsv(&out);
    let want = golden("demo_sample.tsv");
    assert_eq!(t.ids, &want.ids[..3]);
}

#[test]
fn info_lists_inputs_metadata_ops_and_parameters() {
    let out = ok(&["info", "--model", MODEL]);
    assert!(
        out.contains("input       sequence float [batch, 4, 500]"),
        "{out}"
    );
    assert!(out.contains("labels      CTCF, GATA1"), "{out}");
    assert!(out.contains("Conv x2"), "{out}");
    // Counted by hand from examples/models/demo.toml: conv 128x4x19 + 128, conv 64x128x5 + 64,
    // dense 64x8 + 8.
    assert!(out.contains("parameters  51400"), "{out}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(&["info", "-m", MODEL, "--json"])).unwrap();
    assert_eq!(json["metadata"]["length"], 500);
}

/// `info` says where the model runs and which attribution methods it has, naming the node
/// that blocks one: everything for the demo CNN; gradients on the CPU only for a residual
/// sum (the GPU's backward pass lacks it); no engine at all for the JASPAR scanner, whose
/// third node reshapes to [batch, 2, 8].
#[test]
fn info_reports_what_runs_where_and_what_blocks_it() {
    let out = ok(&["info", "--model", MODEL]);
    for line in [
        "backend     cpu           yes, on the seqlens engine",
        "backend     gpu           yes, on the seqlens engine's kernels",
        "method      grad          yes, on gpu or cpu (the seqlens engine)",
        "method      fast-ism      yes, on the seqlens engine",
        "method      deeplift-shap yes, on gpu or cpu (the seqlens engine)",
    ] {
        assert!(out.contains(line), "{line}\n{out}");
    }
    let out = ok(&["info", "-m", "tests/models/ops/gelu.onnx"]);
    assert!(
        out.contains(
            "method      ig            yes, on cpu (the seqlens engine) (input gradients on the GPU \
             do not cover GELU yet)"
        ),
        "{out}"
    );
    let out = ok(&["info", "-m", "examples/models/jaspar_scanner.onnx"]);
    let why = "(node '#2' (Reshape): only reshapes to [batch, features] are supported";
    for line in [
        format!("backend     cpu           yes, on tract {why}"),
        format!("backend     gpu           no {why}"),
        format!("method      grad          no {why}"),
        "method      ism           yes, on the selected backend".into(),
        format!("method      fast-ism      no {why}"),
        format!("method      deeplift-shap no {why}"),
    ] {
        assert!(out.contains(&line), "{line}\n{out}");
    }
    let json: serde_json::Value = serde_json::from_str(&ok(&[
        "info",
        "-m",
        "examples/models/jaspar_scanner.onnx",
        "--json",
    ]))
    .unwrap();
    let grad = &json["capabilities"]["methods"][0];
    assert_eq!(grad["name"], "grad");
    assert_eq!(grad["available"], false);
    assert!(grad["reason"].as_str().unwrap().contains("'#2' (Reshape)"));
}

#[test]
fn help_has_examples() {
    assert!(ok(&["--help"]).contains("Examples:"));
    assert!(ok(&["predict", "--help"]).contains("--rc-average"));
}

#[test]
fn missing_files_are_named() {
    let err = fails(&[
        "predict",
        "-m",
        "nope.onnx",
        "--fasta",
        "examples/data/sample.fa",
    ]);
    assert!(err.contains("nope.onnx"), "{err}");
    let err = fails(&["predict", "-m", MODEL, "--fasta", "missing.fa"]);
    assert!(err.contains("missing.fa"), "{err}");
}

#[test]
fn bad_inputs_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_string()
    };

    let not_fasta = write("regions.txt", b"chr1\t10\t20\n");
    let err = fails(&["predict", "-m", MODEL, "--fasta", &not_fasta]);
    assert!(
        err.contains("regions.txt: line 1: expected a FASTA header"),
        "{err}"
    );

    let bad_char = write("bad.fa", b">ok\nACGT\n>bad\nACGT!ACGT\n");
    let err = fails(&["predict", "-m", MODEL, "--fasta", &bad_char]);
    assert!(
        err.contains("sequence 'bad': invalid character '!' at position 5"),
        "{err}"
    );

    let model = std::fs::read(path(MODEL)).unwrap();
    let truncated = write("cut.onnx", &model[..model.len() / 2]);
    let err = fails(&[
        "predict",
        "-m",
        &truncated,
        "--fasta",
        "examples/data/sample.fa",
    ]);
    assert!(err.contains("cut.onnx: not a valid ONNX model"), "{err}");

    let err = fails(&["info", "-m", "tests/models/unsupported_op.onnx"]);
    assert!(err.contains("unsupported ONNX operator 'Det'"), "{err}");

    let bed = write("other.bed", b"chrZ\t10\t20\n");
    let err = fails(&[
        "predict",
        "-m",
        MODEL,
        "--bed",
        &bed,
        "--genome",
        "examples/data/genome.fa",
    ]);
    assert!(
        err.contains("contig 'chrZ' is not in the reference (it has: chrA, chrB)"),
        "{err}"
    );

    let bed = write("bad.bed", b"chrA\t10\t20\nchrA\tx\t20\n");
    let err = fails(&[
        "predict",
        "-m",
        MODEL,
        "--bed",
        &bed,
        "--genome",
        "examples/data/genome.fa",
    ]);
    assert!(err.contains("bad.bed: line 2:"), "{err}");

    let err = fails(&[
        "predict",
        "-m",
        MODEL,
        "--fasta",
        "examples/data/sample.fa",
        "--length",
        "100",
    ]);
    assert!(err.contains("seqlens.length"), "{err}");

    let err = fails(&[
        "predict",
        "-m",
        MODEL,
        "--fasta",
        "examples/data/sample.fa",
        "--unknown",
        "maybe",
    ]);
    assert!(err.contains("unknown-character policy"), "{err}");
}

#[test]
fn a_failed_run_leaves_the_old_output_intact() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("preds.tsv");
    std::fs::write(&out, "previous results\n").unwrap();
    let bad = dir.path().join("bad.fa");
    std::fs::write(&bad, ">s\nAC#GT\n").unwrap();
    fails(&[
        "predict",
        "-m",
        MODEL,
        "--fasta",
        bad.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous results\n");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

/// The first `n` records of the demo training data, in a temporary FASTA.
fn training_subset(dir: &std::path::Path, n: usize) -> String {
    let text = std::fs::read_to_string(path("examples/data/train/motifs.fa")).unwrap();
    let p = dir.join("small.fa");
    std::fs::write(
        &p,
        text.lines().take(2 * n).collect::<Vec<_>>().join("\n") + "\n",
    )
    .unwrap();
    p.to_str().unwrap().to_string()
}

const NAMES: &str = "CTCF,GATA1,SPI1,FOXA1,HNF4A,CEBPB,REST,TP53";

#[test]
fn train_resume_evaluate_and_finetune() {
    let dir = tempfile::tempdir().unwrap();
    let data = training_subset(dir.path(), 240);
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let (model, ck, log) = (p("m.onnx"), p("ck.json"), p("log.tsv"));
    let base = [
        "train",
        "--preset",
        "deepbind",
        "--width",
        "0.5",
        "--fasta",
        &data,
        "--label-names",
        NAMES,
        "--length",
        "200",
        "--batch-size",
        "32",
        "--seed",
        "3",
    ];
    let mut args = base.to_vec();
    args.extend([
        "--epochs",
        "2",
        "--out",
        &model,
        "--checkpoint",
        &ck,
        "--log",
        &log,
    ]);
    let out = seqlens(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("split: 192 train, 24 validation, 24 test"),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("test set"));
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 3);

    // The exported model runs in tract with the data's labels.
    let preds = parse_tsv(&ok(&["predict", "-m", &model, "--fasta", &data]));
    assert_eq!(preds.labels, NAMES.split(',').collect::<Vec<_>>());
    assert_eq!(preds.ids.len(), 240);

    // Resume for one more epoch.
    let mut args = base.to_vec();
    args.extend([
        "--resume",
        &ck,
        "--epochs",
        "3",
        "--checkpoint",
        &ck,
        "--log",
        &log,
    ]);
    ok(&args);
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 4);

    let table = ok(&[
        "evaluate",
        "-m",
        &model,
        "--fasta",
        &data,
        "--label-names",
        NAMES,
    ]);
    assert!(
        table.contains("auroc") && table.lines().any(|l| l.starts_with("mean")),
        "{table}"
    );

    // Fine-tune: freeze the conv layer, new single-output head on a positive/negative task.
    let recs = io_records(&data);
    let (pos, neg) = (p("pos.fa"), p("neg.fa"));
    std::fs::write(&pos, fasta_where(&recs, |l| l[0] == '1')).unwrap();
    std::fs::write(&neg, fasta_where(&recs, |l| l[0] == '0')).unwrap();
    let tuned = p("tuned.onnx");
    let out = ok(&[
        "train",
        "--init",
        &model,
        "--freeze",
        "1",
        "--new-head",
        "--pos",
        &pos,
        "--neg",
        &neg,
        "--epochs",
        "1",
        "--out",
        &tuned,
    ]);
    assert!(out.contains("positive"), "{out}");
    let info = ok(&["info", "-m", &tuned]);
    assert!(info.contains("labels      positive"), "{info}");
}

fn io_records(fasta: &str) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(fasta).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    lines
        .chunks(2)
        .map(|c| {
            let (id, labels) = c[0][1..].split_once(' ').unwrap();
            (id.to_string(), labels.replace(' ', ""), c[1].to_string())
        })
        .collect()
}

fn fasta_where(recs: &[(String, String, String)], keep: impl Fn(&[char]) -> bool) -> String {
    recs.iter()
        .filter(|(_, l, _)| keep(&l.chars().collect::<Vec<_>>()))
        .map(|(id, _, s)| format!(">{id}\n{s}\n"))
        .collect()
}

/// The DanQ preset (bidirectional LSTM) trains on the engine and exports ONNX that tract
/// runs with the engine's numbers, at any batch; fine-tuning imports it back.
#[test]
fn danq_trains_exports_and_runs_the_same_on_tract_and_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let data = training_subset(dir.path(), 60);
    let model = dir.path().join("danq.onnx").to_str().unwrap().to_string();
    ok(&[
        "train",
        "--preset",
        "danq",
        "--width",
        "0.05",
        "--fasta",
        &data,
        "--label-names",
        NAMES,
        "--length",
        "100",
        "--epochs",
        "1",
        "--out",
        &model,
    ]);
    let info = ok(&["info", "-m", &model]);
    assert!(info.contains("LSTM x1"), "{info}");
    let run = |backend: &str, batch: &str| {
        parse_tsv(&ok(&[
            "predict",
            "-m",
            &model,
            "--fasta",
            &data,
            "--backend",
            backend,
            "--batch-size",
            batch,
        ]))
    };
    let engine = run("cpu", "7");
    assert_eq!(engine.ids.len(), 60);
    for batch in ["1", "7", "64"] {
        let d = assert_close(&run("tract", batch), &engine, 1e-5);
        assert!(d <= 1e-5, "batch {batch}: {d}");
    }
    // Fine-tuning starts from the exported model, which the engine imports.
    let tuned = dir.path().join("tuned.onnx").to_str().unwrap().to_string();
    ok(&[
        "train",
        "--init",
        &model,
        "--fasta",
        &data,
        "--label-names",
        NAMES,
        "--epochs",
        "1",
        "--out",
        &tuned,
    ]);
}

/// Runs `seqlens train` on a small DeepBind for one epoch; returns stderr.
fn train_small(data_args: &[&str], more: &[&str]) -> String {
    let mut args = vec![
        "train", "--preset", "deepbind", "--width", "0.25", "--length", "100", "--epochs", "1",
    ];
    args.extend(data_args);
    args.extend(more);
    let out = seqlens(&args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "seqlens {args:?} failed: {err}");
    err
}

/// Validation and test sets from their own files, in each data form; the split of one file
/// grouped (duplicates, a group column) and stratified, the same for every training seed.
#[test]
fn own_files_and_grouped_stratified_splits() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let recs = io_records(&training_subset(dir.path(), 100));
    let part = |range: std::ops::Range<usize>, name: &str| {
        let text: String = recs[range]
            .iter()
            .map(|(id, l, s)| {
                let labels: Vec<String> = l.chars().map(String::from).collect();
                format!(">{id} {}\n{s}\n", labels.join(" "))
            })
            .collect();
        std::fs::write(p(name), text).unwrap();
        p(name)
    };
    let (tr, va, te) = (
        part(0..60, "tr.fa"),
        part(60..80, "va.fa"),
        part(80..100, "te.fa"),
    );
    let err = train_small(
        &["--fasta", &tr, "--label-names", NAMES],
        &["--valid-fasta", &va, "--test-fasta", &te],
    );
    assert!(
        err.contains("split: 60 train, 20 validation, 20 test"),
        "{err}"
    );
    // A test file alone: validation is still held out of the training file.
    let err = train_small(
        &["--fasta", &tr, "--label-names", NAMES],
        &["--test-fasta", &tr, "--valid-frac", "0.25"],
    );
    assert!(
        err.contains("split: 45 train, 15 validation, 60 test"),
        "{err}"
    );
    assert!(
        err.contains("warning: 60 of 60 test sequences also occur in the training data"),
        "{err}"
    );

    // Positives and negatives, with the label named.
    let (pos, neg) = (p("pos.fa"), p("neg.fa"));
    std::fs::write(&pos, fasta_where(&recs[..60], |l| l[0] == '1')).unwrap();
    std::fs::write(&neg, fasta_where(&recs[..60], |l| l[0] == '0')).unwrap();
    let (vpos, vneg) = (p("vpos.fa"), p("vneg.fa"));
    std::fs::write(&vpos, fasta_where(&recs[60..], |l| l[0] == '1')).unwrap();
    std::fs::write(&vneg, fasta_where(&recs[60..], |l| l[0] == '0')).unwrap();
    let model = p("bound.onnx");
    let err = train_small(
        &["--pos", &pos, "--neg", &neg, "--label-names", "ctcf_bound"],
        &[
            "--valid-pos",
            &vpos,
            "--valid-neg",
            &vneg,
            "--test-frac",
            "0",
            "--out",
            &model,
        ],
    );
    assert!(
        err.contains("split: 60 train, 40 validation, 0 test"),
        "{err}"
    );
    assert!(ok(&["info", "-m", &model]).contains("labels      ctcf_bound"));

    // One file split three ways: 20 records twice (other ids, lower case) and a group column.
    let mut fasta = String::new();
    let mut tsv = format!("id\t{}\tdonor\n", NAMES.replace(',', "\t"));
    for (i, (id, l, s)) in recs.iter().enumerate() {
        let labels: Vec<String> = l.chars().map(String::from).collect();
        let row = labels.join("\t");
        fasta.push_str(&format!(">{id}\n{s}\n"));
        tsv.push_str(&format!("{id}\t{row}\tdonor{}\n", i % 25));
        if i < 20 {
            fasta.push_str(&format!(">{id}_copy\n{}\n", s.to_lowercase()));
            tsv.push_str(&format!("{id}_copy\t{row}\tcopy{i}\n"));
        }
    }
    std::fs::write(p("all.fa"), fasta).unwrap();
    std::fs::write(p("all.tsv"), tsv).unwrap();
    let split_of = |seed: &str, split_seed: &str, name: &str| {
        train_small(
            &["--fasta", &p("all.fa"), "--labels", &p("all.tsv")],
            &[
                "--group-column",
                "donor",
                "--stratify",
                "--valid-frac",
                "0.2",
                "--test-frac",
                "0.2",
                "--seed",
                seed,
                "--split-seed",
                split_seed,
                "--save-split",
                &p(name),
            ],
        );
        let text = std::fs::read_to_string(p(name)).unwrap();
        let parts: std::collections::HashMap<String, String> = text
            .lines()
            .skip(1)
            .map(|l| {
                let (id, part) = l.split_once('\t').unwrap();
                (id.to_string(), part.to_string())
            })
            .collect();
        parts
    };
    let a = split_of("1", "7", "a.tsv");
    assert_eq!(a.len(), 120);
    for (i, (id, ..)) in recs.iter().enumerate() {
        // Copies with their originals, donors whole.
        if i < 20 {
            assert_eq!(a[id], a[&format!("{id}_copy")], "{id}");
        }
        assert_eq!(a[id], a[&recs[i % 25].0], "{id}");
    }
    assert_eq!(
        split_of("2", "7", "b.tsv"),
        a,
        "another training seed, the same split"
    );
    assert_ne!(
        split_of("1", "8", "c.tsv"),
        a,
        "another split seed, another split"
    );
}

#[test]
fn split_options_that_contradict_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = training_subset(dir.path(), 20);
    let cases: [(&[&str], &str); 7] = [
        (
            &["--kfold", "3", "--out", "m.onnx"],
            "--out is for one training run; --kfold trains one per fold and keeps none",
        ),
        (&["--precision", "int8"], "--out <OUT>"),
        (
            &["--valid-fasta", &data, "--valid-frac", "0.2"],
            "the validation data is given as files and also by --valid-frac/--valid-chroms",
        ),
        (
            &["--valid-pos", &data, "--valid-neg", &data],
            "the validation data is given as --pos/--neg but the training data as --fasta",
        ),
        (
            &["--group-column", "donor"],
            "--group-column donor: FASTA-header data has no group column",
        ),
        (
            &["--valid-chroms", "chr1", "--stratify"],
            "--stratify are for random splits",
        ),
        (
            &["--test-frac", "1.5"],
            "the test fraction 1.5 must be at least 0 and below 1",
        ),
    ];
    for (args, want) in cases {
        let mut all = vec![
            "train",
            "--preset",
            "deepbind",
            "--fasta",
            &data,
            "--label-names",
            NAMES,
        ];
        all.extend(args);
        let err = fails(&all);
        assert!(err.contains(want), "{args:?}: {err}");
    }
    let err = fails(&[
        "train",
        "--preset",
        "deepbind",
        "--pos",
        &data,
        "--neg",
        &data,
        "--label-names",
        "a,b",
    ]);
    assert!(
        err.contains("--label-names gives 2 names, but the data has 1 target columns"),
        "{err}"
    );
}

#[test]
fn kfold_reports_each_fold() {
    let dir = tempfile::tempdir().unwrap();
    let data = training_subset(dir.path(), 60);
    let out = ok(&[
        "train",
        "--preset",
        "deepbind",
        "--width",
        "0.25",
        "--fasta",
        &data,
        "--label-names",
        NAMES,
        "--length",
        "100",
        "--epochs",
        "1",
        "--kfold",
        "3",
    ]);
    assert!(
        out.contains("fold 1/3") && out.contains("fold 3/3") && out.contains("cross-validation"),
        "{out}"
    );
}

#[test]
fn bad_training_inputs_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "[train]\nepochz = 3\n").unwrap();
    let data = training_subset(dir.path(), 10);
    let err = fails(&["train", "--config", cfg.to_str().unwrap(), "--fasta", &data]);
    assert!(err.contains("bad.toml") && err.contains("epochz"), "{err}");
    let err = fails(&["train", "--preset", "alexnet", "--fasta", &data]);
    assert!(err.contains("unknown preset 'alexnet'"), "{err}");
    let err = fails(&[
        "train",
        "--preset",
        "deepbind",
        "--fasta",
        "examples/data/sample.fa",
    ]);
    assert!(
        err.contains("expected numeric labels after the name"),
        "{err}"
    );
    let err = fails(&[
        "train",
        "--init",
        "tests/models/unsupported_op.onnx",
        "--fasta",
        &data,
    ]);
    assert!(err.contains("ONNX operator 'Det'"), "{err}");
}

#[test]
fn train_regression_on_bed_labels_with_a_chromosome_split() {
    let dir = tempfile::tempdir().unwrap();
    // Windows along the sample genome; the target is the window's GC fraction (a regression
    // the model can learn from sequence alone). chrB validates.
    let genome = std::fs::read_to_string(path("examples/data/genome.fa")).unwrap();
    let mut contigs = Vec::new();
    for block in genome.split('>').skip(1) {
        let (head, body) = block.split_once('\n').unwrap();
        contigs.push((
            head.split_whitespace().next().unwrap().to_string(),
            body.replace('\n', ""),
        ));
    }
    let mut bed = String::from("#chrom\tstart\tend\tname\tgc\n");
    for (name, seq) in &contigs {
        for start in (0..seq.len() - 100).step_by(100) {
            let w = &seq[start..start + 100];
            let gc = w.bytes().filter(|b| matches!(b, b'G' | b'C')).count() as f32 / 100.0;
            bed.push_str(&format!(
                "{name}\t{start}\t{}\tw{name}_{start}\t{gc}\n",
                start + 100
            ));
        }
    }
    let bed_path = dir.path().join("gc.bed");
    std::fs::write(&bed_path, bed).unwrap();
    let out = seqlens(&[
        "train",
        "--preset",
        "deepbind",
        "--width",
        "0.5",
        "--bed",
        bed_path.to_str().unwrap(),
        "--genome",
        "examples/data/genome.fa",
        "--length",
        "100",
        "--loss",
        "mse",
        "--valid-chroms",
        "chrB",
        "--epochs",
        "3",
        "--lr",
        "0.01",
    ]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("split: 199 train, 119 validation, 0 test"),
        "{stderr}"
    );
    assert!(stderr.contains("valid pearson"), "{stderr}");
    assert!(!stdout.contains("test set"), "{stdout}");
}

#[test]
fn long_inputs_stream_through_in_chunks() {
    // 4,201 windows (more than one 4,096-window chunk): the streamed table must equal the
    // library's single-call predictions, row for row.
    let dir = tempfile::tempdir().unwrap();
    let seq = String::from_utf8(common::random_dna(4700, 3)).unwrap();
    let fa = dir.path().join("long.fa");
    std::fs::write(&fa, format!(">long\n{seq}\n")).unwrap();
    let out = dir.path().join("tiles.tsv");
    ok(&[
        "predict",
        "-m",
        MODEL,
        "--fasta",
        fa.to_str().unwrap(),
        "--stride",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    let got = parse_tsv(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(got.ids.len(), 4201);
    assert_eq!(got.coords[4200], (4200, 4700));

    // The same backend as the CLI's default (auto).
    let bytes = std::fs::read(path(MODEL)).unwrap();
    let model = seqlens::model::Model::from_bytes(&bytes)
        .unwrap()
        .with_backend(seqlens::model::Backend::Auto)
        .unwrap();
    let rec = seqlens::io::SeqRecord {
        id: "long".into(),
        description: None,
        seq: seq.into_bytes(),
    };
    let opts = seqlens::model::PredictOptions {
        stride: Some(1),
        ..Default::default()
    };
    let want = parse_tsv(&seqlens::output::to_tsv(
        &model.predict(&[rec], &opts).unwrap(),
    ));
    assert_close(&got, &want, 0.0);
}

#[test]
fn attribution_peaks_on_the_planted_motif() {
    // spi1_short has an SPI1 site planted at 120-133 (examples/data/sample.fa header); the
    // trained demo model's gradient x input, integrated gradients, ISM and fast ISM for SPI1
    // must all peak there.
    let dir = tempfile::tempdir().unwrap();
    let fa = dir.path().join("spi1.fa");
    let text = std::fs::read_to_string(path("examples/data/sample.fa")).unwrap();
    let rec: String = text
        .split('>')
        .find(|r| r.starts_with("spi1_short"))
        .map(|r| format!(">{r}"))
        .unwrap();
    std::fs::write(&fa, rec).unwrap();
    let peak = |method: &str| {
        let out = ok(&[
            "attribute",
            "-m",
            MODEL,
            "--fasta",
            fa.to_str().unwrap(),
            "--method",
            method,
            "--target",
            "SPI1",
        ]);
        let mut lines = out.lines();
        assert_eq!(
            lines.next().unwrap(),
            "id\tchrom\tpos\tref\tA\tC\tG\tT\tscore"
        );
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split('\t').collect()).collect();
        assert_eq!(rows.len(), 500);
        if method.ends_with("ism") {
            // The reference base's column is zero.
            for r in &rows {
                let col = 4 + "ACGT".find(r[3]).unwrap_or(0);
                if r[3] != "N" {
                    assert_eq!(r[col], "0");
                }
            }
        }
        let best = rows
            .iter()
            .max_by(|a, b| {
                a[8].parse::<f32>()
                    .unwrap()
                    .total_cmp(&b[8].parse::<f32>().unwrap())
            })
            .unwrap();
        best[2].parse::<i64>().unwrap()
    };
    for method in ["ixg", "ig", "ism", "fast-ism"] {
        let pos = peak(method);
        assert!(
            (115..=140).contains(&pos),
            "{method} peaks at {pos}, not on the SPI1 site (120-133)"
        );
    }
    let err = fails(&[
        "attribute",
        "-m",
        MODEL,
        "--fasta",
        fa.to_str().unwrap(),
        "--target",
        "XYZ",
    ]);
    assert!(err.contains("target: unknown label 'XYZ'"), "{err}");
}

#[test]
fn variants_tsv_json_and_reported_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("effects.tsv");
    let args = |out: &std::path::Path, vcf: &str| {
        vec![
            "variants".to_string(),
            "-m".into(),
            MODEL.into(),
            "--vcf".into(),
            vcf.into(),
            "--genome".into(),
            "examples/data/genome.fa".into(),
            "--scores".into(),
            "diff,abs_diff,log_odds,log2_fc".into(),
            "--out".into(),
            out.display().to_string(),
        ]
    };
    let run = |a: Vec<String>| seqlens(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let o = run(args(&out, "examples/data/variants.vcf"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7);
    assert!(
        lines[0].starts_with("chrom\tpos\tid\tref\talt\tstatus\tCTCF:ref\tCTCF:alt\tCTCF:diff")
    );
    assert!(
        lines[1..]
            .iter()
            .all(|l| l.split('\t').nth(5) == Some("ok"))
    );
    // The same scores as JSON.
    let json = dir.path().join("effects.json");
    assert!(
        run(args(&json, "examples/data/variants.vcf"))
            .status
            .success()
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["variants"].as_array().unwrap().len(), 6);
    assert_eq!(v["variants"][2]["alt"], "GGGAA");
    assert_eq!(v["scores"][3], "log2_fc");
    let diff = v["variants"][0]["scores"][0][0].as_f64().unwrap();
    let col: f64 = lines[1].split('\t').nth(8).unwrap().parse().unwrap();
    assert!((diff - col).abs() < 1e-6);

    // A wrong REF is a warning naming the line, and a row with its status.
    let bad = dir.path().join("bad.vcf");
    std::fs::write(
        &bad,
        "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchrA\t2006\tx\tT\tA\t.\t.\t.\n",
    )
    .unwrap();
    let o = run(args(&out, bad.to_str().unwrap()));
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("line 3: REF T at chrA:2006 does not match the reference genome (C)"),
        "{err}"
    );
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("\tref_mismatch\t")
    );
}

/// Runs `seqlens attribute` on the sample with `method` and `extra` arguments, writing SVGs
/// into `dir/method` and JSON beside them; returns ctcf_site's SVG and the JSON.
fn attribute_svg(
    dir: &std::path::Path,
    method: &str,
    extra: &[&str],
) -> (String, serde_json::Value) {
    let svg = dir.join(method);
    let json = dir.join(format!("{method}.json"));
    let mut args = vec![
        "attribute",
        "-m",
        MODEL,
        "--fasta",
        "examples/data/sample.fa",
        "--method",
        method,
        "--target",
        "CTCF",
        "--svg",
        svg.to_str().unwrap(),
        "--out",
        json.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    ok(&args);
    (
        std::fs::read_to_string(svg.join("ctcf_site.svg")).unwrap(),
        serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap(),
    )
}

#[test]
fn attribute_writes_logos_heatmaps_and_json() {
    let dir = tempfile::tempdir().unwrap();
    for (method, marker) in [("ig", "<path"), ("fast-ism", "<rect x")] {
        let extra = ["--steps", "8", "--shuffles", "2"];
        let (logo, v) = attribute_svg(dir.path(), method, &extra);
        assert!(
            logo.starts_with("<svg") && logo.matches(marker).count() > 100,
            "{method}"
        );
        assert_eq!(v.as_array().unwrap().len(), 7);
        assert_eq!(v[0]["per_base"].as_array().unwrap().len(), 500);
    }
}

/// `--palette colorblind` draws Okabe-Ito letters and a purple-orange heatmap; an unknown
/// palette is refused naming the choices.
#[test]
fn attribute_svgs_take_the_colour_blind_palette() {
    let dir = tempfile::tempdir().unwrap();
    for (method, want, classic) in [
        ("ixg", "#0072B2", "#255C99"),
        ("fast-ism", "#542788", "#2166ac"),
    ] {
        let (figure, _) = attribute_svg(dir.path(), method, &["--palette", "colorblind"]);
        assert!(
            figure.contains(want) && !figure.contains(classic),
            "{method}"
        );
    }
    let err = fails(&[
        "attribute",
        "-m",
        MODEL,
        "--fasta",
        "examples/data/sample.fa",
        "--svg",
        dir.path().to_str().unwrap(),
        "--palette",
        "rainbow",
    ]);
    assert!(
        err.contains("unknown palette 'rainbow'; expected classic or colorblind"),
        "{err}"
    );
}

/// CI-SpliceAI explains a real splice site: on the example genome's gene A (bases
/// 4,100..14,221 of chr1), the donor at 6,469 of that record (the end of an annotated exon,
/// chr1:10,570) is predicted at 0.997; fast ISM of the bases around it must find the
/// donor's GT dinucleotide (6,470-6,471) the most important, and its target value must be
/// the probability `predict` reports for that base, so both pad the record the same way.
#[test]
fn attribute_explains_a_cispliceai_donor_site() {
    let dir = tempfile::tempdir().unwrap();
    let genome = std::fs::read_to_string(path("examples/data/splice/genome.fa")).unwrap();
    let chr1: String = genome
        .split('>')
        .find(|r| r.starts_with("chr1"))
        .unwrap()
        .lines()
        .skip(1)
        .collect();
    let fa = dir.path().join("geneA.fa");
    std::fs::write(&fa, format!(">geneA\n{}\n", &chr1[4100..14221])).unwrap();
    let fa = fa.to_str().unwrap();
    let model = "examples/models/cispliceai/cispliceai.onnx";
    let preds = ok(&["predict", "--model", model, "--fasta", fa]);
    let donor: f64 = preds
        .lines()
        .find(|l| l.starts_with("geneA\tgeneA\t6469\t"))
        .unwrap()
        .split('\t')
        .nth(5)
        .unwrap()
        .parse()
        .unwrap();
    assert!(donor > 0.99, "{donor}");
    let json = dir.path().join("a.json");
    ok(&[
        "attribute",
        "--model",
        model,
        "--fasta",
        fa,
        "--method",
        "fast-ism",
        "--target",
        "donor",
        "--at",
        "6469",
        "--range",
        "6466-6474",
        "--out",
        json.to_str().unwrap(),
    ]);
    let a: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let a = &a[0];
    assert_eq!(
        (a["start"].as_i64(), a["length"].as_u64()),
        (Some(6466), Some(8))
    );
    assert!((a["target_value"].as_f64().unwrap() - donor).abs() < 1e-5);
    let scores: Vec<f64> = a["per_base"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&i, &j| scores[j].total_cmp(&scores[i]));
    let mut top = [order[0] + 6466, order[1] + 6466];
    top.sort();
    assert_eq!(top, [6470, 6471], "per-base scores {scores:?}");
    assert_eq!(&a["sequence"].as_str().unwrap()[4..6], "GT");

    // a profile model needs positions, and only a profile model takes them
    let e = fails(&[
        "attribute",
        "--model",
        model,
        "--fasta",
        fa,
        "--target",
        "donor",
    ]);
    assert!(e.contains("name the positions to explain (--at"), "{e}");
    let e = fails(&[
        "attribute",
        "--model",
        MODEL,
        "--fasta",
        "examples/data/sample.fa",
        "--at",
        "10",
    ]);
    assert!(
        e.contains("target positions are for models that predict a profile"),
        "{e}"
    );
    let e = fails(&["attribute", "--model", model, "--fasta", fa, "--at", "9-3"]);
    assert!(e.contains("START must be below END"), "{e}");
}

/// A `.fai` that disagrees with its FASTA (line width 70 for a file of 60-base lines, as
/// happens when a FASTA is rewrapped and its index kept) is an error naming the file and
/// how to rebuild the index, in every command that reads a reference, never other bases
/// with exit code 0 (`predict --bed` predicted from the wrong bases, `variants` reported
/// every REF as a mismatch).
#[test]
fn a_stale_fai_is_an_error_in_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let fa = dir.path().join("genome.fa");
    std::fs::copy(path("examples/data/genome.fa"), &fa).unwrap();
    let fai = std::fs::read_to_string(path("examples/data/genome.fa.fai")).unwrap();
    std::fs::write(
        dir.path().join("genome.fa.fai"),
        fai.replace("\t60\t61", "\t70\t71"),
    )
    .unwrap();
    let fa = fa.to_str().unwrap();
    for args in [
        &["predict", "--bed", "examples/data/regions.bed"][..],
        &["variants", "--vcf", "examples/data/variants.vcf"][..],
    ] {
        let mut a = vec![args[0], "--model", MODEL, "--genome", fa];
        a.extend(&args[1..]);
        let e = fails(&a);
        assert!(
            e.contains("genome.fa")
                && e.contains("does not match the file")
                && e.contains("samtools faidx"),
            "{args:?}: {e}"
        );
    }
}

/// Outputs never leave debris (issue 13): `--out` naming a directory is an error naming it,
/// and a run stopped by SIGTERM or SIGINT mid-write deletes its temporary file and keeps the
/// old output as it was.
#[cfg(unix)]
#[test]
fn outputs_leave_no_temporary_files_on_errors_or_signals() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("adir");
    std::fs::create_dir(&sub).unwrap();
    let e = fails(&[
        "predict",
        "--model",
        MODEL,
        "--fasta",
        "examples/data/sample.fa",
        "--out",
        sub.to_str().unwrap(),
    ]);
    assert!(e.contains("adir is a directory"), "{e}");
    let leftovers = |d: &std::path::Path| -> Vec<String> {
        std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    };
    assert!(leftovers(dir.path()).is_empty());

    // a long run (2 Mbp tiled at stride 1 into ~2 million windows), stopped mid-write
    let fa = dir.path().join("long.fa");
    let seq = common::random_dna(2_000_000, 3);
    std::fs::write(&fa, [&b">long\n"[..], &seq, b"\n"].concat()).unwrap();
    let out = dir.path().join("preds.tsv");
    for signal in ["TERM", "INT"] {
        std::fs::write(&out, "old results\n").unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_seqlens"))
            .current_dir(common::root())
            .args([
                "predict",
                "--model",
                MODEL,
                "--backend",
                "cpu",
                "--stride",
                "1",
            ])
            .args([
                "--fasta",
                fa.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // wait until the temporary output exists, then signal
        let t0 = std::time::Instant::now();
        while leftovers(dir.path()).is_empty() && t0.elapsed().as_secs() < 60 {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(
            !leftovers(dir.path()).is_empty(),
            "no temporary output appeared"
        );
        Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        let done = child.wait_with_output().unwrap();
        assert_eq!(
            done.status.code(),
            Some(130),
            "SIG{signal}: {:?}",
            done.status
        );
        assert!(
            leftovers(dir.path()).is_empty(),
            "SIG{signal}: {:?}",
            leftovers(dir.path())
        );
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "old results\n");
    }
}

/// `seqlens index` writes what `samtools faidx` writes, byte for byte: the splice example's
/// indexes were made by samtools (scripts/make_splice_data.py), for a plain and a bgzip
/// FASTA (.fai and .gzi), and the demo genome's .fai equals samtools 1.16's output (checked
/// with Debian's samtools, as was a 76-block bgzip file of 30 contigs of mixed line widths).
/// A plain-gzip FASTA is refused with the bgzip advice.
#[test]
fn index_writes_samtools_faidx_output() {
    let dir = tempfile::tempdir().unwrap();
    for (src, outputs) in [
        ("examples/data/splice/genome.fa", &[".fai"][..]),
        ("examples/data/splice/genome.fa.gz", &[".fai", ".gzi"][..]),
        ("examples/data/genome.fa", &[".fai"][..]),
    ] {
        let name = std::path::Path::new(src).file_name().unwrap();
        let copy = dir.path().join(name);
        std::fs::copy(path(src), &copy).unwrap();
        ok(&["index", copy.to_str().unwrap()]);
        for ext in outputs {
            let got = std::fs::read(format!("{}{ext}", copy.display())).unwrap();
            let want = std::fs::read(path(&format!("{src}{ext}"))).unwrap();
            assert_eq!(got, want, "{src}{ext}");
        }
    }
    let gz = dir.path().join("plain.fa.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(b">c\nACGT\n").unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let e = fails(&["index", gz.to_str().unwrap()]);
    assert!(e.contains("plain.fa.gz") && e.contains("bgzip"), "{e}");
}

/// `attribute --method deeplift-shap --references`: the TSV's per-base scores are
/// tangermeme's contributions of the observed bases (tests/golden/deeplift.json, the
/// Basset-like model, target 1), with each sequence's convergence delta in its own column;
/// a reference that does not fit is refused naming it.
#[test]
fn attribute_deeplift_shap_with_given_references_matches_tangermeme() {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path("tests/golden/deeplift.json")).unwrap())
            .unwrap();
    let case = &doc["models"]["basset"];
    let dir = tempfile::tempdir().unwrap();
    let (fasta, refs) = (dir.path().join("in.fa"), dir.path().join("refs.fa"));
    let (mut f, mut r) = (String::new(), String::new());
    for (i, s) in case["sequences"].as_array().unwrap().iter().enumerate() {
        f.push_str(&format!(">s{i}\n{}\n", s.as_str().unwrap()));
        for rs in case["references"][i].as_array().unwrap() {
            r.push_str(&format!(">s{i}\n{}\n", rs.as_str().unwrap()));
        }
    }
    std::fs::write(&fasta, f).unwrap();
    std::fs::write(&refs, &r).unwrap();
    let model = path("tests/models/deeplift/basset.onnx");
    let args = |refs: &std::path::Path| {
        seqlens(&[
            "attribute",
            "-m",
            model.to_str().unwrap(),
            "--fasta",
            fasta.to_str().unwrap(),
            "--method",
            "deeplift-shap",
            "--references",
            refs.to_str().unwrap(),
            "--target",
            "y[1]",
        ])
    };
    let tsv = String::from_utf8(args(&refs).stdout).unwrap();
    let header: Vec<&str> = tsv.lines().next().unwrap().split('\t').collect();
    assert_eq!(
        header,
        [
            "id", "chrom", "pos", "ref", "A", "C", "G", "T", "score", "delta"
        ]
    );
    let want = &case["targets"]["1"]["observed"];
    let l = case["sequences"][0].as_str().unwrap().len();
    let mut worst = 0.0f64;
    for (row, line) in tsv.lines().skip(1).enumerate() {
        let cols: Vec<&str> = line.split('\t').collect();
        let (i, t) = (row / l, row % l);
        let observed: f64 = (0..4).map(|c| want[i][c * l + t].as_f64().unwrap()).sum();
        worst = worst.max((cols[8].parse::<f64>().unwrap() - observed).abs());
        assert!(cols[9].parse::<f64>().unwrap() < 1e-4, "{line}");
    }
    assert_eq!(tsv.lines().count(), 1 + 3 * l);
    assert!(worst < 1e-5, "score off tangermeme's by {worst}");
    // A reference one base short is named.
    std::fs::write(&refs, r.replacen("\nA", "\n", 1)).unwrap();
    let out = args(&refs);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success() && !err.contains("panicked"), "{err}");
    assert!(err.contains("has 239 bases; the sequence has 240"), "{err}");
    // References with a method that takes none, or with shuffle settings, are refused.
    let (m, f, r) = (
        model.to_str().unwrap(),
        fasta.to_str().unwrap(),
        refs.to_str().unwrap(),
    );
    let err = fails(&[
        "attribute",
        "-m",
        m,
        "--fasta",
        f,
        "--method",
        "ixg",
        "--references",
        r,
    ]);
    assert!(
        err.contains("--references is for ig and deeplift-shap"),
        "{err}"
    );
    let err = fails(&[
        "attribute",
        "-m",
        m,
        "--fasta",
        f,
        "--method",
        "deeplift-shap",
        "--references",
        r,
        "--shuffles",
        "5",
    ]);
    assert!(err.contains("cannot be used with"), "{err}");
}

/// `seqlens seqlets` on an attribution table: tangermeme's seqlets for the same tracks
/// (tests/golden/seqlets.json, defaults), in the tracks' coordinates with their bases; a
/// table with a gap is refused naming the file and line.
#[test]
fn seqlets_from_an_attribution_table_match_tangermeme() {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path("tests/golden/seqlets.json")).unwrap())
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("attr.tsv");
    let mut text = String::from("id\tchrom\tpos\tref\tA\tC\tG\tT\tscore\n");
    for (i, track) in doc["tracks"].as_array().unwrap().iter().enumerate() {
        for (p, v) in track.as_array().unwrap().iter().enumerate() {
            let base = b"ACGT"[(p * 7 + i) % 4] as char;
            text.push_str(&format!(
                "t{i}\tchr{i}\t{}\t{base}\t0\t0\t0\t0\t{v}\n",
                1000 + p
            ));
        }
    }
    std::fs::write(&table, &text).unwrap();
    let out = ok(&["seqlets", "-a", table.to_str().unwrap()]);
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    let want = doc["cases"]["defaults"]["seqlets"].as_array().unwrap();
    assert_eq!(rows.len(), want.len(), "{out}");
    for w in want {
        let (i, start, end) = (
            w[0].as_u64().unwrap(),
            w[1].as_u64().unwrap(),
            w[2].as_u64().unwrap(),
        );
        let row = rows
            .iter()
            .find(|r| r[0] == format!("t{i}") && r[2] == (1000 + start).to_string())
            .unwrap_or_else(|| panic!("no seqlet t{i}:{start} in\n{out}"));
        assert_eq!(row[1], format!("chr{i}"));
        assert_eq!(row[3], (1000 + end).to_string());
        let p: f64 = row[5].parse().unwrap();
        assert!(
            (p - w[4].as_f64().unwrap()).abs() <= 1e-9 * p,
            "{row:?} vs {w:?}"
        );
        let bases: String = (start..end)
            .map(|p| b"ACGT"[(p as usize * 7 + i as usize) % 4] as char)
            .collect();
        assert_eq!(row[6], bases);
    }
    let gap = text.replacen("t0\tchr0\t1005\t", "t0\tchr0\t1006\t", 1);
    std::fs::write(&table, gap).unwrap();
    let err = fails(&["seqlets", "-a", table.to_str().unwrap()]);
    assert!(
        err.contains("attr.tsv: line 7: 't0' jumps to pos 1006; expected 1005"),
        "{err}"
    );
}

/// `seqlens seqlets --annotate` end to end: tracks whose attribution is high exactly over the
/// golden seqlets' bases give those seqlets, named with tangermeme's `annotate_seqlets` three
/// best JASPAR motifs and their p-values (tests/golden/tomtom.json.gz).
#[test]
fn seqlets_are_annotated_as_tangermeme_annotates_them() {
    let doc = common::gz_json("tests/golden/tomtom.json.gz");
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("attr.tsv");
    let mut text = String::from("id\tchrom\tpos\tref\tA\tC\tG\tT\tscore\n");
    let seqlets: Vec<&serde_json::Value> = doc["queries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q.get("annotate").is_some())
        .collect();
    for (i, q) in seqlets.iter().enumerate() {
        let bases = q["bases"].as_str().unwrap();
        // 300 flanking bases on each side, so that the high span is rare in the null.
        let flank =
            |k: usize| -> String { (0..300).map(|p| b"ACGT"[(p * 7 + k) % 4] as char).collect() };
        let seq = format!("{}{bases}{}", flank(i), flank(i + 1));
        for (p, b) in seq.chars().enumerate() {
            // Strongly negative next to the span, so that no seqlet extends past it.
            let v = match p {
                _ if (300..300 + bases.len()).contains(&p) => 1.0,
                _ if (296..300).contains(&p)
                    || (300 + bases.len()..304 + bases.len()).contains(&p) =>
                {
                    -5.0
                }
                _ => 0.01 * ((p * 7 % 11) as f64 - 5.0),
            };
            text.push_str(&format!("s{i}\ts{i}\t{p}\t{b}\t0\t0\t0\t0\t{v}\n"));
        }
    }
    std::fs::write(&table, &text).unwrap();
    let out = ok(&[
        "seqlets",
        "-a",
        table.to_str().unwrap(),
        "--max-len",
        "30",
        "--annotate",
        "--top",
        "3",
    ]);
    let mut lines = out.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .ends_with("sequence\tmotif_id\tmotif_name\tmotif_p\tmotif_q\tmotif_strand")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split('\t').collect()).collect();
    for (i, q) in seqlets.iter().enumerate() {
        let row = rows
            .iter()
            .find(|r| r[0] == format!("s{i}"))
            .unwrap_or_else(|| panic!("no seqlet s{i} in\n{out}"));
        assert_eq!(
            row[6],
            q["bases"].as_str().unwrap(),
            "the seqlet is the high span"
        );
        let want = &q["annotate"];
        let ids: Vec<String> = want["motifs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap().split(' ').next().unwrap().to_string())
            .collect();
        assert_eq!(row[7].split(';').collect::<Vec<_>>(), ids, "{row:?}");
        for (p, w) in row[9].split(';').zip(want["p"].as_array().unwrap()) {
            let (p, w): (f64, f64) = (p.parse().unwrap(), w.as_f64().unwrap());
            assert!(
                (p - w).abs() <= 1e-3 * w,
                "p-value {p} against annotate_seqlets' {w}, {row:?}"
            );
        }
    }

    let err = fails(&["seqlets", "-a", table.to_str().unwrap(), "--top", "3"]);
    assert!(
        err.contains("--top names motifs: it needs --annotate or --motifs"),
        "{err}"
    );
    let bad = dir.path().join("bad.meme");
    std::fs::write(
        &bad,
        "MEME version 4\n\nMOTIF x\nletter-probability matrix: alength= 4 w= 1\n0.5 0.5 0.5\n",
    )
    .unwrap();
    let err = fails(&[
        "seqlets",
        "-a",
        table.to_str().unwrap(),
        "--motifs",
        bad.to_str().unwrap(),
    ]);
    assert!(
        err.contains("bad.meme, line 5: motif x: found 3 values"),
        "{err}"
    );
}

/// `seqlens motifs`: a MEME file of queries against the bundled JASPAR, memelite's best
/// motifs and p-values (the golden's seqlets written as one-hot motifs).
#[test]
fn motifs_compares_a_meme_file_as_memelite() {
    let doc = common::gz_json("tests/golden/tomtom.json.gz");
    let names: Vec<&str> = doc["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let query = dir.path().join("q.meme");
    let mut text = String::from("MEME version 4\n\nALPHABET= ACGT\n\n");
    let qs: Vec<&serde_json::Value> = doc["queries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q.get("bases").is_some())
        .collect();
    for q in &qs {
        let bases = q["bases"].as_str().unwrap();
        text.push_str(&format!(
            "MOTIF {}\nletter-probability matrix: alength= 4 w= {}\n",
            q["id"].as_str().unwrap(),
            bases.len()
        ));
        for b in bases.chars() {
            // An N is a uniform column here (a MEME row sums to 1), unlike a seqlet's zeros, so
            // that query is left out below.
            let row: Vec<&str> = "ACGT"
                .chars()
                .map(|c| {
                    if c == b {
                        "1"
                    } else if b == 'N' {
                        "0.25"
                    } else {
                        "0"
                    }
                })
                .collect();
            text.push_str(&format!("{}\n", row.join(" ")));
        }
    }
    std::fs::write(&query, text).unwrap();
    let out_path = dir.path().join("matches.tsv");
    ok(&[
        "motifs",
        "--query",
        query.to_str().unwrap(),
        "--top",
        "3",
        "--out",
        out_path.to_str().unwrap(),
    ]);
    let out = std::fs::read_to_string(&out_path).unwrap();
    assert!(out.starts_with(
        "query\trank\tmotif_id\tmotif_name\tp_value\te_value\tq_value\tstrand\toffset\toverlap\n"
    ));
    for q in qs
        .iter()
        .filter(|q| !q["bases"].as_str().unwrap().contains('N'))
    {
        let id = q["id"].as_str().unwrap();
        let p: Vec<f64> = q["p"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let mut order: Vec<usize> = (0..p.len()).collect();
        order.sort_by(|&a, &b| p[a].total_cmp(&p[b]).then(a.cmp(&b)));
        let rows: Vec<Vec<&str>> = out
            .lines()
            .filter(|l| l.starts_with(&format!("{id}\t")))
            .map(|l| l.split('\t').collect())
            .collect();
        assert_eq!(rows.len(), 3, "{out}");
        for (r, &t) in rows.iter().zip(&order) {
            assert_eq!(format!("{} {}", r[2], r[3]), names[t], "{r:?}");
            let got: f64 = r[4].parse().unwrap();
            assert!(
                (got - p[t]).abs() <= 1e-3 * p[t],
                "{r:?} against memelite's {}",
                p[t]
            );
            let strand = if q["strand"][t].as_i64().unwrap() == 1 {
                "-"
            } else {
                "+"
            };
            assert_eq!(
                (r[7], r[8].parse::<i64>().unwrap()),
                (strand, q["offset"][t].as_i64().unwrap()),
                "{r:?}"
            );
        }
    }
    let err = fails(&["motifs", "--query", "examples/data/sample.fa"]);
    assert!(err.contains("sample.fa: no motif found"), "{err}");
}

/// `seqlens marginalize` with two motifs and a range of spacings: tangermeme's `space` on the
/// same model and backgrounds (tests/golden/perturb.json), one row per background, spacing
/// and label; a range written backwards is refused.
#[test]
fn marginalize_two_motifs_over_spacings_matches_tangermeme() {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path("tests/golden/perturb.json")).unwrap())
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let fasta = dir.path().join("bg.fa");
    let bg: String = doc["backgrounds"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, s)| format!(">s{i}\n{}\n", s.as_str().unwrap()))
        .collect();
    std::fs::write(&fasta, bg).unwrap();
    let case = &doc["cases"][2];
    assert_eq!(case["spacing"], serde_json::json!([[0], [3], [11]]));
    let model = path("tests/models/deeplift/basset.onnx");
    let (m, f) = (model.to_str().unwrap(), fasta.to_str().unwrap());
    let base = [
        "marginalize",
        "-m",
        m,
        "-f",
        f,
        "--motif",
        "TGACTCA",
        "--motif",
        "GATAAG",
    ];
    let tsv = ok(&[&base[..], &["--spacing", "0,3,11"]].concat());
    let rows: Vec<Vec<&str>> = tsv
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(rows.len(), 6 * 3 * 2);
    for r in &rows {
        let b: usize = r[0][1..].parse().unwrap();
        let s = ["0", "3", "11"].iter().position(|g| *g == r[1]).unwrap();
        let c = ["y[0]", "y[1]"].iter().position(|l| *l == r[2]).unwrap();
        let want = case["after"][b][s][c].as_f64().unwrap();
        let got: f64 = r[4].parse().unwrap();
        assert!((got - want).abs() < 1e-4, "{r:?} vs {want}");
        let before = case["before"][b][c].as_f64().unwrap();
        assert!(
            (r[3].parse::<f64>().unwrap() - before).abs() < 1e-4,
            "{r:?}"
        );
    }
    let err = fails(&[&base[..], &["--spacing", "9-3"]].concat());
    assert!(
        err.contains("--spacing '9-3': START must not exceed END"),
        "{err}"
    );
}

/// `seqlens ablate`: one row per sequence, shuffle and label, the before column equal to
/// `seqlens predict`'s values, and a region outside the window refused by sequence.
#[test]
fn ablate_writes_every_shuffle_and_refuses_a_region_outside_the_window() {
    let out = ok(&[
        "ablate",
        "-m",
        MODEL,
        "-f",
        "examples/data/sample.fa",
        "--region",
        "230-270",
        "--shuffles",
        "3",
        "--seed",
        "2",
    ]);
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    assert!(out.starts_with("id\tshuffle\tlabel\tbefore\tafter\teffect\n"));
    assert_eq!(rows.len(), 7 * 3 * 8);
    let pred = ok(&["predict", "-m", MODEL, "-f", "examples/data/sample.fa"]);
    let header: Vec<&str> = pred.lines().next().unwrap().split('\t').collect();
    let ctcf_col = header.iter().position(|h| *h == "CTCF").unwrap();
    let ctcf_pred: f32 = pred
        .lines()
        .find(|l| l.starts_with("ctcf_site\t"))
        .unwrap()
        .split('\t')
        .nth(ctcf_col)
        .unwrap()
        .parse()
        .unwrap();
    let row = rows
        .iter()
        .find(|r| r[0] == "ctcf_site" && r[1] == "2" && r[2] == "CTCF")
        .unwrap();
    assert_eq!(row[3].parse::<f32>().unwrap(), ctcf_pred);
    let err = fails(&[
        "ablate",
        "-m",
        MODEL,
        "-f",
        "examples/data/sample.fa",
        "--region",
        "480-520",
    ]);
    assert!(
        err.contains("'ctcf_site': region 480-520 is not inside the window's 500 bases"),
        "{err}"
    );
    let err = fails(&[
        "ablate",
        "-m",
        MODEL,
        "-f",
        "examples/data/sample.fa",
        "--region",
        "40-20",
    ]);
    assert!(
        err.contains("--region '40-20': expected START-END with START < END"),
        "{err}"
    );
}

#[test]
fn design_raises_the_label_and_its_numbers_are_the_models() {
    let dir = tempfile::tempdir().unwrap();
    let fa = dir.path().join("two.fa");
    let sample = std::fs::read_to_string(path("examples/data/sample.fa")).unwrap();
    // The first two records (ctcf_site and gata1_long, each 500 bases or more).
    let two: String = sample
        .split_inclusive('>')
        .take(3)
        .collect::<String>()
        .trim_end_matches('>')
        .to_string();
    std::fs::write(&fa, &two).unwrap();
    let out_path = dir.path().join("designs.tsv");
    let fa_s = fa.to_str().unwrap();
    let args = [
        "design", "-m", MODEL, "-f", fa_s, "--labels", "GATA1", "--edits", "3", "--beam", "2",
        "--keep", "2", "--region", "100-400", "--tol", "0",
    ];
    let mut with_out = args.to_vec();
    with_out.extend(["--out", out_path.to_str().unwrap()]);
    ok(&with_out);
    let text = std::fs::read_to_string(&out_path).unwrap();
    assert_eq!(
        text.lines().next().unwrap(),
        "id\trank\tloss\tedits\tsubstitutions\tCTCF\tGATA1\tSPI1\tFOXA1\tHNF4A\tCEBPB\tREST\tTP53\tsequence"
    );
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(rows.len(), 2 * 3, "{text}");
    // Every design's sequence, predicted by `seqlens predict`, gives the numbers in its row.
    let designed: String = rows
        .iter()
        .map(|r| format!(">{}_{}\n{}\n", r[0], r[1], r[13]))
        .collect();
    let dfa = dir.path().join("designed.fa");
    std::fs::write(&dfa, designed).unwrap();
    let pred = parse_tsv(&ok(&["predict", "-m", MODEL, "-f", dfa.to_str().unwrap()]));
    let gata = pred.labels.iter().position(|h| h == "GATA1").unwrap();
    for (i, r) in rows.iter().enumerate() {
        let want = pred.values[i][gata] as f32;
        assert_eq!(r[6].parse::<f32>().unwrap(), want, "{text}");
        assert_eq!(r[2].parse::<f64>().unwrap(), -f64::from(want), "{text}");
        let n: usize = r[3].parse().unwrap();
        let subs: Vec<&str> = r[4].split(',').filter(|s| !s.is_empty()).collect();
        assert_eq!(subs.len(), n);
        if r[1] == "0" {
            assert_eq!(n, 0);
            continue;
        }
        // The substitutions, replayed on the original (rank 0) in the region, give the design.
        let original = rows.iter().find(|o| o[0] == r[0] && o[1] == "0").unwrap();
        let mut seq = original[13].as_bytes().to_vec();
        for s in subs {
            let (pos, change) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic()).unwrap());
            let pos: usize = pos.parse().unwrap();
            assert!((100..400).contains(&pos), "{s}");
            assert_eq!(seq[pos], change.as_bytes()[0], "{s}");
            seq[pos] = change.as_bytes()[2];
        }
        assert_eq!(seq, r[13].as_bytes());
        assert!(r[2].parse::<f64>().unwrap() < original[2].parse::<f64>().unwrap());
    }
    let bad = |extra: &[&str]| {
        let mut a = vec!["design", "-m", MODEL, "-f", fa_s, "--beam", "2"];
        a.extend(extra);
        fails(&a)
    };
    let err = bad(&["--labels", "XYZ"]);
    assert!(
        err.contains("--labels: unknown label 'XYZ'; the model has: CTCF, GATA1"),
        "{err}"
    );
    let err = bad(&["--goal", "1,x"]);
    assert!(err.contains("goal '1,x': 'x' is not a number"), "{err}");
    let err = bad(&["--keep", "3"]);
    assert!(err.contains("design keeps 3 of a beam of 2"), "{err}");
    let err = bad(&["--goal", "1,2", "--labels", "GATA1"]);
    assert!(
        err.contains("the goal has 2 values; the model has 8 outputs"),
        "{err}"
    );
}

#[test]
fn motifs_are_discovered_in_a_deepshap_table_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let fasta = training_subset(dir.path(), 150);
    let table = dir.path().join("shap.tsv");
    let labels = "CTCF,GATA1,SPI1,FOXA1,HNF4A,CEBPB,REST,TP53";
    ok(&[
        "attribute",
        "-m",
        "examples/models/demo.onnx",
        "-f",
        &fasta,
        "--method",
        "deeplift-shap",
        "--target",
        labels,
        "--shuffles",
        "5",
        "--backend",
        "cpu",
        "-o",
        table.to_str().unwrap(),
    ]);
    let (meme, json, report) = (
        dir.path().join("p.meme"),
        dir.path().join("p.json"),
        dir.path().join("r.tsv"),
    );
    ok(&[
        "motifs",
        "--attributions",
        table.to_str().unwrap(),
        "--min-metacluster-size",
        "30",
        "--min-pattern-size",
        "10",
        "--top",
        "1",
        "--meme",
        meme.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--svg",
        dir.path().join("logos").to_str().unwrap(),
        "--palette",
        "colorblind",
        "-o",
        report.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&report).unwrap();
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    assert!(
        text.starts_with("query\tseqlets\trank\tmotif_id\tmotif_name\t"),
        "{text}"
    );
    let learned = [
        "Spi1", "CTCF", "HNF4A", "HNF4G", "CEBPE", "CEBPB", "TP53", "REST",
    ];
    let named: Vec<&str> = rows
        .iter()
        .filter(|r| r[0].starts_with("pos_"))
        .map(|r| r[4])
        .collect();
    assert!(
        named.len() >= 3 && named.iter().all(|n| learned.contains(n)),
        "{text}"
    );
    let motifs =
        seqlens::motif::meme::read(&std::fs::read_to_string(&meme).unwrap(), "p.meme").unwrap();
    assert_eq!(motifs.len(), rows.len(), "one MEME motif per pattern");
    assert_eq!(motifs[0].id, rows[0][0]);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let first = &doc[0];
    assert_eq!(
        first["positions"].as_array().unwrap().len().to_string(),
        rows[0][1]
    );
    assert_eq!(
        first["sequence"].as_array().unwrap().len(),
        motifs[0].columns.len()
    );
    // Each match, placed as TOMTOM aligned it (MotifMatch::aligned, which the figures use),
    // agrees with the pattern's consensus where they overlap.
    let patterns: Vec<seqlens::motif::modisco::PatternReport> =
        serde_json::from_value(doc.clone()).unwrap();
    let db = seqlens::motif::jaspar::database().unwrap();
    let best = |c: &[f64; 4]| (0..4).max_by(|&a, &b| c[a].total_cmp(&c[b])).unwrap();
    for p in patterns.iter().filter(|p| p.name.starts_with("pos_")) {
        let m = &p.matches[0];
        let (at, cols) = m.aligned(db.motif(&m.id).unwrap());
        let (first, end) = p.trimmed;
        let pairs: Vec<(usize, usize)> = (first..end)
            .filter_map(|i| {
                let k = usize::try_from(i as i64 - first as i64 - at).ok()?;
                cols.get(k).map(|c| (best(&p.sequence[i]), best(c)))
            })
            .collect();
        let agree = pairs.iter().filter(|(a, b)| a == b).count();
        assert_eq!(pairs.len(), m.overlap, "{}: {m:?}", p.name);
        assert!(
            agree * 10 >= pairs.len() * 7,
            "{}: {agree} of {} agree",
            p.name,
            pairs.len()
        );
        // Its figure: the pattern's logo above the match's, in Okabe-Ito colours.
        let svg = std::fs::read_to_string(dir.path().join("logos").join(format!("{}.svg", p.name)))
            .unwrap();
        assert!(
            svg.contains(&format!(
                "{} ({} seqlets): contributions",
                p.name, p.seqlets
            )) && svg.contains(&format!("{} {} ({})", m.id, m.name, m.strand))
                && svg.contains("#0072B2"),
            "{}",
            &svg[..300]
        );
    }
    let files = std::fs::read_dir(dir.path().join("logos")).unwrap().count();
    assert_eq!(files, patterns.len());
    let err = fails(&[
        "motifs",
        "--attributions",
        table.to_str().unwrap(),
        "--palette",
        "colorblind",
    ]);
    assert!(err.contains("--palette colours the --svg logos"), "{err}");

    // Tables without hypothetical contributions are refused, naming the table.
    let ism = dir.path().join("ism.tsv");
    let two = training_subset(dir.path(), 2);
    ok(&[
        "attribute",
        "-m",
        "examples/models/demo.onnx",
        "-f",
        &two,
        "--method",
        "ism",
        "-o",
        ism.to_str().unwrap(),
    ]);
    let err = fails(&["motifs", "--attributions", ism.to_str().unwrap()]);
    assert!(
        err.contains("ism.tsv") && err.contains("hypothetical contributions"),
        "{err}"
    );
    let err = fails(&[
        "motifs",
        "--query",
        meme.to_str().unwrap(),
        "--meme",
        "x.meme",
    ]);
    assert!(
        err.contains("--meme is for discovering motifs (--attributions)"),
        "{err}"
    );
}

/// bcftools, which reads the VCF output independently; `None` (and the test passes without
/// it) unless SEQLENS_REQUIRE_BCFTOOLS is set, as the test command sets it (`.ci/run`
/// installs Debian's bcftools).
fn bcftools() -> Option<&'static str> {
    let here = Command::new("bcftools").arg("--version").output().is_ok();
    if !here && std::env::var_os("SEQLENS_REQUIRE_BCFTOOLS").is_some() {
        panic!("SEQLENS_REQUIRE_BCFTOOLS is set but bcftools is not on PATH");
    }
    if !here {
        eprintln!("bcftools is not installed: the VCF output is checked by seqlens alone");
    }
    here.then_some("bcftools")
}

#[test]
fn variants_vcf_output_is_read_by_bcftools_with_the_tsvs_scores() {
    let dir = tempfile::tempdir().unwrap();
    // The sample VCF lists chrA:12000 before chrA:9010: an index needs them sorted.
    let text = std::fs::read_to_string(path("examples/data/variants.vcf")).unwrap();
    let (head, body): (Vec<&str>, Vec<&str>) = text.lines().partition(|l| l.starts_with('#'));
    let mut body = body;
    body.sort_by_key(|l| {
        let f: Vec<&str> = l.split('\t').collect();
        (f[0].to_string(), f[1].parse::<u64>().unwrap())
    });
    let sorted = dir.path().join("sorted.vcf");
    std::fs::write(
        &sorted,
        format!("{}\n{}\n", head.join("\n"), body.join("\n")),
    )
    .unwrap();
    let run = |vcf: &std::path::Path, out: &std::path::Path, extra: &[&str]| {
        let mut a = vec![
            "variants",
            "-m",
            MODEL,
            "--vcf",
            vcf.to_str().unwrap(),
            "--genome",
            "examples/data/genome.fa",
            "--out",
            out.to_str().unwrap(),
        ];
        a.extend_from_slice(extra);
        seqlens(&a)
    };
    let tsv = dir.path().join("effects.tsv");
    let gz = dir.path().join("effects.vcf.gz");
    for (out, extra) in [(&tsv, &[][..]), (&gz, &["--index"][..])] {
        let o = run(&sorted, out, extra);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert!(dir.path().join("effects.vcf.gz.tbi").exists());
    // The TSV's rows, by (chrom, pos, alt): status and the CTCF diff.
    let table = std::fs::read_to_string(&tsv).unwrap();
    let header: Vec<&str> = table.lines().next().unwrap().split('\t').collect();
    let col = header.iter().position(|h| *h == "CTCF:diff").unwrap();
    let want: Vec<(String, String, f64)> = table
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (
                format!("{}:{}:{}", f[0], f[1], f[4]),
                f[5].to_string(),
                f[col].parse().unwrap(),
            )
        })
        .collect();
    // seqlens' own reader takes the output back with the same records.
    let back = seqlens::io::read_vcf(std::fs::File::open(&gz).unwrap(), "effects.vcf.gz").unwrap();
    assert_eq!(back.iter().map(|v| v.alts.len()).sum::<usize>(), want.len());
    let Some(bcftools) = bcftools() else {
        return;
    };
    let query = Command::new(bcftools)
        .args([
            "query",
            "-f",
            "%CHROM:%POS:%ALT\t%SEQLENS_STATUS\t%SEQLENS_DIFF_CTCF\n",
        ])
        .arg(&gz)
        .output()
        .unwrap();
    assert!(
        query.status.success(),
        "{}",
        String::from_utf8_lossy(&query.stderr)
    );
    // One line per record; a multi-allelic record's values are comma-separated.
    let mut got = Vec::new();
    for line in String::from_utf8(query.stdout).unwrap().lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let (site, alts) = f[0].rsplit_once(':').unwrap();
        let statuses = f[1].split(',');
        let diffs = f[2].split(',');
        for ((alt, s), d) in alts.split(',').zip(statuses).zip(diffs) {
            got.push((
                format!("{site}:{alt}"),
                s.to_string(),
                d.parse::<f64>().unwrap(),
            ));
        }
    }
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (g, w) in got.iter().zip(&want) {
        assert_eq!((&g.0, &g.1), (&w.0, &w.1));
        // bcftools prints floats to about 6 significant digits.
        assert!(
            (g.2 - w.2).abs() <= 1e-5 * w.2.abs().max(1.0),
            "{g:?} vs {w:?}"
        );
    }
    // The index answers a region query.
    let region = Command::new(bcftools)
        .args(["view", "-H", "-r", "chrB:1400-1600"])
        .arg(&gz)
        .output()
        .unwrap();
    assert!(
        region.status.success(),
        "{}",
        String::from_utf8_lossy(&region.stderr)
    );
    let text = String::from_utf8(region.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.contains("hnf4a_del") && text.contains("SEQLENS_STATUS=ok"),
        "{text}"
    );
}

#[test]
fn an_unsorted_vcf_is_not_indexed_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    // `seqlens variants --index` on the sample VCF (unsorted) against `genome`, to `out`.
    let index = |genome: &str, out: Option<&std::path::Path>| {
        let mut args = vec![
            "variants",
            "-m",
            MODEL,
            "--vcf",
            "examples/data/variants.vcf",
            "--genome",
            genome,
            "--index",
        ];
        if let Some(out) = out {
            args.extend(["--out", out.to_str().unwrap()]);
        }
        fails(&args)
    };
    let gz = dir.path().join("effects.vcf.gz");
    let err = index("examples/data/genome.fa", Some(&gz));
    assert!(err.contains("effects.vcf.gz: cannot index it"), "{err}");
    assert!(err.contains("sorted by position"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let err = index("examples/data/genome.fa", None);
    assert!(err.contains("--index indexes a VCF output"), "{err}");
    // Refused before any work: the genome named here does not exist, and is never opened.
    let plain = dir.path().join("effects.vcf");
    let err = index("no/such/genome.fa", Some(&plain));
    assert!(
        err.contains("an index needs a bgzip-compressed VCF"),
        "{err}"
    );
    assert!(!plain.exists());
}

/// Runs `seqlens` with `args` (strings) and fails the test with its stderr if it fails.
fn run_ok(args: &[String]) {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = seqlens(&a);
    assert!(
        o.status.success(),
        "{a:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

#[test]
fn predict_shards_merge_into_the_single_run_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let out = |n: &str| dir.path().join(n).display().to_string();
    // 10,336 windows: three chunks of 4,096, so each of three shards has work.
    let job = strings(&[
        "predict",
        "-m",
        MODEL,
        "--fasta",
        "examples/data/genome.fa",
        "--stride",
        "3",
        "--backend",
        "cpu",
    ]);
    let with = |extra: &[String]| [job.clone(), extra.to_vec()].concat();
    run_ok(&with(&strings(&["--out", &out("single.tsv")])));
    let mut merge = strings(&["merge", "--out", &out("merged.tsv")]);
    for i in 1..=3 {
        let part = out(&format!("part{i}.tsv"));
        run_ok(&with(&strings(&[
            "--shard",
            &format!("{i}/3"),
            "--out",
            &part,
        ])));
        let rows = std::fs::read_to_string(&part).unwrap().lines().count() - 1;
        assert!(rows > 0, "shard {i} is empty");
        merge.push(part);
    }
    run_ok(&merge);
    let single = std::fs::read(out("single.tsv")).unwrap();
    assert_eq!(single, std::fs::read(out("merged.tsv")).unwrap());
    assert_eq!(String::from_utf8_lossy(&single).lines().count(), 10_337);

    // Shards of a different job, or out of order, are refused or visible.
    let err = fails(&["merge", &out("part1.tsv"), "examples/data/regions.bed"]);
    assert!(
        err.contains("regions.bed: its header differs from"),
        "{err}"
    );
}

#[test]
fn predict_regions_tile_each_region_in_chromosome_coordinates() {
    let whole = parse_tsv(&ok(&[
        "predict",
        "-m",
        MODEL,
        "--fasta",
        "examples/data/genome.fa",
        "--stride",
        "250",
        "--backend",
        "cpu",
    ]));
    let part = parse_tsv(&ok(&[
        "predict",
        "-m",
        MODEL,
        "--fasta",
        "examples/data/genome.fa",
        "--stride",
        "250",
        "--backend",
        "cpu",
        "--regions",
        "chrA:1001-2000,chrB:11001-12000",
    ]));
    // chrA:1001-2000 is bases 1000..2000: tiles at 1000, 1250 and 1500; chrB's last 1,000 the
    // same at 11000, 11250, 11500.
    assert_eq!(
        part.ids,
        [
            "chrA:1000-1500",
            "chrA:1250-1750",
            "chrA:1500-2000",
            "chrB:11000-11500",
            "chrB:11250-11750",
            "chrB:11500-12000"
        ]
    );
    for (i, id) in part.ids.iter().enumerate() {
        let j = whole.ids.iter().position(|w| w == id).unwrap();
        assert_eq!(part.coords[i], whole.coords[j]);
        for (a, b) in part.values[i].iter().zip(&whole.values[j]) {
            assert!((a - b).abs() < 1e-6, "{id}: {a} vs {b}");
        }
    }
    let err = fails(&[
        "predict",
        "-m",
        MODEL,
        "--fasta",
        "examples/data/genome.fa",
        "--stride",
        "250",
        "--regions",
        "chrA:1-100",
    ]);
    assert!(
        err.contains("region chrA:1-100") && err.contains("shorter than the model's 500"),
        "{err}"
    );
    let err = fails(&[
        "predict",
        "-m",
        MODEL,
        "--fasta",
        "examples/data/genome.fa",
        "--stride",
        "250",
        "--regions",
        "chrZ:1-1000",
    ]);
    assert!(err.contains("region on 'chrZ' names no record"), "{err}");
    let err = fails(&[
        "predict",
        "-m",
        MODEL,
        "--fasta",
        "examples/data/genome.fa",
        "--regions",
        "chrA",
    ]);
    assert!(err.contains("give --stride"), "{err}");
    let err = fails(&[
        "predict",
        "-m",
        MODEL,
        "--fasta",
        "examples/data/genome.fa",
        "--shard",
        "4/3",
    ]);
    assert!(err.contains("shard '4/3'"), "{err}");
}

/// A VCF of `n` SNVs spread over the sample genome, REF read from it: enough records for
/// several of the scorer's chunks of 1,024 alleles.
fn many_snvs(dir: &std::path::Path, n: usize) -> std::path::PathBuf {
    let recs = seqlens::io::read_sequences(
        std::fs::File::open(path("examples/data/genome.fa")).unwrap(),
        "genome.fa",
    )
    .unwrap();
    let mut text = String::from("##fileformat=VCFv4.2\n");
    for r in &recs {
        text.push_str(&format!("##contig=<ID={},length={}>\n", r.id, r.seq.len()));
    }
    text.push_str("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n");
    let per = n / recs.len();
    for r in &recs {
        for k in 0..per {
            let pos = 300 + k * (r.seq.len() - 600) / per;
            let base = r.seq[pos].to_ascii_uppercase();
            let alt = if base == b'A' { 'G' } else { 'A' };
            text.push_str(&format!(
                "{}\t{}\t.\t{}\t{alt}\t.\tPASS\t.\n",
                r.id,
                pos + 1,
                base as char
            ));
        }
    }
    let p = dir.join("snvs.vcf");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn variants_shards_merge_into_the_single_run_and_regions_filter_records() {
    let dir = tempfile::tempdir().unwrap();
    let out = |n: &str| dir.path().join(n).display().to_string();
    let vcf = many_snvs(dir.path(), 2400);
    let job = strings(&[
        "variants",
        "-m",
        MODEL,
        "--vcf",
        vcf.to_str().unwrap(),
        "--genome",
        "examples/data/genome.fa",
        "--backend",
        "cpu",
    ]);
    let with = |extra: &[String]| [job.clone(), extra.to_vec()].concat();
    run_ok(&with(&strings(&["--out", &out("single.vcf")])));
    let mut merge = strings(&["merge", "--out", &out("merged.vcf")]);
    for i in 1..=3 {
        let part = out(&format!("part{i}.vcf"));
        run_ok(&with(&strings(&[
            "--shard",
            &format!("{i}/3"),
            "--out",
            &part,
        ])));
        merge.push(part);
    }
    run_ok(&merge);
    let single = std::fs::read_to_string(out("single.vcf")).unwrap();
    assert_eq!(single, std::fs::read_to_string(out("merged.vcf")).unwrap());
    assert_eq!(single.lines().filter(|l| !l.starts_with('#')).count(), 2400);
    // Only the records in the regions, each scored as in the whole run.
    let tsv = ok(&[
        "variants",
        "-m",
        MODEL,
        "--vcf",
        vcf.to_str().unwrap(),
        "--genome",
        "examples/data/genome.fa",
        "--backend",
        "cpu",
        "--regions",
        "chrB:1-6000",
    ]);
    let rows: Vec<&str> = tsv.lines().skip(1).collect();
    assert!(!rows.is_empty());
    for r in &rows {
        let f: Vec<&str> = r.split('\t').collect();
        assert_eq!(f[0], "chrB");
        assert!(f[1].parse::<u64>().unwrap() <= 6000);
        let line = single
            .lines()
            .find(|l| l.starts_with(&format!("chrB\t{}\t", f[1])))
            .unwrap();
        assert!(line.contains("SEQLENS_STATUS=ok"), "{line}");
    }
}

/// Runs `seqlens attribute` (ixg for SPI1 on the CPU) over the sample FASTA into `out`, whose
/// extension picks the format.
fn attribute_sample_ixg(out: &std::path::Path) {
    run_ok(&strings(&[
        "attribute",
        "-m",
        MODEL,
        "--fasta",
        "examples/data/sample.fa",
        "--target",
        "SPI1",
        "--method",
        "ixg",
        "--backend",
        "cpu",
        "--out",
        out.to_str().unwrap(),
    ]));
}

/// An attribution table's rows as (chrom, pos, score as written).
fn table_scores(tsv: &std::path::Path) -> Vec<(String, i64, String)> {
    let table = std::fs::read_to_string(tsv).unwrap();
    let header: Vec<&str> = table.lines().next().unwrap().split('\t').collect();
    let score = header.iter().position(|h| *h == "score").unwrap();
    table
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (
                f[1].to_string(),
                f[2].parse().unwrap(),
                f[score].to_string(),
            )
        })
        .collect()
}

#[test]
fn attribute_bigwig_is_read_by_pybigwig_with_the_tables_per_base_scores() {
    let dir = tempfile::tempdir().unwrap();
    let (tsv, bw) = (dir.path().join("a.tsv"), dir.path().join("a.bw"));
    attribute_sample_ixg(&tsv);
    attribute_sample_ixg(&bw);
    let Some(common::BigWig { chroms, values }) = common::read_bigwig(&bw) else {
        return;
    };
    // The sample's record lengths, read here from the FASTA text.
    let fasta = std::fs::read_to_string("examples/data/sample.fa").unwrap();
    let mut lengths: Vec<(String, usize)> = Vec::new();
    for line in fasta.lines() {
        match line.strip_prefix('>') {
            Some(h) => lengths.push((h.split_whitespace().next().unwrap().to_string(), 0)),
            None => lengths.last_mut().unwrap().1 += line.trim().len(),
        }
    }
    // The table's scores on the records' bases (the N padding around short records is not).
    let mut want = Vec::new();
    for (chrom, pos, score) in table_scores(&tsv) {
        let len = lengths.iter().find(|(c, _)| *c == chrom).unwrap().1 as i64;
        if (0..len).contains(&pos) {
            want.push(format!("{chrom}\t{pos}\t{}", score.parse::<f32>().unwrap()));
        }
    }
    let sizes: Vec<(String, u64)> = lengths
        .iter()
        .map(|(c, n)| (c.clone(), *n as u64))
        .collect();
    assert_eq!(
        chroms, sizes,
        "the bigWig's chromosomes are the FASTA's records"
    );
    assert!(want.len() > 1000, "{} scores", want.len());
    let got: Vec<String> = values
        .iter()
        .map(|(c, p, v)| format!("{c}\t{p}\t{v}"))
        .collect();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w);
    }
}

#[test]
fn predict_refuses_bigwig_names_instead_of_writing_a_table_under_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.bw");
    let err = fails(&[
        "predict",
        "-m",
        MODEL,
        "--fasta",
        "examples/data/sample.fa",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(err.contains("predict does not write .bw"), "{err}");
    assert!(!out.exists());
}

#[test]
fn attribute_bedgraph_holds_the_tables_per_base_scores() {
    let dir = tempfile::tempdir().unwrap();
    let (tsv, bg) = (dir.path().join("a.tsv"), dir.path().join("a.bedgraph"));
    attribute_sample_ixg(&tsv);
    attribute_sample_ixg(&bg);
    // Table rows at positions >= 0 (the padded positions of short records are left out).
    let want: Vec<String> = table_scores(&tsv)
        .into_iter()
        .filter(|(_, pos, _)| *pos >= 0)
        .map(|(chrom, pos, score)| format!("{chrom}\t{pos}\t{}\t{score}", pos + 1))
        .collect();
    let text = std::fs::read_to_string(&bg).unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("track type=bedGraph"));
    let got: Vec<&str> = lines.collect();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w);
    }
}
