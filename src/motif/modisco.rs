//! Motif discovery as TF-MoDISco-lite (PyPI `modisco-lite` 3.0) does it: seqlets from
//! attribution tracks, split by sign into metaclusters, clustered by aligned similarity, and
//! aggregated into patterns (contribution and probability matrices).
//!
//! Landed so far: the seqlets and their metaclusters (`seqlets`), with the numpy and
//! scikit-learn numerics their thresholds depend on (`numerics`).

mod numerics;
pub mod seqlets;

pub use seqlets::{Extracted, Seqlet, SeqletOptions, extract_seqlets, metaclusters};
