//! What the wasm entry points do with the bytes and strings a page hands them, past the
//! JS conversion: gene tables (`Genes.load`), `oneHot`, `reverseComplement`, typed variants.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seqlens::encode::{Alphabet, Encoder, Layout, NPolicy, UnknownPolicy, reverse_complement};

fuzz_target!(|data: &[u8]| {
    let _ = seqlens::splice::GeneTable::read(data, "fuzz.csv");
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = seqlens::io::read_variant_specs(text, "typed variants");
    }
    for alphabet in [Alphabet::Dna, Alphabet::Rna, Alphabet::Protein] {
        let _ = reverse_complement(data, alphabet);
        for unknown in [UnknownPolicy::Error, UnknownPolicy::AsN] {
            let e = Encoder::new(alphabet, NPolicy::Iupac, unknown);
            let _ = e.encode("fuzz", data, Layout::default());
        }
    }
});
