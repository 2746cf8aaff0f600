/// Any error seqlens returns: one variant per module, each with a message a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Encoding a sequence failed.
    #[error(transparent)]
    Encode(#[from] crate::encode::Error),
    /// Reading an input file failed.
    #[error(transparent)]
    Io(#[from] crate::io::Error),
    /// Loading or running a model failed.
    #[error(transparent)]
    Model(#[from] crate::model::Error),
    /// The CPU engine refused a graph or a shape.
    #[error(transparent)]
    Nn(#[from] crate::nn::Error),
    /// Reading or writing ONNX failed.
    #[error(transparent)]
    Onnx(#[from] crate::onnx::Error),
    /// A splice-scoring input (a gene table) is unusable.
    #[error(transparent)]
    Splice(#[from] crate::splice::Error),
    /// The GPU backend failed, or cannot run what was asked.
    #[cfg(feature = "gpu")]
    #[error(transparent)]
    Gpu(#[from] crate::gpu::Error),
    /// A request that cannot be carried out as asked (bad option values, impossible sizes).
    #[error("{0}")]
    Invalid(String),
}

/// seqlens' result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
