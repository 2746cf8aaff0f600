//! The seqlens engine's layers: CPU forward and backward passes.
//!
//! This module owns tensors, parameters and their initialisation, the layer set (Conv1d,
//! Linear, BatchNorm1d, activations, pooling, dropout, shape ops, residual Add, Concat, Crop)
//! and the [`Graph`] that wires them together. Conv1d and Linear run as GEMMs through the
//! `gemm` crate, with the batch (or, for short batches, output channels and columns) spread
//! over rayon's threads: native threads, Web Workers in the threaded wasm build, the calling
//! thread in the plain one. Results are bit-identical for a given seed and thread count.
//!
//! It knows nothing about ONNX bytes (see `onnx`) or the GPU.

mod batchnorm;
mod conv;
mod deeplift;
mod demand;
mod graph;
mod kernels;
mod layer;
mod linear;
mod param;
mod pool;
mod rnn;
mod tensor;

pub use batchnorm::BatchNorm1d;
pub use conv::{Conv1d, Padding};
pub use deeplift::Multipliers;
pub use demand::Edit;
pub use graph::{Graph, Head, Node, Tape};
pub use layer::{Layer, Mode, dropout_mask};
// Shared with other modules' embarrassingly parallel loops (motif annotation).
pub(crate) use kernels::par_map;
pub use linear::Linear;
pub use param::{Init, Param};
pub use pool::{Pool1d, Reduce};
pub use rnn::{Cell, Direction, Rnn};
pub use tensor::Tensor;

/// The engine's random number generator: ChaCha8, so a seed gives the same stream on every
/// platform and version.
pub type Rng = rand_chacha::ChaCha8Rng;

/// A seeded [`Rng`].
pub fn rng(seed: u64) -> Rng {
    use rand::SeedableRng;
    Rng::seed_from_u64(seed)
}

/// Errors raised by the engine.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// A tensor does not have the shape an operation needs.
    #[error("shape: {0}")]
    Shape(String),
    /// The graph's structure is not one the engine runs.
    #[error("graph: {0}")]
    Graph(String),
    /// An error inside a named layer.
    #[error("layer '{layer}': {message}")]
    At {
        /// The layer's name.
        layer: String,
        /// What went wrong there.
        message: String,
    },
}

impl Error {
    /// Names the layer where the error happened.
    pub(crate) fn at(self, layer: &str) -> Error {
        match self {
            Error::At { .. } => self,
            other => Error::At {
                layer: layer.to_string(),
                message: other.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod gradcheck;
