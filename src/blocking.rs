//! Blocking at the native edge. The library's work is async, so that a browser tab can await
//! WebGPU without blocking; a native caller (the CLI, a test, a script) waits for it here.
//! This module does not exist in wasm, where nothing may block.

use std::future::Future;

/// Runs `f` to completion on this thread, parking it while the GPU works.
///
/// ```no_run
/// use seqlens::model::{Backend, Model};
/// let mut model = Model::from_bytes(&std::fs::read("examples/models/demo.onnx")?)?;
/// let report = seqlens::blocking::block_on(model.select_backend(Backend::Auto))?;
/// println!("running on {report}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn block_on<F: Future>(f: F) -> F::Output {
    pollster::block_on(f)
}
