//! Saturation mutagenesis through any model: every single-base substitution is predicted.

use serde::Serialize;

use crate::encode::Window;
use crate::model::{Model, PredictOptions};

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

impl Ism {
    /// The effect of substituting symbol `ch` at position `t`, combined over `target`.
    pub fn effect(&self, t: usize, ch: usize, weights: &[f32]) -> f32 {
        let at = (t * self.channels + ch) * self.labels;
        self.delta[at..at + self.labels]
            .iter()
            .zip(weights)
            .map(|(d, w)| d * w)
            .sum()
    }

    /// Per-base score under the usual ISM convention: the mean effect of mutating the base
    /// away, negated (positive where the observed base raises the target).
    pub fn per_base(&self, weights: &[f32]) -> Vec<f32> {
        let c = self.channels;
        (0..self.length)
            .map(|t| -(0..c).map(|ch| self.effect(t, ch, weights)).sum::<f32>() / (c - 1) as f32)
            .collect()
    }
}

/// Which substitutions a window gets: every symbol except the one already there (a
/// position holding a character outside the alphabet gets every symbol). Returns
/// `(position, symbol index)` pairs in order.
pub(crate) fn substitutions(seq: &[u8], symbols: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(seq.len() * symbols.len());
    for (t, b) in seq.iter().enumerate() {
        for (ci, s) in symbols.iter().enumerate() {
            if !b.eq_ignore_ascii_case(s) {
                out.push((t, ci));
            }
        }
    }
    out
}

/// Predicts every single-base substitution of `window` in batches, with any model.
/// `progress(done, total)` is called between batches; returning `false` cancels the run.
pub fn ism(
    model: &Model,
    window: &Window,
    opts: &PredictOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Ism, crate::Error> {
    let gpu = crate::model::backend::SYNC_GPU;
    crate::model::backend::complete(ism_on(model, window, opts, progress, gpu))
}

/// [`ism`] on the model's selected backend, awaiting GPU readbacks (the browser's path).
pub async fn ism_async(
    model: &Model,
    window: &Window,
    opts: &PredictOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Ism, crate::Error> {
    ism_on(model, window, opts, progress, true).await
}

pub(crate) async fn ism_on(
    model: &Model,
    window: &Window,
    opts: &PredictOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
    gpu: bool,
) -> Result<Ism, crate::Error> {
    let symbols = model.metadata().alphabet.symbols();
    let c = symbols.len();
    let l = window.seq.len();
    let subs = substitutions(&window.seq, symbols);
    let mut mutants = Vec::with_capacity(subs.len() + 1);
    mutants.push(window.clone());
    for &(t, ci) in &subs {
        let mut m = window.clone();
        m.seq[t] = symbols[ci];
        m.id = format!("{}:{t}{}", window.id, symbols[ci] as char);
        mutants.push(m);
    }
    let p = model
        .predict_windows_on(mutants, opts, progress, gpu)
        .await?;
    let k = p.shape[1];
    let reference = p.row(0).to_vec();
    let mut delta = vec![0.0; l * c * k];
    for (j, &(t, ci)) in subs.iter().enumerate() {
        let at = (t * c + ci) * k;
        for (o, (v, r)) in p.row(j + 1).iter().zip(&reference).enumerate() {
            delta[at + o] = v - r;
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
