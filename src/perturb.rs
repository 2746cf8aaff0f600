//! In-silico experiments on sequences (tangermeme's `marginalize` and `space`): substitute
//! motifs into background sequences and compare the model's predictions before and after.
//!
//! A motif is written over the background base by base; an `N` in the motif keeps the
//! background's base there (as tangermeme's `substitute`). By default a motif, or an
//! arrangement of motifs and the gaps between them, is centred as tangermeme centres it:
//! it starts at `length / 2 - span / 2`.
//!
//! This module owns the experiments; the model runs them through `model::Model` on its
//! selected backend.

use serde::Serialize;

use crate::encode::Window;
use crate::model::{Model, PredictOptions};

/// Predictions of backgrounds before and after a perturbation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Perturbation {
    /// The backgrounds' ids.
    pub ids: Vec<String>,
    /// The model's output labels.
    pub labels: Vec<String>,
    /// `[backgrounds, labels]`: predictions of the backgrounds as they are.
    pub before: Vec<f32>,
    /// The arrangements tried (one for `marginalize`; one per spacing for `space`), each
    /// the gaps between consecutive motifs.
    pub spacings: Vec<Vec<usize>>,
    /// `[backgrounds, spacings, labels]`: predictions with the motifs substituted in.
    pub after: Vec<f32>,
}

impl Perturbation {
    /// The mean effect (`after - before`) over the backgrounds, `[spacings, labels]`.
    pub fn mean_effect(&self) -> Vec<f32> {
        let (n, s, k) = (self.ids.len(), self.spacings.len(), self.labels.len());
        let mut out = vec![0.0f32; s * k];
        for b in 0..n {
            for (j, o) in out.iter_mut().enumerate() {
                *o += (self.after[(b * s) * k + j] - self.before[b * k + j % k]) / n as f32;
            }
        }
        out
    }
}

/// `seq` with `motif` written from `start` (an `N` in the motif keeps the base under it).
pub fn substitute(seq: &[u8], motif: &[u8], start: usize) -> Result<Vec<u8>, crate::Error> {
    if motif.is_empty() || start + motif.len() > seq.len() {
        return Err(crate::Error::Invalid(format!(
            "a motif of {} bases at {start} does not fit in {} bases",
            motif.len(),
            seq.len()
        )));
    }
    let mut out = seq.to_vec();
    for (o, &m) in out[start..].iter_mut().zip(motif) {
        if !m.eq_ignore_ascii_case(&b'N') {
            *o = m;
        }
    }
    Ok(out)
}

/// `seq` with `motifs` written one after another, `spacing[i]` bases between motif `i`'s end
/// and motif `i + 1`'s start, from `start` or centred (tangermeme's `multisubstitute`).
pub fn multisubstitute(
    seq: &[u8],
    motifs: &[Vec<u8>],
    spacing: &[usize],
    start: Option<usize>,
) -> Result<Vec<u8>, crate::Error> {
    if motifs.is_empty() || spacing.len() + 1 != motifs.len() {
        return Err(crate::Error::Invalid(format!(
            "{} motifs need {} spacings; got {}",
            motifs.len(),
            motifs.len().saturating_sub(1),
            spacing.len()
        )));
    }
    let span: usize = spacing.iter().sum::<usize>() + motifs.iter().map(Vec::len).sum::<usize>();
    let mut at = match start {
        Some(s) => s,
        None => (seq.len() / 2).checked_sub(span / 2).ok_or_else(|| {
            crate::Error::Invalid(format!(
                "the motifs and their spacing span {span} bases; the sequence has {}",
                seq.len()
            ))
        })?,
    };
    let mut out = seq.to_vec();
    for (i, m) in motifs.iter().enumerate() {
        out = substitute(&out, m, at)?;
        at += m.len() + spacing.get(i).copied().unwrap_or(0);
    }
    Ok(out)
}

/// Predicts `backgrounds` (fitted to the model's length as predictions are) as they are and
/// with `motifs` substituted in, once per arrangement of `spacings` (each the gaps between
/// consecutive motifs), from `start` or centred. One motif with one empty spacing is
/// tangermeme's `marginalize`; several are its `space`. Async so that a GPU's readbacks are
/// awaited in the browser; natively, `seqlens::blocking::block_on` runs it.
pub async fn space(
    model: &Model,
    backgrounds: &[crate::io::SeqRecord],
    motifs: &[Vec<u8>],
    spacings: &[Vec<usize>],
    start: Option<usize>,
    opts: &PredictOptions,
) -> Result<Perturbation, crate::Error> {
    if spacings.is_empty() {
        return Err(crate::Error::Invalid("no spacing to try".into()));
    }
    let windows = model.windows(backgrounds, opts)?;
    let mut edited = Vec::with_capacity(windows.len() * spacings.len());
    for w in &windows {
        for s in spacings {
            let seq = multisubstitute(&w.seq, motifs, s, start)
                .map_err(|e| crate::Error::Invalid(format!("'{}': {e}", w.id)))?;
            edited.push(Window {
                id: w.id.clone(),
                chrom: w.chrom.clone(),
                start: w.start,
                end: w.end,
                seq,
            });
        }
    }
    let ids = windows.iter().map(|w| w.id.clone()).collect();
    let before = model
        .predict_windows_async(windows, opts, &mut |_, _| true)
        .await?;
    let after = model
        .predict_windows_async(edited, opts, &mut |_, _| true)
        .await?;
    Ok(Perturbation {
        ids,
        labels: before.labels,
        before: before.values,
        spacings: spacings.to_vec(),
        after: after.values,
    })
}

/// [`space`] with one motif: tangermeme's `marginalize`.
pub async fn marginalize(
    model: &Model,
    backgrounds: &[crate::io::SeqRecord],
    motif: &[u8],
    start: Option<usize>,
    opts: &PredictOptions,
) -> Result<Perturbation, crate::Error> {
    space(
        model,
        backgrounds,
        &[motif.to_vec()],
        &[Vec::new()],
        start,
        opts,
    )
    .await
}

/// The table `seqlens marginalize` writes: id, spacing (the gaps, comma-separated; empty
/// for one motif), label, before, after, effect.
pub fn to_tsv(p: &Perturbation) -> String {
    let (s, k) = (p.spacings.len(), p.labels.len());
    let mut text = String::from("id\tspacing\tlabel\tbefore\tafter\teffect\n");
    for (b, id) in p.ids.iter().enumerate() {
        for (j, gaps) in p.spacings.iter().enumerate() {
            let gaps: Vec<String> = gaps.iter().map(usize::to_string).collect();
            for (c, label) in p.labels.iter().enumerate() {
                let (before, after) = (p.before[b * k + c], p.after[(b * s + j) * k + c]);
                text.push_str(&format!(
                    "{id}\t{}\t{label}\t{before}\t{after}\t{}\n",
                    gaps.join(","),
                    after - before
                ));
            }
        }
    }
    text
}
