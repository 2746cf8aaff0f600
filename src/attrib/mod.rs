//! Explaining predictions: gradient saliency (gradient, gradient x input, integrated
//! gradients) through the engine, and in-silico saturation mutagenesis (ISM) through any
//! model `model::Model` runs, or receptive-field-local "fast ISM" through the engine.
//!
//! This module owns attribution algorithms; it does not know which backend computes the
//! forward and backward passes beyond the `nn::Graph` and `model::Model` interfaces.

mod explain;
mod fast_ism;
mod ism;
mod saliency;
mod shuffle;

use serde::{Deserialize, Serialize};

pub use explain::{Attribution, Explainer, Method};
pub use fast_ism::fast_ism;
pub use ism::{Ism, ism, ism_async};
pub use saliency::{Baseline, Gradients, gradient, gradient_times_input, integrated_gradients};
pub use shuffle::dinucleotide_shuffle;

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

/// Per-base scores from an attribution map `[channels, length]`: the sum over channels.
pub fn per_base(map: &[f32], channels: usize) -> Vec<f32> {
    let l = map.len() / channels.max(1);
    (0..l)
        .map(|t| (0..channels).map(|c| map[c * l + t]).sum())
        .collect()
}
