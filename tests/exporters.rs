//! Models as today's PyTorch exports them (scripts/make_exporter_models.py): DeepBind with
//! torch.amax and a small Basset, through the legacy exporter and the default dynamo exporter
//! (its own names for symbolic dimensions, repeated in every intermediate shape), and with
//! the dynamo exporter's default external data. Every one must load, and its predictions on
//! tract and on the seqlens engine must equal onnxruntime's (tests/golden/exporters.json,
//! computed by the script on sequences it one-hot encodes with numpy).

mod common;

use common::path;
use seqlens::model::{Backend, Model, PredictOptions};
use serde_json::Value;

fn golden() -> Value {
    serde_json::from_str(&std::fs::read_to_string(path("tests/golden/exporters.json")).unwrap())
        .unwrap()
}

#[test]
fn every_export_loads_and_equals_onnxruntime_on_tract_and_the_engine() {
    let g = golden();
    let records = common::json_records(&g["sequences"]);
    let models = g["models"].as_object().unwrap();
    assert_eq!(models.len(), 5);
    for (name, case) in models {
        let file = path(&format!("tests/models/exporters/{name}.onnx"));
        let bytes = seqlens::onnx::read_model_file(&file).unwrap();
        let want = common::json_floats(&case["outputs"]);
        for backend in [Backend::Tract, Backend::Cpu] {
            let model = common::model_on(&bytes, backend);
            if backend == Backend::Cpu {
                assert_eq!(
                    model.backend().engine.as_deref(),
                    Some("seqlens"),
                    "{name}: the engine must import it ({:?})",
                    model.backend().reason
                );
            }
            let p = model.predict(&records, &PredictOptions::default()).unwrap();
            assert_eq!(p.values.len(), want.len(), "{name}");
            for (a, b) in p.values.iter().zip(&want) {
                assert!((a - b).abs() <= 1e-5, "{name} on {backend:?}: {a} vs {b}");
            }
        }
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
