//! Marginalisation and spacing experiments against tangermeme 1.6's `marginalize` and
//! `space` (tests/golden/perturb.json, written by scripts/tangermeme_golden.py) on the same
//! PyTorch model exported to ONNX (the Basset-like model of tests/deeplift.rs) and the same
//! backgrounds: predictions before and after substituting the motifs, on every backend.

mod common;

use common::{json_floats, json_records, max_diff, path};
use seqlens::blocking::block_on;
use seqlens::model::{Backend, Model, PredictOptions};
use seqlens::perturb;

#[test]
fn marginalize_and_space_equal_tangermeme() {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path("tests/golden/perturb.json")).unwrap())
            .unwrap();
    let bytes = std::fs::read(path("tests/models/deeplift/basset.onnx")).unwrap();
    let backgrounds = json_records(&doc["backgrounds"]);
    for backend in [Backend::Tract, Backend::Cpu] {
        let model = Model::from_bytes(&bytes)
            .unwrap()
            .with_backend(backend)
            .unwrap();
        for case in doc["cases"].as_array().unwrap() {
            let motifs: Vec<Vec<u8>> = case["motifs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap().as_bytes().to_vec())
                .collect();
            let spacing: Vec<Vec<usize>> = case["spacing"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    s.as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_u64().unwrap() as usize)
                        .collect()
                })
                .collect();
            let start = case["start"].as_u64().map(|s| s as usize);
            let opts = PredictOptions::default();
            let got = if motifs.len() == 1 {
                block_on(perturb::marginalize(
                    &model,
                    &backgrounds,
                    &motifs[0],
                    start,
                    &opts,
                ))
                .unwrap()
            } else {
                block_on(perturb::space(
                    &model,
                    &backgrounds,
                    &motifs,
                    &spacing,
                    start,
                    &opts,
                ))
                .unwrap()
            };
            let what = format!("{backend:?} {:?} at {start:?}", case["motifs"]);
            assert!(
                max_diff(&got.before, &json_floats(&case["before"])) < 1e-4,
                "{what}"
            );
            let after: Vec<f32> = case["after"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(json_floats)
                .collect();
            assert!(max_diff(&got.after, &after) < 1e-4, "{what}");
            // The motif changes the predictions (the test would pass on a no-op otherwise).
            assert!(
                max_diff(&got.before, &got.after[..got.before.len()]) > 1e-3
                    || got.spacings.len() > 1
            );
        }
    }
}

#[test]
fn motifs_that_do_not_fit_are_refused() {
    let e = perturb::substitute(b"ACGTACGT", b"GGGG", 6)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("a motif of 4 bases at 6 does not fit in 8 bases"),
        "{e}"
    );
    // N keeps the background.
    assert_eq!(
        perturb::substitute(b"ACGTACGT", b"GNG", 2).unwrap(),
        b"ACGTGCGT"
    );
    let e = perturb::multisubstitute(b"ACGTACGT", &[b"GG".to_vec(), b"TT".to_vec()], &[7], None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("span 11 bases; the sequence has 8"), "{e}");
}
