//! Explaining predictions: gradient saliency (gradient, gradient x input, integrated
//! gradients) and DeepLIFT/DeepSHAP through the engine, and in-silico saturation mutagenesis (ISM) through any
//! model `model::Model` runs, or receptive-field-local "fast ISM" through the engine.
//!
//! Attribution tracks are summarised as seqlets (tangermeme's recursive seqlet caller).
//!
//! This module owns attribution algorithms; it does not know which backend computes the
//! forward and backward passes beyond the `nn::Graph` and `model::Model` interfaces.

mod capabilities;
mod deeplift;
mod explain;
mod fast_ism;
mod ism;
mod saliency;
mod seqlets;
mod shuffle;
mod table;

use serde::{Deserialize, Serialize};

pub use capabilities::{Capabilities, Capability};
pub use deeplift::{DELTA_TOLERANCE, DeepShap, deep_lift_shap};
pub use explain::{Attribution, Explainer, Method, MethodOptions};
pub use fast_ism::{fast_ism, profile_ism};
#[cfg(not(target_arch = "wasm32"))]
pub use ism::ism;
pub use ism::{Ism, ism_async};
pub use saliency::{Baseline, Gradients, gradient, gradient_times_input, integrated_gradients};
pub use seqlets::{Seqlet, SeqletOptions, recursive_seqlets};
pub use shuffle::dinucleotide_shuffle;
#[cfg(not(target_arch = "wasm32"))]
pub use table::write_bigwig;
pub use table::{
    SeqletRow, Track, annotate_seqlets, position_major, read_tsv, seqlet_rows, seqlets_tsv,
    to_bedgraph, to_tsv,
};

/// Which output (or combination of outputs) to explain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// One output column.
    Output(usize),
    /// The sum of several output columns.
    Sum(Vec<usize>),
    /// A weighted sum over all output columns.
    Weights(Vec<f32>),
    /// For a profile model (`[classes, positions]` per sequence): the sum of the classes
    /// `classes` over the output positions that describe bases `from..to` of the sequence
    /// (0-based, half-open, in the coordinates of [`Attribution::start`]). Resolved per
    /// window into [`Target::Weights`] by the [`Explainer`].
    Positions {
        /// The output classes summed (indices into the labels).
        classes: Vec<usize>,
        /// The first base explained (0-based).
        from: i64,
        /// One past the last base explained.
        to: i64,
    },
}

impl Target {
    /// The weight of each of `k` outputs.
    pub fn weights(&self, k: usize) -> Result<Vec<f32>, crate::nn::Error> {
        let mut w = vec![0.0; k];
        let bad = |i: usize| {
            crate::nn::Error::Shape(format!(
                "target output {i} is out of range: the model has {k} outputs"
            ))
        };
        match self {
            Target::Output(i) => *w.get_mut(*i).ok_or_else(|| bad(*i))? = 1.0,
            Target::Sum(idx) => {
                for &i in idx {
                    *w.get_mut(i).ok_or_else(|| bad(i))? += 1.0;
                }
            }
            Target::Weights(v) if v.len() == k => w.copy_from_slice(v),
            Target::Weights(v) => {
                return Err(crate::nn::Error::Shape(format!(
                    "{} target weights for {k} outputs",
                    v.len()
                )));
            }
            Target::Positions { .. } => {
                return Err(crate::nn::Error::Shape(
                    "a target over profile positions is resolved against a window first \
                     (Explainer::explain does)"
                        .into(),
                ));
            }
        }
        Ok(w)
    }

    /// The target's value for one row of predictions.
    pub fn apply(&self, row: &[f32]) -> Result<f32, crate::nn::Error> {
        Ok(self
            .weights(row.len())?
            .iter()
            .zip(row)
            .map(|(w, v)| w * v)
            .sum())
    }
}

/// A profile model's target resolved for one window: the weighted sum of the model's
/// `[classes, positions]` output over the positions `out` (`weights` is
/// `[classes, out.len()]`, row-major).
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileTarget {
    /// The output positions summed.
    pub out: std::ops::Range<usize>,
    /// The model's classes per position.
    pub classes: usize,
    /// The weight of each class at each position, `[classes, out.len()]`.
    pub weights: Vec<f32>,
}

impl ProfileTarget {
    /// The target's value from the output over `out` only (`[classes, out.len()]`).
    pub fn value(&self, values: &[f32]) -> f32 {
        self.weights.iter().zip(values).map(|(w, v)| w * v).sum()
    }

    /// The weight of every value of a whole `[classes, positions]` output (for gradients).
    pub fn full(&self, positions: usize) -> Vec<f32> {
        let n = self.out.len();
        let mut w = vec![0.0; self.classes * positions];
        for c in 0..self.classes {
            w[c * positions + self.out.start..c * positions + self.out.end]
                .copy_from_slice(&self.weights[c * n..(c + 1) * n]);
        }
        w
    }

    /// The target's value from a whole `[classes, positions]` output.
    pub fn value_in(&self, values: &[f32], positions: usize) -> f32 {
        self.full(positions)
            .iter()
            .zip(values)
            .map(|(w, v)| w * v)
            .sum()
    }
}

/// Per-base scores from an attribution map `[channels, length]`: the sum over channels.
pub fn per_base(map: &[f32], channels: usize) -> Vec<f32> {
    let l = map.len() / channels.max(1);
    (0..l)
        .map(|t| (0..channels).map(|c| map[c * l + t]).sum())
        .collect()
}
