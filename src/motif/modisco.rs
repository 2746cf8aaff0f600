//! Motif discovery as TF-MoDISco-lite (PyPI `modisco-lite` 3.0) does it: seqlets from
//! attribution tracks, split by sign into metaclusters, clustered by aligned similarity, and
//! aggregated into patterns (contribution and probability matrices).
//!
//! - `tracks`: one-hot bases and hypothetical contributions;
//! - `seqlets`: seqlets and their metaclusters (with the numpy and scikit-learn numerics
//!   their thresholds depend on in `numerics`);
//! - `affinity`: the similarity graph; `leiden`: its clustering;
//! - `pattern`: clusters into patterns; `collapse`: patterns split, merged and filtered;
//! - `discover`: the whole pipeline.

pub mod affinity;
pub mod collapse;
mod discover;
pub mod leiden;
mod numerics;
pub mod pattern;
pub mod seqlets;
pub mod tracks;

pub use affinity::{AffinityOptions, Graph, Neighbours};
pub use discover::{
    DiscoverOptions, Discovery, MetaclusterOptions, PatternReport, STAGES, discover, report,
};
pub use seqlets::{Extracted, Seqlet, SeqletOptions, extract_seqlets, metaclusters};
pub use tracks::TrackSet;
