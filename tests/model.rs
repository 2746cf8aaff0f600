//! The Rust API end to end on real files: `io` -> `Model` -> predictions, compared with
//! onnxruntime's outputs (tests/golden, made by scripts/golden.py and make_test_models.py).

mod common;

use common::{assert_close, golden, golden_case, parse_tsv, path};
use seqlens::encode::UnknownPolicy;
use seqlens::io::{self, IndexedFasta, SeqRecord};
use seqlens::model::{self, Batch, Model, Overrides, PredictOptions};
use seqlens::output::to_tsv;

fn demo() -> Model {
    Model::from_bytes(&std::fs::read(path("examples/models/demo.onnx")).unwrap()).unwrap()
}

fn sample() -> Vec<SeqRecord> {
    let f = std::fs::File::open(path("examples/data/sample.fa")).unwrap();
    io::read_sequences(f, "sample.fa").unwrap()
}

#[test]
fn demo_predictions_match_onnxruntime() {
    let p = demo()
        .predict(&sample(), &PredictOptions::default())
        .unwrap();
    assert_close(&parse_tsv(&to_tsv(&p)), &golden("demo_sample.tsv"), 1e-5);
}

#[test]
fn rc_average_matches_onnxruntime() {
    let opts = PredictOptions {
        rc_average: true,
        ..Default::default()
    };
    let p = demo().predict(&sample(), &opts).unwrap();
    assert_close(&parse_tsv(&to_tsv(&p)), &golden("demo_sample_rc.tsv"), 1e-5);
}

#[test]
fn bed_windows_from_indexed_genome_match_onnxruntime() {
    let model = demo();
    let bed = std::fs::File::open(path("examples/data/regions.bed")).unwrap();
    let intervals = io::read_bed(bed, "regions.bed").unwrap();
    let mut genome = IndexedFasta::open(&path("examples/data/genome.fa")).unwrap();
    let windows = model.bed_windows(&intervals, &mut genome).unwrap();
    let p = model
        .predict_windows(windows, &PredictOptions::default(), &mut |_, _| true)
        .unwrap();
    assert_close(&parse_tsv(&to_tsv(&p)), &golden("demo_regions.tsv"), 1e-5);
}

#[test]
fn batch_size_does_not_change_results() {
    let model = demo();
    let one = PredictOptions {
        batch_size: 1,
        ..Default::default()
    };
    let a = model.predict(&sample(), &one).unwrap();
    let b = model
        .predict(&sample(), &PredictOptions::default())
        .unwrap();
    for (x, y) in a.values.iter().zip(&b.values) {
        assert!((x - y).abs() < 1e-6);
    }
}

#[test]
fn tiling_keeps_coordinates() {
    let recs: Vec<SeqRecord> = sample()
        .into_iter()
        .filter(|r| r.id == "tp53_cebpb_1200")
        .collect();
    let opts = PredictOptions {
        stride: Some(250),
        ..Default::default()
    };
    let p = demo().predict(&recs, &opts).unwrap();
    let coords: Vec<(i64, i64)> = p.windows.iter().map(|w| (w.start, w.end)).collect();
    assert_eq!(coords, [(0, 500), (250, 750), (500, 1000), (700, 1200)]);
    assert_eq!(p.ids[1], "tp53_cebpb_1200:250-750");
    // TP53 is planted at 100 and CEBPB at 1000: the first window sees TP53, the last CEBPB.
    let col = |name: &str| p.labels.iter().position(|l| l == name).unwrap();
    assert!(p.row(0)[col("TP53")] > p.row(3)[col("TP53")]);
    assert!(p.row(3)[col("CEBPB")] > p.row(0)[col("CEBPB")]);
}

fn test_model(name: &str) -> Model {
    Model::from_bytes(&std::fs::read(path(&format!("tests/models/{name}.onnx"))).unwrap()).unwrap()
}

fn check_against_onnxruntime(name: &str) -> model::Predictions {
    let model = test_model(name);
    let (recs, want) = golden_case("test_models.json", Some(name));
    let p = model.predict(&recs, &PredictOptions::default()).unwrap();
    assert_eq!(p.values.len(), want.len());
    for (i, (a, b)) in p.values.iter().zip(&want).enumerate() {
        assert!((a - b).abs() < 1e-5, "{name} value {i}: {a} vs {b}");
    }
    p
}

#[test]
fn fixed_batch_of_one_runs_each_sequence() {
    let p = check_against_onnxruntime("fixed_batch1");
    assert_eq!(test_model("fixed_batch1").info().batch, Batch::Fixed(1));
    assert_eq!(p.labels, ["y[0]", "y[1]", "y[2]"]);
}

#[test]
fn channels_last_layout_is_inferred() {
    let m = test_model("nlc_dynamic");
    assert_eq!(m.metadata().layout, seqlens::encode::Layout::Nlc);
    assert_eq!(m.info().batch, Batch::Dynamic);
    let p = check_against_onnxruntime("nlc_dynamic");
    assert_eq!(p.labels, ["prob"]);
    // The engine and the GPU take the channels-last input as a transposed view of theirs.
    let bytes = std::fs::read(path("tests/models/nlc_dynamic.onnx")).unwrap();
    let (recs, want) = golden_case("test_models.json", Some("nlc_dynamic"));
    for (backend, model) in common::backends(&bytes, None) {
        let got = model.predict(&recs, &PredictOptions::default()).unwrap();
        let d = common::max_diff(&got.values, &want);
        assert!(d < 1e-4, "{backend:?}: {d}");
    }
}

#[test]
fn protein_model_of_any_length() {
    let m = test_model("protein_anylen");
    assert_eq!(m.metadata().alphabet, seqlens::encode::Alphabet::Protein);
    assert_eq!(m.metadata().length, None);
    let p = check_against_onnxruntime("protein_anylen");
    assert_eq!(p.labels, ["helix", "sheet", "coil", "disorder"]);
}

#[test]
fn unsupported_operator_is_named() {
    let bytes = std::fs::read(path("tests/models/unsupported_op.onnx")).unwrap();
    let err = Model::from_bytes(&bytes).unwrap_err().to_string();
    assert!(
        err.starts_with("unsupported ONNX operator 'Det' (node 'determinant')"),
        "{err}"
    );
}

#[test]
fn truncated_and_garbage_models_are_rejected() {
    let bytes = std::fs::read(path("examples/models/demo.onnx")).unwrap();
    for cut in [10, bytes.len() / 2, bytes.len() - 1] {
        let err = Model::from_bytes(&bytes[..cut]).unwrap_err().to_string();
        assert!(
            err.starts_with("not a valid ONNX model"),
            "cut {cut}: {err}"
        );
    }
    let err = Model::from_bytes(b"this is not a model")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("not a valid ONNX model"), "{err}");
}

#[test]
fn overrides_are_checked_against_the_model() {
    let bytes = std::fs::read(path("examples/models/demo.onnx")).unwrap();
    let bad_len = Overrides {
        length: Some(300),
        ..Default::default()
    };
    let err = Model::from_bytes_with(&bytes, &bad_len)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("seqlens.length") && err.contains("500"),
        "{err}"
    );
    let bad_labels = Overrides {
        labels: Some(vec!["a".into()]),
        ..Default::default()
    };
    let err = Model::from_bytes_with(&bytes, &bad_labels)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("1 labels given, but the model outputs 8"),
        "{err}"
    );
}

#[test]
fn invalid_characters_fail_or_become_n() {
    let recs = vec![SeqRecord {
        id: "weird".into(),
        description: None,
        seq: b"ACGTACGT*ACGT".to_vec(),
    }];
    let model = demo();
    let err = model
        .predict(&recs, &PredictOptions::default())
        .unwrap_err();
    assert!(err.to_string().contains("'weird'"), "{err}");
    let lenient = PredictOptions {
        unknown: UnknownPolicy::AsN,
        ..Default::default()
    };
    assert_eq!(model.predict(&recs, &lenient).unwrap().shape, [1, 8]);
}

/// Limits come before allocation (issue 13): a model length of 10^9 bases (which used to
/// abort with "memory allocation of 16000000000 bytes failed") and a record that a model of
/// any length would take whole beyond the limit are errors that name the limit and what to
/// do, at once and without the memory.
#[test]
fn lengths_past_the_limit_are_refused_before_allocating() {
    use seqlens::model::MAX_LENGTH;
    let bytes = std::fs::read(path("tests/models/protein_anylen.onnx")).unwrap();
    let huge = Overrides {
        length: Some(1_000_000_000),
        ..Default::default()
    };
    let err = Model::from_bytes_with(&bytes, &huge)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("1000000000 bases") && err.contains(&MAX_LENGTH.to_string()),
        "{err}"
    );
    let model = Model::from_bytes(&bytes).unwrap();
    let rec = seqlens::io::SeqRecord {
        id: "titin_x1000".into(),
        description: None,
        seq: vec![b'A'; MAX_LENGTH + 1],
    };
    let err = model
        .windows(&[rec], &PredictOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("'titin_x1000'") && err.contains("--length L --stride S"),
        "{err}"
    );
}

/// Each window of `records` one-hot encoded as `[n, 4, length]` (NCL), as a Python caller
/// hands it over.
fn encoded(model: &Model, records: &[SeqRecord]) -> (Vec<f32>, [usize; 3]) {
    let windows = model.windows(records, &PredictOptions::default()).unwrap();
    let encoder = model.encoder(UnknownPolicy::Error);
    let seqs: Vec<&[u8]> = windows.iter().map(|w| w.seq.as_slice()).collect();
    let ids: Vec<&str> = windows.iter().map(|w| w.id.as_str()).collect();
    let x = encoder
        .encode_batch(&ids, &seqs, seqlens::encode::Layout::Ncl)
        .unwrap();
    let len = seqs[0].len();
    (x, [seqs.len(), 4, len])
}

#[test]
fn encoded_sequences_predict_as_onnxruntime_on_every_backend() {
    let bytes = std::fs::read(path("examples/models/demo.onnx")).unwrap();
    let (x, shape) = encoded(&demo(), &sample());
    for (rc, file) in [(false, "demo_sample.tsv"), (true, "demo_sample_rc.tsv")] {
        let want = golden(file);
        let opts = PredictOptions {
            rc_average: rc,
            batch_size: 3,
            ..Default::default()
        };
        for (backend, model) in common::backends(&bytes, None) {
            let p = model
                .predict_encoded(&x, shape, &opts, &mut |_, _| true)
                .unwrap();
            assert_eq!(p.labels, want.labels);
            assert_eq!(p.shape, [want.values.len(), want.labels.len()]);
            let flat: Vec<f32> = want.values.iter().flatten().map(|&v| v as f32).collect();
            let d = common::max_diff(&p.values, &flat);
            assert!(d < 1e-4, "{backend:?} rc={rc}: {d}");
        }
    }
    // A channels-last model takes the same NCL array; a fixed batch of one pads nothing.
    for name in ["nlc_dynamic", "fixed_batch1"] {
        let bytes = std::fs::read(path(&format!("tests/models/{name}.onnx"))).unwrap();
        let (recs, want) = golden_case("test_models.json", Some(name));
        let (x, shape) = encoded(&test_model(name), &recs);
        for (backend, model) in common::backends(&bytes, None) {
            let p = model
                .predict_encoded(&x, shape, &PredictOptions::default(), &mut |_, _| true)
                .unwrap();
            let d = common::max_diff(&p.values, &want);
            assert!(d < 1e-4, "{name} on {backend:?}: {d}");
        }
    }
}

#[test]
fn encoded_sequences_of_the_wrong_shape_or_values_are_refused() {
    let model = demo();
    let (mut x, [n, c, l]) = encoded(&model, &sample());
    let refuse = |x: &[f32], shape, opts: &PredictOptions| {
        model
            .predict_encoded(x, shape, opts, &mut |_, _| true)
            .unwrap_err()
            .to_string()
    };
    let opts = PredictOptions::default();
    let e = refuse(&x[..n * c * (l - 1)], [n, c, l - 1], &opts);
    assert!(e.contains("length 499") && e.contains("expects 500"), "{e}");
    let e = refuse(&x, [n, 5, l], &opts);
    assert!(e.contains("5 channels") && e.contains("takes 4"), "{e}");
    let e = refuse(&x[1..], [n, c, l], &opts);
    assert!(e.contains("do not make the shape"), "{e}");
    let stride = PredictOptions {
        stride: Some(10),
        ..Default::default()
    };
    assert!(refuse(&x, [n, c, l], &stride).contains("'stride'"));
    x[l + 7] = f32::NAN;
    let e = refuse(&x, [n, c, l], &opts);
    assert!(
        e.contains("sequence 0 has NaN at channel 1, position 7"),
        "{e}"
    );
}
