//! DeepLIFT/DeepSHAP against tangermeme 1.6's `deep_lift_shap` (tests/golden/deeplift.json,
//! written by scripts/tangermeme_golden.py) on the same PyTorch models exported to ONNX: a
//! DeepBind-like CNN (max pool over the whole length), a Basset-like CNN (batch norm, three
//! max pools), a BPNet-like dilated residual model, the DeepBind-like one with a softmax over
//! its outputs, and a SpliceAI-like per-position softmax, each for two targets, with the same
//! dinucleotide-shuffled references tangermeme drew. The hypothetical contributions, the
//! observed bases' contributions, the target's value and the convergence deltas must agree,
//! on the CPU engine and on the GPU (one test body per backend; the GPU runs DeepLIFT where
//! its gradient kernels cover the graph, DeepBind, Basset and BPNet here, and says why not
//! for the softmax models).

mod common;

use std::collections::BTreeMap;

use common::{json_floats, json_records, max_diff, path};
use seqlens::attrib::{Baseline, Explainer, Method, Target};
use seqlens::model::{Backend, Model};

fn golden() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path("tests/golden/deeplift.json")).unwrap())
        .unwrap()
}

#[test]
fn deeplift_shap_equals_tangermeme_on_the_cpu() {
    equals_tangermeme(Backend::Cpu);
}

#[test]
fn deeplift_shap_equals_tangermeme_on_the_gpu() {
    equals_tangermeme(Backend::Gpu);
}

fn equals_tangermeme(backend: Backend) {
    let doc = golden();
    for (name, case) in doc["models"].as_object().unwrap() {
        let bytes = std::fs::read(path(&format!("tests/models/deeplift/{name}.onnx"))).unwrap();
        let Some(model) = common::model_if_here(&bytes, backend) else {
            return;
        };
        let mut explainer = Explainer::new(model);
        // The GPU's backward kernels cover residual sums, not softmax.
        let on = explainer.gradient_backend();
        let on_gpu =
            backend == Backend::Gpu && matches!(name.as_str(), "deepbind" | "basset" | "bpnet");
        assert_eq!(on == "gpu", on_gpu, "{name}: DeepLIFT on {on}");
        let records = json_records(&case["sequences"]);
        let references: BTreeMap<String, Vec<String>> = records
            .iter()
            .zip(case["references"].as_array().unwrap())
            .map(|(r, refs)| {
                let refs = refs.as_array().unwrap();
                let refs = refs.iter().map(|s| s.as_str().unwrap().to_string());
                (r.id.clone(), refs.collect())
            })
            .collect();
        let method = Method::DeepLiftShap {
            references: Baseline::Given { references },
        };
        for (t, want) in case["targets"].as_object().unwrap() {
            let target = Target::Output(t.parse().unwrap());
            let windows = explainer.windows(&records, &target).unwrap();
            let hyp = json_floats(&want["hypothetical"]);
            let obs = json_floats(&want["observed"]);
            let fx = json_floats(&want["f_x"]);
            let deltas = json_floats(&want["deltas"]);
            let per = hyp.len() / records.len();
            let scale = hyp.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            for (i, w) in windows.iter().enumerate() {
                let a = explainer
                    .explain(w, &target, &method, &mut |_, _| true)
                    .unwrap();
                let what = format!("{name}, target {t}, {}", w.id);
                // float32 in both, summed in different orders: 1e-5 of the largest value
                // (1e-4 on the GPU, whose GEMM tiles sum in another order again).
                let tol = if on_gpu { 1e-4 } else { 1e-5 } * scale.max(1.0);
                let d = max_diff(&a.map, &hyp[i * per..(i + 1) * per]);
                assert!(d <= tol, "{what}: hypothetical off by {d}");
                // tangermeme's observed contributions are zero off the observed base; seqlens
                // reports their sum per position.
                let l = a.length;
                let observed: Vec<f32> = (0..l)
                    .map(|p| (0..4).map(|c| obs[i * per + c * l + p]).sum())
                    .collect();
                let d = max_diff(&a.per_base, &observed);
                assert!(d <= tol, "{what}: contributions off by {d}");
                let tol = if on_gpu { 1e-4 } else { 1e-5 };
                assert!(
                    (a.target_value - fx[i]).abs() <= tol * fx[i].abs().max(1.0),
                    "{what}"
                );
                // DeepLIFT's rules conserve the output difference: both deltas are rounding.
                let theirs = deltas[i * 4..(i + 1) * 4]
                    .iter()
                    .fold(0.0f32, |m, &v| m.max(v));
                let ours = a.delta.unwrap();
                assert!(
                    ours < 1e-4 && theirs < 1e-4,
                    "{what}: deltas {ours} and {theirs}"
                );
            }
        }
    }
}

/// A model with a layer DeepLIFT has no rule for is refused with the layer named, never
/// explained with its gradient instead.
#[test]
fn a_model_with_a_layer_without_a_rule_is_refused() {
    // The exporters' DanQ has a bidirectional LSTM.
    let bytes = std::fs::read(path("tests/models/exporters/danq_legacy.onnx")).unwrap();
    let mut explainer = Explainer::new(Model::from_bytes(&bytes).unwrap());
    let records = common::random_records(1, 101, 3);
    let target = Target::Output(0);
    let windows = explainer.windows(&records, &target).unwrap();
    let method = Method::DeepLiftShap {
        references: Baseline::Shuffle { count: 2, seed: 1 },
    };
    let e = explainer
        .explain(&windows[0], &target, &method, &mut |_, _| true)
        .unwrap_err()
        .to_string();
    assert!(e.contains("DeepLIFT has no rule for layer"), "{e}");
    assert!(e.contains("recurrent layer"), "{e}");
}

/// References named for a sequence that is not there, or of the wrong length, are refused
/// by name.
#[test]
fn given_references_must_match_their_sequence() {
    let bytes = std::fs::read(path("tests/models/deeplift/deepbind.onnx")).unwrap();
    let mut explainer = Explainer::new(Model::from_bytes(&bytes).unwrap());
    let records = common::random_records(1, 100, 3);
    let target = Target::Output(0);
    let windows = explainer.windows(&records, &target).unwrap();
    let explain = |explainer: &mut Explainer, references: BTreeMap<String, Vec<String>>| {
        let method = Method::DeepLiftShap {
            references: Baseline::Given { references },
        };
        explainer
            .explain(&windows[0], &target, &method, &mut |_, _| true)
            .unwrap_err()
            .to_string()
    };
    let e = explain(
        &mut explainer,
        BTreeMap::from([("other".into(), vec!["A".repeat(100)])]),
    );
    assert!(e.contains("no reference sequence is given for 's0'"), "{e}");
    let e = explain(
        &mut explainer,
        BTreeMap::from([("s0".into(), vec!["A".repeat(99)])]),
    );
    assert!(
        e.contains("reference 1 of 's0' has 99 bases; the sequence has 100"),
        "{e}"
    );
}
