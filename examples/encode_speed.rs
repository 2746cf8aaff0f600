//! seqlens' one-hot encoder on a sequence file in 1 Mi-base chunks written into one reused
//! buffer (how a chromosome is streamed), best of 3 runs per output: f32 NCL and NLC, u8 NCL
//! and NLC. The peer comparison (benches/peers/encode.sh) runs it beside tangermeme.
//! Prints one line per output: `seqlens <layout> <dtype> <seconds>`.
//!
//! Usage: encode_speed <sequence file>

use std::time::Instant;

use seqlens::encode::{Alphabet, Encoder, Layout, NPolicy, UnknownPolicy};

const CHUNK: usize = 1 << 20;

fn best_of_3(mut run: impl FnMut()) -> f64 {
    (0..3)
        .map(|_| {
            let t = Instant::now();
            run();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// Best-of-3 seconds to encode `seq` chunk by chunk into `buf` with `encode`, or its first
/// error (a character outside the alphabet, say).
fn time<T>(
    seq: &[u8],
    buf: &mut [T],
    encode: impl Fn(&[u8], &mut [T]) -> Result<(), seqlens::encode::Error>,
) -> Result<f64, seqlens::encode::Error> {
    let mut failed = None;
    let t = best_of_3(|| {
        for chunk in seq.chunks(CHUNK) {
            let out = &mut buf[..4 * chunk.len()];
            if let Err(e) = encode(chunk, out) {
                failed.get_or_insert(e);
            }
            std::hint::black_box(&out);
        }
    });
    failed.map_or(Ok(t), Err)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: encode_speed <sequence file>")?;
    let seq = std::fs::read(&path)?;
    let enc = Encoder::new(Alphabet::Dna, NPolicy::Zero, UnknownPolicy::Error);
    let mut f = vec![0.0f32; 4 * CHUNK];
    let mut b = vec![0u8; 4 * CHUNK];
    for layout in [Layout::Ncl, Layout::Nlc] {
        let t = time(&seq, &mut f, |s, o| enc.encode_into("chr", s, layout, o))?;
        println!("seqlens\t{layout}\tfloat32\t{t:.3}");
        let t = time(&seq, &mut b, |s, o| enc.encode_into_u8("chr", s, layout, o))?;
        println!("seqlens\t{layout}\tuint8\t{t:.3}");
    }
    Ok(())
}
