//! Models as today's PyTorch exports them (scripts/make_exporter_models.py): DeepBind with
//! torch.amax, a small Basset, DeepSEA, DanQ and a GRU variant, a BPNet-like model with a
//! profile and a counts head, and a channels-last Keras-style model, through the legacy exporter and the default dynamo exporter
//! (its own names for symbolic dimensions, repeated in every intermediate shape), and with
//! the dynamo exporter's default external data. Every one must load, and its predictions on
//! tract and on the seqlens engine must equal onnxruntime's (tests/golden/exporters.json,
//! computed by the script on sequences it one-hot encodes with numpy).

mod common;

use common::{max_diff, path};
use seqlens::attrib::{Explainer, Method};
use seqlens::model::{Backend, Model, PredictOptions};
use serde_json::Value;

fn golden() -> Value {
    serde_json::from_str(&std::fs::read_to_string(path("tests/golden/exporters.json")).unwrap())
        .unwrap()
}

/// One body per backend: predictions equal onnxruntime's (1e-5 on tract and the engine,
/// 1e-4 on the GPU), input gradients of y[0] equal torch autograd's (within 0.1% of their
/// largest value), fast ISM equals ISM.
/// The recurrent models have no GPU kernel: the GPU refuses them naming the node, and the
/// engine computes their gradients on the CPU.
#[test]
fn every_export_equals_onnxruntime_and_torch_on_every_backend() {
    let g = golden();
    let records = common::json_records(&g["sequences"]);
    let models = g["models"].as_object().unwrap();
    assert_eq!(models.len(), 19);
    for (name, case) in models {
        let file = path(&format!("tests/models/exporters/{name}.onnx"));
        let bytes = seqlens::onnx::read_model_file(&file).unwrap();
        let want = common::json_floats(&case["outputs"]);
        let refusal = match name.split('_').next().unwrap() {
            "danq" => Some("(LSTM) has no GPU kernel yet"),
            "dangru" => Some("(GRU) has no GPU kernel yet"),
            "separable" => Some("(grouped convolution, 16 groups) has no GPU kernel yet"),
            _ => None,
        };
        for (backend, model) in common::backends(&bytes, refusal) {
            let what = format!("{name} on {backend:?}");
            let tol = if backend == Backend::Gpu { 1e-4 } else { 1e-5 };
            if backend == Backend::Cpu {
                assert_eq!(
                    model.backend().engine.as_deref(),
                    Some("seqlens"),
                    "{what}: the engine must import it ({:?})",
                    model.backend().reason
                );
            }
            let p = model.predict(&records, &PredictOptions::default()).unwrap();
            let d = max_diff(&p.values, &want);
            assert!(d <= tol, "{what}: predictions differ by {d}");

            let windows = model.windows(&records, &PredictOptions::default()).unwrap();
            let mut ex = Explainer::new(model);
            assert!(ex.engine_error().is_none(), "{what}");
            let target = ex
                .target(&[case["target"].as_str().unwrap().to_string()], None)
                .unwrap();
            let grads = case["gradients_y0"].as_array().unwrap();
            let (mut dg, mut di) = (0f32, 0f32);
            for (w, grad) in windows.iter().zip(grads).take(2) {
                let mut run = |m: Method| ex.explain(w, &target, &m, &mut |_, _| true).unwrap();
                let got = run(Method::Gradient);
                // Gradients of a sigmoid output are ~1e-3 here: the bound is relative to them.
                let want = common::json_floats(grad);
                let scale = want.iter().fold(0f32, |m, v| m.max(v.abs()));
                dg = dg.max(max_diff(&got.map, &want) / scale);
                assert!(
                    dg <= 1e-3,
                    "{what}: gradients differ from torch's by {dg} (relative)"
                );
                let (ism, fast) = (run(Method::Ism), run(Method::FastIsm));
                di = di.max(max_diff(&ism.map, &fast.map));
                assert!(di <= tol, "{what}: fast ISM differs from ISM by {di}");
            }
            // The closing notes' table reads these lines (cargo test -- --nocapture).
            eprintln!(
                "{name}\t{backend:?}\tprediction {d:.1e}\tgradient (relative) {dg:.1e}\tfast-ism {di:.1e}\t(gradients on {})",
                ex.gradient_backend()
            );
        }
    }
}

/// The engine concatenates a two-head model's outputs into one, so it alone cannot tell a
/// profile from per-sequence values: reverse-complement averaging, which would average
/// positions of the profile with unrelated ones, is refused on every backend as on tract.
#[test]
fn reverse_complement_averaging_of_a_profile_head_is_refused_on_every_backend() {
    let bytes = std::fs::read(path("tests/models/exporters/bpnet_legacy.onnx")).unwrap();
    let records = common::json_records(&golden()["sequences"]);
    let options = PredictOptions {
        rc_average: true,
        ..Default::default()
    };
    for (backend, model) in common::backends(&bytes, None) {
        let e = model.predict(&records, &options).unwrap_err().to_string();
        assert!(e.contains("output 0 has rank 3"), "{backend:?}: {e}");
    }
}

/// A model with external data, loaded from its bytes alone, is refused with a message that
/// names the missing file and how to load it, not called corrupt.
#[test]
fn external_data_is_named_when_it_is_missing() {
    let file = path("tests/models/exporters/deepbind_dynamo_external.onnx");
    let bytes = std::fs::read(&file).unwrap();
    let e = Model::from_bytes(&bytes).unwrap_err().to_string();
    assert!(
        e.contains("deepbind_dynamo_external.onnx.data") && e.contains("externalData"),
        "{e}"
    );
    assert!(!e.contains("corrupt"), "{e}");
    assert_eq!(
        seqlens::onnx::external_files(&bytes).unwrap(),
        ["deepbind_dynamo_external.onnx.data"]
    );
    // the CLI reads the file beside the model, or says it could not
    let dir = tempfile::tempdir().unwrap();
    let lone = dir.path().join("m.onnx");
    std::fs::copy(&file, &lone).unwrap();
    let e = seqlens::onnx::read_model_file(&lone)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("external file 'deepbind_dynamo_external.onnx.data'")
            && e.contains("No such file"),
        "{e}"
    );
}

/// Sabotage: each LSTM attribute or input the engine does not implement, set on DanQ's LSTM
/// node, makes the engine's import fail naming the node, the op and what it refuses (tract
/// still runs such a model).
#[test]
fn recurrent_features_the_engine_lacks_are_refused_by_name() {
    use prost::Message;
    use tract_onnx::pb;
    let bytes = std::fs::read(path("tests/models/exporters/danq_legacy.onnx")).unwrap();
    assert!(seqlens::onnx::import(&bytes, None, seqlens::encode::Layout::Ncl).is_ok());
    let sabotage = |edit: &dyn Fn(&mut pb::NodeProto), refused: &str| {
        let mut m = pb::ModelProto::decode(&bytes[..]).unwrap();
        let graph = m.graph.as_mut().unwrap();
        let node = graph.node.iter_mut().find(|n| n.op_type == "LSTM").unwrap();
        edit(node);
        let e = seqlens::onnx::import(&m.encode_to_vec(), None, seqlens::encode::Layout::Ncl)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("(LSTM)") && e.contains(refused),
            "{refused}: {e}"
        );
    };
    let attr = |name: &str| pb::AttributeProto {
        name: name.into(),
        f: 1.0,
        i: 1,
        ..Default::default()
    };
    sabotage(&|n| n.attribute.push(attr("clip")), "attribute 'clip'");
    sabotage(
        &|n| n.attribute.push(attr("input_forget")),
        "input_forget 1",
    );
    sabotage(
        &|n| {
            n.attribute.push(pb::AttributeProto {
                name: "activations".into(),
                strings: ["Sigmoid", "Relu", "Tanh"]
                    .repeat(2)
                    .iter()
                    .map(|s| s.as_bytes().to_vec())
                    .collect(),
                ..Default::default()
            })
        },
        "activations",
    );
    // An initial state that is a computed tensor, not zeros: the input itself.
    sabotage(&|n| n.input[5] = n.input[0].clone(), "initial_h");
    sabotage(&|n| n.input[4] = n.input[1].clone(), "sequence_lens");
}
