//! Saturation mutagenesis through any model: every single-base substitution is predicted.

use std::ops::Range;

use serde::Serialize;

use super::ProfileTarget;

use crate::encode::Window;
use crate::model::{Model, PredictOptions};

/// Saturation mutagenesis of one window, over its positions `start..start + length`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ism {
    /// The prediction for the unmutated window, one value per label (for a profile target,
    /// the target's value).
    pub reference: Vec<f32>,
    /// `[length, channels, labels]`: prediction(mutant) - reference; 0 for the reference base.
    /// Row `t` is the window's position `start + t`.
    pub delta: Vec<f32>,
    /// The first mutated position of the window.
    pub start: usize,
    /// Positions mutated.
    pub length: usize,
    /// Symbols per position (4 for DNA).
    pub channels: usize,
    /// The model's outputs per sequence.
    pub labels: usize,
}

impl Ism {
    /// The effect of substituting symbol `ch` at position `start + t`, combined over `target`.
    pub fn effect(&self, t: usize, ch: usize, weights: &[f32]) -> f32 {
        let at = (t * self.channels + ch) * self.labels;
        self.delta[at..at + self.labels]
            .iter()
            .zip(weights)
            .map(|(d, w)| d * w)
            .sum()
    }

    /// A one-label result (a profile target's value) over positions `span`: `delta` is
    /// `[span.len(), channels]`.
    pub(crate) fn of_target(
        reference: f32,
        delta: Vec<f32>,
        span: Range<usize>,
        channels: usize,
    ) -> Ism {
        Ism {
            reference: vec![reference],
            delta,
            start: span.start,
            length: span.len(),
            channels,
            labels: 1,
        }
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

/// Which substitutions positions `span` of a window get: every symbol except the one
/// already there (a position holding a character outside the alphabet gets every symbol).
/// Returns `(position, symbol index)` pairs in order, positions counted in the window.
pub(crate) fn substitutions(
    seq: &[u8],
    symbols: &[u8],
    span: &Range<usize>,
) -> Result<Vec<(usize, usize)>, crate::Error> {
    if span.is_empty() || span.end > seq.len() {
        return Err(crate::Error::Invalid(format!(
            "positions {}..{} are not inside the window's {} bases",
            span.start,
            span.end,
            seq.len()
        )));
    }
    let mut out = Vec::with_capacity(span.len() * symbols.len());
    for t in span.clone() {
        for (ci, s) in symbols.iter().enumerate() {
            if !seq[t].eq_ignore_ascii_case(s) {
                out.push((t, ci));
            }
        }
    }
    Ok(out)
}

/// Predicts every single-base substitution of positions `span` of `window` in batches, with
/// any model, blocking (native only; the browser awaits [`ism_async`]). `progress(done,
/// total)` is called between batches; returning `false` cancels.
#[cfg(not(target_arch = "wasm32"))]
pub fn ism(
    model: &Model,
    window: &Window,
    span: Range<usize>,
    opts: &PredictOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Ism, crate::Error> {
    crate::blocking::block_on(ism_async(model, window, span, opts, progress))
}

/// `window` with symbol `ci` at position `t`.
fn mutant(window: &Window, symbols: &[u8], t: usize, ci: usize) -> Window {
    let mut m = window.clone();
    m.seq[t] = symbols[ci];
    m.id = format!("{}:{t}{}", window.id, symbols[ci] as char);
    m
}

/// [`ism`] on the model's selected backend, awaiting GPU readbacks.
pub async fn ism_async(
    model: &Model,
    window: &Window,
    span: Range<usize>,
    opts: &PredictOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Ism, crate::Error> {
    let symbols = model.metadata().alphabet.symbols();
    let c = symbols.len();
    let subs = substitutions(&window.seq, symbols, &span)?;
    let mut mutants = Vec::with_capacity(subs.len() + 1);
    mutants.push(window.clone());
    mutants.extend(subs.iter().map(|&(t, ci)| mutant(window, symbols, t, ci)));
    let p = model.predict_windows_async(mutants, opts, progress).await?;
    let k = p.shape[1];
    let reference = p.row(0).to_vec();
    let mut delta = vec![0.0; span.len() * c * k];
    for (j, &(t, ci)) in subs.iter().enumerate() {
        let at = ((t - span.start) * c + ci) * k;
        for (o, (v, r)) in p.row(j + 1).iter().zip(&reference).enumerate() {
            delta[at + o] = v - r;
        }
    }
    Ok(Ism {
        reference,
        delta,
        start: span.start,
        length: span.len(),
        channels: c,
        labels: k,
    })
}

/// Mutant windows of a profile model predicted per call: each is a whole profile, so a
/// few at a time keep the memory to a few windows' activations.
const PROFILE_MUTANTS: usize = 8;

/// Saturation mutagenesis of positions `span` of `window` for a profile model's `target`,
/// through the model as it runs (any backend): every mutant window is predicted whole and
/// reduced to the target's value at once, so memory does not grow with the number of
/// mutants. The result has one label, the target.
pub(crate) async fn profile_ism(
    model: &Model,
    window: &Window,
    span: Range<usize>,
    target: &ProfileTarget,
    opts: &PredictOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Ism, crate::Error> {
    let symbols = model.metadata().alphabet.symbols();
    let c = symbols.len();
    let subs = substitutions(&window.seq, symbols, &span)?;
    let value = |t: &crate::model::Track| target.value_in(&t.values, t.positions);
    let reference = model
        .predict_profiles_async(std::slice::from_ref(window), opts, &mut |_, _| true)
        .await?;
    let reference = value(&reference.tracks[0]);
    let mut delta = vec![0.0; span.len() * c];
    for (k, chunk) in subs.chunks(PROFILE_MUTANTS).enumerate() {
        let mutants: Vec<Window> = chunk
            .iter()
            .map(|&(t, ci)| mutant(window, symbols, t, ci))
            .collect();
        let p = model
            .predict_profiles_async(&mutants, opts, &mut |_, _| true)
            .await?;
        for (&(t, ci), track) in chunk.iter().zip(&p.tracks) {
            delta[(t - span.start) * c + ci] = value(track) - reference;
        }
        if !progress(k * PROFILE_MUTANTS + chunk.len(), subs.len()) {
            return Err(crate::Error::Invalid("cancelled".into()));
        }
    }
    Ok(Ism::of_target(reference, delta, span, c))
}
