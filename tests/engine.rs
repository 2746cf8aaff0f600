//! The engine's graphs exported to ONNX and read back: tract (through `model::Model`),
//! onnxruntime (stored outputs from scripts/engine_golden.py) and the engine's own import all
//! agree with the engine within 1e-5.
//!
//! The exported files are committed as tests/models/engine_*.onnx so onnxruntime's outputs can
//! be stored beside them; `SEQLENS_BLESS=1 cargo test --test engine` rewrites them after an
//! intended change to the exporter (then rerun the script).

mod common;

use common::{golden_case, max_diff, path, random_records};
use seqlens::encode::{Alphabet, Encoder, Layout, NPolicy, UnknownPolicy};
use seqlens::io::SeqRecord;
use seqlens::model::{Metadata, Model, PredictOptions};
use seqlens::nn::{self, BatchNorm1d, Conv1d, Graph, Layer, Linear, Mode, Padding, Tensor};
use seqlens::onnx::{self, ExportMeta};

fn conv(ci: usize, co: usize, k: usize, dil: usize, pad: Padding, rng: &mut nn::Rng) -> Layer {
    Layer::Conv1d(Conv1d::new(ci, co, k, 1, dil, pad, true, rng))
}

/// Every layer kind the exporter writes, in a residual, branching graph on [4, 64].
fn graph_a() -> Graph {
    let mut r = nn::rng(11);
    let mut g = Graph::new(&[4, 64]);
    g.push("conv1", conv(4, 8, 7, 1, Padding::Same, &mut r))
        .unwrap();
    g.push("bn1", Layer::BatchNorm1d(BatchNorm1d::new(8)))
        .unwrap();
    g.push("relu1", Layer::Relu).unwrap();
    let pool = g
        .push("pool1", Layer::MaxPool1d(seqlens::nn::Pool1d::new(2, 2)))
        .unwrap();
    g.push("conv2", conv(8, 8, 3, 2, Padding::Same, &mut r))
        .unwrap();
    let relu2 = g.push("relu2", Layer::Relu).unwrap();
    let res = g.add("residual", Layer::Add, &[relu2, pool]).unwrap();
    let crop = g
        .add("crop", Layer::Crop { left: 2, right: 2 }, &[res])
        .unwrap();
    let branch = g
        .add("conv3", conv(8, 4, 1, 1, Padding::Valid, &mut r), &[crop])
        .unwrap();
    g.add("cat", Layer::Concat, &[crop, branch]).unwrap();
    g.push("avg", Layer::AvgPool1d(seqlens::nn::Pool1d::new(2, 2)))
        .unwrap();
    g.push("elu", Layer::Elu { alpha: 0.7 }).unwrap();
    g.push("flat", Layer::Flatten).unwrap();
    g.push("drop", Layer::Dropout { p: 0.2 }).unwrap();
    g.push("fc1", Layer::Linear(Linear::new(12 * 14, 6, true, &mut r)))
        .unwrap();
    g.push("softplus", Layer::Softplus).unwrap();
    g.push("fc2", Layer::Linear(Linear::new(6, 3, true, &mut r)))
        .unwrap();
    g.push("sigmoid", Layer::Sigmoid).unwrap();
    // Give batch norm non-trivial running statistics.
    let x = random_onehot(8, 64, 5);
    for _ in 0..3 {
        g.forward(x.clone(), Mode::Train(&mut nn::rng(1))).unwrap();
    }
    g
}

/// The remaining kinds: Exp, global average pooling, Softmax.
fn graph_b() -> Graph {
    let mut r = nn::rng(12);
    let mut g = Graph::new(&[4, 40]);
    g.push("conv", conv(4, 5, 3, 1, Padding::Valid, &mut r))
        .unwrap();
    g.push("exp", Layer::Exp).unwrap();
    g.push("gap", Layer::GlobalAvgPool).unwrap();
    g.push("fc", Layer::Linear(Linear::new(5, 4, true, &mut r)))
        .unwrap();
    g.push("softmax", Layer::Softmax).unwrap();
    g
}

fn onehot(recs: &[SeqRecord]) -> Tensor {
    let enc = Encoder::new(Alphabet::Dna, NPolicy::Zero, UnknownPolicy::Error);
    let ids: Vec<&str> = recs.iter().map(|r| r.id.as_str()).collect();
    let seqs: Vec<&[u8]> = recs.iter().map(|r| r.seq.as_slice()).collect();
    let data = enc.encode_batch(&ids, &seqs, Layout::Ncl).unwrap();
    Tensor::new(&[recs.len(), 4, recs[0].seq.len()], data).unwrap()
}

fn random_onehot(n: usize, len: usize, seed: u64) -> Tensor {
    onehot(&random_records(n, len, seed))
}

fn meta(g: &Graph, labels: &[&str]) -> ExportMeta {
    ExportMeta {
        metadata: Metadata {
            alphabet: Alphabet::Dna,
            layout: Layout::Ncl,
            length: Some(g.input_shape[1]),
            n_policy: NPolicy::Zero,
            labels: labels.iter().map(|s| s.to_string()).collect(),
            task: Some("test".into()),
            output: Default::default(),
        },
        extra: vec![],
        precision: Default::default(),
    }
}

/// Exports `g`, checks the bytes against the committed file, and returns them.
fn exported(g: &Graph, labels: &[&str], file: &str) -> Vec<u8> {
    let bytes = onnx::export(g, &meta(g, labels)).unwrap();
    let committed = path(&format!("tests/models/{file}"));
    if std::env::var_os("SEQLENS_BLESS").is_some() {
        std::fs::write(&committed, &bytes).unwrap();
    }
    let stored = std::fs::read(&committed).unwrap();
    assert!(
        stored == bytes,
        "{file} differs from the exporter's output; rerun with SEQLENS_BLESS=1 and scripts/engine_golden.py"
    );
    bytes
}

fn check_parity(g: &Graph, labels: &[&str], file: &str) {
    let bytes = exported(g, labels, file);
    let recs = random_records(5, g.input_shape[1], 77);
    let engine = g.predict(&onehot(&recs)).unwrap();

    let model = Model::from_bytes(&bytes).unwrap();
    assert_eq!(model.metadata().labels, labels);
    let tract = model.predict(&recs, &PredictOptions::default()).unwrap();
    let d = max_diff(&engine.data, &tract.values);
    assert!(d < 1e-5, "{file}: engine vs tract differ by {d}");

    let back = onnx::import(&bytes, None, seqlens::encode::Layout::Ncl).unwrap();
    let reimported = back.predict(&onehot(&recs)).unwrap();
    let d = max_diff(&engine.data, &reimported.data);
    assert!(
        d < 1e-5,
        "{file}: engine vs re-imported engine differ by {d}"
    );
    assert_eq!(back.param_count(), g.param_count());
}

#[test]
fn export_runs_identically_in_tract_and_reimport() {
    check_parity(&graph_a(), &["a", "b", "c"], "engine_a.onnx");
    check_parity(&graph_b(), &["w", "x", "y", "z"], "engine_b.onnx");
}

#[test]
fn export_matches_onnxruntime() {
    for (file, g) in [("engine_a.onnx", graph_a()), ("engine_b.onnx", graph_b())] {
        let (recs, want) = golden_case("engine_models.json", Some(file));
        let got = g.predict(&onehot(&recs)).unwrap();
        let d = max_diff(&got.data, &want);
        assert!(d < 1e-5, "{file}: engine vs onnxruntime differ by {d}");
    }
}

#[test]
fn import_rejects_ops_outside_the_engine_set() {
    let bytes = std::fs::read(path("tests/models/unsupported_op.onnx")).unwrap();
    let err = onnx::import(&bytes, None, seqlens::encode::Layout::Ncl)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("ONNX operator 'Det' (node 'determinant') is not in the engine's op set"),
        "{err}"
    );
    let err = onnx::import(b"garbage", None, seqlens::encode::Layout::Ncl)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("not a valid ONNX model"), "{err}");
}

#[test]
fn imports_onnxruntime_tested_models_from_python() {
    // fixed_batch1.onnx (Conv, Relu, GlobalAveragePool, Flatten) was written with the onnx
    // package; its onnxruntime outputs are in tests/golden/test_models.json.
    let bytes = std::fs::read(path("tests/models/fixed_batch1.onnx")).unwrap();
    let g = onnx::import(&bytes, None, seqlens::encode::Layout::Ncl).unwrap();
    let (recs, want) = golden_case("test_models.json", Some("fixed_batch1"));
    let got = g.predict(&onehot(&recs)).unwrap();
    assert!(max_diff(&got.data, &want) < 1e-5);
}

#[test]
fn imports_a_pytorch_exported_cnn_and_matches_onnxruntime() {
    // scripts/make_pytorch_model.py: Conv1d(padding) + BatchNorm1d + MaxPool1d + dilated
    // Conv1d + ELU + flatten + Linear layers, exported by torch.onnx.export (opset 13), which
    // folds the eval-mode batch norm into the first convolution.
    let bytes = std::fs::read(path("tests/models/pytorch_cnn.onnx")).unwrap();
    let g = onnx::import(&bytes, None, seqlens::encode::Layout::Ncl).unwrap();
    let (recs, want) = golden_case("pytorch_cnn.json", None);
    let got = g.predict(&onehot(&recs)).unwrap();
    let d = max_diff(&got.data, &want);
    assert!(d < 1e-5, "engine vs onnxruntime differ by {d}");
    // And it trains: input gradients flow through the imported graph.
    let mut g = g;
    let tape = g.forward(onehot(&recs), Mode::Eval).unwrap();
    let dx = g
        .backward(
            &tape,
            Tensor::new(&got.shape, vec![1.0; got.len()]).unwrap(),
        )
        .unwrap();
    assert!(dx.data.iter().any(|v| *v != 0.0));
}
