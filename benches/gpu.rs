//! GPU throughput against the CPU in the same run (native wgpu; `cargo bench --bench gpu`).
//!
//! 1. Conv1d GFLOP/s for each DeepSEA layer shape (1 kb input, batch 64): the GPU kernel's
//!    device time (repeated dispatches in one submission, no transfers; timestamp queries
//!    where the device has them, else the wall clock) vs the CPU engine's
//!    `Conv1d::forward` (im2col + gemm, all cores).
//! 2. Whole-model sequences per second for DeepSEA: the GPU graph (upload, every layer,
//!    readback) vs the CPU engine vs tract (the default CPU backend).
//!
//! On a software adapter (Mesa lavapipe, SwiftShader) the numbers only show that the benchmark
//! runs: never quote them. benches/peers/gpu_torch.py measures PyTorch (cuDNN) on the same
//! shapes for the ratio on a real GPU.

use std::time::{Duration, Instant};

#[path = "../tests/common/mod.rs"]
mod common;

use seqlens::blocking::block_on;
use seqlens::gpu::{Activation, Gpu, GpuConv1d, GpuGraph};
use seqlens::model::{Model, PredictOptions};
use seqlens::nn::{Conv1d, Padding, Tensor};

/// Runs `f` for at least `min` (and 3 times), returning seconds per run.
fn time(min: Duration, mut f: impl FnMut()) -> f64 {
    f();
    let (mut runs, start) = (0u32, Instant::now());
    while start.elapsed() < min || runs < 3 {
        f();
        runs += 1;
    }
    start.elapsed().as_secs_f64() / runs as f64
}

fn main() {
    let g = match block_on(Gpu::new()) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("no GPU: {e}");
            return;
        }
    };
    let caps = g.capabilities();
    let software = if caps.software {
        " (SOFTWARE ADAPTER: correctness only, do not quote these numbers)"
    } else {
        ""
    };
    println!(
        "adapter: {} ({}, {}){software}",
        caps.display_name(),
        caps.backend,
        caps.device_type
    );
    let batch: usize = std::env::var("SEQLENS_BENCH_BATCH")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    let min = Duration::from_secs(3);

    println!("\n# conv1d, DeepSEA layer shapes, batch {batch}");
    println!(
        "layer\tin\tout\tkernel\tlen_in\tgpu_ms\tgpu_gflops\tcpu_ms\tcpu_gflops\tgpu/cpu\tgpu_clock"
    );
    for (name, ci, co, len) in [
        ("conv1", 4, 320, 1000),
        ("conv2", 320, 480, 248),
        ("conv3", 480, 960, 60),
    ] {
        let mut rng = seqlens::nn::rng(7);
        let conv = Conv1d::new(ci, co, 8, 1, 1, Padding::Valid, true, &mut rng);
        let lout = len - 7;
        let flops = 2.0 * (batch * co * lout * ci * 8) as f64;
        let layer = block_on(GpuConv1d::new(&g, &conv, Activation::Relu)).unwrap();
        // Enough repeats for ~0.5 s of device time, from one probe dispatch.
        let (probe, _) = block_on(layer.time_dispatch(&g, batch, len, 1)).unwrap();
        let repeats = (0.5 / probe.as_secs_f64().max(1e-6)).clamp(3.0, 1000.0) as usize;
        let (gpu_time, clock) = block_on(layer.time_dispatch(&g, batch, len, repeats)).unwrap();
        let gpu_s = gpu_time.as_secs_f64();
        let x = Tensor::new(
            &[batch, ci, len],
            (0..batch * ci * len)
                .map(|i| ((i * 7919) % 13) as f32 / 13.0)
                .collect(),
        )
        .unwrap();
        let cpu_s = time(min, || {
            std::hint::black_box(conv.forward(&x).unwrap());
        });
        println!(
            "{name}\t{ci}\t{co}\t8\t{len}\t{:.3}\t{:.1}\t{:.3}\t{:.1}\t{:.2}\t{clock:?}",
            gpu_s * 1e3,
            flops / gpu_s / 1e9,
            cpu_s * 1e3,
            flops / cpu_s / 1e9,
            cpu_s / gpu_s
        );
    }

    println!("\n# DeepSEA (1 kb, 919 outputs), whole model, batch {batch}");
    let arch = seqlens::train::preset("deepsea", 1.0, None).unwrap();
    let graph = arch.build(4, 1000, 919, 1).unwrap();
    let records = common::random_records(batch, 1000, 42);
    let enc = seqlens::encode::Encoder::new(
        seqlens::encode::Alphabet::Dna,
        seqlens::encode::NPolicy::Zero,
        seqlens::encode::UnknownPolicy::Error,
    );
    let mut data = Vec::new();
    for r in &records {
        data.extend(
            enc.encode(&r.id, &r.seq, seqlens::encode::Layout::Ncl)
                .unwrap(),
        );
    }
    let x = Tensor::new(&[batch, 4, 1000], data).unwrap();
    let gpu_graph = block_on(GpuGraph::new(&g, &graph)).unwrap();
    let gpu_s = time(min, || {
        std::hint::black_box(block_on(gpu_graph.predict(&g, &x)).unwrap());
    });
    let engine_s = time(min, || {
        std::hint::black_box(graph.predict(&x).unwrap());
    });
    let bytes = common::export_bytes(&graph, 1000, 919);
    let tract = Model::from_bytes(&bytes).unwrap();
    let opts = PredictOptions {
        batch_size: batch,
        ..Default::default()
    };
    let tract_s = time(min, || {
        std::hint::black_box(tract.predict(&records, &opts).unwrap());
    });
    let sps = |s: f64| batch as f64 / s;
    println!("backend\tseq_per_s\tvs_gpu");
    println!("gpu (wgpu)\t{:.1}\t1.00", sps(gpu_s));
    println!(
        "cpu engine\t{:.1}\t{:.2}",
        sps(engine_s),
        sps(engine_s) / sps(gpu_s)
    );
    println!(
        "cpu tract\t{:.1}\t{:.2}",
        sps(tract_s),
        sps(tract_s) / sps(gpu_s)
    );
}
