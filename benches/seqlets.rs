//! Seqlet calling in memory: `attrib::recursive_seqlets` over the tracks of a text file (one
//! track per line, whitespace-separated values, as numpy's `savetxt` writes them), timed
//! without reading the file, as tangermeme's `recursive_seqlets` is timed on an array.
//! `cargo bench --bench seqlets -- TRACKS.txt` prints seconds per track, the best of three
//! calls; benches/peers/attrib.sh runs it on the peer script's tracks.

use std::time::Instant;

use seqlens::attrib::{SeqletOptions, recursive_seqlets};

fn main() {
    let Some(path) = std::env::args().skip(1).find(|a| !a.starts_with("--")) else {
        eprintln!("usage: cargo bench --bench seqlets -- TRACKS.txt");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let tracks: Vec<Vec<f32>> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.split_whitespace()
                .map(|v| v.parse().unwrap_or_else(|_| panic!("{path}: '{v}'")))
                .collect()
        })
        .collect();
    let opts = SeqletOptions::default();
    let mut best = f64::INFINITY;
    let mut found = 0;
    for _ in 0..3 {
        let t = Instant::now();
        found = recursive_seqlets(&tracks, &opts).expect("seqlets").len();
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "seqlens seqlets-in-memory {:.8} ({found} seqlets from {} tracks)",
        best / tracks.len() as f64,
        tracks.len()
    );
}
