//! Per-position (profile) predictions: models whose output is `[batch, classes, positions]`
//! (SpliceAI's acceptor/donor probabilities per base, BPNet's profiles), described by
//! `seqlens.output = profile` with its `offset` and `context`.
//!
//! A record is cut into windows whose outputs tile it exactly, each window carrying the
//! context the model needs on both sides (N beyond the record's ends), so every base of the
//! record gets one value per class, however long the record is.

use serde::Serialize;

use super::{Error, Model, Output, PredictOptions, backend};
use crate::encode::Window;
use crate::io::SeqRecord;

/// Output positions per window for a model that takes any length: long enough that the
/// context is a small share of the work, short enough that activations stay small.
pub const PROFILE_WINDOW_POSITIONS: usize = 32_768;

/// One window's profile: `values` is `[classes, positions]`, and position `j` describes base
/// `start + j` of `chrom` (0-based).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Track {
    /// The window's name.
    pub id: String,
    /// The record it was cut from.
    pub chrom: String,
    /// The base of position 0 (0-based, in `chrom`).
    pub start: i64,
    /// Positions per class.
    pub positions: usize,
    /// `[classes, positions]`, row-major.
    pub values: Vec<f32>,
}

impl Track {
    /// The values of class `c`, one per position.
    pub fn class(&self, c: usize) -> &[f32] {
        &self.values[c * self.positions..(c + 1) * self.positions]
    }

    /// How many of its positions lie before `end` (its record's end: a window of fixed
    /// length may predict past it, into the padding).
    pub fn positions_before(&self, end: i64) -> usize {
        (end - self.start).clamp(0, self.positions as i64) as usize
    }
}

/// Profile predictions: one track per window, in record order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Profiles {
    /// One name per class.
    pub labels: Vec<String>,
    /// One per window, in record order.
    pub tracks: Vec<Track>,
}

/// BPNet's predicted counts from its outputs, `values` = the profile's logits then the log
/// total count: the softmax over all the logits (every class and position: one multinomial
/// over both strands, as bpnet-lite) times `exp(log count)`.
fn expected_counts(values: &[f32]) -> Vec<f32> {
    let (logits, log_total) = values.split_at(values.len() - 1);
    let m = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f64 = logits.iter().map(|&v| ((v - m) as f64).exp()).sum();
    let total = (log_total[0] as f64).exp();
    logits
        .iter()
        .map(|&v| (((v - m) as f64).exp() / sum * total) as f32)
        .collect()
}

/// [`Model::predict_substitutions`]' result: the reference track over all positions, and
/// each substitution's `[classes, positions]` over its own output positions.
pub type Substituted = (Track, Vec<Vec<f32>>);

impl Model {
    /// The profile geometry `(offset, context)`, or an error for a model that predicts one
    /// vector per sequence.
    pub fn profile(&self) -> Result<(usize, usize), Error> {
        match self.info.metadata.output {
            Output::Profile {
                offset, context, ..
            } => Ok((offset, context)),
            Output::Values => Err(Error::Options(
                "this model predicts one vector per sequence, not a profile per position".into(),
            )),
        }
    }

    /// Windows whose outputs cover every base of each record once, in order: the model's
    /// length where it has one, otherwise up to [`PROFILE_WINDOW_POSITIONS`] outputs each.
    /// Context past a record's ends is `N`, so window coordinates may lie outside it.
    pub fn profile_windows(
        &self,
        records: &[SeqRecord],
        opts: &PredictOptions,
    ) -> Result<Vec<Window>, Error> {
        let mut out = Vec::new();
        for r in records {
            out.extend(self.record_profile_windows(r, 0, r.seq.len() as i64, opts)?);
        }
        Ok(out)
    }

    /// Windows whose outputs cover bases `start..end` of one record (as
    /// [`Model::profile_windows`] cuts them, `N` past the record's ends), cut as they are
    /// taken: a chromosome never holds more windows than its caller keeps.
    pub fn record_profile_windows<'a>(
        &self,
        record: &'a SeqRecord,
        start: i64,
        end: i64,
        opts: &PredictOptions,
    ) -> Result<impl Iterator<Item = Window> + use<'a>, Error> {
        let pad = self.info.metadata.alphabet.wildcard();
        let r = record;
        if r.seq.is_empty() {
            return Err(Error::Input(format!("sequence '{}' is empty", r.id)));
        }
        self.encoder(opts.unknown).check(&r.id, &r.seq)?;
        Ok(self
            .profile_spans(start, end)?
            .map(move |(from, to)| Window {
                id: r.id.clone(),
                chrom: r.id.clone(),
                start: from,
                end: to,
                seq: (from..to)
                    .map(|i| {
                        usize::try_from(i)
                            .ok()
                            .and_then(|i| r.seq.get(i).copied())
                            .unwrap_or(pad)
                    })
                    .collect(),
            }))
    }

    /// Windows whose outputs cover positions `start..end` of `chrom` once, in order, with
    /// their input read by `fetch(from, to)` (0-based, half-open; it supplies the context
    /// on both sides, e.g. from an indexed genome, N past the contig's ends). Windows are
    /// read as they are taken.
    pub fn profile_windows_over<'a, E>(
        &self,
        id: &'a str,
        chrom: &'a str,
        start: i64,
        end: i64,
        mut fetch: impl FnMut(i64, i64) -> Result<Vec<u8>, E> + 'a,
    ) -> Result<impl Iterator<Item = Result<Window, E>> + 'a, Error> {
        Ok(self.profile_spans(start, end)?.map(move |(from, to)| {
            Ok(Window {
                id: id.to_string(),
                chrom: chrom.to_string(),
                start: from,
                end: to,
                seq: fetch(from, to)?,
            })
        }))
    }

    /// The input spans `(from, to)` of the windows whose outputs cover `start..end` once, in
    /// order: the model's length where it has one, otherwise up to
    /// [`PROFILE_WINDOW_POSITIONS`] outputs each.
    fn profile_spans(
        &self,
        start: i64,
        end: i64,
    ) -> Result<impl Iterator<Item = (i64, i64)> + use<>, Error> {
        let (offset, context) = self.profile()?;
        let fixed = self.info.metadata.length.is_some();
        let per_window = match self.info.metadata.length {
            Some(l) => self.info.metadata.output.positions(l).ok_or_else(|| {
                Error::Options(format!(
                    "the model's length {l} leaves no output positions after its context {context}"
                ))
            })?,
            None => PROFILE_WINDOW_POSITIONS,
        } as i64;
        let mut first = start;
        Ok(std::iter::from_fn(move || {
            if first >= end {
                return None;
            }
            let positions = if fixed {
                per_window
            } else {
                per_window.min(end - first)
            };
            let from = first - offset as i64;
            first += positions;
            Some((from, from + positions + context as i64))
        }))
    }

    /// Profiles for `records`: one track per base of each record (see
    /// [`Model::profile_windows`]), on the selected backend, blocking (native only; the
    /// browser awaits [`Model::predict_profiles_async`]).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn predict_profiles(
        &self,
        records: &[SeqRecord],
        opts: &PredictOptions,
    ) -> Result<Profiles, Error> {
        let windows = self.profile_windows(records, opts)?;
        self.predict_profile_windows(&windows, opts, &mut |_, _| true)
    }

    /// Profiles for windows already cut (see [`Model::profile_windows`]), on the selected
    /// backend, blocking (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn predict_profile_windows(
        &self,
        windows: &[Window],
        opts: &PredictOptions,
        progress: &mut dyn FnMut(usize, usize) -> bool,
    ) -> Result<Profiles, Error> {
        crate::blocking::block_on(self.predict_profiles_async(windows, opts, progress))
    }

    /// Whether [`Model::predict_substitutions`] can run: the model runs on the CPU engine,
    /// and its profile is its only output.
    pub fn runs_substitutions(&self) -> bool {
        matches!(self.runner, backend::Runner::Engine) && !self.scales_by_count()
    }

    /// Whether the profile is logits scaled by a count output (`seqlens.counts`).
    fn scales_by_count(&self) -> bool {
        matches!(
            self.info.metadata.output,
            Output::Profile {
                log_total: true,
                ..
            }
        )
    }

    /// Profiles of `window` and of `window` with each substitution in place (bases
    /// `subs[i].1` from position `subs[i].0` of the window, replacing as many bases), the
    /// latter over output positions `subs[i].2` only: computed on the CPU engine by
    /// re-evaluating only what each substitution can change (see `nn::Graph::predict_edits`),
    /// with the same numbers as predicting each substituted window. Returns the reference
    /// track over all positions and each substitution's `[classes, positions]`; `None` when
    /// the model does not run on the engine.
    pub fn predict_substitutions(
        &self,
        window: &Window,
        subs: &[(usize, Vec<u8>, (usize, usize))],
        opts: &PredictOptions,
    ) -> Result<Option<Substituted>, Error> {
        if !self.runs_substitutions() {
            return Ok(None);
        }
        let graph = self.engine_for("substitutions")?;
        let (offset, context) = self.profile()?;
        let meta = &self.info.metadata;
        let encoder = self.encoder(opts.unknown);
        let len = window.seq.len();
        let positions = meta.output.positions(len).ok_or_else(|| {
            Error::Input(format!(
                "'{}' has {len} bases; the model needs more than its context of {context}",
                window.id
            ))
        })?;
        let x = encoder.encode(&window.id, &window.seq, meta.layout)?;
        let x = crate::nn::Tensor::new(&[1, encoder.channels(), len], x)
            .map_err(|e| Error::Run(e.to_string()))?;
        let edits = subs
            .iter()
            .map(|(at, bases, out)| {
                Ok(crate::nn::Edit {
                    start: *at,
                    len: bases.len(),
                    columns: encoder.encode(&window.id, bases, meta.layout)?,
                    out: *out,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let (reference, edited) = graph
            .predict_edits(&x, (0, positions), &edits)
            .map_err(|e| Error::Run(e.to_string()))?;
        Ok(Some((
            Track {
                id: window.id.clone(),
                chrom: window.chrom.clone(),
                start: window.start + offset as i64,
                positions,
                values: reference.data,
            },
            edited.into_iter().map(|t| t.data).collect(),
        )))
    }

    /// [`Model::predict_profiles`] for windows already cut, awaiting the GPU's readbacks.
    /// `progress(done, total)` follows every batch; returning `false` cancels.
    pub async fn predict_profiles_async(
        &self,
        windows: &[Window],
        opts: &PredictOptions,
        progress: &mut dyn FnMut(usize, usize) -> bool,
    ) -> Result<Profiles, Error> {
        let (offset, context) = self.profile()?;
        let classes = self.info.metadata.labels.len();
        let scaled = self.scales_by_count();
        let mut tracks = Vec::with_capacity(windows.len());
        self.run_windows(windows, opts, progress, &mut |chunk, rows| {
            let per = rows.len() / chunk.len();
            for (w, values) in chunk.iter().zip(rows.chunks(per.max(1))) {
                let positions = w.seq.len().saturating_sub(context);
                let want = classes * positions + usize::from(scaled);
                if values.len() != want {
                    return Err(Error::Run(format!(
                        "the model returned {} values for '{}' ({} bases); a profile of {classes} classes expects {want}",
                        values.len(),
                        w.id,
                        w.seq.len(),
                    )));
                }
                tracks.push(Track {
                    id: w.id.clone(),
                    chrom: w.chrom.clone(),
                    start: w.start + offset as i64,
                    positions,
                    values: if scaled {
                        expected_counts(values)
                    } else {
                        values.to_vec()
                    },
                });
            }
            Ok(())
        })
        .await?;
        Ok(Profiles {
            labels: self.info.metadata.labels.clone(),
            tracks,
        })
    }
}
