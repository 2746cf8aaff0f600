//! Seqlets: short spans of high attribution, called with tangermeme's recursive seqlet
//! algorithm (`recursive_seqlets`), with the same parameters, p-values and order.
//!
//! Every attribution value of every track is put in one of `bins` equal-width bins between
//! the smallest and the largest value. Treating positions as independent draws from that
//! histogram, the distribution of a span's summed bins is the histogram convolved with
//! itself once per extra position; its upper tail is a span's p-value. A seqlet is a span
//! whose every inner span of at least `min_len` positions has a p-value below `threshold`.
//! Candidates are taken longest first and, within a length, by p-value; a candidate that
//! overlaps an earlier seqlet of the same track is dropped.
//!
//! As in tangermeme, only positive seqlets are called: call negative ones on the negated
//! tracks. The p-values rank spans; they are not error rates (neighbouring attributions are
//! not independent).

use serde::{Deserialize, Serialize};

/// The recursive seqlet caller's settings (tangermeme's defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct SeqletOptions {
    /// The p-value every inner span must stay below.
    pub threshold: f64,
    /// The shortest seqlet, and the shortest inner span tested.
    pub min_len: usize,
    /// The longest seqlet.
    pub max_len: usize,
    /// Positions added on each side of a called seqlet (after calling; clipped to the
    /// track).
    pub flank: usize,
    /// Histogram bins.
    pub bins: usize,
    /// Call negative seqlets instead: on the negated tracks, as tangermeme advises (the
    /// attributions reported stay negative).
    pub negative: bool,
}

impl Default for SeqletOptions {
    fn default() -> SeqletOptions {
        SeqletOptions {
            threshold: 0.01,
            min_len: 4,
            max_len: 25,
            flank: 0,
            bins: 1000,
            negative: false,
        }
    }
}

/// One called seqlet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Seqlet {
    /// The track it is in (index into the tracks given).
    pub track: usize,
    /// Its first position (0-based, flank included).
    pub start: usize,
    /// One past its last position.
    pub end: usize,
    /// The sum of the track's attributions over `start..end`.
    pub attribution: f64,
    /// The p-value of the span as called (without flanks).
    pub p_value: f64,
}

/// Runs `f` compiled for the widest vectors the CPU has (AVX-512 or AVX2, chosen at run
/// time); wasm builds have simd128 throughout.
fn widest_vectors<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(not(target_arch = "wasm32"))]
    return pulp::Arch::new().dispatch(f);
    #[cfg(target_arch = "wasm32")]
    f()
}

/// The per-length upper-tail tables of summed bins: `rcdf[len][s]` is the probability that
/// `len` independent draws sum to at least `s` bins.
struct Null {
    xmin: f32,
    width: f64,
    bins: usize,
    rcdf: Vec<Vec<f64>>,
}

impl Null {
    fn new(tracks: &[&[f32]], max_len: usize, bins: usize) -> Option<Null> {
        let values = tracks.iter().flat_map(|t| t.iter());
        let (xmin, xmax) = values
            .clone()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        if xmax == xmin {
            // Every span of a constant input has the same sum: none stands out.
            return None;
        }
        // As tangermeme: the range in the tracks' precision, the width in f64.
        let width = (xmax - xmin) as f64 / (bins - 1) as f64;
        let mut null = Null {
            xmin,
            width,
            bins,
            rcdf: Vec::with_capacity(max_len + 1),
        };
        let mut f = vec![0.0f64; bins];
        let mut count = 0usize;
        for &v in values {
            f[null.bin(v)] += 1.0;
            count += 1;
        }
        f.iter_mut().for_each(|p| *p /= count as f64);
        let nonzero: Vec<(usize, f64)> = f
            .iter()
            .enumerate()
            .filter(|(_, p)| **p != 0.0)
            .map(|(j, &p)| (j, p))
            .collect();
        null.rcdf.push(vec![1.0]);
        let mut pdf = f.clone();
        for len in 1..=max_len {
            if len > 1 {
                // One more independent position: convolve with the histogram, one shifted
                // copy of the previous distribution per nonzero bin (long contiguous slices,
                // which vectorise). tangermeme sums each output in the other order; the
                // terms are nonnegative, so the two differ by rounding only (relative 1e-13).
                let mut next = vec![0.0f64; pdf.len() + bins - 1];
                let convolve = || {
                    for &(j, b) in &nonzero {
                        let out = &mut next[j..j + pdf.len()];
                        out.iter_mut().zip(&pdf).for_each(|(o, &a)| *o += a * b);
                    }
                };
                widest_vectors(convolve);
                pdf = next;
            }
            let mut tail = vec![0.0f64; pdf.len() + 1];
            for s in (0..pdf.len()).rev() {
                tail[s] = tail[s + 1] + pdf[s];
            }
            null.rcdf.push(tail);
        }
        Some(null)
    }

    fn bin(&self, v: f32) -> usize {
        let b = (((v - self.xmin) as f64) / self.width).floor();
        b.clamp(0.0, (self.bins - 1) as f64) as usize
    }

    fn p_value(&self, len: usize, summed: usize) -> f64 {
        self.rcdf[len].get(summed).copied().unwrap_or(0.0).max(0.0)
    }
}

/// Calls seqlets on per-position attribution `tracks` (the observed bases' contributions;
/// tracks may differ in length), pooled into one null as tangermeme pools its batch.
/// Ordered by p-value (ties in the order they were called).
pub fn recursive_seqlets<T: AsRef<[f32]>>(
    tracks: &[T],
    opts: &SeqletOptions,
) -> Result<Vec<Seqlet>, crate::Error> {
    let tracks: Vec<&[f32]> = tracks.iter().map(AsRef::as_ref).collect();
    let SeqletOptions {
        threshold,
        min_len,
        max_len,
        bins,
        ..
    } = *opts;
    if min_len < 1 || min_len > max_len || bins < 2 || threshold.is_nan() || threshold > 1.0 {
        return Err(crate::Error::Invalid(format!(
            "seqlet settings: need 1 <= min length ({min_len}) <= max length ({max_len}), at \
             least 2 bins ({bins}), and a p-value threshold of at most 1 ({threshold})"
        )));
    }
    if let Some((t, p)) = tracks
        .iter()
        .enumerate()
        .find_map(|(t, track)| track.iter().position(|v| !v.is_finite()).map(|p| (t, p)))
    {
        return Err(crate::Error::Invalid(format!(
            "track {t}: attribution at position {p} is not a finite number"
        )));
    }
    if tracks.iter().all(|t| t.is_empty()) {
        return Err(crate::Error::Invalid(
            "no attributions to call seqlets on".into(),
        ));
    }
    let negated: Vec<Vec<f32>>;
    let tracks: Vec<&[f32]> = if opts.negative {
        negated = tracks
            .iter()
            .map(|t| t.iter().map(|v| -v).collect())
            .collect();
        negated.iter().map(Vec::as_slice).collect()
    } else {
        tracks
    };
    let Some(null) = Null::new(&tracks, max_len, bins) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (t, track) in tracks.iter().enumerate() {
        call_track(t, track, &null, opts, &mut out);
    }
    if opts.negative {
        out.iter_mut().for_each(|s| s.attribution = -s.attribution);
    }
    // Stable: equal p-values keep the order they were called in.
    out.sort_by(|a, b| a.p_value.total_cmp(&b.p_value));
    Ok(out)
}

/// The seqlets of one track, appended to `out` in the order they are called.
fn call_track(t: usize, track: &[f32], null: &Null, opts: &SeqletOptions, out: &mut Vec<Seqlet>) {
    let l = track.len();
    let (min_len, max_len) = (opts.min_len, opts.max_len);
    if l < min_len {
        return;
    }
    let mut bin_sum = vec![0usize; l + 1];
    let mut sum = vec![0.0f64; l + 1];
    for (j, &v) in track.iter().enumerate() {
        bin_sum[j + 1] = bin_sum[j] + null.bin(v);
        sum[j + 1] = sum[j] + v as f64;
    }
    let span = |k: usize, len: usize| bin_sum[k + len] - bin_sum[k];
    // Per length (shortest first), the candidate starts whose every inner span passes: `p`
    // is the largest p-value of the spans sharing the start, `q` of all inner spans.
    let mut by_len: Vec<Vec<(f64, usize)>> = Vec::with_capacity(max_len - min_len + 1);
    let mut prev: Vec<(usize, f64, f64)> = Vec::new();
    for len in min_len..=max_len.min(l) {
        let mut cur = Vec::new();
        if len == min_len {
            for k in 0..=l - len {
                let p = null.p_value(len, span(k, len));
                if p < opts.threshold {
                    cur.push((k, p, p));
                }
            }
        } else {
            for w in prev.windows(2) {
                let ((k, p_prev, _), (k_next, _, q_next)) = (w[0], w[1]);
                if k_next != k + 1 || k + len > l {
                    continue;
                }
                let p = null.p_value(len, span(k, len)).max(p_prev);
                let q = p.max(q_next);
                if q < opts.threshold {
                    cur.push((k, p, q));
                }
            }
        }
        let mut ranked: Vec<(f64, usize)> = cur.iter().map(|&(k, p, _)| (p, k)).collect();
        ranked.sort_by(|a, b| a.0.total_cmp(&b.0));
        by_len.push(ranked);
        prev = cur;
    }
    let mut called = vec![false; l];
    for (i, ranked) in by_len.iter().enumerate().rev() {
        let len = min_len + i;
        for &(_, start) in ranked {
            if called[start..start + len].iter().any(|&c| c) {
                continue;
            }
            called[start..start + len]
                .iter_mut()
                .for_each(|c| *c = true);
            let p_value = null.p_value(len, span(start, len));
            let (s, e) = (
                start.saturating_sub(opts.flank),
                (start + len + opts.flank).min(l),
            );
            out.push(Seqlet {
                track: t,
                start: s,
                end: e,
                attribution: sum[e] - sum[s],
                p_value,
            });
        }
    }
}
