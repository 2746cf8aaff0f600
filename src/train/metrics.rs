//! Evaluation metrics per output: AUROC, AUPRC (average precision), accuracy, Pearson and
//! Spearman correlation.

use serde::Serialize;

/// Average ranks (1-based), ties sharing the mean of their positions (scipy's `rankdata`);
/// the values must not be NaN.
pub(crate) fn ranks<T: PartialOrd>(v: &[T]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].partial_cmp(&v[b]).unwrap_or(std::cmp::Ordering::Equal));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

/// Area under the ROC curve (Mann-Whitney U with tied scores counted as 1/2); `None` when one
/// class is missing.
pub fn auroc(scores: &[f32], labels: &[f32]) -> Option<f64> {
    let pos = labels.iter().filter(|&&y| y > 0.5).count();
    let neg = labels.len() - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    let r = ranks(scores);
    let sum: f64 = r
        .iter()
        .zip(labels)
        .filter(|(_, y)| **y > 0.5)
        .map(|(r, _)| r)
        .sum();
    Some((sum - (pos * (pos + 1)) as f64 / 2.0) / (pos * neg) as f64)
}

/// Average precision, the step-wise area under the precision-recall curve (as scikit-learn's
/// `average_precision_score`); `None` without positives.
pub fn auprc(scores: &[f32], labels: &[f32]) -> Option<f64> {
    let pos = labels.iter().filter(|&&y| y > 0.5).count();
    if pos == 0 {
        return None;
    }
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut fp, mut ap, mut prev_recall) = (0usize, 0usize, 0.0, 0.0);
    let mut i = 0;
    while i < idx.len() {
        // Tied scores form one threshold.
        let mut j = i;
        while j < idx.len() && scores[idx[j]] == scores[idx[i]] {
            if labels[idx[j]] > 0.5 {
                tp += 1;
            } else {
                fp += 1;
            }
            j += 1;
        }
        let recall = tp as f64 / pos as f64;
        ap += (recall - prev_recall) * tp as f64 / (tp + fp) as f64;
        prev_recall = recall;
        i = j;
    }
    Some(ap)
}

/// Fraction of predictions on the right side of `threshold`.
pub fn accuracy(scores: &[f32], labels: &[f32], threshold: f32) -> Option<f64> {
    (!scores.is_empty()).then(|| {
        scores
            .iter()
            .zip(labels)
            .filter(|(s, y)| (**s >= threshold) == (**y > 0.5))
            .count() as f64
            / scores.len() as f64
    })
}

/// Pearson correlation; `None` when either side is constant.
pub fn pearson(a: &[f32], b: &[f32]) -> Option<f64> {
    let n = a.len() as f64;
    if a.len() < 2 {
        return None;
    }
    let ma = a.iter().map(|&v| v as f64).sum::<f64>() / n;
    let mb = b.iter().map(|&v| v as f64).sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (dx, dy) = (x as f64 - ma, y as f64 - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    (saa > 0.0 && sbb > 0.0).then(|| sab / (saa * sbb).sqrt())
}

/// Spearman rank correlation (Pearson of average ranks).
pub fn spearman(a: &[f32], b: &[f32]) -> Option<f64> {
    let ra: Vec<f32> = ranks(a).into_iter().map(|v| v as f32).collect();
    let rb: Vec<f32> = ranks(b).into_iter().map(|v| v as f32).collect();
    pearson(&ra, &rb)
}

/// Metrics of one output column.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Metrics {
    /// The output column.
    pub label: String,
    /// Area under the ROC curve (classification).
    pub auroc: Option<f64>,
    /// Area under the precision-recall curve (classification).
    pub auprc: Option<f64>,
    /// Accuracy at 0.5 (classification).
    pub accuracy: Option<f64>,
    /// Pearson r (regression).
    pub pearson: Option<f64>,
    /// Spearman rho (regression).
    pub spearman: Option<f64>,
}

/// Per-label metrics for row-major `[n, k]` predictions and targets, then their mean as a
/// last row labelled `mean`. `classification` picks AUROC/AUPRC/accuracy (on probabilities)
/// over correlations.
pub fn evaluate(
    pred: &[f32],
    target: &[f32],
    labels: &[String],
    classification: bool,
) -> Vec<Metrics> {
    let k = labels.len().max(1);
    let rows: Vec<Metrics> = (0..k)
        .map(|j| {
            let p: Vec<f32> = pred.iter().skip(j).step_by(k).copied().collect();
            let t: Vec<f32> = target.iter().skip(j).step_by(k).copied().collect();
            let mut m = Metrics {
                label: labels.get(j).cloned().unwrap_or_default(),
                ..Default::default()
            };
            if classification {
                m.auroc = auroc(&p, &t);
                m.auprc = auprc(&p, &t);
                m.accuracy = accuracy(&p, &t, 0.5);
            } else {
                m.pearson = pearson(&p, &t);
                m.spearman = spearman(&p, &t);
            }
            m
        })
        .collect();
    with_mean(rows)
}

/// `rows` with a last row labelled `mean`: each metric's mean over the rows that have it.
fn with_mean(mut rows: Vec<Metrics>) -> Vec<Metrics> {
    let mean = |f: fn(&Metrics) -> Option<f64>| {
        let v: Vec<f64> = rows.iter().filter_map(f).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let avg = Metrics {
        label: "mean".into(),
        auroc: mean(|m| m.auroc),
        auprc: mean(|m| m.auprc),
        accuracy: mean(|m| m.accuracy),
        pearson: mean(|m| m.pearson),
        spearman: mean(|m| m.spearman),
    };
    rows.push(avg);
    rows
}

/// Metrics of a multi-output model, one row per head, then their mean. A profile head
/// (multinomial NLL) gets the mean over sequences of each sequence's Pearson and Spearman
/// correlation between predicted probabilities and observed counts (BPNet's profile
/// correlation, unsmoothed); any other head, the correlations across all its values.
/// `pred` is the raw output `[n, values]`, `target` the data's rows `[n, columns]`.
pub fn evaluate_heads(pred: &[f32], target: &[f32], objective: &super::Objective) -> Vec<Metrics> {
    let k = objective
        .terms()
        .iter()
        .map(|t| t.out.end)
        .max()
        .unwrap_or(0);
    let n = pred.len().checked_div(k).unwrap_or(0);
    let cols = target.len().checked_div(n).unwrap_or(0);
    let mut rows: Vec<Metrics> = Vec::new();
    for term in objective.terms() {
        let mut m = Metrics {
            label: term.name.clone(),
            ..Default::default()
        };
        let per_seq = |i: usize| {
            let p = &pred[i * k + term.out.start..i * k + term.out.end];
            (p, term.target(&target[i * cols..(i + 1) * cols]))
        };
        if matches!(term.loss, super::Loss::MultinomialNll) {
            let mean = |f: fn(&[f32], &[f32]) -> Option<f64>| {
                let v: Vec<f64> = (0..n)
                    .filter_map(|i| {
                        let (p, y) = per_seq(i);
                        f(&softmax(p), &y)
                    })
                    .collect();
                (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
            };
            m.pearson = mean(pearson);
            m.spearman = mean(spearman);
        } else {
            let (mut p, mut y) = (Vec::new(), Vec::new());
            for i in 0..n {
                let (a, b) = per_seq(i);
                p.extend_from_slice(a);
                y.extend(b);
            }
            m.pearson = pearson(&p, &y);
            m.spearman = spearman(&p, &y);
        }
        rows.push(m);
    }
    with_mean(rows)
}

fn softmax(x: &[f32]) -> Vec<f32> {
    let m = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = x.iter().map(|v| (v - m).exp()).collect();
    let s: f32 = e.iter().sum();
    e.into_iter().map(|v| v / s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Hand-worked examples; the same inputs give the same numbers in scikit-learn
    // (roc_auc_score, average_precision_score) and scipy (pearsonr, spearmanr).
    #[test]
    fn auroc_counts_ordered_pairs_and_half_ties() {
        // Positive scores {0.8, 0.4}, negatives {0.5, 0.1}: 3 of 4 pairs ordered -> 0.75.
        assert_eq!(auroc(&[0.8, 0.5, 0.4, 0.1], &[1., 0., 1., 0.]), Some(0.75));
        // One tie between a positive and a negative counts 1/2: (1 + 0.5) / 2.
        assert_eq!(auroc(&[0.9, 0.5, 0.5], &[1., 1., 0.]), Some(0.75));
        assert_eq!(auroc(&[0.1, 0.2], &[1., 1.]), None);
    }

    #[test]
    fn average_precision() {
        // Ranked: + (P=1), - , + (P=2/3): AP = 0.5 * 1 + 0.5 * 2/3 = 0.8333...
        let ap = auprc(&[0.9, 0.8, 0.7, 0.1], &[1., 0., 1., 0.]).unwrap();
        assert!((ap - 5.0 / 6.0).abs() < 1e-12);
        assert_eq!(auprc(&[0.9, 0.1], &[1., 1.]), Some(1.0));
    }

    #[test]
    fn correlations_and_accuracy() {
        assert!((pearson(&[1., 2., 3.], &[2., 4., 6.]).unwrap() - 1.0).abs() < 1e-12);
        assert!((pearson(&[1., 2., 3.], &[3., 2., 1.]).unwrap() + 1.0).abs() < 1e-12);
        // Monotonic but not linear: Spearman 1, Pearson below 1.
        let (a, b) = ([1., 2., 3., 4.], [1., 4., 9., 100.]);
        assert!((spearman(&a, &b).unwrap() - 1.0).abs() < 1e-12);
        assert!(pearson(&a, &b).unwrap() < 0.95);
        assert_eq!(pearson(&[1., 1.], &[1., 2.]), None);
        assert_eq!(
            accuracy(&[0.9, 0.2, 0.6], &[1., 0., 0.], 0.5),
            Some(2.0 / 3.0)
        );
    }

    #[test]
    fn evaluate_reports_each_label_and_the_mean() {
        let pred = [0.9, 0.1, 0.2, 0.8, 0.7, 0.3, 0.4, 0.6];
        let target = [1., 0., 0., 1., 1., 0., 0., 1.];
        let m = evaluate(&pred, &target, &["a".into(), "b".into()], true);
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].auroc, Some(1.0));
        assert_eq!(m[2].label, "mean");
    }
}
