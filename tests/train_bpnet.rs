//! A two-output model trains as bpnet-lite trains it, and exports with both outputs.
//!
//! scripts/bpnet_steps_golden.py builds bpnet-lite 1.1.0's `BPNet` (16 filters, 3 dilated
//! residual layers, a stranded profile of 178 positions and a total count) from
//! torch.manual_seed(0), exports it to ONNX (tests/models/bpnet_lite_init.onnx), and trains it
//! for ten steps as `BPNet.fit` does on examples/data/profile (tests/golden/bpnet_steps.json):
//! the profile's multinomial NLL plus the MSE of the log count, the gradient norm clipped to 1,
//! Adam. `seqlens train --init` with tests/data/bpnet_steps.toml (one loss per output) must
//! take the same steps, each output's loss within 1e-6 of its size; its exported model must
//! have both outputs and give bpnet-lite's trained outputs.

mod common;

fn golden() -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(common::path("tests/golden/bpnet_steps.json")).unwrap(),
    )
    .unwrap()
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

#[test]
fn two_output_training_steps_equal_bpnet_lites_and_export_both_outputs() {
    let golden = golden();
    let dir = tempfile::tempdir().unwrap();
    let (log, out) = (dir.path().join("steps.tsv"), dir.path().join("bpnet.onnx"));
    common::seqlens_ok(&[
        "train",
        "--init",
        "tests/models/bpnet_lite_init.onnx",
        "--config",
        "tests/data/bpnet_steps.toml",
        "--fasta",
        "examples/data/profile/profiles.fa",
        "--labels",
        "examples/data/profile/profiles.tsv",
        "--valid-frac",
        "0",
        "--test-frac",
        "0",
        "--step-log",
        log.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&log).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), "epoch\tstep\tloss\tprofile\tcounts");
    let got: Vec<Vec<f64>> = lines
        .map(|l| l.split('\t').skip(2).map(|v| v.parse().unwrap()).collect())
        .collect();
    let want = golden["steps"].as_array().unwrap();
    assert_eq!(got.len(), want.len(), "steps");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        for (j, key) in ["loss", "profile", "counts"].iter().enumerate() {
            let w = w[key].as_f64().unwrap();
            assert!(
                (g[j] - w).abs() <= 1e-6 * w.abs().max(1.0),
                "step {} {key}: seqlens {}, bpnet-lite {w}",
                i + 1,
                g[j]
            );
        }
    }

    // The export keeps bpnet-lite's two outputs, and gives its trained outputs (on tract).
    let info =
        String::from_utf8(common::seqlens_ok(&["info", "--model", out.to_str().unwrap()]).stdout)
            .unwrap();
    assert!(
        info.contains("output      profile float [batch, 2, 178]")
            && info.contains("output      counts float [batch, 1]"),
        "{info}"
    );
    let fa = dir.path().join("first.fa");
    let seqs = std::fs::read_to_string(common::path("examples/data/profile/profiles.fa")).unwrap();
    std::fs::write(
        &fa,
        seqs.lines().take(8).collect::<Vec<_>>().join("\n") + "\n",
    )
    .unwrap();
    let pred = dir.path().join("pred.tsv");
    common::seqlens_ok(&[
        "predict",
        "--model",
        out.to_str().unwrap(),
        "--fasta",
        fa.to_str().unwrap(),
        "--out",
        pred.to_str().unwrap(),
    ]);
    let t = common::parse_tsv(&std::fs::read_to_string(&pred).unwrap());
    let trained = &golden["trained"];
    let profile = trained["profile"].as_array().unwrap();
    let counts = floats(&trained["counts"]);
    for (i, row) in t.values.iter().enumerate() {
        let mut want = floats(&profile[i]);
        want.push(counts[i]);
        assert_eq!(row.len(), want.len());
        let worst = row
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            worst < 1e-4,
            "sequence {i}: exported model vs bpnet-lite: {worst}"
        );
    }
}
