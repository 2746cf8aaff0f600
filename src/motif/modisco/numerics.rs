//! The numpy and scikit-learn computations that TF-MoDISco-lite's seqlet thresholds go
//! through, done the same way so the thresholds come out the same: numpy's legacy
//! `RandomState` (MT19937 draws and its permutation), linear-interpolation percentiles,
//! uniform-bin histograms, float32 pairwise sums, `np.interp`, and scikit-learn's
//! `IsotonicRegression` (pool-adjacent-violators over the sorted, de-duplicated points).

use rand_mt::Mt;

/// numpy's legacy `np.random.RandomState(seed)`: MT19937 seeded with `init_genrand`.
pub struct RandomState(Mt);

impl RandomState {
    pub fn new(seed: u32) -> RandomState {
        RandomState(Mt::new(seed))
    }

    /// `random_sample()`: a double in [0, 1) from 53 bits of two 32-bit draws.
    pub fn random_sample(&mut self) -> f64 {
        let a = (self.0.next_u32() >> 5) as f64;
        let b = (self.0.next_u32() >> 6) as f64;
        (a * 67108864.0 + b) / 9007199254740992.0
    }

    /// `permutation(n)`: `arange(n)` shuffled by the legacy Fisher-Yates, each swap index
    /// drawn by masked rejection (`random_interval`).
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut out: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.interval(i as u64) as usize;
            out.swap(i, j);
        }
        out
    }

    /// A uniform integer in `0..=max`: numpy's `random_interval`.
    fn interval(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let mut mask = max;
        for shift in [1, 2, 4, 8, 16, 32] {
            mask |= mask >> shift;
        }
        if max <= u32::MAX as u64 {
            loop {
                let v = (self.0.next_u32() as u64) & mask;
                if v <= max {
                    return v;
                }
            }
        }
        loop {
            let v = self.0.next_u64() & mask;
            if v <= max {
                return v;
            }
        }
    }
}

/// numpy's `_lerp`: from `a` for weights below one half, from `b` above, so that the ends
/// are exact.
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// `np.percentile(values, q)` with the default linear method, over values already sorted
/// ascending (not empty).
pub fn percentile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    let virtual_index = (n - 1) as f64 * (q / 100.0);
    if virtual_index >= (n - 1) as f64 {
        return sorted[n - 1];
    }
    if virtual_index < 0.0 {
        return sorted[0];
    }
    let previous = virtual_index.floor();
    let i = previous as usize;
    lerp(sorted[i], sorted[i + 1], virtual_index - previous)
}

/// `np.histogram(values, bins)`: the counts over `bins` equal-width bins from the smallest
/// to the largest value (widened by one half each way when they are equal), and the edges.
/// The values must be finite and not empty.
pub fn histogram(values: &[f64], bins: usize) -> (Vec<usize>, Vec<f64>) {
    let (mut first, mut last) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if first == last {
        first -= 0.5;
        last += 0.5;
    }
    // np.linspace: i * step + start, the last edge exactly `last`.
    let step = (last - first) / bins as f64;
    let mut edges: Vec<f64> = (0..=bins).map(|i| i as f64 * step + first).collect();
    edges[bins] = last;
    let denom = last - first;
    let mut counts = vec![0usize; bins];
    for &v in values {
        let mut i = (((v - first) / denom) * bins as f64) as usize;
        if i == bins {
            i -= 1;
        }
        if v < edges[i] {
            i -= 1;
        }
        if v >= edges[i + 1] && i != bins - 1 {
            i += 1;
        }
        counts[i] += 1;
    }
    (counts, edges)
}

/// numpy's `sum` of a contiguous float array: pairwise, eight accumulators per block of up
/// to 128 values.
pub fn pairwise_sum<T: Copy + Default + std::ops::Add<Output = T>>(a: &[T]) -> T {
    let n = a.len();
    if n < 8 {
        a.iter().fold(T::default(), |acc, &v| acc + v)
    } else if n <= 128 {
        let mut r = [T::default(); 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for j in 0..8 {
                r[j] = r[j] + a[i + j];
            }
            i += 8;
        }
        let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        a[i..].iter().fold(res, |acc, &v| acc + v)
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum(&a[..n2]) + pairwise_sum(&a[n2..])
    }
}

/// `np.interp(x, xp, fp)` for `xp` ascending with at least one point.
fn interp(x: f64, xp: &[f64], fp: &[f64]) -> f64 {
    let n = xp.len();
    if x <= xp[0] {
        return fp[0];
    }
    if x >= xp[n - 1] {
        return fp[n - 1];
    }
    // The last j with xp[j] <= x.
    let j = xp.partition_point(|&v| v <= x) - 1;
    if x == xp[j] {
        return fp[j];
    }
    let slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
    let y = slope * (x - xp[j]) + fp[j];
    if y.is_nan() {
        slope * (x - xp[j + 1]) + fp[j + 1]
    } else {
        y
    }
}

/// The bandwidth search of t-SNE's perplexity calibration, as scikit-learn's
/// `_binary_search_perplexity` and modisco-lite's `binary_search_perplexity` both run it:
/// from beta = 1, doubling (entropy too high) or halving until the target is bracketed, then
/// bisecting, until the entropy `entropy(beta)` is within 1e-5 of ln(perplexity), at most 100
/// evaluations. Returns the last beta evaluated and the one the search would try next (equal
/// once it converges; modisco-lite returns the latter).
pub fn perplexity_search(perplexity: f64, mut entropy: impl FnMut(f64) -> f64) -> (f64, f64) {
    let desired = perplexity.ln();
    let (mut lo, mut hi, mut beta) = (f64::NEG_INFINITY, f64::INFINITY, 1.0f64);
    let mut evaluated = beta;
    for _ in 0..100 {
        evaluated = beta;
        let diff = entropy(beta) - desired;
        if diff.abs() <= 1e-5 {
            break;
        }
        if diff > 0.0 {
            lo = beta;
            beta = if hi == f64::INFINITY {
                beta * 2.0
            } else {
                (beta + hi) / 2.0
            };
        } else {
            hi = beta;
            beta = if lo == f64::NEG_INFINITY {
                beta / 2.0
            } else {
                (beta + lo) / 2.0
            };
        }
    }
    (evaluated, beta)
}

/// scikit-learn's `IsotonicRegression(out_of_bounds='clip')` fitted to weighted points.
pub struct Isotonic {
    x_min: f64,
    x_max: f64,
    /// The fitted points kept after dropping interior points of flat runs, as scikit-learn's
    /// interpolation uses them.
    xs: Vec<f64>,
    ys: Vec<f64>,
}

impl Isotonic {
    /// Fits `y` to `x` with weights `w`, increasing or decreasing. Points of zero weight are
    /// dropped; `x` must be finite and some weight positive.
    pub fn fit(x: &[f64], y: &[f64], w: &[f64], increasing: bool) -> Isotonic {
        let mut order: Vec<usize> = (0..x.len()).filter(|&i| w[i] > 0.0).collect();
        // np.lexsort((y, x)): by x, then y, stable.
        order.sort_by(|&a, &b| x[a].total_cmp(&x[b]).then(y[a].total_cmp(&y[b])));
        // _make_unique: values within float64's resolution (1e-15) of a group's first are
        // one point, with the weighted mean of their targets and the sum of their weights.
        let (mut ux, mut uy, mut uw) = (Vec::new(), Vec::new(), Vec::new());
        let mut current = x[order[0]];
        let (mut weight, mut sum) = (0.0, 0.0);
        for &i in &order {
            if x[i] - current >= 1e-15 {
                ux.push(current);
                uw.push(weight);
                uy.push(sum / weight);
                current = x[i];
                weight = w[i];
                sum = y[i] * w[i];
            } else {
                weight += w[i];
                sum += y[i] * w[i];
            }
        }
        ux.push(current);
        uw.push(weight);
        uy.push(sum / weight);
        let fitted = if increasing {
            pava(&uy, &uw)
        } else {
            let ry: Vec<f64> = uy.iter().rev().copied().collect();
            let rw: Vec<f64> = uw.iter().rev().copied().collect();
            let mut f = pava(&ry, &rw);
            f.reverse();
            f
        };
        let (x_min, x_max) = (ux[0], ux[ux.len() - 1]);
        // Interior points whose fitted value equals both neighbours' are dropped.
        let n = fitted.len();
        let keep = |i: usize| {
            i == 0 || i + 1 == n || fitted[i] != fitted[i - 1] || fitted[i] != fitted[i + 1]
        };
        let xs = (0..n).filter(|&i| keep(i)).map(|i| ux[i]).collect();
        let ys = (0..n).filter(|&i| keep(i)).map(|i| fitted[i]).collect();
        Isotonic {
            x_min,
            x_max,
            xs,
            ys,
        }
    }

    /// The fitted function at `x` (clipped to the fitted range, linear in between).
    pub fn transform(&self, x: f64) -> f64 {
        let x = x.clamp(self.x_min, self.x_max);
        if self.ys.len() == 1 {
            return self.ys[0];
        }
        interp(x, &self.xs, &self.ys)
    }

    pub fn x_min(&self) -> f64 {
        self.x_min
    }

    pub fn x_max(&self) -> f64 {
        self.x_max
    }
}

/// Pool adjacent violators (increasing), each pool's value its weighted mean.
fn pava(y: &[f64], w: &[f64]) -> Vec<f64> {
    // Blocks as (weighted sum, weight, length), merged leftwards while out of order.
    let mut blocks: Vec<(f64, f64, usize)> = Vec::with_capacity(y.len());
    for (&yi, &wi) in y.iter().zip(w) {
        blocks.push((yi * wi, wi, 1));
        while blocks.len() > 1 {
            let (s2, w2, n2) = blocks[blocks.len() - 1];
            let (s1, w1, n1) = blocks[blocks.len() - 2];
            if s1 / w1 <= s2 / w2 {
                break;
            }
            blocks.pop();
            *blocks.last_mut().unwrap() = (s1 + s2, w1 + w2, n1 + n2);
        }
    }
    let mut out = Vec::with_capacity(y.len());
    for (s, wt, n) in blocks {
        out.extend(std::iter::repeat_n(s / wt, n));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_state_matches_numpys_stream() {
        // np.random.RandomState(1234).random_sample(3) and .permutation(10), printed by numpy
        // 2.3.5.
        let mut r = RandomState::new(1234);
        let got: Vec<f64> = (0..3).map(|_| r.random_sample()).collect();
        assert_eq!(
            got,
            [0.1915194503788923, 0.6221087710398319, 0.4377277390071145]
        );
        assert_eq!(
            RandomState::new(1234).permutation(10),
            [7, 2, 9, 1, 0, 8, 4, 5, 6, 3]
        );
    }

    #[test]
    fn percentiles_and_histograms_match_numpy() {
        let v = [1.0, 2.0, 4.0, 7.0];
        // np.percentile([1, 2, 4, 7], [5, 50, 95, 100]) = 1.15, 3.0, 6.55, 7.0
        assert!((percentile_sorted(&v, 5.0) - 1.15).abs() < 1e-12);
        assert_eq!(percentile_sorted(&v, 50.0), 3.0);
        assert!((percentile_sorted(&v, 95.0) - 6.55).abs() < 1e-12);
        assert_eq!(percentile_sorted(&v, 100.0), 7.0);
        // np.histogram([1, 2, 4, 7], bins=3) = [2, 1, 1], edges [1, 3, 5, 7]
        let (counts, edges) = histogram(&v, 3);
        assert_eq!(counts, [2, 1, 1]);
        assert_eq!(edges, [1.0, 3.0, 5.0, 7.0]);
    }

    #[test]
    fn isotonic_matches_scikit_learn() {
        // sklearn.isotonic.isotonic_regression([5, 3, 1, 2, 8, 10, 7, 9, 6, 4]) from its
        // docstring: 2.75 four times, then 7.33 six times.
        let y = [5.0, 3.0, 1.0, 2.0, 8.0, 10.0, 7.0, 9.0, 6.0, 4.0];
        let f = pava(&y, &[1.0; 10]);
        assert_eq!(&f[..4], &[2.75; 4]);
        assert!(f[4..].iter().all(|&v| (v - 44.0 / 6.0).abs() < 1e-12));
        // Fitted on x = 0..10 and read between points: linear between the kept ends of runs.
        let x: Vec<f64> = (0..10).map(|i| i as f64).collect();
        let iso = Isotonic::fit(&x, &y, &[1.0; 10], true);
        assert_eq!(iso.transform(-5.0), 2.75);
        assert!((iso.transform(3.5) - (2.75 + 0.5 * (44.0 / 6.0 - 2.75))).abs() < 1e-12);
    }
}
