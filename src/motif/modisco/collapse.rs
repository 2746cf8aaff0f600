//! Patterns that are one motif are merged, and patterns that are several are split
//! (modisco-lite's `SimilarPatternsCollapser` and `_detect_spurious_merging`), and weak ones
//! dropped (`_filter_patterns`).
//!
//! Two patterns merge when, aligned by the Pearson correlation of their contributions, they
//! are alike (high similarity) and their seqlets cannot be told apart (the AUROC of
//! within-pattern against between-pattern Jaccard similarities near 0.5, i.e. high
//! cross-contamination), unless some pair in the merged group fails the dealbreaker
//! thresholds. A large pattern is first split by Leiden on its seqlets' Jaccard
//! similarities, and the pieces merged back where they are alike.

use super::affinity::{Graph, fine_rows, jaccard_add, jaccard_ratio};
use super::leiden;
use super::numerics::{RandomState, perplexity_search};
use super::pattern::{Metric, Pattern, PatternOptions, information};
use super::seqlets::Seqlet;
use super::tracks::TrackSet;

/// The merging and filtering settings (modisco-lite's defaults).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct CollapseOptions {
    /// (cross-contamination, similarity) pairs, either of which merges two patterns.
    pub merge_thresholds: Vec<(f64, f64)>,
    /// (cross-contamination, similarity) pairs at or below both of which a pair must not end
    /// up merged.
    pub dealbreaker_thresholds: Vec<(f64, f64)>,
    /// The perplexity of splitting a pattern.
    pub subcluster_perplexity: f64,
    /// Seqlets per pattern compared when merging (a seeded subsample above this).
    pub max_seqlets_subsample: usize,
    /// The fewest seqlets a final pattern has.
    pub final_min_cluster_size: usize,
    /// The information content (bits) that some window of a final pattern reaches...
    pub min_ic_in_window: f64,
    /// ...over this many positions.
    pub min_ic_windowsize: usize,
    /// The pseudocount of that information content.
    pub ppm_pseudocount: f64,
    /// Leiden runs when splitting.
    pub leiden_runs: usize,
}

impl Default for CollapseOptions {
    fn default() -> CollapseOptions {
        CollapseOptions {
            merge_thresholds: vec![(0.8, 0.8), (0.5, 0.85), (0.2, 0.9)],
            dealbreaker_thresholds: vec![(0.4, 0.75), (0.2, 0.8), (0.1, 0.85), (0.0, 0.9)],
            subcluster_perplexity: 50.0,
            max_seqlets_subsample: 1000,
            final_min_cluster_size: 20,
            min_ic_in_window: 0.6,
            min_ic_windowsize: 6,
            ppm_pseudocount: 0.001,
            leiden_runs: 50,
        }
    }
}

/// Continuous Jaccard of two equally long flat vectors (modisco-lite's `jaccard` at offset
/// 0 with one channel).
fn jaccard_flat(x: &[f32], y: &[f32]) -> f32 {
    let mut sums = (0f64, 0f64);
    for (&xv, &yv) in x.iter().zip(y) {
        jaccard_add(&mut sums, xv, yv);
    }
    jaccard_ratio(sums)
}

fn sign(v: f32) -> f32 {
    if v == 0.0 { 0.0 } else { v.signum() }
}

/// A seqlet's fine-pass rows, flattened.
fn flat(tracks: &TrackSet, s: &Seqlet) -> Vec<f32> {
    fine_rows(&tracks.snippet(s, false))
        .into_iter()
        .flatten()
        .collect()
}

/// The area under the ROC curve of `positive` scores against `negative` ones (ties count
/// one half), as scikit-learn's `roc_auc_score` gives it.
fn auroc(negative: &[f32], positive: &[f32]) -> f64 {
    let scores: Vec<f32> = negative.iter().chain(positive).copied().collect();
    let labels: Vec<f32> = (0..scores.len())
        .map(|i| if i < negative.len() { 0.0 } else { 1.0 })
        .collect();
    crate::train::metrics::auroc(&scores, &labels).unwrap_or(0.5)
}

/// A pattern's seqlets, at most `cap` of them (numpy's legacy `choice` without replacement,
/// seeded 1234).
fn subsample(p: &Pattern, cap: usize) -> Vec<Seqlet> {
    if p.seqlets.len() <= cap {
        return p.seqlets.clone();
    }
    let order = RandomState::new(1234).permutation(p.seqlets.len());
    order[..cap].iter().map(|&i| p.seqlets[i]).collect()
}

/// A pattern's side of the pairwise comparisons, the same against every other pattern: its
/// subsampled seqlets, their flattened rows, and the Jaccard similarities among them.
struct Side {
    seqlets: Vec<Seqlet>,
    rows: Vec<Vec<f32>>,
    within: Vec<f32>,
}

impl Side {
    fn new(tracks: &TrackSet, p: &Pattern, cap: usize) -> Side {
        let seqlets = subsample(p, cap);
        let rows: Vec<Vec<f32>> = seqlets.iter().map(|s| flat(tracks, s)).collect();
        let within = rows
            .iter()
            .flat_map(|y| rows.iter().map(move |x| jaccard_flat(x, y)))
            .collect();
        Side {
            seqlets,
            rows,
            within,
        }
    }
}

/// Pattern i's similarity to j (j aligned onto i), and the AUROC of i's within-pattern
/// Jaccard similarities against those between i's seqlets and j's shifted onto i.
fn pair(
    tracks: &TrackSet,
    pi: &Pattern,
    pj: &Pattern,
    side_i: &Side,
    side_j: &Side,
    min_overlap: f64,
) -> (f64, f64) {
    let (offset, rc, sim) = pi.align_pattern(pj, min_overlap);
    let shifted: Vec<Seqlet> = side_j
        .seqlets
        .iter()
        .map(|s| if rc { s.flipped() } else { *s })
        .filter_map(|s| {
            let amt = if s.revcomp { offset } else { -offset };
            let start = s.start as i64 + amt;
            let end = s.end as i64 + amt;
            (start >= 0 && end < tracks.length(s.track) as i64).then_some(Seqlet {
                start: start as usize,
                end: end as usize,
                ..s
            })
        })
        .collect();
    if shifted.is_empty() {
        return (0.0, 0.5);
    }
    let a = &side_i.rows;
    let b: Vec<Vec<f32>> = shifted.iter().map(|s| flat(tracks, s)).collect();
    let between: Vec<f32> = b
        .iter()
        .flat_map(|y| a.iter().map(move |x| jaccard_flat(x, y)))
        .collect();
    (sim, auroc(&between, &side_i.within))
}

/// Merges alike patterns until none merge (modisco-lite's `SimilarPatternsCollapser`).
pub fn collapse(
    tracks: &TrackSet,
    patterns: Vec<Pattern>,
    po: &PatternOptions,
    co: &CollapseOptions,
    background: &[f32; 4],
) -> Vec<Pattern> {
    let mut patterns = patterns;
    loop {
        let n = patterns.len();
        let sides = crate::nn::par_map(
            n,
            || (),
            |_, i| Side::new(tracks, &patterns[i], co.max_seqlets_subsample),
        );
        let cells = crate::nn::par_map(
            n * n,
            || (),
            |_, c| {
                let (i, j) = (c / n, c % n);
                if i == j {
                    (1.0, 0.5)
                } else {
                    pair(
                        tracks,
                        &patterns[i],
                        &patterns[j],
                        &sides[i],
                        &sides[j],
                        po.min_overlap,
                    )
                }
            },
        );
        let sim = |i: usize, j: usize| 0.5 * (cells[i * n + j].0 + cells[j * n + i].0);
        let contam = |i: usize, j: usize| 2.0 * (1.0 - cells[i * n + j].1.max(0.5));
        let mut pairs: Vec<(usize, usize, f64)> = (0..n)
            .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
            .map(|(i, j)| (i, j, sim(i, j)))
            .collect();
        pairs.sort_by(|a, b| b.2.total_cmp(&a.2));
        let mut partners: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
        let mut to_merge = Vec::new();
        for &(i, j, s) in &pairs {
            let cc = contam(i, j).min(contam(j, i));
            if !co.merge_thresholds.iter().any(|&(c, t)| cc >= c && s >= t) {
                continue;
            }
            let mut group: Vec<usize> = partners[i].iter().chain(&partners[j]).copied().collect();
            group.sort_unstable();
            group.dedup();
            let breaks = group.iter().any(|&m1| {
                group.iter().any(|&m2| {
                    m1 < m2 && {
                        let cc = 0.5 * (contam(m1, m2) + contam(m2, m1));
                        let s = sim(m1, m2);
                        co.dealbreaker_thresholds
                            .iter()
                            .any(|&(c, t)| cc <= c && s <= t)
                    }
                })
            });
            if !breaks {
                to_merge.push((i, j));
                for &m in &group {
                    partners[m] = group.clone();
                }
            }
        }
        if to_merge.is_empty() {
            return patterns;
        }
        // Slots share a pattern once merged (single linkage): `slot[k]` is slot k's pattern.
        let mut current: Vec<usize> = (0..n).collect();
        let mut pool: Vec<Pattern> = patterns;
        for (i, j) in to_merge {
            let (a, b) = (current[i], current[j]);
            if a == b {
                continue;
            }
            let (parent, child) = if pool[a].seqlets.len() < pool[b].seqlets.len() {
                (b, a)
            } else {
                (a, b)
            };
            let merged = pool[parent].merge(
                tracks,
                &pool[child].seqlets.clone(),
                Metric::Pearson,
                po.min_overlap,
            );
            if let Some(p) = merged.polish(tracks, po, background) {
                pool.push(p);
                let new = pool.len() - 1;
                for c in current.iter_mut() {
                    if *c == parent || *c == child {
                        *c = new;
                    }
                }
            }
        }
        // Largest first (stable), each once.
        let mut order: Vec<usize> = current.clone();
        order.sort_by(|&a, &b| pool[b].seqlets.len().cmp(&pool[a].seqlets.len()));
        let mut seen = std::collections::HashSet::new();
        order.retain(|&k| seen.insert(k));
        let mut taken: Vec<Option<Pattern>> = pool.into_iter().map(Some).collect();
        patterns = order
            .into_iter()
            .map(|k| taken[k].take().unwrap_or_else(|| unreachable!()))
            .collect();
    }
}

/// Splits a pattern by Leiden on its seqlets' Jaccard similarities (modisco-lite's
/// `compute_subpatterns`): the sub-patterns, largest first.
pub fn subpatterns(tracks: &TrackSet, p: &Pattern, perplexity: f64, runs: usize) -> Vec<Pattern> {
    let data: Vec<Vec<f32>> = p.seqlets.iter().map(|s| flat(tracks, s)).collect();
    let n = data.len();
    let k = ((perplexity * 3.0 + 2.0) as usize).min(n);
    // Each row's k most similar seqlets (itself first), by Jaccard.
    let near: Vec<(Vec<usize>, Vec<f64>)> = crate::nn::par_map(
        n,
        || (),
        |_, i| {
            let sims: Vec<f64> = (0..n)
                .map(|j| jaccard_pairwise(&data[i], &data[j]))
                .collect();
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| sims[b].total_cmp(&sims[a]));
            order.truncate(k);
            let s = order.iter().map(|&j| sims[j]).collect();
            (order, s)
        },
    );
    // t-SNE conditional probabilities over the neighbours after the first, symmetrised and
    // normalised to sum to one.
    let m = (n.saturating_sub(1)).min((3.0 * perplexity + 1.0) as usize);
    let mut rows: Vec<std::collections::BTreeMap<usize, f64>> = vec![Default::default(); n];
    for (i, (ix, s)) in near.iter().enumerate() {
        let take = m.min(ix.len().saturating_sub(1));
        let d: Vec<f32> = s[1..1 + take]
            .iter()
            .map(|&a| ((1.0 / (0.5 * a.max(1e-7))) - 1.0).ln().max(0.0) as f32)
            .collect();
        let p = conditional(&d, perplexity);
        for (t, &j) in ix[1..1 + take].iter().enumerate() {
            *rows[i].entry(j).or_default() += p[t];
            *rows[j].entry(i).or_default() += p[t];
        }
    }
    let total: f64 = rows.iter().flat_map(|r| r.values()).sum();
    let graph = Graph {
        rows: rows
            .into_iter()
            .map(|r| r.into_iter().map(|(j, v)| (j, v / total)).collect())
            .collect(),
    };
    let membership = leiden::cluster(&graph, runs);
    let groups = membership.iter().max().map_or(0, |m| m + 1);
    let mut members: Vec<Vec<Seqlet>> = vec![Vec::new(); groups];
    for (s, &c) in p.seqlets.iter().zip(&membership) {
        members[c].push(*s);
    }
    let mut out: Vec<Pattern> = members
        .iter()
        .filter(|m| !m.is_empty())
        .map(|m| Pattern::new(tracks, m))
        .collect();
    out.sort_by_key(|p| std::cmp::Reverse(p.seqlets.len()));
    out
}

/// modisco-lite's `pairwise_jaccard` of two flat vectors (float64 sums).
fn jaccard_pairwise(x: &[f32], y: &[f32]) -> f64 {
    let (mut min_sum, mut max_sum) = (0f64, 0f64);
    for (&a, &b) in x.iter().zip(y) {
        let s = (sign(a) * sign(b)) as f64;
        let (xa, ya) = (a.abs() as f64, b.abs() as f64);
        if xa > ya {
            min_sum += ya * s;
            max_sum += xa;
        } else {
            min_sum += xa * s;
            max_sum += ya;
        }
    }
    if max_sum == 0.0 {
        0.0
    } else {
        min_sum / max_sum
    }
}

/// scikit-learn's `_binary_search_perplexity` for one row of distances (float32), the
/// probabilities normalised to sum to one.
fn conditional(d: &[f32], perplexity: f64) -> Vec<f64> {
    let probabilities = |beta: f64| -> (Vec<f64>, f64) {
        let p: Vec<f64> = d.iter().map(|&di| (-(di as f64) * beta).exp()).collect();
        let sum = p.iter().sum::<f64>();
        let sum = if sum == 0.0 { 1e-8 } else { sum };
        (p.iter().map(|v| v / sum).collect(), sum)
    };
    let (beta, _) = perplexity_search(perplexity, |beta| {
        let (p, sum) = probabilities(beta);
        let sum_dp: f64 = d.iter().zip(&p).map(|(&di, pi)| di as f64 * pi).sum();
        sum.ln() + beta * sum_dp
    });
    let p = probabilities(beta).0;
    let total: f64 = p.iter().sum::<f64>().max(1e-8);
    p.iter().map(|v| v / total).collect()
}

/// Splits large patterns and merges alike pieces, then merges across all patterns
/// (modisco-lite's `_detect_spurious_merging`).
pub fn detect_spurious_merging(
    tracks: &TrackSet,
    patterns: Vec<Pattern>,
    po: &PatternOptions,
    co: &CollapseOptions,
    background: &[f32; 4],
) -> Vec<Pattern> {
    let min_in_subcluster = co
        .final_min_cluster_size
        .max(co.subcluster_perplexity as usize);
    let mut out = Vec::new();
    for p in patterns {
        if p.seqlets.len() > min_in_subcluster {
            let pieces = subpatterns(tracks, &p, co.subcluster_perplexity, co.leiden_runs);
            out.extend(collapse(tracks, pieces, po, co, background));
        } else {
            out.push(p);
        }
    }
    collapse(tracks, out, po, co, background)
}

/// Whether a final pattern is kept: enough seqlets and a window of enough information.
pub fn passes(p: &Pattern, co: &CollapseOptions, background: &[f32; 4]) -> bool {
    if p.seqlets.len() < co.final_min_cluster_size {
        return false;
    }
    let ic = information(&p.sequence(), background, co.ppm_pseudocount);
    let w = co.min_ic_windowsize;
    if ic.len() < w {
        return ic.iter().sum::<f64>() >= co.min_ic_in_window;
    }
    ic.windows(w)
        .map(|x| x.iter().sum::<f64>())
        .fold(f64::NEG_INFINITY, f64::max)
        >= co.min_ic_in_window
}
