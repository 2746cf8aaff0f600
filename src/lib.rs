//! # seqlens
//!
//! Run and explain deep-learning models on genomic sequences: natively, from the `seqlens`
//! command line, and in the browser as a WebAssembly npm package, with the same Rust code.
//!
//! Data flows `io` (FASTA/FASTQ/BED/VCF via noodles) -> `encode` (one-hot tensors, windows)
//! -> `model` (ONNX through tract) -> predictions.
//!
//! ```no_run
//! use seqlens::{io, model::{Model, PredictOptions}};
//! let model = Model::from_bytes(&std::fs::read("examples/models/demo.onnx")?)?;
//! let records = io::read_sequences(std::fs::File::open("examples/data/sample.fa")?, "sample.fa")?;
//! let preds = model.predict(&records, &PredictOptions::default())?;
//! for (i, id) in preds.ids.iter().enumerate() {
//!     println!("{id}\t{:?}", preds.row(i));
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// Every public item says what it is: clippy's -D warnings makes this an error in CI.
#![warn(missing_docs)]

pub mod attrib;
#[cfg(not(target_arch = "wasm32"))]
pub mod blocking;
pub mod design;
pub mod encode;
mod error;
#[cfg(feature = "gpu")]
pub mod gpu;
pub mod io;
pub mod metadata;
pub mod model;
pub mod motif;
pub mod nn;
pub mod onnx;
#[cfg(any(feature = "wasm", feature = "python"))]
mod options;
pub mod output;
pub mod perturb;
pub mod plot;
#[cfg(feature = "python")]
mod python;
pub mod shard;
pub mod splice;
pub mod train;
pub mod variants;
#[cfg(feature = "wasm")]
mod wasm;

/// Starts the threaded wasm build's pool of `n` Web Workers sharing the module's memory (JS
/// `initThreadPool(n)`, awaited right after loading and before any other call, which would
/// otherwise fix rayon's pool at the calling thread alone). Public so that the export is
/// linked.
#[cfg(all(feature = "threads", target_arch = "wasm32"))]
pub use wasm_bindgen_rayon::init_thread_pool;

pub use error::{Error, Result};
