//! GPU kernels against the CPU engine (the reference): the same layer, the same input, within
//! 1e-4 relative. Runs with `--features gpu`; CI runs it on Mesa's lavapipe (software Vulkan)
//! with SEQLENS_REQUIRE_GPU=1, so a missing adapter fails there instead of skipping.
#![cfg(feature = "gpu")]

mod common;

use seqlens::blocking::block_on;
use seqlens::gpu::{self, Activation, Gpu, GpuConv1d};
use seqlens::model::{Backend, Model, PredictOptions};
use seqlens::nn::{Conv1d, Padding, Tensor};

fn device() -> Option<Gpu> {
    match block_on(Gpu::new()) {
        Ok(g) => Some(g),
        Err(e) if std::env::var_os("SEQLENS_REQUIRE_GPU").is_none() => {
            eprintln!("skipping GPU tests: {e} (set SEQLENS_REQUIRE_GPU=1 to make this fail)");
            None
        }
        Err(e) => panic!("SEQLENS_REQUIRE_GPU is set but {e}"),
    }
}

fn random(shape: &[usize], seed: u64) -> Tensor {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let n = shape.iter().product();
    Tensor::new(
        shape,
        (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect(),
    )
    .unwrap()
}

#[test]
fn conv1d_matches_the_cpu_engine() {
    let Some(g) = device() else { return };
    let caps = g.capabilities();
    eprintln!(
        "GPU: {} ({}, {})",
        caps.adapter, caps.backend, caps.device_type
    );
    assert!(caps.max_compute_invocations_per_workgroup >= 256);
    // Shapes that cross tile edges (not multiples of 64/16), strides, dilations, padding
    // modes, no bias, one-hot DNA input and a DeepSEA-like hidden layer.
    let cases = [
        // (batch, in, out, len, kernel, stride, dilation, padding, bias, act)
        // a kernel more than twice the input (k 21 on a 9-bp splice site)
        (2, 4, 3, 9, 21, 1, 1, Padding::Same, true, Activation::None),
        (
            3,
            4,
            70,
            101,
            19,
            1,
            1,
            Padding::Same,
            true,
            Activation::Relu,
        ),
        (
            2,
            37,
            5,
            50,
            5,
            2,
            1,
            Padding::Valid,
            false,
            Activation::None,
        ),
        (
            1,
            16,
            64,
            64,
            3,
            1,
            4,
            Padding::Same,
            true,
            Activation::None,
        ),
        (
            5,
            8,
            130,
            33,
            7,
            3,
            2,
            Padding::Explicit(2, 5),
            true,
            Activation::Relu,
        ),
        (
            2,
            320,
            96,
            120,
            8,
            1,
            1,
            Padding::Valid,
            true,
            Activation::Relu,
        ),
        // A dense layer (as a width-1 convolution) whose 35.6 M weights (142 MB) exceed
        // one 128 MiB binding: split into output-channel groups (DeepSEA's 50,880 -> 925).
        (
            2,
            50880,
            700,
            1,
            1,
            1,
            1,
            Padding::Valid,
            true,
            Activation::None,
        ),
    ];
    let mut rng = seqlens::nn::rng(9);
    for (i, &(n, ci, co, l, k, s, dil, pad, bias, act)) in cases.iter().enumerate() {
        let conv = Conv1d::new(ci, co, k, s, dil, pad, bias, &mut rng);
        let x = random(&[n, ci, l], i as u64);
        let mut want = conv.forward(&x).unwrap();
        if act == Activation::Relu {
            want.data.iter_mut().for_each(|v| *v = v.max(0.0));
        }
        let layer = block_on(GpuConv1d::new(&g, &conv, act)).unwrap();
        let got = block_on(layer.forward(&g, &x)).unwrap();
        assert_eq!(got.shape, want.shape, "case {i}");
        let scale = want.data.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
        for (j, (a, b)) in got.data.iter().zip(&want.data).enumerate() {
            assert!(
                (a - b).abs() <= 1e-4 * scale,
                "case {i} value {j}: gpu {a} vs cpu {b}"
            );
        }
    }
    // Errors are values, not panics.
    let conv = Conv1d::new(4, 8, 9, 1, 1, Padding::Valid, true, &mut rng);
    let layer = block_on(GpuConv1d::new(&g, &conv, Activation::None)).unwrap();
    let err = block_on(layer.forward(&g, &random(&[1, 4, 5], 1))).unwrap_err();
    assert!(err.to_string().contains("does not fit length 5"), "{err}");
    let err = block_on(layer.forward(&g, &random(&[1, 3, 50], 1))).unwrap_err();
    assert!(
        err.to_string().contains("expects 4 input channels"),
        "{err}"
    );
}

#[test]
fn every_preset_matches_the_cpu_engine_and_tract() {
    use seqlens::encode::{Alphabet, Encoder, Layout, NPolicy, UnknownPolicy};
    let Some(g) = device() else { return };
    let enc = Encoder::new(Alphabet::Dna, NPolicy::Zero, UnknownPolicy::Error);
    for (name, len) in [
        ("deepbind", 101),
        ("basset", 600),
        ("deepsea", 400),
        ("bpnet", 150),
    ] {
        let arch = seqlens::train::preset(name, 0.15, Some(3)).unwrap();
        let mut graph = arch.build(4, len, 5, 3).unwrap();
        perturb_batch_norm(&mut graph, 4);
        let records = common::random_records(6, len, 21);
        let mut data = Vec::new();
        for r in &records {
            data.extend(enc.encode(&r.id, &r.seq, Layout::Ncl).unwrap());
        }
        let x = Tensor::new(&[records.len(), 4, len], data).unwrap();
        let cpu = graph.predict(&x).unwrap();
        let gpu_graph = block_on(gpu::GpuGraph::new(&g, &graph)).unwrap();
        let on_gpu = block_on(gpu_graph.predict(&g, &x)).unwrap();
        assert_eq!(on_gpu.shape, cpu.shape, "{name}");
        // tract runs the exported ONNX file: a third, independent implementation.
        // BPNet's two outputs, flattened and joined, are more than 5 values.
        let bytes = common::export_bytes(&graph, len, cpu.per_item());
        let model = Model::from_bytes(&bytes).unwrap();
        let tract = model.predict(&records, &PredictOptions::default()).unwrap();
        // The same file through `Model` on the GPU backend (import, upload, batching).
        let on_model = Model::from_bytes(&bytes)
            .unwrap()
            .with_backend(Backend::Gpu)
            .unwrap();
        assert!(on_model.backend().is_gpu(), "{}", on_model.backend());
        let via_model = on_model
            .predict(&records, &PredictOptions::default())
            .unwrap();
        write_browser_fixture(name, &bytes, &records, &cpu.data);
        let scale = cpu.data.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-3);
        for i in 0..cpu.data.len() {
            let (c, gv, t) = (cpu.data[i], on_gpu.data[i], tract.values[i]);
            assert!(
                (gv - c).abs() <= 1e-4 * scale,
                "{name} value {i}: gpu {gv} vs cpu {c}"
            );
            assert!(
                (t - c).abs() <= 1e-4 * scale,
                "{name} value {i}: tract {t} vs cpu {c}"
            );
            let m = via_model.values[i];
            assert!(
                (m - c).abs() <= 1e-4 * scale,
                "{name} value {i}: Model on the GPU {m} vs cpu {c}"
            );
        }
        eprintln!(
            "{name}: GPU, CPU engine and tract agree on {} outputs",
            cpu.data.len()
        );
    }
}

/// The preset's ONNX file, its input sequences and the CPU engine's outputs, for the browser
/// tests (tests/js/browser.test.mjs) to check WebGPU in Chromium against: written to
/// target/tmp/presets, which scripts/test-all.sh points them to.
fn write_browser_fixture(name: &str, onnx: &[u8], records: &[seqlens::io::SeqRecord], cpu: &[f32]) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("presets");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.onnx")), onnx).unwrap();
    let fasta: String = records
        .iter()
        .map(|r| format!(">{}\n{}\n", r.id, String::from_utf8_lossy(&r.seq)))
        .collect();
    let json = serde_json::json!({ "fasta": fasta, "cpu": cpu });
    std::fs::write(dir.join(format!("{name}.json")), json.to_string()).unwrap();
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

fn assert_close(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    let scale = want.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-3);
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-4 * scale,
            "{what} value {i}: {g} vs {w}"
        );
    }
}

/// `Model` on each backend: the demo model and a torch.onnx.export CNN predict the same on
/// the GPU as through tract (the reference), with and without strand averaging, and the
/// model reports which backend ran and why.
#[test]
fn model_backends_agree_and_say_which_ran() {
    let Some(g) = device() else { return };
    let records =
        seqlens::io::read_sequences(&read("examples/data/sample.fa")[..], "sample.fa").unwrap();
    for path in ["examples/models/demo.onnx", "tests/models/pytorch_cnn.onnx"] {
        let bytes = read(path);
        let cpu = Model::from_bytes(&bytes)
            .unwrap()
            .with_backend(Backend::Cpu)
            .unwrap();
        assert_eq!(cpu.backend().backend, "cpu");
        assert_eq!(
            cpu.backend().reason.as_deref(),
            Some("the CPU was requested")
        );
        let on_gpu = Model::from_bytes(&bytes)
            .unwrap()
            .with_backend(Backend::Gpu)
            .unwrap();
        let report = on_gpu.backend();
        assert_eq!(report.backend, "gpu", "{path}: {report}");
        assert_eq!(
            report.adapter.as_deref(),
            Some(g.capabilities().display_name().as_str())
        );
        for rc_average in [false, true] {
            let opts = PredictOptions {
                rc_average,
                batch_size: 3,
                ..Default::default()
            };
            let want = cpu.predict(&records, &opts).unwrap();
            let got = on_gpu.predict(&records, &opts).unwrap();
            assert_eq!(got.labels, want.labels);
            assert_close(
                &got.values,
                &want.values,
                &format!("{path} rc={rc_average}"),
            );
        }
        // Auto takes a hardware adapter, and passes over a software one with the reason.
        let auto = Model::from_bytes(&bytes)
            .unwrap()
            .with_backend(Backend::Auto)
            .unwrap();
        if g.capabilities().software {
            assert_eq!(auto.backend().backend, "cpu");
            assert!(
                auto.backend()
                    .reason
                    .as_deref()
                    .unwrap()
                    .contains("software"),
                "{}",
                auto.backend()
            );
        } else {
            assert_eq!(auto.backend().backend, "gpu");
        }
    }
}

/// Forcing the GPU on a model it cannot run is an error that says why; auto falls back.
#[test]
fn forcing_the_gpu_on_an_unsupported_model_fails_with_the_reason() {
    if device().is_none() {
        return;
    }
    let (path, why) = ("examples/models/jaspar_scanner.onnx", "op set");
    let bytes = read(path);
    let Ok(model) = Model::from_bytes(&bytes) else {
        panic!("{path} should load through tract");
    };
    let err = model.with_backend(Backend::Gpu).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("cannot run on the GPU") && msg.contains(why),
        "{path}: {msg}"
    );
    let auto = Model::from_bytes(&bytes)
        .unwrap()
        .with_backend(Backend::Auto)
        .unwrap();
    assert_eq!(auto.backend().backend, "cpu");
    assert!(auto.backend().reason.as_deref().unwrap().contains(why));
}

/// The CLI's `--backend`: gpu predicts what cpu does (within 1e-4; the TSV's values are
/// probabilities) and stderr says which backend ran.
#[test]
fn cli_backend_flag_runs_and_reports_the_backend() {
    if device().is_none() {
        return;
    }
    let run = |backend: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_seqlens"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["predict", "--model", "examples/models/demo.onnx"])
            .args(["--fasta", "examples/data/sample.fa", "--backend", backend])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let values: Vec<f32> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .skip(1)
            .flat_map(|l| {
                l.split('\t')
                    .skip(4)
                    .map(|v| v.parse::<f32>().unwrap())
                    .collect::<Vec<_>>()
            })
            .collect();
        (values, String::from_utf8(out.stderr).unwrap())
    };
    let (cpu, cpu_err) = run("cpu");
    let (gpu, gpu_err) = run("gpu");
    assert!(
        cpu_err.contains("running the model on cpu (seqlens): the CPU was requested"),
        "{cpu_err}"
    );
    assert!(
        gpu_err.contains("running the model on gpu (adapter: "),
        "{gpu_err}"
    );
    assert_eq!(cpu.len(), 7 * 8);
    assert_close(&gpu, &cpu, "CLI --backend gpu vs cpu");
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_seqlens"))
        .args([
            "predict",
            "--model",
            "m.onnx",
            "--fasta",
            "x.fa",
            "--backend",
            "tpu",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown backend 'tpu'"));
}

/// Non-trivial batch-norm statistics, so folding them into the convolutions matters.
fn perturb_batch_norm(graph: &mut seqlens::nn::Graph, seed: u64) {
    use rand::RngExt;
    let mut rng = seqlens::nn::rng(seed);
    for node in &mut graph.nodes {
        if let seqlens::nn::Layer::BatchNorm1d(bn) = &mut node.layer {
            bn.running_mean
                .iter_mut()
                .for_each(|m| *m = rng.random_range(-0.5..0.5));
            bn.running_var
                .iter_mut()
                .for_each(|v| *v = rng.random_range(0.5..2.0));
            bn.gamma
                .value
                .iter_mut()
                .for_each(|v| *v = rng.random_range(0.5..1.5));
        }
    }
}

/// GPU input gradients = the CPU engine's backward pass (the reference), within 1e-4 of the
/// largest gradient, for a random weighting of the outputs.
fn assert_gradients_match(g: &Gpu, graph: &mut seqlens::nn::Graph, x: &Tensor, what: &str) {
    let on_gpu = block_on(gpu::GpuGraph::new(g, graph)).unwrap();
    assert_eq!(on_gpu.gradient_unsupported(), None, "{what}");
    let k = on_gpu.output_len(&x.shape[1..]).unwrap();
    let weights: Vec<f32> = random(&[k], 5).data;
    let want = graph.weighted_input_gradient(x, &weights).unwrap();
    let got = block_on(on_gpu.input_gradient(g, x, &weights)).unwrap();
    assert_eq!(got.shape, want.shape, "{what}");
    assert_close(&got.data, &want.data, what);
    // and the forward pass
    let y = block_on(on_gpu.predict(g, x)).unwrap();
    assert_close(&y.data, &graph.predict(x).unwrap().data, what);
}

#[test]
fn input_gradients_match_the_cpu_engine_layer_by_layer() {
    use seqlens::nn::{BatchNorm1d, Graph, Layer, Linear};
    let Some(g) = device() else { return };
    let mut rng = seqlens::nn::rng(11);
    let conv = |ci, co, k, s, d, pad, bias, rng: &mut seqlens::nn::Rng| {
        Layer::Conv1d(Conv1d::new(ci, co, k, s, d, pad, bias, rng))
    };
    // (name, input [channels, length], layers)
    let cases: Vec<(&str, [usize; 2], Vec<Layer>)> = vec![
        (
            "conv",
            [4, 37],
            vec![conv(4, 70, 5, 1, 1, Padding::Valid, true, &mut rng)],
        ),
        (
            "conv stride 3",
            [5, 50],
            vec![conv(5, 9, 4, 3, 1, Padding::Valid, false, &mut rng)],
        ),
        (
            "conv dilation 4 same",
            [4, 40],
            vec![conv(4, 8, 3, 1, 4, Padding::Same, true, &mut rng)],
        ),
        (
            "conv stride 2 padded",
            [3, 31],
            vec![conv(3, 6, 5, 2, 2, Padding::Explicit(3, 1), true, &mut rng)],
        ),
        (
            "conv relu (fused)",
            [4, 30],
            vec![
                conv(4, 65, 7, 1, 1, Padding::Same, true, &mut rng),
                Layer::Relu,
            ],
        ),
        (
            "conv batch norm relu (folded)",
            [4, 30],
            vec![
                conv(4, 12, 5, 1, 1, Padding::Valid, false, &mut rng),
                Layer::BatchNorm1d(BatchNorm1d::new(12)),
                Layer::Relu,
            ],
        ),
        (
            "max pool overlapping",
            [3, 29],
            vec![Layer::MaxPool1d(seqlens::nn::Pool1d::new(3, 2))],
        ),
        (
            "max pool",
            [3, 28],
            vec![
                Layer::Elu { alpha: 0.7 },
                Layer::MaxPool1d(seqlens::nn::Pool1d::new(4, 4)),
            ],
        ),
        (
            "avg pool",
            [3, 29],
            vec![Layer::AvgPool1d(seqlens::nn::Pool1d::new(5, 3))],
        ),
        (
            "global pools",
            [6, 20],
            vec![Layer::Softplus, Layer::GlobalMaxPool],
        ),
        (
            "global avg",
            [6, 20],
            vec![Layer::Exp, Layer::GlobalAvgPool],
        ),
        (
            "global sum",
            [6, 20],
            vec![Layer::Tanh, Layer::GlobalSumPool],
        ),
        (
            "tanh, leaky relu, global avg",
            [6, 20],
            vec![
                Layer::Tanh,
                Layer::LeakyRelu { alpha: 0.1 },
                Layer::GlobalAvgPool,
            ],
        ),
        (
            "standalone batch norm, sigmoid",
            [5, 11],
            vec![Layer::BatchNorm1d(BatchNorm1d::new(5)), Layer::Sigmoid],
        ),
        (
            "flatten dense relu dense",
            [4, 9],
            vec![
                Layer::Flatten,
                Layer::Linear(Linear::new(36, 70, true, &mut rng)),
                Layer::Relu,
                Layer::Dropout { p: 0.3 },
                Layer::Linear(Linear::new(70, 3, false, &mut rng)),
            ],
        ),
    ];
    for (name, [c, l], layers) in cases {
        let mut graph = Graph::new(&[c, l]);
        for (i, layer) in layers.into_iter().enumerate() {
            graph.push(format!("l{i}"), layer).unwrap();
        }
        perturb_batch_norm(&mut graph, 3);
        let x = random(&[3, c, l], 17);
        assert_gradients_match(&g, &mut graph, &x, name);
    }
}

#[test]
fn input_gradients_match_the_cpu_engine_for_the_presets() {
    let Some(g) = device() else { return };
    for (name, len) in [("deepbind", 101), ("basset", 600), ("deepsea", 400)] {
        let arch = seqlens::train::preset(name, 0.15, Some(3)).unwrap();
        let mut graph = arch.build(4, len, 5, 3).unwrap();
        perturb_batch_norm(&mut graph, 4);
        let x = random(&[2, 4, len], 8);
        assert_gradients_match(&g, &mut graph, &x, name);
    }
    // BPNet: residual adds, cropping, and its two outputs joined.
    let arch = seqlens::train::preset("bpnet", 0.15, Some(3)).unwrap();
    let mut graph = arch.build(4, 150, 5, 3).unwrap();
    let x = random(&[2, 4, 150], 8);
    assert_gradients_match(&g, &mut graph, &x, "bpnet");
    // Softmax is not covered yet: said, not miscomputed.
    let softmax: seqlens::train::Arch = toml::from_str(
        "[[layers]]\ntype = \"conv\"\nfilters = 4\nkernel = 3\n[[layers]]\ntype = \"softmax\"",
    )
    .unwrap();
    let graph = softmax.build(4, 20, 4, 1).unwrap();
    let on_gpu = block_on(gpu::GpuGraph::new(&g, &graph)).unwrap();
    let why = on_gpu.gradient_unsupported().unwrap();
    assert!(why.contains("softmax"), "{why}");
    let err = block_on(on_gpu.input_gradient(&g, &random(&[1, 4, 20], 1), &[1.0; 80])).unwrap_err();
    assert!(err.to_string().contains("softmax"), "{err}");
}

/// The benchmark's kernel timer: a positive device time, on timestamp queries exactly when
/// the device offers them.
#[test]
fn kernel_timing_uses_timestamps_where_available() {
    let Some(g) = device() else { return };
    let mut rng = seqlens::nn::rng(2);
    let conv = Conv1d::new(4, 32, 8, 1, 1, Padding::Valid, true, &mut rng);
    let layer = block_on(GpuConv1d::new(&g, &conv, Activation::Relu)).unwrap();
    let (t, clock) = block_on(layer.time_dispatch(&g, 2, 100, 3)).unwrap();
    assert!(t > std::time::Duration::ZERO, "{t:?}");
    let want = if g.capabilities().timestamps {
        gpu::Clock::Timestamps
    } else {
        gpu::Clock::Wall
    };
    assert_eq!(clock, want);
    eprintln!("one dispatch: {t:?} by {clock:?}");
}

/// The splice scorer on the GPU (every ALT window in full) equals the CPU engine (same-length
/// alleles as substitutions), for the example VCF on a random model of CI-SpliceAI's
/// geometry; the model and the engine's scores are written for the WebGPU test in Chromium.
#[test]
fn splice_scores_on_the_gpu_equal_the_engine() {
    let Some(_) = device() else { return };
    use seqlens::splice::{self, GeneTable, SpliceOptions};
    let bytes = common::tiny_splice_model();
    let (gpu_model, cpu_model) = (
        common::model_on(&bytes, Backend::Gpu),
        common::model_on(&bytes, Backend::Cpu),
    );
    let vcf = seqlens::io::read_vcf(
        &read("examples/data/splice/variants.vcf")[..],
        "variants.vcf",
    )
    .unwrap();
    let genes = GeneTable::read(&read("examples/data/splice/genes.csv")[..], "genes.csv").unwrap();
    let opts = SpliceOptions {
        distance: 50,
        mask: true,
        ..Default::default()
    };
    let genome = || {
        seqlens::io::IndexedFasta::open(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("examples/data/splice/genome.fa"),
        )
        .unwrap()
    };
    let on =
        |m: &Model| splice::score(m, &vcf, &mut genome(), &genes, &opts, &mut |_, _| true).unwrap();
    let (g, c) = (on(&gpu_model), on(&cpu_model));
    common::assert_splice_close(&g, &c, 1e-4, "GPU vs CPU engine");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("presets");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("tiny_splice.onnx"), &bytes).unwrap();
    std::fs::write(dir.join("tiny_splice.json"), splice::to_json(&c, &opts)).unwrap();
}
