//! Motif discovery as TF-MoDISco-lite (PyPI `modisco-lite` 3.0) does it: seqlets from
//! attribution tracks, split by sign into metaclusters, clustered by aligned similarity, and
//! aggregated into patterns (contribution and probability matrices).
//!
//! Landed so far: the tracks (`tracks`), the seqlets and their metaclusters (`seqlets`, with
//! the numpy and scikit-learn numerics their thresholds depend on in `numerics`), and the
//! similarity graph the clustering runs on (`affinity`).

pub mod affinity;
pub mod leiden;
mod numerics;
pub mod pattern;
pub mod seqlets;
pub mod tracks;

pub use affinity::{AffinityOptions, Graph, Neighbours};
pub use seqlets::{Extracted, Seqlet, SeqletOptions, extract_seqlets, metaclusters};
pub use tracks::TrackSet;
