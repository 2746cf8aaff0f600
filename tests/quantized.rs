//! Models exported with float16 and int8 weights (`seqlens train --precision`) load and run
//! in tract and in the engine with onnxruntime 1.32's numbers for the same files
//! (tests/golden/quantized.json, from scripts/quantized_golden.py), and are smaller; training
//! with --precision reports the test metrics' change.

mod common;

use common::seqlens_ok as seqlens;

#[test]
fn fp16_and_int8_exports_match_onnxruntime_on_tract_and_the_engine() {
    let golden: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::path("tests/golden/quantized.json")).unwrap(),
    )
    .unwrap();
    let mut sizes = Vec::new();
    for precision in ["fp32", "fp16", "int8"] {
        let model = format!("tests/models/deepbind_{precision}.onnx");
        let want = &golden["models"][precision]["outputs"];
        sizes.push(std::fs::metadata(common::path(&model)).unwrap().len());
        for backend in ["tract", "cpu"] {
            let out = seqlens(&[
                "predict",
                "-m",
                &model,
                "--fasta",
                "examples/data/train/test.fa",
                "--backend",
                backend,
            ]);
            let got = common::parse_tsv(&String::from_utf8(out.stdout).unwrap());
            assert_eq!(got.values.len(), 100);
            for (i, row) in got.values.iter().enumerate() {
                for (j, v) in row.iter().enumerate() {
                    let w = want[i][j].as_f64().unwrap();
                    assert!(
                        (v - w).abs() <= 1e-5,
                        "{precision} on {backend}: sequence {i}, label {j}: {v} vs onnxruntime {w}"
                    );
                }
            }
        }
    }
    // Weights at 4, 2 and 1 bytes (the graph and metadata are the same size in each).
    assert!(sizes[0] > sizes[1] && sizes[1] > sizes[2], "{sizes:?}");
}

#[test]
fn training_reports_what_lower_precision_changes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.onnx");
    let run = seqlens(&[
        "train",
        "--preset",
        "deepbind",
        "--width",
        "0.25",
        "--fasta",
        "examples/data/train/valid.fa",
        "--label-names",
        "CTCF,GATA1,SPI1,FOXA1,HNF4A,CEBPB,REST,TP53",
        "--epochs",
        "1",
        "--test-frac",
        "0.3",
        "--precision",
        "int8",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("int8 export: test mean AUROC") && err.contains("(float32 "),
        "{err}"
    );
    let info = String::from_utf8(seqlens(&["info", "-m", out.to_str().unwrap()]).stdout).unwrap();
    assert!(info.contains("DequantizeLinear"), "{info}");
}
