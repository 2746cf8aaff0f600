//! Operators one at a time (scripts/make_op_models.py): Conv -> ACT -> ReduceMean, where ACT
//! is an activation the engine imports beyond the exporters' tests (Tanh, LeakyRelu, GELU
//! exact and tanh-approximated), or
//! arithmetic with constants on either side (Mul, Sub, Div, Add), including an Add that must
//! not become the bias of a convolution whose output is read twice. One test body runs on every
//! backend: predictions equal onnxruntime's (tests/golden/ops.json) within 1e-5 on tract and
//! the engine and 1e-4 on the GPU; input gradients of output y0 equal the script's numpy
//! hand calculation; fast ISM equals ISM.

mod common;

use common::{json_floats, json_records, max_diff, path};
use seqlens::attrib::{Explainer, Method};
use seqlens::model::{Backend, Model, PredictOptions};
use serde_json::Value;

#[test]
fn every_activation_equals_onnxruntime_and_its_gradient_on_every_backend() {
    let g: Value =
        serde_json::from_str(&std::fs::read_to_string(path("tests/golden/ops.json")).unwrap())
            .unwrap();
    let records = json_records(&g["sequences"]);
    let models = g["models"].as_object().unwrap();
    assert_eq!(models.len(), 7);
    for (name, case) in models {
        let bytes = std::fs::read(path(&format!("tests/models/ops/{name}.onnx"))).unwrap();
        let want = json_floats(&case["outputs"]);
        for (backend, model) in common::backends(&bytes, None) {
            let what = format!("{name} on {backend:?}");
            let tol = if backend == Backend::Gpu { 1e-4 } else { 1e-5 };
            let report = model.backend();
            match backend {
                Backend::Cpu => assert_eq!(report.engine.as_deref(), Some("seqlens"), "{what}"),
                Backend::Gpu => assert_eq!(report.backend, "gpu", "{what}"),
                _ => {}
            }
            let p = model.predict(&records, &PredictOptions::default()).unwrap();
            let d = max_diff(&p.values, &want);
            assert!(d <= tol, "{what}: predictions differ by {d}");

            let windows = model.windows(&records, &PredictOptions::default()).unwrap();
            let mut ex = Explainer::new(model);
            assert!(ex.engine_error().is_none(), "{what}");
            if backend == Backend::Gpu {
                // The GPU's backward pass has no GELU yet: the CPU engine takes over and says
                // so.
                let want = match name.as_str() {
                    "gelu" | "gelu_tanh" => {
                        "cpu (input gradients on the GPU do not cover GELU yet)"
                    }
                    _ => "gpu",
                };
                assert_eq!(ex.gradient_backend(), want, "{what}");
            }
            let target = ex.target(&["y0".to_string()], None).unwrap();
            for (w, grad) in windows.iter().zip(case["gradients_y0"].as_array().unwrap()) {
                let mut run = |m: Method| ex.explain(w, &target, &m, &mut |_, _| true).unwrap();
                let got = run(Method::Gradient);
                let d = max_diff(&got.map, &json_floats(grad));
                assert!(d <= tol, "{what}: gradients differ by {d}");
                let (ism, fast) = (run(Method::Ism), run(Method::FastIsm));
                let d = max_diff(&ism.map, &fast.map);
                assert!(d <= tol, "{what}: fast ISM differs from ISM by {d}");
            }
        }
    }
}

/// Sabotage: an attribute the engine does not implement makes the import fail, naming the
/// node, the op and the attribute (here a LeakyRelu slope below zero, whose sign flip the
/// engine's GPU backward pass does not handle).
#[test]
fn a_negative_leaky_slope_is_refused_by_name() {
    let bytes = std::fs::read(path("tests/models/ops/leaky_relu.onnx")).unwrap();
    // The slope 0.2 is stored as its f32 bytes in the attribute; flip its sign bit.
    let slope = 0.2f32.to_le_bytes();
    let at = bytes
        .windows(4)
        .position(|w| w == slope)
        .expect("the slope's bytes");
    let mut sabotaged = bytes.clone();
    sabotaged[at + 3] |= 0x80;
    let e = seqlens::onnx::import(&sabotaged, None, seqlens::encode::Layout::Ncl)
        .unwrap_err()
        .to_string();
    assert!(e.contains("LeakyRelu") && e.contains("alpha -0.2"), "{e}");
    // Auto falls back to tract, which implements the slope, and says why.
    let model = common::model_on(&sabotaged, Backend::Cpu);
    let report = model.backend();
    assert_eq!(report.engine.as_deref(), Some("tract"), "{report:?}");
    assert!(
        report
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("alpha -0.2"),
        "{report:?}"
    );
}

/// The engine's own graphs with these layers export to ONNX that tract runs with the same
/// numbers, and re-import to the same graph (constants as Mul and Add shaped [C, 1] beside a
/// length and [C] without one).
#[test]
fn the_new_layers_export_and_reimport_with_the_same_numbers() {
    use seqlens::nn::{Conv1d, Layer, Padding, Pool1d, Reduce, rng};
    let mut r = rng(3);
    round_trip(vec![
        Layer::Conv1d(Conv1d::new(4, 5, 3, 1, 1, Padding::Same, true, &mut r)),
        Layer::Tanh,
        Layer::Affine {
            scale: vec![0.5, -2.0, 1.5, 1.0, 3.0],
            shift: vec![0.1, 0.0, -0.3, 0.2, -1.0],
        },
        Layer::LeakyRelu { alpha: 0.1 },
        Layer::Gelu { tanh: false },
        Layer::Gelu { tanh: true },
        Layer::MaxPool1d(Pool1d {
            dilation: 2,
            pad_left: 1,
            pad_right: 2,
            ceil: true,
            ..Pool1d::new(3, 2)
        }),
        Layer::AvgPool1d(Pool1d {
            pad_left: 1,
            pad_right: 1,
            ceil: true,
            count_pad: true,
            ..Pool1d::new(3, 2)
        }),
        Layer::GlobalAvgPool,
        Layer::Affine {
            scale: vec![1.0, 2.0, -1.0, 0.25, 4.0],
            shift: vec![0.0, 1.0, 2.0, 3.0, 4.0],
        },
    ]);
    // Reductions over the channels (ONNX ReduceMax/Mean/Sum over axis 1, keepdims) and the
    // sum over the length, and a grouped convolution between them.
    let mut grouped = Conv1d::new(4, 6, 3, 1, 1, Padding::Same, true, &mut r);
    grouped.groups = 2;
    grouped.weight = seqlens::nn::Param::new(&[6, 2, 3], grouped.weight.value[..36].to_vec());
    round_trip(vec![
        Layer::Conv1d(grouped),
        Layer::ReduceChannels { op: Reduce::Max },
        Layer::Conv1d(Conv1d::new(1, 4, 3, 1, 1, Padding::Same, true, &mut r)),
        Layer::ReduceChannels { op: Reduce::Mean },
        Layer::Conv1d(Conv1d::new(1, 3, 3, 1, 1, Padding::Same, true, &mut r)),
        Layer::ReduceChannels { op: Reduce::Sum },
        Layer::Conv1d(Conv1d::new(1, 2, 3, 1, 1, Padding::Same, true, &mut r)),
        Layer::GlobalSumPool,
    ]);
}

/// Engine vs tract on the export of `layers` (on [4, 40] one-hot inputs), and vs the
/// re-import, within 1e-5.
fn round_trip(layers: Vec<seqlens::nn::Layer>) {
    use seqlens::nn::{Graph, Tensor};
    let mut g = Graph::new(&[4, 40]);
    for (i, l) in layers.into_iter().enumerate() {
        g.push(format!("l{i}"), l).unwrap();
    }
    let records = common::random_records(4, 40, 5);
    let x = Tensor::new(
        &[4, 4, 40],
        records
            .iter()
            .flat_map(|r| {
                let mut m = vec![0.0; 160];
                for (i, b) in r.seq.iter().enumerate() {
                    m[b"ACGT".iter().position(|c| c == b).unwrap() * 40 + i] = 1.0;
                }
                m
            })
            .collect(),
    )
    .unwrap();
    let engine = g.predict(&x).unwrap();
    let k = engine.shape[1..].iter().product();
    let bytes = common::export_bytes(&g, 40, k);
    let tract = Model::from_bytes(&bytes)
        .unwrap()
        .predict(&records, &PredictOptions::default())
        .unwrap();
    let d = max_diff(&engine.data, &tract.values);
    assert!(d <= 1e-5, "engine vs tract: {d}");
    let back = seqlens::onnx::import(&bytes, None, seqlens::encode::Layout::Ncl).unwrap();
    let d = max_diff(&engine.data, &back.predict(&x).unwrap().data);
    assert!(d <= 1e-5, "engine vs re-import: {d}");
}
