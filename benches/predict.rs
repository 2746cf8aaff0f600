//! Native prediction throughput through the library API, on tract (one thread) and on the
//! seqlens engine (RAYON_NUM_THREADS threads) where the model imports, on the model in
//! $SEQLENS_BENCH_MODEL (default benches/peers/deepsea.onnx; make it with
//! `python3 benches/peers/make_model.py`). Prints sequences per second for each batch size;
//! benches/peers/native.sh runs onnxruntime on the same model and prints the ratio.

use std::time::{Duration, Instant};

// The tests' seeded sequence generator, so benchmarks and tests draw the same inputs.
#[path = "../tests/common/mod.rs"]
mod common;

use seqlens::model::{Model, PredictOptions};

fn main() {
    let path = std::env::var("SEQLENS_BENCH_MODEL").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/benches/peers/deepsea.onnx").into()
    });
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!("no model at {path}; run: python3 benches/peers/make_model.py");
        return;
    };
    let model = Model::from_bytes(&bytes).expect("model loads");
    let len = model.metadata().length.unwrap_or(1000);
    let batches: Vec<usize> = std::env::var("SEQLENS_BENCH_BATCHES")
        .unwrap_or_else(|_| "1,64".into())
        .split([',', ' '])
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    // The engine too, where the model imports into it.
    let engine = Model::from_bytes(&bytes)
        .and_then(|m| m.with_backend(seqlens::model::Backend::Cpu))
        .ok()
        .filter(|m| m.backend().engine.as_deref() == Some("seqlens"));
    let runs = std::iter::once(("seqlens-tract", &model))
        .chain(engine.as_ref().map(|m| ("seqlens-engine", m)));
    for (name, model) in runs {
        for &batch in &batches {
            let recs = common::random_records(batch, len, 42);
            let opts = PredictOptions {
                batch_size: batch,
                ..Default::default()
            };
            model.predict(&recs, &opts).expect("warm-up");
            let (mut runs, start) = (0usize, Instant::now());
            while start.elapsed() < Duration::from_secs(5) || runs < 3 {
                std::hint::black_box(model.predict(&recs, &opts).expect("predict"));
                runs += 1;
            }
            let secs = start.elapsed().as_secs_f64();
            println!(
                "{name} batch={batch} seq_per_s={:.2} ms_per_batch={:.1}",
                (runs * batch) as f64 / secs,
                1000.0 * secs / runs as f64
            );
        }
    }
}
