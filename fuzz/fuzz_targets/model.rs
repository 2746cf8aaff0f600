//! Loading an ONNX model as `Model.load` and every command do: protobuf decoding, external
//! data references, seqlens metadata, and tract's analysis of the graph.
//!
//! Natively, seqlens catches a panic inside tract's analysis (a malformed graph tract does not
//! check for) and returns an error. libfuzzer-sys's panic hook aborts on every panic, caught
//! or not, so the standard hook is put back: a panic that escapes seqlens still aborts, in
//! libfuzzer-sys's own wrapper, and is reported as a crash.
#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;

static STANDARD_HOOK: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    STANDARD_HOOK.call_once(|| drop(std::panic::take_hook()));
    if let Ok(model) = seqlens::model::Model::from_bytes(data) {
        let _ = model.metadata();
    }
});
