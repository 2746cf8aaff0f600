//! Turning sequences into model inputs.
//!
//! This module owns alphabets, one-hot encoding, the policy for `N` and other IUPAC ambiguity
//! codes, reverse complement, and fitting sequences to a model's length (center-crop, pad,
//! tiling into windows). It knows nothing about files or models: `io` hands it bytes, `model`
//! hands it shapes.

mod alphabet;
mod one_hot;
mod reverse_complement;
mod window;

pub use alphabet::{Alphabet, NPolicy, UnknownPolicy};
pub use one_hot::{Encoder, Layout, decode_one_hot};
pub use reverse_complement::{reverse_complement, reverse_complement_in_place};
pub use window::{Window, Windows, fit, tile_starts, windows_for};

/// Errors raised while encoding sequences.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// A character is neither in the alphabet nor an ambiguity code.
    #[error(
        "sequence '{id}': invalid character {found:?} at position {position} (1-based); expected one of {expected} or an IUPAC ambiguity code (set the unknown-character policy to as-n to read it as N: --unknown as-n, or {{ unknown: 'as-n' }})"
    )]
    InvalidCharacter {
        /// The sequence.
        id: String,
        /// 1-based position of the character.
        position: usize,
        /// The character.
        found: char,
        /// The symbols the alphabet allows.
        expected: String,
    },
    /// The buffer given to `encode_into` does not match the sequence.
    #[error("sequence '{id}': output buffer holds {found} values, expected {expected}")]
    BufferSize {
        /// The sequence.
        id: String,
        /// Values the buffer holds.
        found: usize,
        /// Values the sequence needs.
        expected: usize,
    },
    /// Sequences of one batch must share a length.
    #[error("sequence '{id}' has length {found}, but the batch expects {expected}")]
    LengthMismatch {
        /// The sequence.
        id: String,
        /// Its length.
        found: usize,
        /// The batch's length.
        expected: usize,
    },
    /// Reverse complement is only defined for nucleotides.
    #[error("reverse complement is not defined for the {0} alphabet")]
    NoComplement(Alphabet),
    /// A name given for an alphabet, layout or policy is not known.
    #[error("unknown {kind} '{found}'; expected one of: {expected}")]
    UnknownName {
        /// What was named (alphabet, layout, ...).
        kind: &'static str,
        /// The name given.
        found: String,
        /// The names known.
        expected: &'static str,
    },
    /// A byte encoding (0 or 1) was asked of an N policy that gives fractions.
    #[error("a byte encoding holds only 0 and 1, but the N policy '{0}' gives fractions; use f32")]
    FractionalBytes(NPolicy),
    /// An array position that is not one-hot (one symbol at 1, or all 0 for N).
    #[error(
        "encoded sequence {sequence}, position {position}: expected one channel at 1 and the \
         others at 0 (or all 0 for N), found [{found}]; only one-hot sequences decode"
    )]
    NotOneHot {
        /// The sequence (0-based, in the array).
        sequence: usize,
        /// The position (0-based).
        position: usize,
        /// The channels' values there.
        found: String,
    },
    /// Tiling needs a positive width and stride.
    #[error("invalid tiling: width {width} and stride {stride} must both be at least 1")]
    InvalidTiling {
        /// The window width asked for.
        width: usize,
        /// The stride asked for.
        stride: usize,
    },
}
