//! How alike seqlets are, in modisco-lite's two passes.
//!
//! - **Coarse**: each seqlet (on each strand) becomes a sparse vector of gapped k-mers built
//!   from its `topn` most important positions, weighted by their mean contribution; the
//!   cosine similarity, the better of the two strands, picks each seqlet's nearest
//!   neighbours.
//! - **Fine**: for those neighbours only, the continuous Jaccard similarity of the
//!   L1-normalised hypothetical contributions and contributions, at the best offset (at
//!   least `min_overlap` of the positions overlapping) and the better strand.
//! - Rows whose fine similarities do not rank their neighbours like the coarse ones
//!   (Spearman correlation at or below a threshold) are dropped, as noisy seqlets.
//! - **Density adaptation**: the fine similarities become distances, symmetrised, and then
//!   t-SNE-like affinities with a per-seqlet bandwidth found for a target perplexity: the
//!   weighted graph that the clustering runs on.

use std::collections::HashMap;

use super::numerics::{pairwise_sum, perplexity_search};
use super::seqlets::Seqlet;
use super::tracks::{Snippet, TrackSet};

/// The similarity passes' settings (modisco-lite's defaults).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct AffinityOptions {
    /// Nearest neighbours kept per seqlet by the coarse pass (itself included, plus this
    /// many).
    pub n_neighbors: usize,
    /// Positions per seqlet the gapped k-mers are built from.
    pub topn: usize,
    /// The shortest gapped k-mer counted.
    pub min_k: usize,
    /// The longest.
    pub max_k: usize,
    /// The largest gap between consecutive bases of a k-mer.
    pub max_gap: usize,
    /// The longest span of a k-mer.
    pub max_len: usize,
    /// Gapped k-mers kept per seqlet, largest weights first.
    pub max_entries: usize,
    /// The smallest overlap, as a share of a seqlet, at which the fine pass compares.
    pub min_overlap: f64,
    /// The Spearman correlation a row needs to be kept.
    pub correlation_threshold: f64,
    /// The perplexity density adaptation aims at.
    pub perplexity: f64,
}

impl Default for AffinityOptions {
    fn default() -> AffinityOptions {
        AffinityOptions {
            n_neighbors: 500,
            topn: 20,
            min_k: 4,
            max_k: 6,
            max_gap: 15,
            max_len: 15,
            max_entries: 500,
            min_overlap: 0.7,
            correlation_threshold: 0.15,
            perplexity: 10.0,
        }
    }
}

/// Each row's nearest seqlets, most similar first, and their similarities.
#[derive(Clone, Debug, PartialEq)]
pub struct Neighbours {
    /// Per row, the neighbours' indices.
    pub index: Vec<Vec<usize>>,
    /// Per row, their similarities, in the same order.
    pub similarity: Vec<Vec<f64>>,
}

/// A sparse vector: (key, value) by key.
type Sparse = Vec<(i64, f64)>;

/// A seqlet's gapped k-mers on one strand, L2-normalised.
fn gapped_kmers(snippet: &Snippet, sign: f32, o: &AffinityOptions) -> Sparse {
    let len = snippet.one_hot.len();
    let importance: Vec<f32> = snippet
        .contrib
        .iter()
        .map(|c| (0..4).fold(0f32, |acc, k| acc + c[k] * sign))
        .collect();
    // np.argsort(-importance)[:topn]; ties by position.
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|&a, &b| importance[b].total_cmp(&importance[a]).then(a.cmp(&b)));
    order.truncate(o.topn);
    order.sort_unstable();
    let points: Vec<(i64, i64, f64)> = order
        .iter()
        .map(|&p| {
            let row = &snippet.one_hot[p];
            let base = (1..4).fold(0, |best, k| if row[k] > row[best] { k } else { best });
            (p as i64, base as i64, importance[p] as f64)
        })
        .collect();
    let n = points.len();
    // The k-mers grown so far from each start: (index of the last base, summed
    // contribution, key); one base each to begin with.
    let mut grown: Vec<Vec<(usize, f64, i64)>> = (0..n)
        .map(|i| vec![(i, points[i].2, points[i].1 + 1)])
        .collect();
    let mut slot: HashMap<i64, usize> = HashMap::new();
    let mut weights: Vec<(i64, f64)> = Vec::new();
    for k in 2..=o.max_k {
        for j in 0..n {
            let start = points[j].0;
            let mut next = Vec::new();
            for (i, &(position, base, attr)) in points.iter().enumerate().skip(j + 1) {
                if position - start >= o.max_len as i64 {
                    break;
                }
                for &(g, summed, key) in &grown[j] {
                    let last = points[g].0;
                    if last >= position {
                        break;
                    }
                    if position - last > o.max_gap as i64 {
                        continue;
                    }
                    let key = key + (base + 1) * 5i64.pow((position - start) as u32);
                    let summed = summed + attr;
                    next.push((i, summed, key));
                    if k >= o.min_k {
                        let at = *slot.entry(key).or_insert_with(|| {
                            weights.push((key, 0.0));
                            weights.len() - 1
                        });
                        weights[at].1 += summed / k as f64;
                    }
                }
            }
            grown[j] = next;
        }
    }
    // The largest weights by magnitude (stable), then by key, normalised.
    weights.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    weights.truncate(o.max_entries);
    weights.sort_by_key(|e| e.0);
    let norm = weights.iter().fold(0.0, |acc, e| acc + e.1 * e.1);
    if norm != 0.0 {
        let norm = norm.sqrt();
        for e in &mut weights {
            e.1 /= norm;
        }
    }
    weights
}

/// The coarse pass: each seqlet's `n_neighbors + 1` most similar seqlets (itself usually
/// first) by gapped k-mer cosine similarity, the better of the two strands. `sign` is +1 for
/// the positive metacluster and -1 for the negative.
pub fn coarse(tracks: &TrackSet, seqlets: &[Seqlet], sign: f32, o: &AffinityOptions) -> Neighbours {
    let n = seqlets.len();
    let embed = |reverse: bool| -> Vec<Sparse> {
        crate::nn::par_map(
            n,
            || (),
            |_, i| gapped_kmers(&tracks.snippet(&seqlets[i], reverse), sign, o),
        )
    };
    let (fwd, rev) = (embed(false), embed(true));
    // Postings: for each key, the rows holding it, so each row's dot products are summed in
    // key order, as a merge of two sorted rows sums them.
    let postings = |rows: &[Sparse]| {
        let mut p: HashMap<i64, Vec<(usize, f64)>> = HashMap::new();
        for (r, row) in rows.iter().enumerate() {
            for &(key, v) in row {
                p.entry(key).or_default().push((r, v));
            }
        }
        p
    };
    let (pf, pr) = (postings(&fwd), postings(&rev));
    let k = (o.n_neighbors + 1).min(n);
    let rows = crate::nn::par_map(
        n,
        || (vec![0f64; n], vec![0f64; n]),
        |(dx, dy), i| {
            dx.fill(0.0);
            dy.fill(0.0);
            for &(key, v) in &fwd[i] {
                for (p, d) in [(&pf, &mut *dx), (&pr, &mut *dy)] {
                    if let Some(list) = p.get(&key) {
                        for &(j, w) in list {
                            d[j] += v * w;
                        }
                    }
                }
            }
            let dot: Vec<f64> = dx.iter().zip(dy.iter()).map(|(a, b)| a.max(*b)).collect();
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| dot[b].total_cmp(&dot[a]).then(a.cmp(&b)));
            order.truncate(k);
            let sims = order.iter().map(|&j| dot[j]).collect();
            (order, sims)
        },
    );
    let (index, similarity) = rows.into_iter().unzip();
    Neighbours { index, similarity }
}

/// A seqlet's rows for the fine pass: the L1-normalised hypothetical contributions, then the
/// L1-normalised contributions, eight values per position.
pub(super) fn fine_rows(snippet: &Snippet) -> Vec<[f32; 8]> {
    let l1 = |rows: &[[f32; 4]]| -> Vec<[f32; 4]> {
        let flat: Vec<f32> = rows.iter().flatten().map(|v| v.abs()).collect();
        let sum = pairwise_sum(&flat);
        if sum == 0.0 {
            return rows.to_vec();
        }
        rows.iter().map(|r| r.map(|v| v / sum)).collect()
    };
    let (h, c) = (l1(&snippet.hypothetical), l1(&snippet.contrib));
    h.iter()
        .zip(&c)
        .map(|(h, c)| [h[0], h[1], h[2], h[3], c[0], c[1], c[2], c[3]])
        .collect()
}

/// The continuous Jaccard similarity of `x` against `y` at its best offset, `y` padded with
/// `pad` zero positions on each side, and that offset (the first best; modisco-lite's
/// `jaccard`, whose offset is this minus `pad`).
pub(super) fn jaccard_aligned(x: &[[f32; 8]], y: &[[f32; 8]], pad: usize) -> (f32, usize) {
    let d = x.len();
    let offsets = (1 + y.len() + 2 * pad).saturating_sub(d);
    let zero = [0f32; 8];
    let (mut best, mut at) = (f32::NEG_INFINITY, 0);
    for idx in 0..offsets {
        // One accumulator per channel, so the adds run side by side (modisco-lite's kernel
        // adds them in one chain; float64 sums of float32 terms differ only far below the
        // float32 result's precision).
        let mut sums = ([0f64; 8], [0f64; 8]);
        for (jx, xr) in x.iter().enumerate() {
            let j = idx + jx;
            let yr = if j >= pad && j - pad < y.len() {
                &y[j - pad]
            } else {
                &zero
            };
            for k in 0..8 {
                let (lo, hi) = jaccard_terms(xr[k], yr[k]);
                sums.0[k] += lo as f64;
                sums.1[k] += hi as f64;
            }
        }
        let score = jaccard_ratio((sums.0.iter().sum(), sums.1.iter().sum()));
        if score > best {
            best = score;
            at = idx;
        }
    }
    (best, at)
}

fn jaccard_best(x: &[[f32; 8]], y: &[[f32; 8]], pad: usize) -> f32 {
    jaccard_aligned(x, y, pad).0
}

/// One pair of values' terms of continuous Jaccard's (signed minimum, maximum) sums, as
/// modisco-lite's `_jaccard` kernel computes them: the smaller magnitude signed by whether
/// the signs agree (0 when either is 0), and the larger magnitude. Branch-free: the fine pass
/// runs it billions of times.
fn jaccard_terms(x: f32, y: f32) -> (f32, f32) {
    let (xa, ya) = (x.abs(), y.abs());
    let (lo, hi) = (xa.min(ya), xa.max(ya));
    // The product's sign is the signs' agreement (an underflow keeps it); a zero minimum
    // stays zero whatever its sign bit (adding -0.0 to a sum changes nothing).
    (lo.copysign(x * y), hi)
}

/// One pair of values into continuous Jaccard's (signed minimum, maximum) sums: float32
/// terms, float64 sums, as modisco-lite adds them.
pub(super) fn jaccard_add(sums: &mut (f64, f64), x: f32, y: f32) {
    let (lo, hi) = jaccard_terms(x, y);
    sums.0 += lo as f64;
    sums.1 += hi as f64;
}

/// The similarity from those sums (0 when everything is zero).
pub(super) fn jaccard_ratio(sums: (f64, f64)) -> f32 {
    if sums.1 == 0.0 {
        0.0
    } else {
        (sums.0 / sums.1) as f32
    }
}

/// The fine pass: for each seqlet and each of its coarse neighbours, the continuous Jaccard
/// similarity at the best offset and strand.
pub fn fine(
    tracks: &TrackSet,
    seqlets: &[Seqlet],
    neighbours: &[Vec<usize>],
    min_overlap: f64,
) -> Vec<Vec<f32>> {
    let n = seqlets.len();
    let fwd: Vec<Vec<[f32; 8]>> = crate::nn::par_map(
        n,
        || (),
        |_, i| fine_rows(&tracks.snippet(&seqlets[i], false)),
    );
    let rev: Vec<Vec<[f32; 8]>> = crate::nn::par_map(
        n,
        || (),
        |_, i| fine_rows(&tracks.snippet(&seqlets[i], true)),
    );
    crate::nn::par_map(
        n,
        || (),
        |_, l| {
            neighbours[l]
                .iter()
                .map(|&j| {
                    let pad = (fwd[j].len() as f64 * (1.0 - min_overlap)) as usize;
                    jaccard_best(&fwd[j], &fwd[l], pad).max(jaccard_best(&rev[j], &fwd[l], pad))
                })
                .collect()
        },
    )
}

/// Spearman's correlation; NaN when either side is constant or has fewer than two values.
fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len();
    if n < 2 {
        return f64::NAN;
    }
    let (ra, rb) = (
        crate::train::metrics::ranks(a),
        crate::train::metrics::ranks(b),
    );
    let mean = (n as f64 + 1.0) / 2.0;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in ra.iter().zip(&rb) {
        let (dx, dy) = (x - mean, y - mean);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    sab / (saa * sbb).sqrt()
}

/// The rows (seqlets) kept because their fine similarities rank their neighbours as the
/// coarse ones do (Spearman above `threshold`, over the neighbours with a non-zero fine
/// similarity), with their neighbours and fine similarities restricted to kept rows and
/// renumbered.
pub fn filter_by_correlation(
    coarse: &Neighbours,
    fine: &[Vec<f32>],
    threshold: f64,
) -> (Vec<usize>, Vec<Vec<usize>>, Vec<Vec<f32>>) {
    let kept: Vec<usize> = (0..fine.len())
        .filter(|&i| {
            let (mut f, mut c) = (Vec::new(), Vec::new());
            for (j, &v) in fine[i].iter().enumerate() {
                if v.abs() > 0.0 {
                    f.push(v as f64);
                    c.push(coarse.similarity[i][j]);
                }
            }
            spearman(&f, &c) > threshold
        })
        .collect();
    let mut renumber = vec![usize::MAX; fine.len()];
    for (new, &old) in kept.iter().enumerate() {
        renumber[old] = new;
    }
    let mut index = Vec::with_capacity(kept.len());
    let mut sims = Vec::with_capacity(kept.len());
    for &i in &kept {
        let (mut ix, mut sv) = (Vec::new(), Vec::new());
        for (&j, &v) in coarse.index[i].iter().zip(&fine[i]) {
            if renumber[j] != usize::MAX {
                ix.push(renumber[j]);
                sv.push(v);
            }
        }
        index.push(ix);
        sims.push(sv);
    }
    (kept, index, sims)
}

/// A symmetric sparse matrix by rows: each row's (column, value) by column.
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    /// Per vertex, its (neighbour, weight) entries by neighbour, itself included.
    pub rows: Vec<Vec<(usize, f64)>>,
}

/// modisco-lite's `binary_search_perplexity`: the bandwidth at which a row's distances have
/// the target perplexity.
fn perplexity_beta(perplexity: f64, distances: &[f64]) -> f64 {
    perplexity_search(perplexity, |beta| {
        let ps: Vec<f64> = distances.iter().map(|d| (-d * beta).exp()).collect();
        let sum = pairwise_sum(&ps) + 1.0;
        let scaled: Vec<f64> = distances
            .iter()
            .zip(&ps)
            .map(|(d, p)| d * (p / sum.max(1e-8)))
            .collect();
        sum.ln() + beta * pairwise_sum(&scaled)
    })
    .1
}

/// Density adaptation: the fine similarities of each row's neighbours become distances
/// (`ln(2 / s - 1)`, at least 0; zero distances dropped), averaged with the reverse
/// direction where both exist, and then the affinity `sqrt(p_ij p_ji)` with each row's
/// Gaussian-like kernel normalised at the target perplexity, plus `1 / normaliser` on the
/// diagonal.
pub fn density_adaptation(index: &[Vec<usize>], fine: &[Vec<f32>], perplexity: f64) -> Graph {
    let n = index.len();
    let mut dist: Vec<Vec<(usize, f64)>> = index
        .iter()
        .zip(fine)
        .map(|(ix, f)| {
            let mut row: Vec<(usize, f64)> = ix
                .iter()
                .zip(f)
                .map(|(&j, &s)| {
                    (
                        j,
                        ((1.0 / (0.5 * (s as f64).max(1e-7))) - 1.0).ln().max(0.0),
                    )
                })
                .filter(|e| e.1 != 0.0)
                .collect();
            row.sort_by_key(|e| e.0);
            row
        })
        .collect();
    // (A + A^T) / (count + count^T) over the union of the two patterns.
    let mut sym: Vec<HashMap<usize, (f64, f64)>> = vec![HashMap::new(); n];
    for (i, row) in dist.iter().enumerate() {
        for &(j, d) in row {
            let e = sym[i].entry(j).or_insert((0.0, 0.0));
            e.0 += d;
            e.1 += 1.0;
            let e = sym[j].entry(i).or_insert((0.0, 0.0));
            e.0 += d;
            e.1 += 1.0;
        }
    }
    dist = sym
        .into_iter()
        .map(|m| {
            let mut row: Vec<(usize, f64)> = m.into_iter().map(|(j, (s, c))| (j, s / c)).collect();
            row.sort_by_key(|e| e.0);
            row
        })
        .collect();
    let betas: Vec<f64> = crate::nn::par_map(
        n,
        || (),
        |_, i| {
            let d: Vec<f64> = dist[i].iter().map(|e| e.1).collect();
            perplexity_beta(perplexity, &d)
        },
    );
    let norms: Vec<f64> = (0..n)
        .map(|i| {
            let e: Vec<f64> = dist[i]
                .iter()
                .map(|&(_, d)| (-d / betas[i]).exp())
                .collect();
            pairwise_sum(&e) + 1.0
        })
        .collect();
    let rows = dist
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let mut out: Vec<(usize, f64)> = row
                .iter()
                .map(|&(j, d)| {
                    let pi = (-d / betas[i]).exp() / norms[i];
                    let pj = (-d / betas[j]).exp() / norms[j];
                    (j, (pi * pj).sqrt())
                })
                .collect();
            let at = out.partition_point(|e| e.0 < i);
            out.insert(at, (i, 1.0 / norms[i]));
            out
        })
        .collect();
    Graph { rows }
}
