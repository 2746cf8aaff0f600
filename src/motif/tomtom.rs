//! TOMTOM (Gupta et al., Genome Biology 2007): how significantly a query motif (a seqlet's
//! bases, a discovered pattern) matches each motif of a database, with p-, E- and q-values.
//!
//! The statistics are memelite 0.5's `tomtom`, the implementation tangermeme's
//! `annotate_seqlets` calls, step for step, so that the same inputs give the same numbers:
//! - Columns are compared by the negated Euclidean distance of their four values.
//! - The database's columns, both strands, are merged into bins first (`target_bins`, 100):
//!   columns whose values, scaled by each letter's range over the database, round to the same
//!   bins count as one column, weighted by how many they stand for.
//! - Each query column's scores against every database column are centred on their median
//!   (memelite's binned median over `median_bins`, 1000) and discretised into `score_bins`
//!   (100) integer bins, one scale for the whole query.
//! - A target's score is its best alignment's sum, where query columns that hang over the
//!   target's ends score as the median (TOMTOM's "complete" score).
//! - Its p-value is the chance that a random target of its width scores as well, from the
//!   exact distribution of the best alignment's score when every column is drawn from the
//!   query column's background (dynamic programming over spans and overhangs).
//! - With both strands, the better strand's score is kept and the smaller p-value p is
//!   corrected for the two tries: `p (2 - p)`.
//!
//! E-value: the p-value times the number of database motifs. q-value: Benjamini-Hochberg over
//! the database for each query, as MEME Suite's Tomtom reports.
//!
//! The p-values use the database's columns as the background, so a database of only a few
//! motifs gives unreliable ones (memelite warns below 25).

use super::Motif;
use crate::Error;

/// TOMTOM's settings, memelite's defaults.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct TomtomOptions {
    /// Integer bins a query's column scores are discretised into (TOMTOM's `t`).
    pub score_bins: usize,
    /// Bins of the median's approximation.
    pub median_bins: usize,
    /// Bins per letter when merging similar database columns; `None` keeps every column.
    pub target_bins: Option<usize>,
    /// Compare with both strands of each database motif.
    pub reverse_complement: bool,
}

impl Default for TomtomOptions {
    fn default() -> Self {
        TomtomOptions {
            score_bins: 100,
            median_bins: 1000,
            target_bins: Some(100),
            reverse_complement: true,
        }
    }
}

/// The widest query compared, checked before its score distributions are allocated: their
/// work grows with the cube of the width (about a second at 64 columns), and seqlets and
/// discovered motifs are rarely over 30.
pub const MAX_QUERY_WIDTH: usize = 64;

/// The most bins per letter when merging database columns: memelite keys a column by
/// `sum(bin * target_bins^letter)` in floating point, which is exact up to here.
pub const MAX_TARGET_BINS: usize = 1000;

/// How a query matches one database motif.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Hit {
    /// The database motif's index.
    pub target: usize,
    /// The chance that a random motif of this width matches as well (both strands corrected).
    pub p_value: f64,
    /// `p_value` times the number of database motifs.
    pub e_value: f64,
    /// Benjamini-Hochberg's adjusted p-value over the database.
    pub q_value: f64,
    /// The best alignment's score, in the query's integer bins.
    pub score: i64,
    /// The target column (on the matched strand) aligned with the query's first column in
    /// the best alignment: negative when the target starts inside the query, at query column
    /// `-offset` (memelite's offset).
    pub offset: i64,
    /// How many columns overlap in the best alignment.
    pub overlap: usize,
    /// The match is with the database motif's reverse complement.
    pub reverse: bool,
}

/// A motif database prepared for comparison: its columns (both strands) merged and weighted
/// once, then shared by every query.
#[derive(Debug, Clone)]
pub struct Database {
    motifs: Vec<Motif>,
    options: TomtomOptions,
    /// Each target's width: the forward motifs, then (with both strands) their reverse
    /// complements in the same order.
    widths: Vec<usize>,
    /// Each target column, concatenated in `widths`' order, as its merged column's index.
    merged: Vec<usize>,
    /// The merged columns (the first column of each merged group), their squared norms, how
    /// many columns each stands for, and that count over the total.
    columns: Vec<[f64; 4]>,
    norms: Vec<f64>,
    counts: Vec<u64>,
    weights: Vec<f64>,
    /// Half the total count: where the median's scan stops.
    halfway: f64,
}

/// Sum of squares over a column's letters, in memelite's (numpy's) order.
fn norm(c: &[f64; 4]) -> f64 {
    ((c[0] * c[0] + c[1] * c[1]) + c[2] * c[2]) + c[3] * c[3]
}

impl Database {
    /// Prepares `motifs` for comparison. An empty database, an empty or all-zero motif, or a
    /// setting out of range is refused, naming it.
    pub fn new(motifs: Vec<Motif>, options: TomtomOptions) -> Result<Database, Error> {
        if motifs.is_empty() {
            return Err(Error::Invalid("the motif database is empty".into()));
        }
        if options.score_bins == 0 || options.median_bins == 0 {
            return Err(Error::Invalid(format!(
                "TOMTOM needs at least one score bin and one median bin (scoreBins {}, medianBins {})",
                options.score_bins, options.median_bins
            )));
        }
        if let Some(b) = options.target_bins
            && !(1..=MAX_TARGET_BINS).contains(&b)
        {
            return Err(Error::Invalid(format!(
                "targetBins {b} is outside 1 to {MAX_TARGET_BINS}"
            )));
        }
        if let Some(m) = motifs.iter().find(|m| m.columns.is_empty()) {
            return Err(Error::Invalid(format!(
                "database motif {} has no columns",
                m.label()
            )));
        }
        let strands: Vec<Vec<[f64; 4]>> = if options.reverse_complement {
            motifs
                .iter()
                .map(|m| m.columns.clone())
                .chain(motifs.iter().map(|m| super::reverse_complement(&m.columns)))
                .collect()
        } else {
            motifs.iter().map(|m| m.columns.clone()).collect()
        };
        let widths: Vec<usize> = strands.iter().map(Vec::len).collect();
        let all: Vec<[f64; 4]> = strands.into_iter().flatten().collect();
        if all.iter().all(|c| norm(c) == 0.0) {
            return Err(Error::Invalid(
                "every column of the motif database is zero".into(),
            ));
        }

        let (columns, merged, counts) = match options.target_bins {
            None => (all.clone(), (0..all.len()).collect(), vec![1u64; all.len()]),
            Some(bins) => merge_columns(&all, bins),
        };
        let norms = columns.iter().map(norm).collect();
        let total: u64 = counts.iter().sum();
        let weights = counts.iter().map(|&c| c as f64 / total as f64).collect();
        Ok(Database {
            motifs,
            options,
            widths,
            merged,
            columns,
            norms,
            counts,
            weights,
            halfway: total as f64 / 2.0,
        })
    }

    /// The database's motifs, in the order hits name them.
    pub fn motifs(&self) -> &[Motif] {
        &self.motifs
    }

    /// The motif with identifier `id`, if the database holds it.
    pub fn motif(&self, id: &str) -> Option<&Motif> {
        self.motifs().iter().find(|m| m.id == id)
    }

    /// The settings it compares with.
    pub fn options(&self) -> &TomtomOptions {
        &self.options
    }

    /// How `query` matches every database motif, one hit per motif in database order. An
    /// empty, all-zero or over-wide query is refused; `name` says which query in the message.
    pub fn compare(&self, query: &[[f64; 4]], name: &str) -> Result<Vec<Hit>, Error> {
        let nq = query.len();
        if nq == 0 || nq > MAX_QUERY_WIDTH {
            return Err(Error::Invalid(format!(
                "query {name} is {nq} columns wide; TOMTOM compares 1 to {MAX_QUERY_WIDTH}"
            )));
        }
        if query.iter().all(|c| norm(c) == 0.0) {
            return Err(Error::Invalid(format!(
                "query {name} has only zero columns (no A, C, G or T)"
            )));
        }
        if query.iter().flatten().any(|v| !v.is_finite()) {
            return Err(Error::Invalid(format!(
                "query {name} has a value that is not a finite number"
            )));
        }
        let bins = self.options.score_bins;
        let scores = self.discretise(query).ok_or_else(|| {
            Error::Invalid(format!(
                "query {name}: its column scores span more than {bins} (the score bins), so they cannot be discretised; TOMTOM compares probabilities"
            ))
        })?;
        let backgrounds = Backgrounds::new(&scores.histograms, bins, scores.offset, &self.widths);

        let n_targets = self.widths.len();
        let mut hits = Vec::with_capacity(n_targets);
        let mut start = 0;
        for (t, &width) in self.widths.iter().enumerate() {
            let columns = &self.merged[start..start + width];
            start += width;
            hits.push(best_alignment(&scores, columns, t, &backgrounds));
        }
        let n = self.motifs.len();
        if self.options.reverse_complement {
            let (forward, reverse) = hits.split_at(n);
            hits = forward
                .iter()
                .zip(reverse)
                .map(|(f, r)| {
                    let p = f.p_value.min(r.p_value);
                    let mut hit = if f.score <= r.score {
                        Hit {
                            reverse: true,
                            ..*r
                        }
                    } else {
                        *f
                    };
                    hit.target = f.target;
                    hit.p_value = p * (2.0 - p);
                    hit
                })
                .collect();
        }
        let q = benjamini_hochberg(&hits.iter().map(|h| h.p_value).collect::<Vec<_>>());
        for (hit, q) in hits.iter_mut().zip(q) {
            hit.e_value = hit.p_value * n as f64;
            hit.q_value = q;
        }
        Ok(hits)
    }

    /// [`Database::best`] as reports show it: each hit with its motif's id and name.
    pub fn matches(
        &self,
        query: &[[f64; 4]],
        name: &str,
        n: usize,
    ) -> Result<Vec<super::MotifMatch>, Error> {
        Ok(self
            .best(query, name, n)?
            .into_iter()
            .map(|h| {
                let m = &self.motifs[h.target];
                super::MotifMatch {
                    id: m.id.clone(),
                    name: m.name.clone(),
                    p_value: h.p_value,
                    e_value: h.e_value,
                    q_value: h.q_value,
                    strand: if h.reverse { '-' } else { '+' },
                    offset: h.offset,
                    overlap: h.overlap,
                }
            })
            .collect())
    }

    /// The `n` best hits of `query`, by p-value (ties by database order).
    pub fn best(&self, query: &[[f64; 4]], name: &str, n: usize) -> Result<Vec<Hit>, Error> {
        let mut hits = self.compare(query, name)?;
        hits.sort_by(|a, b| {
            a.p_value
                .total_cmp(&b.p_value)
                .then(a.target.cmp(&b.target))
        });
        hits.truncate(n);
        Ok(hits)
    }

    /// A query's column scores against the merged database columns, centred and discretised.
    /// `None` when the scores span more than the bins (values far outside [0, 1]).
    fn discretise(&self, query: &[[f64; 4]]) -> Option<Scores> {
        let nq = query.len();
        let ny = self.columns.len();
        let bins = self.options.score_bins;
        let mut rows = vec![0.0f64; nq * ny];
        let mut stats = Vec::with_capacity(nq);
        let mut scratch = Median::new(self.options.median_bins, ny);
        // A column seen before scores as it did: a one-hot seqlet has at most four kinds of
        // column, so most rows are copies (memelite caches them the same way).
        let same: Vec<Option<usize>> = (0..nq)
            .map(|i| (0..i).find(|&k| query[k].map(f64::to_bits) == query[i].map(f64::to_bits)))
            .collect();
        for (i, q) in query.iter().enumerate() {
            if let Some(k) = same[i] {
                rows.copy_within(k * ny..(k + 1) * ny, i * ny);
                stats.push(stats[k]);
                continue;
            }
            let row = &mut rows[i * ny..(i + 1) * ny];
            let xn = norm(q);
            let x2 = [2.0 * q[0], 2.0 * q[1], 2.0 * q[2], 2.0 * q[3]];
            let (mut lo, mut hi) = (9999999.9f64, -9999999.9f64);
            for (g, (y, yn)) in row.iter_mut().zip(self.columns.iter().zip(&self.norms)) {
                let mut z = xn + yn;
                z -= x2[0] * y[0];
                z -= x2[1] * y[1];
                z -= x2[2] * y[2];
                z -= x2[3] * y[3];
                *g = if z > 0.0 { -z.sqrt() } else { 0.0 };
                lo = lo.min(*g);
                hi = hi.max(*g);
            }
            let median = scratch.median(row, lo, hi, &self.counts, self.halfway);
            stats.push((lo, hi, median));
        }

        let (mut z_min, mut z_max) = (9999999.9f64, -9999999.9f64);
        for &(lo, hi, m) in &stats {
            z_min = z_min.min(lo - m);
            z_max = z_max.max(hi - m);
        }
        // memelite's scale: below a span of 1 (every target column scoring alike) the divisor
        // stays 1, so round-off is not stretched over every bin.
        let i_min = z_min.floor() as i64;
        let scale = (bins as f64 / (z_max - i_min as f64).max(1.0)).floor() as i64;
        let offset = -i_min * scale;
        if scale <= 0 || offset < 0 {
            return None;
        }

        let mut histograms = vec![vec![0.0f64; bins + 1]; nq];
        let mut bin = vec![0u32; nq * ny];
        for i in 0..nq {
            if let Some(k) = same[i] {
                histograms[i] = histograms[k].clone();
                for j in 0..ny {
                    bin[j * nq + i] = bin[j * nq + k];
                }
                continue;
            }
            let centre = stats[i].2 + i_min as f64;
            for j in 0..ny {
                // In [0, bins] by construction of the scale; the clamp only guards the index.
                let x = ((rows[i * ny + j] - centre) * scale as f64 + 0.5).floor();
                let x = x.clamp(0.0, bins as f64) as usize;
                histograms[i][x] += self.weights[j];
                bin[j * nq + i] = x as u32;
            }
        }
        Some(Scores {
            nq,
            offset: offset as usize,
            bin,
            histograms,
        })
    }
}

/// A query's discretised scores: `bin[j * nq + i]` is query column `i`'s bin against merged
/// column `j`; `histograms[i]` is how the database's columns fall into column `i`'s bins.
struct Scores {
    nq: usize,
    /// The bin of a score of 0, which is what an overhanging query column scores.
    offset: usize,
    bin: Vec<u32>,
    histograms: Vec<Vec<f64>>,
}

/// memelite's merging of database columns: each letter's values scaled by its range over all
/// columns and rounded (half to even, as numpy) into `bins` bins; columns with the same bins
/// are one, represented by the first, ordered by `sum(bin * bins^letter)`.
fn merge_columns(all: &[[f64; 4]], bins: usize) -> (Vec<[f64; 4]>, Vec<usize>, Vec<u64>) {
    let mut lo = [f64::INFINITY; 4];
    let mut hi = [f64::NEG_INFINITY; 4];
    for c in all {
        for k in 0..4 {
            lo[k] = lo[k].min(c[k]);
            hi[k] = hi[k].max(c[k]);
        }
    }
    for k in 0..4 {
        if hi[k] == lo[k] {
            hi[k] = lo[k] + 1.0;
        }
    }
    let keys: Vec<u64> = all
        .iter()
        .map(|c| {
            let mut key = 0u64;
            let mut place = 1u64;
            for k in 0..4 {
                let b = ((c[k] - lo[k]) / (hi[k] - lo[k]) * (bins - 1) as f64).round_ties_even();
                key += b as u64 * place;
                place *= bins as u64;
            }
            key
        })
        .collect();
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.sort_by_key(|&i| (keys[i], i));
    let mut columns = Vec::new();
    let mut counts = Vec::new();
    let mut merged = vec![0usize; all.len()];
    let mut last = None;
    for &i in &order {
        if last != Some(keys[i]) {
            last = Some(keys[i]);
            columns.push(all[i]);
            counts.push(0);
        }
        merged[i] = columns.len() - 1;
        *counts.last_mut().expect("a group was just opened") += 1;
    }
    (columns, merged, counts)
}

/// memelite's binned median: the range split into bins, counts added until half the total
/// is reached, and the mean of the values in that bin (summed in column order).
struct Median {
    counts: Vec<u64>,
    index: Vec<usize>,
}

impl Median {
    fn new(bins: usize, n: usize) -> Median {
        Median {
            counts: vec![0; bins],
            index: vec![0; n],
        }
    }

    fn median(&mut self, x: &[f64], lo: f64, hi: f64, weights: &[u64], halfway: f64) -> f64 {
        let range = hi - lo;
        if range == 0.0 {
            return lo;
        }
        let bins = self.counts.len();
        self.counts.fill(0);
        for (i, &v) in x.iter().enumerate() {
            // Truncation, as Python's int(); the value is never negative.
            let z = (((v - lo) / range * (bins - 1) as f64) as usize).min(bins - 1);
            self.index[i] = z;
            self.counts[z] += weights[i];
        }
        let mut count = 0u64;
        for b in 0..bins {
            count += self.counts[b];
            if count as f64 >= halfway {
                let mut s = 0.0;
                for (i, &v) in x.iter().enumerate() {
                    if self.index[i] == b {
                        s += v * weights[i] as f64;
                    }
                }
                return s / self.counts[b] as f64;
            }
        }
        -99999.0
    }
}

/// The survival function of the best alignment's score, for each target width in the
/// database: `survival[t][s - 1]` is the chance that a random target of width `t` scores at
/// least `s`.
struct Backgrounds {
    survival: Vec<Option<Vec<f64>>>,
}

/// One span of query columns' score distribution and its running sum (memelite's `A` and
/// `A_csum`).
struct Span {
    pmf: Vec<f64>,
    cdf: Vec<f64>,
}

impl Backgrounds {
    fn new(histograms: &[Vec<f64>], bins: usize, offset: usize, widths: &[usize]) -> Backgrounds {
        let nq = histograms.len();
        let n = bins * nq + nq * offset;
        let t_max = widths.iter().copied().max().unwrap_or(0);
        let mut needed = vec![false; t_max + 1];
        for &w in widths {
            needed[w] = true;
        }
        let mut survival: Vec<Option<Vec<f64>>> = vec![None; t_max + 1];

        // memelite's cumulative sum of a span (i..=j) stops at bins*(j+1)+c and is 1 above it.
        let finish = |pmf: Vec<f64>, i: usize, j: usize| -> Span {
            let c = offset * (nq - j + i - 1);
            let stop = (bins * (j + 1) + c).min(n);
            let mut cdf = vec![1.0; n];
            let mut acc = 0.0;
            for (c, &p) in cdf[..stop].iter_mut().zip(&pmf) {
                acc += p;
                *c = acc;
            }
            Span { pmf, cdf }
        };

        // Spans by width: `current[i]` is columns i..i+w-1. For the overhangs, the prefix
        // (0..w) and the suffix (nq-w..nq) of each width w are kept, at index w - 1.
        let mut prefixes: Vec<Span> = Vec::with_capacity(nq);
        let mut suffixes: Vec<Span> = Vec::with_capacity(nq);
        let mut current: Vec<Vec<f64>> = Vec::new();
        for w in 1..=nq {
            let next: Vec<Vec<f64>> = (0..=nq - w)
                .map(|i| {
                    let j = i + w - 1;
                    let c = offset * (nq - j + i - 1);
                    // Room past n for the top bins of a query whose offset is 0, which
                    // memelite writes into its larger workspace and never reads.
                    let mut pmf = vec![0.0; n + bins + 1];
                    if w == 1 {
                        pmf[c..=c + bins].copy_from_slice(&histograms[j]);
                    } else {
                        // Each term in memelite's order: the shorter span's bins ascending,
                        // then this column's bins ascending.
                        let prev = &current[i];
                        // Only the column's nonzero bins: a zero term adds +0.0, so skipping
                        // it changes no value (memelite skips them too).
                        let f = &histograms[j];
                        let lo = f.iter().position(|&v| v != 0.0).unwrap_or(0);
                        let hi = f.iter().rposition(|&v| v != 0.0).map_or(0, |h| h + 1);
                        let first = c + offset;
                        let last = (first + bins * j).min(n - 1);
                        for (p, &a) in prev.iter().enumerate().take(last + 1).skip(first) {
                            if a == 0.0 {
                                continue;
                            }
                            let base = p - offset;
                            for (out, &fl) in pmf[base + lo..].iter_mut().zip(&f[lo..hi]) {
                                *out += a * fl;
                            }
                        }
                    }
                    pmf
                })
                .collect();
            current = next;
            let last = current.len() - 1;
            if w < nq && needed.get(w) == Some(&true) {
                // A target narrower than the query: every placement inside it, then the
                // overhangs narrower than the target at either end.
                let mut b: Option<Vec<f64>> = None;
                for (i, pmf) in current.iter().enumerate() {
                    pairwise_max(&mut b, &finish(pmf.clone(), i, i + w - 1), n);
                }
                for j in 0..w - 1 {
                    pairwise_max(&mut b, &prefixes[j], n);
                    pairwise_max(&mut b, &suffixes[j], n);
                }
                if let Some(slot) = survival.get_mut(w) {
                    *slot = b.map(|b| survive(b, n));
                }
            }
            prefixes.push(finish(current[0].clone(), 0, w - 1));
            suffixes.push(finish(current[last].clone(), last, nq - 1));
        }

        // Targets at least as wide as the query: every overhang on both ends, then one full
        // overlap per extra position.
        if t_max >= nq {
            let mut b: Option<Vec<f64>> = None;
            for i in 1..nq {
                pairwise_max(&mut b, &prefixes[i - 1], n);
                pairwise_max(&mut b, &suffixes[i - 1], n);
            }
            for t in nq..=t_max {
                pairwise_max(&mut b, &prefixes[nq - 1], n);
                if needed[t] {
                    survival[t] = b.clone().map(|b| survive(b, n));
                }
            }
        }
        Backgrounds { survival }
    }

    /// The chance of a score of at least `score` on a target `width` wide.
    fn p_value(&self, width: usize, score: i64) -> f64 {
        if score <= 0 {
            return 1.0;
        }
        match self.survival.get(width).and_then(Option::as_ref) {
            Some(s) => s[((score - 1) as usize).min(s.len() - 1)],
            None => 1.0,
        }
    }
}

/// The distribution of the larger of two independent scores, into `acc` (`None`: nothing yet,
/// memelite's -1 sentinel).
fn pairwise_max(acc: &mut Option<Vec<f64>>, y: &Span, n: usize) {
    match acc {
        None => *acc = Some(y.pmf.clone()),
        Some(x) => {
            let mut x_csum = 0.0;
            for ((x, &cdf), &pmf) in x[..n].iter_mut().zip(&y.cdf).zip(&y.pmf) {
                x_csum += *x;
                *x = (*x * cdf + pmf * x_csum) - *x * pmf;
            }
        }
    }
}

/// `s[j]`, the chance of a score above `j`: the distribution summed from the top down, as
/// memelite 0.5 does, which keeps the small tail probabilities of the best matches to full
/// relative precision (1 - a running sum loses everything below its round-off), clamped to
/// [0, 1].
fn survive(mut pmf: Vec<f64>, n: usize) -> Vec<f64> {
    let mut above = 0.0f64;
    for v in pmf[..n].iter_mut().rev() {
        let p = *v;
        *v = above.clamp(0.0, 1.0);
        above += p;
    }
    pmf
}

/// The best alignment of the query with one target (given as its merged column indices), by
/// memelite's rule: the highest score; among equal scores, positions are visited left to right
/// and a later one replaces the kept one when the kept one's offset is below the later one's
/// overlap (memelite compares those two fields).
fn best_alignment(
    scores: &Scores,
    columns: &[usize],
    target: usize,
    backgrounds: &Backgrounds,
) -> Hit {
    let nq = scores.nq as i64;
    let nt = columns.len() as i64;
    let offset = scores.offset as i64;
    let mut sums = vec![nq * offset; (nt + nq - 1) as usize];
    for (k, &j) in columns.iter().enumerate() {
        let row = &scores.bin[j * scores.nq..(j + 1) * scores.nq];
        for (l, &x) in row.iter().rev().enumerate() {
            sums[k + l] += x as i64 - offset;
        }
    }
    let best = sums.iter().copied().max().unwrap_or(0);
    let overlap = |s: i64| (s + 1).min(nq) - 0.max(s - nt + 1);
    let mut hit = Hit {
        target,
        p_value: 1.0,
        e_value: 0.0,
        q_value: 0.0,
        score: 0,
        offset: 0,
        overlap: 0,
        reverse: false,
    };
    if best <= 0 {
        return hit;
    }
    let mut kept = false;
    for (s, &score) in sums.iter().enumerate() {
        if score != best {
            continue;
        }
        let s = s as i64;
        let o = overlap(s);
        if kept && hit.offset >= o {
            continue;
        }
        kept = true;
        hit.p_value = backgrounds.p_value(columns.len(), score);
        hit.score = score;
        hit.offset = s - nq + 1;
        hit.overlap = o as usize;
    }
    hit
}

/// Benjamini-Hochberg adjusted p-values, in the input's order.
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]).then(a.cmp(&b)));
    let mut q = vec![0.0; m];
    let mut running = 1.0f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        running = running.min(p[i] * m as f64 / (rank + 1) as f64);
        q[i] = running;
    }
    q
}
