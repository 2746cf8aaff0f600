//! `seqlens train` takes PyTorch's training steps: from the same initial weights (PyTorch's
//! default initialisation, exported to ONNX and given as `--init`), on the same batches in
//! file order, with Adam and BCEWithLogitsLoss at PyTorch's defaults, every step's loss equals
//! PyTorch 2.15's (tests/golden/torch_steps.json, from scripts/torch_steps_golden.py) within
//! 1e-5. The model has a batch norm in training mode between a convolution and max pools.

mod common;

#[test]
fn training_steps_equal_pytorchs() {
    let golden: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::path("tests/golden/torch_steps.json")).unwrap(),
    )
    .unwrap();
    let want: Vec<f64> = golden["losses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("steps.tsv");
    let log = log.to_str().unwrap();
    let (batch, epochs, lr) = (
        golden["batch_size"].to_string(),
        golden["epochs"].to_string(),
        golden["lr"].to_string(),
    );
    common::seqlens_ok(&[
        "train",
        "--init",
        "tests/models/torch_steps_init.onnx",
        "--fasta",
        "examples/data/train/train.fa",
        "--label-names",
        "CTCF,GATA1,SPI1,FOXA1,HNF4A,CEBPB,REST,TP53",
        "--valid-fasta",
        "examples/data/train/valid.fa",
        "--test-frac",
        "0",
        "--no-shuffle",
        "--batch-size",
        &batch,
        "--epochs",
        &epochs,
        "--lr",
        &lr,
        "--step-log",
        log,
    ]);
    let got: Vec<f64> = std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split('\t').nth(2).unwrap().parse().unwrap())
        .collect();
    assert_eq!(got.len(), want.len(), "steps");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-5,
            "step {}: seqlens {g}, PyTorch {w}\nall: {got:?}",
            i + 1
        );
    }
}
