//! GPU kernels against the CPU engine (the reference): the same layer, the same input, within
//! 1e-4 relative. Runs with `--features gpu`; CI runs it on Mesa's lavapipe (software Vulkan)
//! with SEQLENS_REQUIRE_GPU=1, so a missing adapter fails there instead of skipping.
#![cfg(feature = "gpu")]

mod common;

use seqlens::gpu::{self, Activation, Gpu, GpuConv1d};
use seqlens::nn::{Conv1d, Padding, Tensor};

fn device() -> Option<Gpu> {
    match gpu::block_on(Gpu::new()) {
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
    ];
    let mut rng = seqlens::nn::rng(9);
    for (i, &(n, ci, co, l, k, s, dil, pad, bias, act)) in cases.iter().enumerate() {
        let conv = Conv1d::new(ci, co, k, s, dil, pad, bias, &mut rng);
        let x = random(&[n, ci, l], i as u64);
        let mut want = conv.forward(&x).unwrap();
        if act == Activation::Relu {
            want.data.iter_mut().for_each(|v| *v = v.max(0.0));
        }
        let layer = GpuConv1d::new(&g, &conv, act);
        let got = gpu::block_on(layer.forward(&g, &x)).unwrap();
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
    let layer = GpuConv1d::new(&g, &conv, Activation::None);
    let err = gpu::block_on(layer.forward(&g, &random(&[1, 4, 5], 1))).unwrap_err();
    assert!(err.to_string().contains("does not fit length 5"), "{err}");
    let err = gpu::block_on(layer.forward(&g, &random(&[1, 3, 50], 1))).unwrap_err();
    assert!(
        err.to_string().contains("expects 4 input channels"),
        "{err}"
    );
}

#[test]
fn every_preset_matches_the_cpu_engine_and_tract() {
    use seqlens::encode::{Alphabet, Encoder, Layout, NPolicy, UnknownPolicy};
    use seqlens::model::PredictOptions;
    use seqlens::nn::Layer;
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
        // Non-trivial batch-norm statistics, so folding them into the convolutions matters.
        let mut rng = seqlens::nn::rng(4);
        for node in &mut graph.nodes {
            if let Layer::BatchNorm1d(bn) = &mut node.layer {
                use rand::RngExt;
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
        let records = common::random_records(6, len, 21);
        let mut data = Vec::new();
        for r in &records {
            data.extend(enc.encode(&r.id, &r.seq, Layout::Ncl).unwrap());
        }
        let x = Tensor::new(&[records.len(), 4, len], data).unwrap();
        let cpu = graph.predict(&x).unwrap();
        let gpu_graph = gpu::GpuGraph::new(&g, &graph).unwrap();
        let on_gpu = gpu::block_on(gpu_graph.predict(&g, &x)).unwrap();
        assert_eq!(on_gpu.shape, cpu.shape, "{name}");
        // tract runs the exported ONNX file: a third, independent implementation.
        let model = common::tract_model(&graph, len, 5);
        let tract = model.predict(&records, &PredictOptions::default()).unwrap();
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
        }
        eprintln!(
            "{name}: GPU, CPU engine and tract agree on {} outputs",
            cpu.data.len()
        );
    }
}
