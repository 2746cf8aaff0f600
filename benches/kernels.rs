//! The engine's convolutions against the core's own GEMM peak (issue 14: at least 60 % of it
//! on the DeepSEA convolutions). The peak is the `gemm` crate's (the engine's GEMM) on a
//! square 1024 x 1024 x 1024 product; the convolutions are DeepSEA's three (320, 480 and 960
//! channels, kernel 8, on 1000 bp) through `nn::Conv1d::forward`, im2col included, at batch 1
//! and 64. Runs on one thread, then on RAYON_NUM_THREADS (default: every core) threads.
//!
//!     cargo bench --bench kernels

use std::time::{Duration, Instant};

use seqlens::nn::{Conv1d, Padding, Tensor};

/// Seconds per call of `f`, best of repeated runs over about a second.
fn time(mut f: impl FnMut()) -> f64 {
    f();
    let (mut best, start) = (f64::INFINITY, Instant::now());
    while start.elapsed() < Duration::from_secs(1) {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    best
}

/// GFLOP/s of the gemm crate on an n x n x n product, with `threads` threads.
fn gemm_peak(n: usize, threads: usize) -> f64 {
    let a: Vec<f32> = (0..n * n).map(|i| (i % 7) as f32 * 0.1).collect();
    let b: Vec<f32> = (0..n * n).map(|i| (i % 5) as f32 * 0.1).collect();
    let mut c = vec![0.0f32; n * n];
    let par = match threads {
        1 => gemm::Parallelism::None,
        t => gemm::Parallelism::Rayon(t),
    };
    let s = time(|| unsafe {
        // SAFETY: three n x n row-major buffers, the output exclusively borrowed.
        gemm::gemm(
            n,
            n,
            n,
            c.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.as_ptr(),
            1,
            n as isize,
            b.as_ptr(),
            1,
            n as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            par,
        )
    });
    2.0 * (n * n * n) as f64 / s / 1e9
}

fn main() {
    let all = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut rng = seqlens::nn::rng(1);
    // DeepSEA's convolutions: (in, out, input length), kernel 8, no padding.
    let convs: Vec<(Conv1d, usize)> = [(4, 320, 1000), (320, 480, 248), (480, 960, 60)]
        .into_iter()
        .map(|(ci, co, l)| {
            let c = Conv1d::new(ci, co, 8, 1, 1, Padding::Valid, true, &mut rng);
            (c, l)
        })
        .collect();
    let mut thread_counts = vec![1];
    if all > 1 {
        thread_counts.push(all);
    }
    for threads in thread_counts {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool");
        let peak = pool.install(|| gemm_peak(1024, threads));
        println!("threads={threads} gemm_peak_gflops={peak:.1}");
        for batch in [1, 64] {
            let (mut flops, mut secs) = (0.0, 0.0);
            for (i, (conv, l)) in convs.iter().enumerate() {
                let x = Tensor::new(
                    &[batch, conv.in_channels, *l],
                    (0..batch * conv.in_channels * l)
                        .map(|j| (j % 3) as f32)
                        .collect(),
                )
                .expect("input");
                let s = pool.install(|| {
                    time(|| {
                        std::hint::black_box(conv.forward(&x).expect("forward"));
                    })
                });
                let lout = l - 7;
                let f = 2.0 * (batch * conv.out_channels * conv.in_channels * 8 * lout) as f64;
                println!(
                    "threads={threads} batch={batch} conv{} gflops={:.1} of_peak={:.0}%",
                    i + 1,
                    f / s / 1e9,
                    100.0 * f / s / 1e9 / peak
                );
                flops += f;
                secs += s;
            }
            println!(
                "threads={threads} batch={batch} all_convs gflops={:.1} of_peak={:.0}%",
                flops / secs / 1e9,
                100.0 * flops / secs / 1e9 / peak
            );
        }
    }
}
