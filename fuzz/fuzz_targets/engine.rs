//! The seqlens engine's ONNX importer (gradients, fast ISM, the GPU and training all start
//! here), at a fixed input length and with the model's own.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = seqlens::onnx::import(data, Some(64), seqlens::encode::Layout::Ncl);
    let _ = seqlens::onnx::import(data, None, seqlens::encode::Layout::Ncl);
});
