//! ONNX export from `nn` graphs and import of ONNX graphs into `nn`.
//!
//! Export writes a standard opset-13 model with the `seqlens.*` metadata, which tract,
//! onnxruntime and the seqlens npm package run as is. Import reads graphs made of the engine's
//! op set (for example PyTorch's `torch.onnx.export` of a DeepSEA/Basset-style CNN) so they can
//! be fine-tuned and differentiated; a model outside that set still runs for plain inference
//! through `model::Model` (tract).

mod export;
mod external;
mod import;
mod proto;
pub(crate) mod summary;
mod view;

pub use export::{ExportMeta, Precision, export};
pub(crate) use external::external_files_in;
#[cfg(not(target_arch = "wasm32"))]
pub use external::read_model_file;
pub use external::{external_files, inline_external_data};
pub use import::{import, import_proto};
pub use proto::check_graph;

/// Errors raised by ONNX export and import.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file does not parse as ONNX.
    #[error("not a valid ONNX model: {0}")]
    Corrupt(String),
    /// An op the engine does not implement.
    #[error(
        "ONNX operator '{op}' (node '{node}') is not in the engine's op set; the model can still run for inference (seqlens predict), but not be trained or differentiated"
    )]
    UnsupportedOp {
        /// The op type.
        op: String,
        /// The node's name.
        node: String,
    },
    /// A node the engine cannot import as written (an attribute or input it refuses).
    #[error("node '{node}' ({op}): {message}")]
    Node {
        /// The node.
        node: String,
        /// Its op type.
        op: String,
        /// What is wrong with it.
        message: String,
    },
    /// The graph's structure (inputs, outputs, wiring) is not one the engine can run.
    #[error("{0}")]
    Graph(String),
    /// A model's external data files could not be read or do not fit it.
    #[error("{0}")]
    ExternalData(String),
    /// The engine refused a layer.
    #[error(transparent)]
    Nn(#[from] crate::nn::Error),
}
