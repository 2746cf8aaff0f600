//! Sequence design against tangermeme 1.6's `greedy_substitution` and `beam_substitution`
//! (tests/golden/design.json, written by scripts/design_golden.py) on the same PyTorch models
//! exported to ONNX (the DeepBind- and Basset-like models of tests/deeplift.rs), from the
//! same starting sequences: the designed sequences are equal, and their predictions and
//! losses agree with PyTorch's. Run with fast ISM and with every mutant predicted, on tract
//! and on the CPU engine.

mod common;

use common::{json_floats, max_diff, path, random_records};
use seqlens::blocking::block_on;
use seqlens::design::{self, DesignOptions, Goal, Scoring};
use seqlens::encode::Window;
use seqlens::model::{Backend, Model};

fn window(seq: &str) -> Window {
    Window {
        id: "s0".into(),
        chrom: "s0".into(),
        start: 0,
        end: seq.len() as i64,
        seq: seq.as_bytes().to_vec(),
    }
}

fn options(case: &serde_json::Value, scoring: Scoring) -> DesignOptions {
    let mask: Vec<bool> = case["mask"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_bool().unwrap())
        .collect();
    DesignOptions {
        goal: match case["y"].is_null() {
            true => Goal::Maximize,
            false => Goal::Values(json_floats(&case["y"])),
        },
        outputs: (0..mask.len()).filter(|&i| mask[i]).collect(),
        edits: case["edits"].as_u64().unwrap() as usize,
        beam: case["beam"].as_u64().unwrap_or(1) as usize,
        keep: case["n_best"].as_u64().unwrap() as usize,
        tol: case["tol"].as_f64().unwrap(),
        region: case["region"]
            .as_array()
            .map(|r| r[0].as_u64().unwrap() as usize..r[1].as_u64().unwrap() as usize),
        scoring,
        ..Default::default()
    }
}

#[test]
fn designs_equal_tangermeme() {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path("tests/golden/design.json")).unwrap())
            .unwrap();
    for case in doc["cases"].as_array().unwrap() {
        let file = case["model"].as_str().unwrap();
        let bytes = std::fs::read(path(&format!("tests/models/deeplift/{file}"))).unwrap();
        let want: Vec<&str> = case["designed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        let original = case["sequence"].as_str().unwrap();
        for backend in [Backend::Tract, Backend::Cpu] {
            let model = Model::from_bytes(&bytes)
                .unwrap()
                .with_backend(backend)
                .unwrap();
            for scoring in [Scoring::Fast, Scoring::Naive] {
                let opts = options(case, scoring);
                let what = format!("{file} beam {} {backend:?} {scoring:?}", opts.beam);
                let mut rounds = Vec::new();
                let got = block_on(design::design(
                    &model,
                    &window(original),
                    &opts,
                    &mut |r, n| {
                        rounds.push((r, n));
                        true
                    },
                ))
                .unwrap();
                let seqs: Vec<&str> = got.designs.iter().map(|d| d.sequence.as_str()).collect();
                assert_eq!(seqs, want, "{what}");
                assert!(
                    max_diff(&got.original, &json_floats(&case["before"])) < 1e-4,
                    "{what}"
                );
                let preds: Vec<f32> = got
                    .designs
                    .iter()
                    .flat_map(|d| d.prediction.clone())
                    .collect();
                assert!(
                    max_diff(&preds, &json_floats(&case["after"])) < 1e-4,
                    "{what}"
                );
                let losses: Vec<f32> = got.designs.iter().map(|d| d.loss as f32).collect();
                assert!(
                    max_diff(&losses, &json_floats(&case["loss"])) < 1e-4,
                    "{what}"
                );
                // Each design's edits, replayed on the original, give its sequence, within
                // the budget and the region.
                for d in &got.designs {
                    assert!(!d.edits.is_empty() && d.edits.len() <= opts.edits, "{what}");
                    let mut seq = original.as_bytes().to_vec();
                    for e in &d.edits {
                        assert_eq!(seq[e.position], e.from as u8, "{what}");
                        assert!(
                            opts.region
                                .clone()
                                .unwrap_or(0..seq.len())
                                .contains(&e.position)
                        );
                        seq[e.position] = e.to as u8;
                    }
                    assert_eq!(seq, d.sequence.as_bytes(), "{what}");
                    assert!(d.loss < got.original_loss, "{what}");
                }
                assert_eq!(rounds.len(), got.rounds, "{what}");
                assert_eq!(
                    got.scoring,
                    if scoring == Scoring::Fast {
                        "fast ISM"
                    } else {
                        "ISM"
                    }
                );
            }
        }
    }
}

#[test]
fn minimizing_mirrors_maximizing_and_budget_and_tol_stop_the_search() {
    let bytes = std::fs::read(path("tests/models/deeplift/deepbind.onnx")).unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    let w = {
        let r = &random_records(1, 100, 3)[0];
        window(std::str::from_utf8(&r.seq).unwrap())
    };
    let run = |opts: &DesignOptions| block_on(design::design(&model, &w, opts, &mut |_, _| true));
    let down = run(&DesignOptions {
        goal: Goal::Minimize,
        outputs: vec![0],
        edits: 3,
        tol: 0.0,
        ..Default::default()
    })
    .unwrap();
    let up = run(&DesignOptions {
        goal: Goal::Maximize,
        outputs: vec![0],
        edits: 3,
        tol: 0.0,
        ..Default::default()
    })
    .unwrap();
    // Three rounds, each one edit, lowering (raising) output 0 every time.
    assert_eq!((down.rounds, up.rounds), (3, 3));
    assert!(down.designs[0].prediction[0] < down.original[0]);
    assert!(up.designs[0].prediction[0] > up.original[0]);
    assert_eq!(
        down.designs[0].loss,
        f64::from(down.designs[0].prediction[0])
    );
    assert_eq!(up.designs[0].loss, -f64::from(up.designs[0].prediction[0]));
    // A tolerance no edit can meet stops after the first round, keeping its edit.
    let once = run(&DesignOptions {
        outputs: vec![0],
        edits: 5,
        tol: 1e6,
        ..Default::default()
    })
    .unwrap();
    assert_eq!((once.rounds, once.designs[0].edits.len()), (1, 1));
    // The first greedy edit is the best single substitution, checked by predicting every
    // mutant whole (seqlens' predict, not ISM).
    let mut best = (f32::MIN, 0, b'A');
    let mut mutants = Vec::new();
    for t in 0..w.seq.len() {
        for &b in b"ACGT" {
            if b != w.seq[t] {
                let mut m = w.clone();
                m.seq[t] = b;
                mutants.push((t, b, m));
            }
        }
    }
    let preds = model
        .predict_windows(
            mutants.iter().map(|m| m.2.clone()).collect(),
            &Default::default(),
            &mut |_, _| true,
        )
        .unwrap();
    for (i, (t, b, _)) in mutants.iter().enumerate() {
        if preds.row(i)[0] > best.0 {
            best = (preds.row(i)[0], *t, *b);
        }
    }
    let first = &up.designs[0].edits[0];
    assert_eq!((first.position, first.to as u8), (best.1, best.2));
    // Cancelling stops the search.
    let err = block_on(design::design(
        &model,
        &w,
        &DesignOptions::default(),
        &mut |_, _| false,
    ))
    .unwrap_err();
    assert_eq!(err.to_string(), "cancelled");
}

#[test]
fn bad_options_are_refused() {
    let bytes = std::fs::read(path("tests/models/deeplift/deepbind.onnx")).unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    let w = window(std::str::from_utf8(&random_records(1, 100, 4)[0].seq).unwrap());
    let err = |opts: DesignOptions| {
        block_on(design::design(&model, &w, &opts, &mut |_, _| true))
            .unwrap_err()
            .to_string()
    };
    let d = DesignOptions::default;
    assert_eq!(
        err(DesignOptions { edits: 0, ..d() }),
        "design needs an edit budget of at least 1"
    );
    assert!(err(DesignOptions { keep: 2, ..d() }).starts_with("design keeps 2 of a beam of 1"));
    assert!(err(DesignOptions { beam: 0, ..d() }).starts_with("design keeps 1 of a beam of 0"));
    assert_eq!(
        err(DesignOptions {
            outputs: vec![2],
            ..d()
        }),
        "output 2 is out of range: the model has 2 outputs"
    );
    assert!(
        err(DesignOptions {
            goal: Goal::Values(vec![1.0]),
            ..d()
        })
        .starts_with("the goal has 1 values; the model has 2 outputs")
    );
    assert_eq!(
        err(DesignOptions {
            region: Some(90..101),
            ..d()
        }),
        "region 90-101 is not inside the window's 100 bases"
    );
    assert_eq!(
        err(DesignOptions {
            tol: f64::NAN,
            ..d()
        }),
        "tol NaN is not a number >= 0"
    );
}
