//! BED intervals, as `predict --bed` and training read them.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = seqlens::io::read_bed(data, "fuzz.bed");
});
