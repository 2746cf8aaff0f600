//! In-silico experiments on sequences (tangermeme's `marginalize`, `space` and `ablate`):
//! substitute motifs into background sequences, or shuffle a region of each sequence away, and
//! compare the model's predictions before and after.
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
        mean_effect(
            &self.before,
            &self.after,
            self.ids.len(),
            self.spacings.len(),
        )
    }
}

/// Predictions of sequences before and after a region of each is shuffled (tangermeme's
/// `ablate`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ablation {
    /// The sequences' ids.
    pub ids: Vec<String>,
    /// The model's output labels.
    pub labels: Vec<String>,
    /// `[sequences, labels]`: predictions of the sequences as they are.
    pub before: Vec<f32>,
    /// How many shuffles of the region each sequence got.
    pub shuffles: usize,
    /// `[sequences, shuffles, labels]`: predictions with the region shuffled.
    pub after: Vec<f32>,
}

impl Ablation {
    /// The mean effect (`after - before`) over the sequences and their shuffles, per label.
    pub fn mean_effect(&self) -> Vec<f32> {
        let k = self.labels.len();
        let per_shuffle = mean_effect(&self.before, &self.after, self.ids.len(), self.shuffles);
        (0..k)
            .map(|c| {
                (0..self.shuffles)
                    .map(|j| per_shuffle[j * k + c])
                    .sum::<f32>()
                    / self.shuffles.max(1) as f32
            })
            .collect()
    }
}

/// The mean of `after - before` over `n` sequences: `before` is `[n, labels]`, `after`
/// `[n, variants, labels]`; the result is `[variants, labels]`.
fn mean_effect(before: &[f32], after: &[f32], n: usize, variants: usize) -> Vec<f32> {
    let k = before.len().checked_div(n).unwrap_or(0);
    let mut out = vec![0.0f32; variants * k];
    for b in 0..n {
        for (j, o) in out.iter_mut().enumerate() {
            *o += (after[(b * variants) * k + j] - before[b * k + j % k]) / n as f32;
        }
    }
    out
}

/// How an ablated region is shuffled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shuffle {
    /// A uniform permutation of its bases (tangermeme's default, `ersatz.shuffle`).
    Bases,
    /// The Altschul-Erickson shuffle, which keeps its dinucleotide counts
    /// (`ersatz.dinucleotide_shuffle`).
    Dinucleotides,
}

/// `n` copies of `seq` with `region` shuffled, drawing from `rng` in order.
pub fn shuffled_region(
    seq: &[u8],
    region: &std::ops::Range<usize>,
    n: usize,
    how: Shuffle,
    rng: &mut crate::nn::Rng,
) -> Result<Vec<Vec<u8>>, crate::Error> {
    use rand::seq::SliceRandom;
    if region.is_empty() || region.end > seq.len() {
        return Err(crate::Error::Invalid(format!(
            "region {}-{} is not inside the window's {} bases",
            region.start,
            region.end,
            seq.len()
        )));
    }
    Ok((0..n)
        .map(|_| {
            let mut out = seq.to_vec();
            let part = &mut out[region.clone()];
            match how {
                Shuffle::Bases => part.shuffle(rng),
                Shuffle::Dinucleotides => {
                    let s = crate::attrib::dinucleotide_shuffle(part, rng);
                    part.copy_from_slice(&s);
                }
            }
            out
        })
        .collect())
}

/// Predicts `records` (fitted to the model's length as predictions are) as they are and with
/// positions `region` of each window shuffled `shuffles` times (seeded): tangermeme's `ablate`.
pub async fn ablate(
    model: &Model,
    records: &[crate::io::SeqRecord],
    region: std::ops::Range<usize>,
    shuffles: usize,
    how: Shuffle,
    seed: u64,
    opts: &PredictOptions,
) -> Result<Ablation, crate::Error> {
    if shuffles == 0 {
        return Err(crate::Error::Invalid(
            "ablation needs at least one shuffle".into(),
        ));
    }
    let windows = model.windows(records, opts)?;
    let mut rng = crate::nn::rng(seed);
    let (ids, labels, before, after) = before_after(model, windows, opts, |w| {
        shuffled_region(&w.seq, &region, shuffles, how, &mut rng)
    })
    .await?;
    Ok(Ablation {
        ids,
        labels,
        before,
        shuffles,
        after,
    })
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
    let (ids, labels, before, after) = before_after(model, windows, opts, |w| {
        spacings
            .iter()
            .map(|s| multisubstitute(&w.seq, motifs, s, start))
            .collect()
    })
    .await?;
    Ok(Perturbation {
        ids,
        labels,
        before,
        spacings: spacings.to_vec(),
        after,
    })
}

/// Predicts `windows` as they are and each one's edited sequences (`edit`, in order):
/// the ids, the labels, the predictions before `[windows, labels]` and after
/// `[windows, edits, labels]`. An edit that fails is refused naming its window.
async fn before_after(
    model: &Model,
    windows: Vec<Window>,
    opts: &PredictOptions,
    mut edit: impl FnMut(&Window) -> Result<Vec<Vec<u8>>, crate::Error>,
) -> Result<(Vec<String>, Vec<String>, Vec<f32>, Vec<f32>), crate::Error> {
    let mut edited = Vec::new();
    for w in &windows {
        let seqs = edit(w).map_err(|e| crate::Error::Invalid(format!("'{}': {e}", w.id)))?;
        edited.extend(seqs.into_iter().map(|seq| w.with_seq(seq)));
    }
    let ids = windows.iter().map(|w| w.id.clone()).collect();
    let before = model
        .predict_windows_async(windows, opts, &mut |_, _| true)
        .await?;
    let after = model
        .predict_windows_async(edited, opts, &mut |_, _| true)
        .await?;
    Ok((ids, before.labels, before.values, after.values))
}

/// `n` dinucleotide shuffles of each record (seeded, drawn in order), named `id/shuffleK`:
/// backgrounds that keep each sequence's composition.
pub fn shuffled_backgrounds(
    records: &[crate::io::SeqRecord],
    n: usize,
    seed: u64,
) -> Result<Vec<crate::io::SeqRecord>, crate::Error> {
    if n == 0 {
        return Err(crate::Error::Invalid(
            "shuffled backgrounds need at least one shuffle per sequence".into(),
        ));
    }
    let mut rng = crate::nn::rng(seed);
    Ok(records
        .iter()
        .flat_map(|r| (1..=n).map(move |k| (r, k)))
        .map(|(r, k)| crate::io::SeqRecord {
            id: format!("{}/shuffle{k}", r.id),
            description: None,
            seq: crate::attrib::dinucleotide_shuffle(&r.seq, &mut rng),
        })
        .collect())
}

/// The arrangements [`space`] tries for `motifs` motifs: for one, the motif alone (no
/// gaps may be given); for several, each of `gaps` between every consecutive pair.
pub fn arrangements(
    motifs: usize,
    gaps: Option<&[usize]>,
) -> Result<Vec<Vec<usize>>, crate::Error> {
    match (gaps, motifs) {
        (_, 0) => Err(crate::Error::Invalid("no motif to substitute".into())),
        (None, 1) => Ok(vec![Vec::new()]),
        (Some(_), 1) => Err(crate::Error::Invalid(
            "a spacing needs two or more motifs".into(),
        )),
        (None, n) => Err(crate::Error::Invalid(format!(
            "{n} motifs need the spacings to try between them"
        ))),
        (Some([]), _) => Err(crate::Error::Invalid("no spacing to try".into())),
        (Some(g), n) => Ok(g.iter().map(|&g| vec![g; n - 1]).collect()),
    }
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
    let variants: Vec<String> = p
        .spacings
        .iter()
        .map(|g| g.iter().map(usize::to_string).collect::<Vec<_>>().join(","))
        .collect();
    table("spacing", &p.ids, &p.labels, &p.before, &p.after, &variants)
}

/// The table `seqlens ablate` writes: id, shuffle (1 to N), label, before, after, effect.
pub fn ablation_tsv(a: &Ablation) -> String {
    let variants: Vec<String> = (1..=a.shuffles).map(|j| j.to_string()).collect();
    table("shuffle", &a.ids, &a.labels, &a.before, &a.after, &variants)
}

/// id, `column`, label, before, after, effect: one row per sequence, variant and label.
fn table(
    column: &str,
    ids: &[String],
    labels: &[String],
    before: &[f32],
    after: &[f32],
    variants: &[String],
) -> String {
    let (s, k) = (variants.len(), labels.len());
    let mut text = format!("id\t{column}\tlabel\tbefore\tafter\teffect\n");
    for (b, id) in ids.iter().enumerate() {
        for (j, v) in variants.iter().enumerate() {
            for (c, label) in labels.iter().enumerate() {
                let (before, after) = (before[b * k + c], after[(b * s + j) * k + c]);
                text.push_str(&format!(
                    "{id}\t{v}\t{label}\t{before}\t{after}\t{}\n",
                    after - before
                ));
            }
        }
    }
    text
}
