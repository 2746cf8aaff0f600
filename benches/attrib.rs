//! Attribution speed on a Basset-class model (published widths, 1 kb input, 164 outputs,
//! random weights): fast ISM against naive ISM through the same engine and through tract, and
//! the throughput of gradient, gradient x input and integrated gradients.
//! `cargo bench --bench attrib` prints a Markdown table; BENCHMARKS.md records the numbers.
//! `SEQLENS_BENCH_LENGTH` changes the input length (default 1000).

use std::time::Instant;

#[path = "../tests/common/mod.rs"]
mod common;

use seqlens::attrib::{self, Baseline, Target};
use seqlens::blocking::block_on;
use seqlens::encode::{Alphabet, Encoder, Layout, NPolicy, UnknownPolicy};
use seqlens::model::PredictOptions;
use seqlens::nn::Tensor;

fn seconds(f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64()
}

fn main() {
    let len: usize = std::env::var("SEQLENS_BENCH_LENGTH")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let arch = seqlens::train::preset("basset", 1.0, None).expect("preset");
    let mut g = arch.build(4, len, 164, 1).expect("builds");
    let seq = common::random_dna(len, 3);
    let enc = Encoder::new(Alphabet::Dna, NPolicy::Zero, UnknownPolicy::Error);
    let x = Tensor::new(&[1, 4, len], enc.encode("s", &seq, Layout::Ncl).unwrap()).unwrap();
    let threads = rayon::current_num_threads();
    println!(
        "Basset ({} parameters), {len} bp, {} substitutions, {threads} threads\n",
        g.param_count(),
        3 * len
    );
    println!("| method | seconds per sequence | vs fast ISM |");
    println!("|---|---|---|");

    let mut fast = None;
    let t_fast = seconds(|| {
        fast =
            Some(attrib::fast_ism(&g, &x, &seq, b"ACGT", 0..seq.len(), &mut |_, _| true).unwrap())
    });
    println!("| fast ISM (engine) | {t_fast:.2} | 1.0 |");

    // Naive ISM through the engine: every mutant predicted whole, 64 at a time.
    let mut mutants = Vec::with_capacity(3 * len * 4 * len);
    for t in 0..len {
        for b in *b"ACGT" {
            if seq[t] != b {
                let mut m = seq.clone();
                m[t] = b;
                mutants.extend(enc.encode("m", &m, Layout::Ncl).unwrap());
            }
        }
    }
    let per = 4 * len;
    let n = mutants.len() / per;
    let mut naive = Vec::with_capacity(n * 164);
    let t_engine = seconds(|| {
        for chunk in mutants.chunks(64 * per) {
            let b = chunk.len() / per;
            let y = g
                .predict(&Tensor::new(&[b, 4, len], chunk.to_vec()).unwrap())
                .unwrap();
            naive.extend(y.data);
        }
    });
    println!(
        "| naive ISM (engine, batch 64) | {t_engine:.2} | {:.1}x slower |",
        t_engine / t_fast
    );
    // Same numbers: the speed-up is not bought with accuracy.
    let fast = fast.unwrap();
    let reference = g.predict(&x).unwrap().data;
    let mut j = 0;
    let mut worst = 0f32;
    for (t, &base) in seq.iter().enumerate() {
        for (c, b) in b"ACGT".iter().enumerate() {
            if base != *b {
                for o in 0..164 {
                    let want = naive[j * 164 + o] - reference[o];
                    worst = worst.max((fast.delta[(t * 4 + c) * 164 + o] - want).abs());
                }
                j += 1;
            }
        }
    }

    let model = common::tract_model(&g, len, 164);
    let window = model
        .windows(
            &[seqlens::io::SeqRecord {
                id: "s".into(),
                description: None,
                seq: seq.clone(),
            }],
            &PredictOptions::default(),
        )
        .unwrap()
        .remove(0);
    let t_tract = seconds(|| {
        attrib::ism(
            &model,
            &window,
            0..window.seq.len(),
            &PredictOptions::default(),
            &mut |_, _| true,
        )
        .unwrap();
    });
    println!(
        "| naive ISM (tract, batch 64) | {t_tract:.2} | {:.1}x slower |",
        t_tract / t_fast
    );

    let target = Target::Output(0);
    let t_grad = seconds(|| {
        block_on(attrib::gradient(&mut g, &x, &target)).unwrap();
    });
    println!("| gradient | {t_grad:.3} | |");
    let t_ixg = seconds(|| {
        block_on(attrib::gradient_times_input(&mut g, &x, &target)).unwrap();
    });
    println!("| gradient x input | {t_ixg:.3} | |");
    let bs = Baseline::Shuffle { count: 10, seed: 0 }
        .inputs("bench", &seq, &enc)
        .unwrap();
    let t_ig = seconds(|| {
        block_on(attrib::integrated_gradients(&mut g, &x, &bs, &target, 50)).unwrap();
    });
    println!("| integrated gradients (50 steps x 10 shuffles) | {t_ig:.2} | |");
    println!("\nlargest |fast - naive| ISM difference: {worst:.2e}");
}
