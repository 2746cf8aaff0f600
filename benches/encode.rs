//! One-hot encoding throughput: 100 Mbp per iteration, in 1 Mbp chunks written into one
//! reused buffer (how a chromosome is streamed). The comparison with tangermeme is
//! benches/peers/encode.sh.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use seqlens::encode::{Alphabet, Encoder, Layout, NPolicy, UnknownPolicy};

const CHUNK: usize = 1 << 20;
const TOTAL: usize = 100 * CHUNK;

fn genome_chunk() -> Vec<u8> {
    // A fixed pseudo-random sequence with soft-masking and N runs, like real assemblies.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..CHUNK)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let b = b"ACGTacgt"[(x & 7) as usize];
            if i % 100_000 < 50 { b'N' } else { b }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let seq = genome_chunk();
    let enc = Encoder::new(Alphabet::Dna, NPolicy::Zero, UnknownPolicy::Error);
    let mut out = vec![0.0f32; 4 * CHUNK];
    let mut g = c.benchmark_group("encode_100Mbp");
    g.throughput(Throughput::Bytes(TOTAL as u64));
    g.sample_size(10);
    for layout in [Layout::Ncl, Layout::Nlc] {
        g.bench_function(layout.to_string(), |b| {
            b.iter(|| {
                for _ in 0..TOTAL / CHUNK {
                    enc.encode_into("bench", &seq, layout, &mut out).unwrap();
                    std::hint::black_box(&out);
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
