//! TF-MoDISco-lite's seqlets: windows of high summed attribution, thresholded against a
//! Laplace null at a target false discovery rate (modisco-lite 3.0's `extract_seqlets`), and
//! split into the positive and negative metaclusters that motif discovery clusters apart.
//!
//! Each track's attributions are summed over every `window`-wide window. The windows' mode is
//! found by two rounds of a 1,000-bin histogram, a Laplace distribution is fitted to each
//! side of it from the 5th to 95th percentiles (the steepest rate), and 10,000 values are
//! drawn from that null with numpy's legacy generator seeded 1234. For each sign, an isotonic
//! regression of "real window" against the null gives a precision for every window sum; the
//! threshold is the smallest sum reaching `1 - target_fdr`. When that leaves fewer than
//! `min_passing_windows_frac` or more than `max_passing_windows_frac` of the windows, the
//! threshold becomes that quantile of the absolute sums. Seqlets are then taken greedily, the
//! highest passing window first, `flank` positions added on each side, and every window
//! within `window / 2 + flank` of it suppressed.

use super::numerics::{Isotonic, RandomState, histogram, pairwise_sum, percentile_sorted};
use crate::Error;

/// The seqlet caller's settings, modisco-lite's defaults.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct SeqletOptions {
    /// The window the attributions are summed over (`sliding_window_size`).
    pub window: usize,
    /// Positions added on each side of a window (`flank_size`); at least 1.
    pub flank: usize,
    /// The false discovery rate the thresholds aim at.
    pub target_fdr: f64,
    /// The smallest share of windows that passes.
    pub min_passing_windows_frac: f64,
    /// The largest share of windows that passes.
    pub max_passing_windows_frac: f64,
    /// The cap on the quantile that decides a seqlet's sign
    /// (`weak_threshold_for_counting_sign`).
    pub weak_threshold_for_counting_sign: f64,
}

impl Default for SeqletOptions {
    fn default() -> SeqletOptions {
        SeqletOptions {
            window: 21,
            flank: 10,
            target_fdr: 0.2,
            min_passing_windows_frac: 0.03,
            max_passing_windows_frac: 0.2,
            weak_threshold_for_counting_sign: 0.8,
        }
    }
}

/// One seqlet: positions `start..end` of a track, read on the reverse strand when
/// `revcomp` (as patterns hold them once aligned).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Seqlet {
    /// The track it is in.
    pub track: usize,
    /// Its first position (flank included).
    pub start: usize,
    /// One past its last position.
    pub end: usize,
    /// Read reverse-complemented.
    pub revcomp: bool,
}

impl Seqlet {
    /// Its length.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether it has no positions.
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// The same positions on the other strand.
    pub fn flipped(&self) -> Seqlet {
        Seqlet {
            revcomp: !self.revcomp,
            ..*self
        }
    }

    /// Positions `from..to` of it as read (on its strand).
    pub fn trimmed(&self, from: usize, to: usize) -> Seqlet {
        let (start, end) = if self.revcomp {
            (self.end - to, self.end - from)
        } else {
            (self.start + from, self.start + to)
        };
        Seqlet {
            start,
            end,
            ..*self
        }
    }

    /// Widened by `left` and `right` positions as read, or None past either end of a track
    /// of `length` positions.
    pub fn widened(&self, left: usize, right: usize, length: usize) -> Option<Seqlet> {
        let (l, r) = if self.revcomp {
            (right, left)
        } else {
            (left, right)
        };
        let start = self.start.checked_sub(l)?;
        let end = self.end + r;
        (end <= length).then_some(Seqlet {
            start,
            end,
            ..*self
        })
    }
}

/// The seqlets and the thresholds they were called with.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Extracted {
    /// Every seqlet, track by track, each track's strongest window first.
    pub seqlets: Vec<Seqlet>,
    /// The window sum at or above which a window passes.
    pub pos_threshold: f64,
    /// The window sum at or below which a window passes.
    pub neg_threshold: f64,
    /// The absolute central sum a seqlet needs to join a metacluster.
    pub sign_threshold: f64,
}

/// modisco-lite draws its subsample of windows (for the thresholds) above this many windows.
const SUBSAMPLE_CAP: usize = 1_000_000;
/// Draws from the Laplace null.
const NULL_DRAWS: usize = 10_000;

/// The seqlets of `tracks` (one attribution per position: the observed bases'
/// contributions), as modisco-lite's `extract_seqlets` calls them.
pub fn extract_seqlets(tracks: &[&[f32]], opts: &SeqletOptions) -> Result<Extracted, Error> {
    check(tracks, opts)?;
    let w = opts.window;
    let smoothed: Vec<Vec<f64>> = tracks.iter().map(|t| smooth(t, w)).collect();
    let all: Vec<f64> = smoothed.iter().flatten().copied().collect();
    let (pos_null, neg_null) = laplace_null(&all)?;
    let mut distribution: Vec<f64> = all.iter().map(|v| v.abs()).collect();
    distribution.sort_by(f64::total_cmp);

    let values: Vec<f64> = if all.len() > SUBSAMPLE_CAP {
        let order = RandomState::new(1234).permutation(all.len());
        order[..SUBSAMPLE_CAP].iter().map(|&i| all[i]).collect()
    } else {
        all
    };
    let mut pos_values: Vec<f64> = values.iter().copied().filter(|&v| v >= 0.0).collect();
    pos_values.sort_by(f64::total_cmp);
    let mut neg_values: Vec<f64> = values.iter().copied().filter(|&v| v < 0.0).collect();
    neg_values.sort_by(|a, b| b.total_cmp(a));
    drop(values);
    for (side, values, null) in [
        ("positive", &pos_values, &pos_null),
        ("negative", &neg_values, &neg_null),
    ] {
        if values.is_empty() || null.is_empty() {
            return Err(Error::Invalid(format!(
                "seqlets: no {side} window sums (or none in the null fitted to them); modisco-lite's thresholds need windows of both signs"
            )));
        }
    }
    let pos = isotonic_threshold(&pos_values, &pos_null, true, opts.target_fdr);
    let neg = isotonic_threshold(&neg_values, &neg_null, false, opts.target_fdr);
    let (pos, neg) = refine(&pos_values, &neg_values, pos, neg, opts);

    let rank = |t: f64| {
        t.signum() * distribution.partition_point(|&v| v < t.abs()) as f64
            / distribution.len() as f64
    };
    let weak = (rank(pos).min(rank(neg).abs()) - 0.0001).min(opts.weak_threshold_for_counting_sign);
    // Python's int() truncates, and a negative index counts from the end.
    let len = distribution.len() as i64;
    let mut at = (weak * len as f64) as i64;
    if at < 0 {
        at += len;
    }
    let sign_threshold = distribution[at.clamp(0, len - 1) as usize];

    let mut seqlets = Vec::new();
    for (track, row) in smoothed.into_iter().enumerate() {
        seqlets.extend(greedy(track, row, pos, neg, opts));
    }
    Ok(Extracted {
        seqlets,
        pos_threshold: pos,
        neg_threshold: neg,
        sign_threshold,
    })
}

/// The seqlets whose central window's summed attribution is above the sign threshold
/// (positive) and below its negative (negative), in order, at most `max` of each: the two
/// metaclusters modisco-lite clusters apart. A metacluster of `min_size` seqlets or fewer is
/// returned empty, as modisco-lite skips it.
pub fn metaclusters(
    tracks: &[&[f32]],
    extracted: &Extracted,
    opts: &SeqletOptions,
    min_size: usize,
    max: usize,
) -> (Vec<Seqlet>, Vec<Seqlet>) {
    let (mut pos, mut neg) = (Vec::new(), Vec::new());
    let t = extracted.sign_threshold;
    let mut flat = Vec::with_capacity(opts.window * 4);
    for s in &extracted.seqlets {
        // numpy sums the seqlet's float32 contribution matrix (one value per position in
        // its base's column, zeros elsewhere) pairwise; the zeros shape the pairing.
        flat.clear();
        for &v in &tracks[s.track][s.start + opts.flank..s.end - opts.flank] {
            flat.extend_from_slice(&[v, 0.0, 0.0, 0.0]);
        }
        let attr = pairwise_sum(&flat) as f64;
        if attr > t {
            pos.push(*s);
        } else if attr < -t {
            neg.push(*s);
        }
    }
    for m in [&mut pos, &mut neg] {
        if m.len() <= min_size {
            m.clear();
        }
        m.truncate(max);
    }
    (pos, neg)
}

fn check(tracks: &[&[f32]], opts: &SeqletOptions) -> Result<(), Error> {
    let bad = |m: String| Err(Error::Invalid(format!("seqlets: {m}")));
    if opts.window == 0 {
        return bad("the window must be at least 1".into());
    }
    if opts.flank == 0 {
        // modisco-lite blanks `track[-flank:]`, which for 0 is the whole track.
        return bad("the flank must be at least 1 (modisco-lite calls no seqlet with 0)".into());
    }
    if !(opts.target_fdr > 0.0 && opts.target_fdr < 1.0) {
        return bad(format!(
            "the target FDR must be in (0, 1); found {}",
            opts.target_fdr
        ));
    }
    let (lo, hi) = (opts.min_passing_windows_frac, opts.max_passing_windows_frac);
    if !(0.0..=1.0).contains(&lo) || !(0.0..=1.0).contains(&hi) || lo > hi {
        return bad(format!(
            "the passing-window fractions must satisfy 0 <= min <= max <= 1; found {lo} and {hi}"
        ));
    }
    if tracks.is_empty() {
        return bad("no tracks".into());
    }
    let need = opts.window + 2 * opts.flank;
    for (i, t) in tracks.iter().enumerate() {
        if t.len() < need {
            return bad(format!(
                "track {} has {} positions; a seqlet needs window + 2 x flank = {need}",
                i + 1,
                t.len()
            ));
        }
        if let Some(p) = t.iter().position(|v| !v.is_finite()) {
            return bad(format!(
                "track {} has a non-finite attribution at position {}",
                i + 1,
                p + 1
            ));
        }
    }
    Ok(())
}

/// The sums over every `w`-wide window, as modisco-lite takes them: differences of the
/// track's float32 running sum, in float64.
fn smooth(track: &[f32], w: usize) -> Vec<f64> {
    let mut cum = Vec::with_capacity(track.len() + 1);
    cum.push(0.0f64);
    let mut acc = 0.0f32;
    for &v in track {
        acc += v;
        cum.push(acc as f64);
    }
    (0..=track.len() - w).map(|j| cum[j + w] - cum[j]).collect()
}

/// The midpoint of the fullest of 1,000 bins, and the values strictly inside it.
fn bin_mode(values: &[f64]) -> (f64, f64, Vec<f64>) {
    let (counts, edges) = histogram(values, 1000);
    let peak = counts
        .iter()
        .enumerate()
        .fold(0, |best, (i, &c)| if c > counts[best] { i } else { best });
    let (l, r) = (edges[peak], edges[peak + 1]);
    let inside = values.iter().copied().filter(|&v| l < v && v < r).collect();
    (l, r, inside)
}

/// Draws from the Laplace null fitted to the window sums: (those at or above zero, those
/// below), each in drawing order.
fn laplace_null(values: &[f64]) -> Result<(Vec<f64>, Vec<f64>), Error> {
    let (_, _, top) = bin_mode(values);
    // An empty fullest bin's interior (all its values on an edge) has no second round in
    // numpy either: np.histogram of nothing bins [0, 1].
    let (l, r, _) = if top.is_empty() {
        (0.0, 0.001, Vec::new())
    } else {
        bin_mode(&top)
    };
    let mu = (l + r) / 2.0;
    let mut pos: Vec<f64> = values.iter().copied().filter(|&v| v >= mu).collect();
    let mut neg: Vec<f64> = values.iter().copied().filter(|&v| v <= mu).collect();
    if pos.is_empty() || neg.is_empty() {
        return Err(Error::Invalid(format!(
            "seqlets: every window sum is on one side of their mode ({mu}); modisco-lite's Laplace null needs both"
        )));
    }
    pos.sort_by(f64::total_cmp);
    neg.sort_by(f64::total_cmp);
    let percentiles: Vec<f64> = (1..=19).map(|k| (5 * k) as f64).collect();
    let lambda = |sorted: &[f64], flip: bool| {
        percentiles
            .iter()
            .map(|&p| {
                let q = if flip { 100.0 - p } else { p };
                let x = percentile_sorted(sorted, q);
                -(1.0 - p / 100.0).ln() / (x - mu).abs()
            })
            .fold(f64::NEG_INFINITY, f64::max)
    };
    let pos_lambda = lambda(&pos, false);
    let neg_lambda = lambda(&neg, true);
    let prob_pos = pos.len() as f64 / (pos.len() + neg.len()) as f64;
    let mut rng = RandomState::new(1234);
    let (mut up, mut down) = (Vec::new(), Vec::new());
    for _ in 0..NULL_DRAWS {
        let sign = rng.random_sample();
        let cdf = rng.random_sample();
        let v = if sign < prob_pos {
            -(1.0 - cdf).ln() / pos_lambda + mu
        } else {
            mu + (1.0 - cdf).ln() / neg_lambda
        };
        if v >= 0.0 { up.push(v) } else { down.push(v) }
    }
    Ok((up, down))
}

/// The smallest window sum (by magnitude; `values` ordered from weakest to strongest) whose
/// isotonic precision against the null reaches `1 - target_fdr`.
fn isotonic_threshold(values: &[f64], null: &[f64], increasing: bool, target_fdr: f64) -> f64 {
    let (n1, n2) = (values.len(), null.len());
    let x: Vec<f64> = values.iter().chain(null).copied().collect();
    let y: Vec<f64> = (0..n1 + n2)
        .map(|i| if i < n1 { 1.0 } else { 0.0 })
        .collect();
    let weight = n1 as f64 / n2 as f64;
    let w: Vec<f64> = (0..n1 + n2)
        .map(|i| if i < n1 { 1.0 } else { weight })
        .collect();
    let model = Isotonic::fit(&x, &y, &w, increasing);
    let weakest = model.transform(if increasing {
        model.x_min()
    } else {
        model.x_max()
    });
    // The implied share of null among the weakest windows, kept within [0.95, 1].
    let frac_neg = (-1.0 / (1.0 - 1.0 / weakest.max(1e-7))).clamp(0.95, 1.0);
    let last = n1 - 1;
    values
        .iter()
        .enumerate()
        .find(|&(i, &v)| {
            let precision = if i == last {
                1.0
            } else {
                (1.0 + frac_neg * (1.0 - 1.0 / model.transform(v).max(1e-7))).clamp(0.0, 1.0)
            };
            precision >= 1.0 - target_fdr
        })
        .map(|(_, &v)| v)
        .unwrap_or(values[last])
}

/// The thresholds moved to a quantile of the absolute sums when too few or too many windows
/// pass.
fn refine(
    pos_values: &[f64],
    neg_values: &[f64],
    pos: f64,
    neg: f64,
    opts: &SeqletOptions,
) -> (f64, f64) {
    let n = (pos_values.len() + neg_values.len()) as f64;
    let passing = pos_values
        .iter()
        .chain(neg_values)
        .filter(|&&v| v >= pos || v <= neg)
        .count();
    let frac = passing as f64 / n;
    let mut abs: Vec<f64> = pos_values
        .iter()
        .chain(neg_values)
        .map(|v| v.abs())
        .collect();
    abs.sort_by(f64::total_cmp);
    let (mut pos, mut neg) = (pos, neg);
    if frac < opts.min_passing_windows_frac {
        pos = percentile_sorted(&abs, 100.0 * (1.0 - opts.min_passing_windows_frac));
        neg = -pos;
    }
    if frac > opts.max_passing_windows_frac {
        pos = percentile_sorted(&abs, 100.0 * (1.0 - opts.max_passing_windows_frac));
        neg = -pos;
    }
    (pos, neg)
}

/// One track's seqlets: the strongest passing window first, its neighbourhood suppressed.
fn greedy(
    track: usize,
    mut row: Vec<f64>,
    pos: f64,
    neg: f64,
    opts: &SeqletOptions,
) -> Vec<Seqlet> {
    let d = row.len();
    let (flank, w) = (opts.flank, opts.window);
    for (i, v) in row.iter_mut().enumerate() {
        let passes = *v >= pos || *v <= neg;
        *v = if passes && i >= flank && i + flank < d {
            v.abs()
        } else {
            f64::NEG_INFINITY
        };
    }
    let suppress = (0.5 * w as f64) as usize + flank;
    let mut out = Vec::new();
    loop {
        // np.argmax: the first of the largest.
        let (at, best) =
            row.iter()
                .enumerate()
                .fold((0, f64::NEG_INFINITY), |(bi, bv), (i, &v)| {
                    if v > bv { (i, v) } else { (bi, bv) }
                });
        if best == f64::NEG_INFINITY {
            break;
        }
        if at >= flank && at < d - flank {
            out.push(Seqlet {
                track,
                start: at - flank,
                end: at + w + flank,
                revcomp: false,
            });
        }
        let centre = at as f64 + 0.5;
        let lo = (centre - suppress as f64).floor().max(0.0) as usize;
        let hi = ((centre + suppress as f64).ceil() as usize).min(d);
        row[lo..hi].fill(f64::NEG_INFINITY);
    }
    out
}
