//! VCF (plain or bgzip) and typed `chr:pos ref>alt` variants, as `variants`, `splice` and the
//! page read them, and the allele classification that decides each variant's status.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seqlens::io::{AlleleKind, read_variants_any};

fuzz_target!(|data: &[u8]| {
    if let Ok(file) = read_variants_any(data, "fuzz.vcf") {
        for v in &file.variants {
            AlleleKind::of(&v.reference);
            for alt in &v.alts {
                AlleleKind::of(alt);
            }
        }
    }
});
