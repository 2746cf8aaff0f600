//! Patterns: aligned sets of seqlets and their mean bases (a probability matrix),
//! contributions and hypothetical contributions (modisco-lite's `SeqletSet`), and how a
//! cluster of seqlets becomes one (`merge_in_seqlets_filledges`, `polish_pattern`).
//!
//! A cluster's seqlets are merged strongest first: each is aligned to the pattern so far
//! (continuous Jaccard at the best offset and strand, at least `min_overlap` overlapping),
//! widened to cover it, and added at offset 0 (the pattern widened too where the seqlet
//! overhangs). The pattern is then trimmed to the positions that enough seqlets support,
//! flanked, cut to the window of highest information content, and flanked again.

use std::collections::HashSet;

use super::affinity::{fine_rows, jaccard_aligned};
use super::numerics::pairwise_sum;
use super::seqlets::Seqlet;
use super::tracks::TrackSet;

/// An aligned set of seqlets, all starting at the pattern's first position.
#[derive(Clone, Debug)]
pub struct Pattern {
    /// The seqlets, in the order added, each at most once (by track and positions).
    pub seqlets: Vec<Seqlet>,
    unique: HashSet<(usize, usize, usize)>,
    counts: Vec<f64>,
    sequence_sum: Vec<[f64; 4]>,
    contrib_sum: Vec<[f64; 4]>,
    hypothetical_sum: Vec<[f64; 4]>,
}

/// The settings that shape patterns (modisco-lite's `TFMoDISco` defaults).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct PatternOptions {
    /// The smallest overlap, as a share of a seqlet, when aligning.
    pub min_overlap: f64,
    /// Trimming keeps positions supported by this share of the best-supported one...
    pub frac_support_to_trim_to: f64,
    /// ...or by this many seqlets, whichever is fewer.
    pub min_num_to_trim_to: usize,
    /// The window of highest information content a pattern is cut to.
    pub trim_to_window_size: usize,
    /// Positions added on each side after trimming.
    pub initial_flank_to_add: usize,
}

impl Default for PatternOptions {
    fn default() -> PatternOptions {
        PatternOptions {
            min_overlap: 0.7,
            frac_support_to_trim_to: 0.2,
            min_num_to_trim_to: 30,
            trim_to_window_size: 30,
            initial_flank_to_add: 10,
        }
    }
}

fn mean(sum: &[[f64; 4]], counts: &[f64]) -> Vec<[f64; 4]> {
    sum.iter()
        .zip(counts)
        .map(|(s, &c)| {
            let c = if c == 0.0 { 1e-7 } else { c };
            s.map(|v| v / c)
        })
        .collect()
}

impl Pattern {
    /// The pattern of `seqlets` (duplicates by track and positions dropped).
    pub fn new(tracks: &TrackSet, seqlets: &[Seqlet]) -> Pattern {
        let length = seqlets.iter().map(Seqlet::len).max().unwrap_or(0);
        let mut p = Pattern {
            seqlets: Vec::new(),
            unique: HashSet::new(),
            counts: vec![0.0; length],
            sequence_sum: vec![[0.0; 4]; length],
            contrib_sum: vec![[0.0; 4]; length],
            hypothetical_sum: vec![[0.0; 4]; length],
        };
        for s in seqlets {
            p.add(tracks, *s);
        }
        p
    }

    /// Adds a seqlet at offset 0, unless it is already in.
    fn add(&mut self, tracks: &TrackSet, s: Seqlet) {
        if !self.unique.insert((s.track, s.start, s.end)) {
            return;
        }
        let snippet = tracks.snippet(&s, false);
        for i in 0..s.len().min(self.len()) {
            self.counts[i] += 1.0;
            for k in 0..4 {
                self.sequence_sum[i][k] += snippet.one_hot[i][k] as f64;
                self.contrib_sum[i][k] += snippet.contrib[i][k] as f64;
                self.hypothetical_sum[i][k] += snippet.hypothetical[i][k] as f64;
            }
        }
        self.seqlets.push(s);
    }

    /// Its length.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether it has no positions.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// How many seqlets cover each position.
    pub fn support(&self) -> &[f64] {
        &self.counts
    }

    /// The mean one-hot bases: the position probability matrix.
    pub fn sequence(&self) -> Vec<[f64; 4]> {
        mean(&self.sequence_sum, &self.counts)
    }

    /// The mean contributions.
    pub fn contrib(&self) -> Vec<[f64; 4]> {
        mean(&self.contrib_sum, &self.counts)
    }

    /// The mean hypothetical contributions.
    pub fn hypothetical(&self) -> Vec<[f64; 4]> {
        mean(&self.hypothetical_sum, &self.counts)
    }

    /// Positions `from..to` of every seqlet.
    fn trim_to(&self, tracks: &TrackSet, from: usize, to: usize) -> Pattern {
        let seqlets: Vec<Seqlet> = self
            .seqlets
            .iter()
            .map(|s| s.trimmed(from, to.min(s.len()).max(from)))
            .collect();
        Pattern::new(tracks, &seqlets)
    }

    /// Trimmed to the positions covered by at least `min(min_num, frac × the most covered)`
    /// seqlets.
    fn trim_to_support(&self, tracks: &TrackSet, frac: f64, min_num: usize) -> Pattern {
        let most = self.counts.iter().copied().fold(0.0, f64::max);
        let need = (min_num as f64).min(most * frac);
        let left = self.counts.iter().position(|&c| c >= need).unwrap_or(0);
        let right = self
            .counts
            .iter()
            .rposition(|&c| c >= need)
            .map_or(self.len(), |r| r + 1);
        self.trim_to(tracks, left, right)
    }

    /// Every seqlet widened to the pattern's length plus `left` and `right`; those that
    /// would run off their track are dropped, and None when none is left.
    pub fn expanded(&self, tracks: &TrackSet, left: usize, right: usize) -> Option<Pattern> {
        let seqlets: Vec<Seqlet> = self
            .seqlets
            .iter()
            .filter_map(|s| s.widened(left, self.len() - s.len() + right, tracks.length(s.track)))
            .collect();
        (!seqlets.is_empty()).then(|| Pattern::new(tracks, &seqlets))
    }

    /// The pattern's rows for alignment: L1-normalised mean hypothetical contributions and
    /// contributions, in float32 as modisco-lite's `jaccard` casts them.
    fn rows(&self) -> Vec<[f32; 8]> {
        let l1 = |rows: &[[f64; 4]]| -> Vec<[f64; 4]> {
            let flat: Vec<f64> = rows.iter().flatten().map(|v| v.abs()).collect();
            let sum = pairwise_sum(&flat);
            if sum == 0.0 {
                return rows.to_vec();
            }
            rows.iter().map(|r| r.map(|v| v / sum)).collect()
        };
        let (h, c) = (l1(&self.hypothetical()), l1(&self.contrib()));
        h.iter()
            .zip(&c)
            .map(|(h, c)| [h[0], h[1], h[2], h[3], c[0], c[1], c[2], c[3]].map(|v| v as f32))
            .collect()
    }

    /// Where `s` aligns best against the pattern, on which strand, and how well: the
    /// offset of its first position from the pattern's, and the seqlet as aligned.
    pub fn align(
        &self,
        tracks: &TrackSet,
        s: &Seqlet,
        metric: Metric,
        min_overlap: f64,
    ) -> (i64, Seqlet, f64) {
        let pad = (s.len() as f64 * (1.0 - min_overlap)).ceil() as usize;
        let ((f, fat), (r, rat)) = match metric {
            Metric::Jaccard => {
                let rows = self.rows();
                let fwd = fine_rows(&tracks.snippet(s, false));
                let rev = fine_rows(&tracks.snippet(s, true));
                let (f, fa) = jaccard_aligned(&fwd, &rows, pad);
                let (r, ra) = jaccard_aligned(&rev, &rows, pad);
                ((f as f64, fa), (r as f64, ra))
            }
            Metric::Pearson => {
                let rows = magnitude_f64(&self.contrib());
                let fwd = magnitude_f32(&tracks.snippet(s, false).contrib);
                let rev = magnitude_f32(&tracks.snippet(s, true).contrib);
                (
                    pearson_aligned(&fwd, &rows, pad),
                    pearson_aligned(&rev, &rows, pad),
                )
            }
        };
        if r > f {
            (rat as i64 - pad as i64, s.flipped(), r)
        } else {
            (fat as i64 - pad as i64, *s, f)
        }
    }

    /// Where another pattern aligns best against this one by the Pearson correlation of
    /// their centred contributions: (offset, whether reversed, similarity).
    pub fn align_pattern(&self, child: &Pattern, min_overlap: f64) -> (i64, bool, f64) {
        let pad = (child.len() as f64 * (1.0 - min_overlap)).ceil() as usize;
        let rows = magnitude_f64(&self.contrib());
        let c = child.contrib();
        let rc: Vec<[f64; 4]> = c.iter().rev().map(|r| [r[3], r[2], r[1], r[0]]).collect();
        let (f, fat) = pearson_aligned(&magnitude_f64(&c), &rows, pad);
        let (r, rat) = pearson_aligned(&magnitude_f64(&rc), &rows, pad);
        if r > f {
            (rat as i64 - pad as i64, true, r)
        } else {
            (fat as i64 - pad as i64, false, f)
        }
    }

    /// Merges `seqlets` in, in order (modisco-lite's `merge_in_seqlets_filledges`).
    pub fn merge(
        &self,
        tracks: &TrackSet,
        seqlets: &[Seqlet],
        metric: Metric,
        min_overlap: f64,
    ) -> Pattern {
        let mut parent = Pattern::new(tracks, &self.seqlets);
        for s in seqlets {
            let (offset, s, _) = parent.align(tracks, s, metric, min_overlap);
            let (len, plen) = (s.len() as i64, parent.len() as i64);
            let left = offset.max(0) as usize;
            let right = (plen - (offset + len)).max(0) as usize;
            let Some(widened) = s.widened(left, right, tracks.length(s.track)) else {
                continue;
            };
            let (pl, pr) = (
                (-offset).max(0) as usize,
                (offset + len - plen).max(0) as usize,
            );
            if pl > 0 || pr > 0 {
                match parent.expanded(tracks, pl, pr) {
                    Some(p) => parent = p,
                    None => continue,
                }
            }
            parent.add(tracks, widened);
        }
        parent
    }

    /// Trimmed to its support, flanked, cut to the window of highest information content and
    /// flanked again (modisco-lite's `polish_pattern`); None when no seqlet fits its track.
    pub fn polish(
        &self,
        tracks: &TrackSet,
        o: &PatternOptions,
        background: &[f32; 4],
    ) -> Option<Pattern> {
        let flank = o.initial_flank_to_add;
        let p = self
            .trim_to_support(tracks, o.frac_support_to_trim_to, o.min_num_to_trim_to)
            .expanded(tracks, flank, flank)?;
        let ic = information(&p.sequence(), background, 0.001);
        let w = o.trim_to_window_size;
        // modisco-lite fails on a pattern shorter than the window; it is kept whole here.
        let start = if ic.len() >= w {
            let mut sum = pairwise_sum(&ic[..w]);
            let (mut best, mut at) = (sum, 0);
            for i in w..ic.len() {
                sum += ic[i] - ic[i - w];
                if sum > best {
                    best = sum;
                    at = i - w + 1;
                }
            }
            at
        } else {
            0
        };
        let end = (start + w).min(ic.len());
        p.trim_to(tracks, start, end).expanded(tracks, flank, flank)
    }
}

/// How a seqlet is aligned to a pattern: by continuous Jaccard over the L1-normalised
/// hypothetical contributions and contributions (clustering), or by Pearson correlation of
/// the centred, unit-norm contributions (merging patterns).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Continuous Jaccard.
    Jaccard,
    /// Pearson correlation.
    Pearson,
}

/// modisco-lite's `magnitude` on float32 rows: centred on the mean, divided by the norm
/// (plus 1e-7), in float32.
fn magnitude_f32(rows: &[[f32; 4]]) -> Vec<[f64; 4]> {
    let flat: Vec<f32> = rows.iter().flatten().copied().collect();
    let mean = pairwise_sum(&flat) / flat.len() as f32;
    let centred: Vec<f32> = flat.iter().map(|v| v - mean).collect();
    let norm = centred.iter().map(|v| v * v).sum::<f32>().sqrt() + 1e-7;
    centred
        .chunks_exact(4)
        .map(|c| [c[0], c[1], c[2], c[3]].map(|v| (v / norm) as f64))
        .collect()
}

/// The same on float64 rows (a pattern's means).
fn magnitude_f64(rows: &[[f64; 4]]) -> Vec<[f64; 4]> {
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    let mean = pairwise_sum(&flat) / flat.len() as f64;
    let centred: Vec<f64> = flat.iter().map(|v| v - mean).collect();
    let norm = centred.iter().map(|v| v * v).sum::<f64>().sqrt() + 1e-7;
    centred
        .chunks_exact(4)
        .map(|c| [c[0], c[1], c[2], c[3]].map(|v| v / norm))
        .collect()
}

/// The cosine of `x` (unit-normalised) with each `x`-long window of `y` padded by `pad` zero
/// positions each side (also normalised; 0 for an all-zero window): the best and its first
/// offset (modisco-lite's `pearson_correlation` on centred inputs).
fn pearson_aligned(x: &[[f64; 4]], y: &[[f64; 4]], pad: usize) -> (f64, usize) {
    let d = x.len();
    let xn = x.iter().flatten().map(|v| v * v).sum::<f64>().sqrt();
    let offsets = (1 + y.len() + 2 * pad).saturating_sub(d);
    let (mut best, mut at) = (f64::NEG_INFINITY, 0);
    for idx in 0..offsets {
        let (mut dot, mut yy) = (0.0, 0.0);
        for (jx, xr) in x.iter().enumerate() {
            let j = idx + jx;
            if j < pad || j - pad >= y.len() {
                continue;
            }
            let yr = &y[j - pad];
            for k in 0..4 {
                dot += xr[k] * yr[k];
                yy += yr[k] * yr[k];
            }
        }
        let score = dot / xn / yy.sqrt();
        let score = if score.is_finite() { score } else { 0.0 };
        if score > best {
            best = score;
            at = idx;
        }
    }
    (best, at)
}

/// Each position's information content (bits) against `background`, with a pseudocount
/// (modisco-lite's `compute_per_position_ic`); rows not summing to 1 are normalised first.
pub fn information(ppm: &[[f64; 4]], background: &[f32; 4], pseudocount: f64) -> Vec<f64> {
    let ln2 = std::f64::consts::LN_2;
    let normalise = ppm
        .iter()
        .any(|r| (r.iter().sum::<f64>() - 1.0).abs() > 1e-5 + 1e-5);
    let bg: Vec<f64> = background
        .iter()
        .map(|&b| (b.ln() * b) as f64 / ln2)
        .collect();
    ppm.iter()
        .map(|r| {
            let sum: f64 = r.iter().sum();
            let r = if normalise { r.map(|v| v / sum) } else { *r };
            (0..4).fold(0.0, |acc, k| {
                acc + ((((r[k] + pseudocount) / (1.0 + pseudocount * 4.0)).ln() / ln2) * r[k]
                    - bg[k])
            })
        })
        .collect()
}

/// The background base frequencies of a metacluster: the mean of its seqlets' one-hot bases.
pub fn background(tracks: &TrackSet, seqlets: &[Seqlet]) -> [f32; 4] {
    let mut counts = [0u64; 4];
    let mut total = 0u64;
    for s in seqlets {
        for row in tracks.snippet(s, false).one_hot {
            for k in 0..4 {
                counts[k] += row[k] as u64;
            }
            total += 1;
        }
    }
    counts.map(|c| c as f32 / total.max(1) as f32)
}

/// The strength modisco-lite orders seqlets by: the sum of their absolute contributions.
pub fn strength(tracks: &TrackSet, s: &Seqlet) -> f32 {
    let flat: Vec<f32> = tracks
        .snippet(s, false)
        .contrib
        .iter()
        .flatten()
        .map(|v| v.abs())
        .collect();
    pairwise_sum(&flat)
}

/// One pattern per cluster (`cluster[i]` is seqlet i's), each from its seqlets strongest
/// first, polished; a pattern whose summed contribution has not the metacluster's `sign` is
/// dropped (modisco-lite's `_patterns_from_clusters`).
pub fn from_clusters(
    tracks: &TrackSet,
    seqlets: &[Seqlet],
    cluster: &[usize],
    sign: f32,
    background: &[f32; 4],
    o: &PatternOptions,
) -> Vec<Pattern> {
    let groups = cluster.iter().max().map_or(0, |m| m + 1);
    let mut members: Vec<Vec<Seqlet>> = vec![Vec::new(); groups];
    for (s, &c) in seqlets.iter().zip(cluster) {
        members[c].push(*s);
    }
    let built = crate::nn::par_map(
        groups,
        || (),
        |_, c| {
            let mut m = members[c].clone();
            let keys: Vec<f32> = m.iter().map(|s| strength(tracks, s)).collect();
            let mut order: Vec<usize> = (0..m.len()).collect();
            order.sort_by(|&a, &b| keys[b].total_cmp(&keys[a]));
            m = order.iter().map(|&i| m[i]).collect();
            let first = Pattern::new(tracks, &m[..1]);
            let merged = if m.len() > 1 {
                first.merge(tracks, &m[1..], Metric::Jaccard, o.min_overlap)
            } else {
                first
            };
            let polished = merged.polish(tracks, o, background)?;
            let flat: Vec<f64> = polished.contrib().into_iter().flatten().collect();
            let total = pairwise_sum(&flat);
            (total != 0.0 && (total > 0.0) == (sign > 0.0)).then_some(polished)
        },
    );
    built.into_iter().flatten().collect()
}
