//! FASTA and FASTQ, plain or gzip, as `predict` and the page's `parseFasta` read them:
//! every input is records or an error, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(reader) = seqlens::io::SequenceReader::new(data, "fuzz.fa") else {
        return;
    };
    for record in reader {
        if record.is_err() {
            break;
        }
    }
});
