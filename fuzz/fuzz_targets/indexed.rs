//! The indexed FASTA reader with any `.fai` and `.gzi` beside any FASTA, plain or bgzf:
//! a lying index is an error naming it, never a panic, a hang or a huge allocation.
//!
//! Input: two little-endian u16 lengths, then the `.fai` text, the `.gzi` bytes (none when
//! its length is 0) and the FASTA bytes.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use seqlens::io::IndexedFasta;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let len = |i: usize| u16::from_le_bytes([data[i], data[i + 1]]) as usize;
    let rest = &data[4..];
    let (fai, rest) = rest.split_at(len(0).min(rest.len()));
    let (gzi, fasta) = rest.split_at(len(2).min(rest.len()));
    let gzi = (!gzi.is_empty()).then_some(gzi);
    let Ok(mut genome) = IndexedFasta::from_parts(Cursor::new(fasta), fai, gzi, "fuzz.fa") else {
        return;
    };
    for (chrom, length) in genome.contigs() {
        let length = length.min(1 << 20) as i64;
        // Inside the contig, across each end, and wholly outside it (N beyond the ends).
        for (start, end) in [
            (0, length.min(300)),
            (length - 70, length + 70),
            (-5, 5),
            (length + 10, length + 20),
        ] {
            let _ = genome.fetch(&chrom, start, end);
        }
    }
});
