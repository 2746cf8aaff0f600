/// Any error seqlens returns: one variant per module, each with a message a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Encode(#[from] crate::encode::Error),
    #[error(transparent)]
    Io(#[from] crate::io::Error),
    #[error(transparent)]
    Model(#[from] crate::model::Error),
    #[error(transparent)]
    Nn(#[from] crate::nn::Error),
    #[error(transparent)]
    Onnx(#[from] crate::onnx::Error),
    #[error(transparent)]
    Splice(#[from] crate::splice::Error),
    /// A request that cannot be carried out as asked (bad option values, impossible sizes).
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
