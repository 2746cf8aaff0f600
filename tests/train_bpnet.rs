//! A two-output model trains as bpnet-lite trains it, and exports with both outputs.
//!
//! scripts/bpnet_steps_golden.py builds bpnet-lite 1.1.0's `BPNet` (16 filters, 3 dilated
//! residual layers, a stranded profile of 178 positions and a total count) from
//! torch.manual_seed(0), exports it to ONNX (tests/models/bpnet_lite_init.onnx), and trains it
//! for ten steps as `BPNet.fit` does on examples/data/profile (tests/golden/bpnet_steps.json):
//! the profile's multinomial NLL plus the MSE of the log count, the gradient norm clipped to 1,
//! Adam. `seqlens train --init` with tests/data/bpnet_steps.toml (one loss per output) must
//! take the same steps, each output's loss within 1e-6 of its size, from the counts as a TSV
//! and as bigWig and bedGraph tracks over BED peaks; its exported model must
//! have both outputs, and `predict` must write the counts bpnet-lite's trained model predicts
//! per strand and position, as a long TSV and as one bedGraph per strand.

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

/// Runs `seqlens train --init` of bpnet-lite's initial model with its steps' settings on
/// `data` (plus `extra` options) and returns each step's total, profile and count losses.
fn train_steps(dir: &std::path::Path, data: &[&str], extra: &[&str]) -> Vec<Vec<f64>> {
    let log = dir.join("steps.tsv");
    let mut args = vec![
        "train",
        "--init",
        "tests/models/bpnet_lite_init.onnx",
        "--config",
        "tests/data/bpnet_steps.toml",
        "--valid-frac",
        "0",
        "--test-frac",
        "0",
        "--step-log",
        log.to_str().unwrap(),
    ];
    args.extend(data);
    args.extend(extra);
    common::seqlens_ok(&args);
    let text = std::fs::read_to_string(&log).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), "epoch\tstep\tloss\tprofile\tcounts");
    lines
        .map(|l| l.split('\t').skip(2).map(|v| v.parse().unwrap()).collect())
        .collect()
}

/// Each step's losses equal bpnet-lite's within 1e-6 of their size.
fn assert_bpnet_lites_steps(got: &[Vec<f64>], what: &str) {
    let golden = golden();
    let want = golden["steps"].as_array().unwrap();
    assert_eq!(got.len(), want.len(), "{what}: steps");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        for (j, key) in ["loss", "profile", "counts"].iter().enumerate() {
            let w = w[key].as_f64().unwrap();
            assert!(
                (g[j] - w).abs() <= 1e-6 * w.abs().max(1.0),
                "{what}: step {} {key}: seqlens {}, bpnet-lite {w}",
                i + 1,
                g[j]
            );
        }
    }
}

/// The same counts read as genome tracks over BED peaks (bigWig, and bedGraph with the
/// positions without reads left out) train the same steps as from the TSV.
#[test]
fn signal_tracks_over_bed_peaks_give_bpnet_lites_steps() {
    let dir = tempfile::tempdir().unwrap();
    for ext in ["bw", "bedGraph"] {
        let signal = format!("examples/data/profile/plus.{ext},examples/data/profile/minus.{ext}");
        let got = train_steps(
            dir.path(),
            &[
                "--bed",
                "examples/data/profile/peaks.bed",
                "--genome",
                "examples/data/profile/profiles.fa",
                "--signal",
                &signal,
            ],
            &[],
        );
        assert_bpnet_lites_steps(&got, ext);
    }
    // One track for a two-track profile is refused, by name.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_seqlens"))
        .args([
            "train",
            "--init",
            "tests/models/bpnet_lite_init.onnx",
            "--config",
            "tests/data/bpnet_steps.toml",
            "--bed",
            "examples/data/profile/peaks.bed",
            "--genome",
            "examples/data/profile/profiles.fa",
            "--signal",
            "examples/data/profile/plus.bw",
        ])
        .current_dir(common::root())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains("--signal gives 1 tracks, but the model's profile has 2"),
        "{err}"
    );
}

#[test]
fn two_output_training_steps_equal_bpnet_lites_and_export_both_outputs() {
    let golden = golden();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bpnet.onnx");
    let got = train_steps(
        dir.path(),
        &[
            "--fasta",
            "examples/data/profile/profiles.fa",
            "--labels",
            "examples/data/profile/profiles.tsv",
        ],
        &["--out", out.to_str().unwrap()],
    );
    assert_bpnet_lites_steps(&got, "TSV");

    // The export keeps bpnet-lite's two outputs and is a profile model: its tracks are the
    // counts bpnet-lite's trained model predicts (softmax over both strands' logits times
    // exp of the log count), per strand and position, on the windows bpnet-lite saw.
    let info =
        String::from_utf8(common::seqlens_ok(&["info", "--model", out.to_str().unwrap()]).stdout)
            .unwrap();
    for line in [
        "output      profile float [batch, 2, 178]",
        "output      counts float [batch, 1]",
        "labels      plus, minus",
    ] {
        assert!(info.contains(line), "{line}:\n{info}");
    }
    let bed = dir.path().join("windows.bed");
    // Output positions 61..239 of a 300-base record: its whole input window.
    std::fs::write(
        &bed,
        (0..4)
            .map(|i| format!("seq{i}\t61\t239\n"))
            .collect::<String>(),
    )
    .unwrap();
    let expected = golden["trained"]["expected_counts"].as_array().unwrap();
    let scale = expected.iter().flat_map(floats).fold(0.0, f64::max);
    for (file, format) in [("pred.tsv", "tsv"), ("pred.bedgraph", "bedgraph")] {
        let pred = dir.path().join(file);
        common::seqlens_ok(&[
            "predict",
            "--model",
            out.to_str().unwrap(),
            "--bed",
            bed.to_str().unwrap(),
            "--genome",
            "examples/data/profile/profiles.fa",
            "--out",
            pred.to_str().unwrap(),
        ]);
        // (sequence, position, strand) -> value
        let mut got = std::collections::BTreeMap::new();
        if format == "tsv" {
            let text = std::fs::read_to_string(&pred).unwrap();
            let mut lines = text.lines();
            assert_eq!(lines.next().unwrap(), "id\tchrom\tpos\tplus\tminus");
            for l in lines {
                let f: Vec<&str> = l.split('\t').collect();
                let seq: usize = f[1].strip_prefix("seq").unwrap().parse().unwrap();
                let pos: usize = f[2].parse().unwrap();
                for strand in 0..2 {
                    got.insert((seq, pos, strand), f[3 + strand].parse::<f64>().unwrap());
                }
            }
        } else {
            for (strand, name) in ["plus", "minus"].iter().enumerate() {
                let text =
                    std::fs::read_to_string(dir.path().join(format!("pred.{name}.bedgraph")))
                        .unwrap();
                for l in text.lines().skip(1) {
                    let f: Vec<&str> = l.split('\t').collect();
                    let seq: usize = f[0].strip_prefix("seq").unwrap().parse().unwrap();
                    let (start, end): (usize, usize) =
                        (f[1].parse().unwrap(), f[2].parse().unwrap());
                    for pos in start..end {
                        got.insert((seq, pos, strand), f[3].parse::<f64>().unwrap());
                    }
                }
            }
        }
        assert_eq!(got.len(), 4 * 178 * 2, "{format}");
        for (i, row) in expected.iter().enumerate() {
            let want = floats(row);
            for (j, w) in want.iter().enumerate() {
                let (strand, p) = (j / 178, j % 178);
                let g = got[&(i, 61 + p, strand)];
                assert!(
                    (g - w).abs() <= 1e-4 * scale,
                    "{format}: seq{i} position {} strand {strand}: seqlens {g}, bpnet-lite {w}",
                    61 + p
                );
            }
        }
    }
}

/// On the GPU (`--backend gpu`: residual adds, cropping and the two outputs' join in the
/// backward pass, both outputs' losses on the host), the steps are bpnet-lite's too. CI runs
/// this on lavapipe with SEQLENS_REQUIRE_GPU=1; elsewhere a machine without an adapter skips.
#[cfg(feature = "gpu")]
#[test]
fn two_output_training_steps_on_the_gpu_equal_bpnet_lites() {
    if let Err(e) = seqlens::blocking::block_on(seqlens::gpu::Gpu::new()) {
        assert!(
            std::env::var_os("SEQLENS_REQUIRE_GPU").is_none(),
            "SEQLENS_REQUIRE_GPU is set but {e}"
        );
        eprintln!("skipping GPU training: {e}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let got = train_steps(
        dir.path(),
        &[
            "--fasta",
            "examples/data/profile/profiles.fa",
            "--labels",
            "examples/data/profile/profiles.tsv",
        ],
        &["--backend", "gpu"],
    );
    assert_bpnet_lites_steps(&got, "GPU");
}
