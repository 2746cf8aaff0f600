//! Explaining predictions: gradient saliency (gradient, gradient x input) through the
//! engine, and in-silico saturation mutagenesis (ISM) through any model `model::Model` runs.
//!
//! This module owns attribution algorithms; it does not know which backend computes the
//! forward and backward passes beyond the `nn::Graph` and `model::Model` interfaces.

use serde::{Deserialize, Serialize};

use crate::encode::Window;
use crate::model::{Model, PredictOptions};
use crate::nn::{Graph, Mode, Tensor};

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
    fn weights(&self, k: usize) -> Result<Vec<f32>, crate::nn::Error> {
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
}

/// Gradient-based attribution methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// d target / d input.
    Gradient,
    /// The gradient times the (one-hot) input: the contribution of each observed base.
    GradientTimesInput,
}

/// Attribution maps `[batch, channels, length]` for one-hot inputs `x` of an engine graph
/// (evaluation mode: batch norm uses running statistics, dropout is off).
pub fn saliency(
    graph: &mut Graph,
    x: &Tensor,
    target: &Target,
    method: Method,
) -> Result<Tensor, crate::nn::Error> {
    let tape = graph.forward(x.clone(), Mode::Eval)?;
    let out = tape.output();
    let k = out.per_item();
    let w = target.weights(k)?;
    let dy = Tensor::new(&out.shape, (0..out.len()).map(|i| w[i % k]).collect())?;
    graph.zero_grad();
    let mut dx = graph.backward(&tape, dy)?;
    graph.zero_grad();
    if method == Method::GradientTimesInput {
        dx.data.iter_mut().zip(&x.data).for_each(|(g, v)| *g *= v);
    }
    Ok(dx)
}

/// Per-base scores from an attribution map `[channels, length]`: the sum over channels.
pub fn per_base(map: &[f32], channels: usize) -> Vec<f32> {
    let l = map.len() / channels.max(1);
    (0..l)
        .map(|t| (0..channels).map(|c| map[c * l + t]).sum())
        .collect()
}

/// Saturation mutagenesis of one window.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ism {
    /// The prediction for the unmutated window, one value per label.
    pub reference: Vec<f32>,
    /// `[length, channels, labels]`: prediction(mutant) - reference; 0 for the reference base.
    pub delta: Vec<f32>,
    pub length: usize,
    pub channels: usize,
    pub labels: usize,
}

/// Predicts every single-base substitution of `window` (skipping the base already there) in
/// batches, with any model. Positions holding a character outside the alphabet get every
/// symbol as a mutant.
pub fn ism(model: &Model, window: &Window, opts: &PredictOptions) -> Result<Ism, crate::Error> {
    let symbols = model.metadata().alphabet.symbols();
    let c = symbols.len();
    let l = window.seq.len();
    let mut mutants = vec![window.clone()];
    let mut slots = Vec::new();
    for t in 0..l {
        for (ci, &s) in symbols.iter().enumerate() {
            if window.seq[t].eq_ignore_ascii_case(&s) {
                continue;
            }
            let mut m = window.clone();
            m.seq[t] = s;
            m.id = format!("{}:{t}{}", window.id, s as char);
            mutants.push(m);
            slots.push(t * c + ci);
        }
    }
    let p = model.predict_windows(mutants, opts, &mut |_, _| true)?;
    let k = p.shape[1];
    let reference = p.row(0).to_vec();
    let mut delta = vec![0.0; l * c * k];
    for (j, &slot) in slots.iter().enumerate() {
        for (o, (v, r)) in p.row(j + 1).iter().zip(&reference).enumerate() {
            delta[slot * k + o] = v - r;
        }
    }
    Ok(Ism {
        reference,
        delta,
        length: l,
        channels: c,
        labels: k,
    })
}
