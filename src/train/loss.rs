use serde::{Deserialize, Serialize};

use crate::nn::{Error, Tensor};

/// Training objectives. Each returns the mean loss and its gradient with respect to the
/// model's output (pre-activation logits where the name says so, as PyTorch's
/// `*WithLogits` losses, which are numerically stable).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Loss {
    /// Multi-label binary cross-entropy on logits, mean over all outputs; `pos_weight[k]`
    /// scales the positive term of label `k` (PyTorch `BCEWithLogitsLoss`).
    BceWithLogits {
        /// Per-label weights of the positive term (none: 1).
        #[serde(default)]
        pos_weight: Option<Vec<f32>>,
    },
    /// Softmax cross-entropy on logits `[batch, classes]` against one-hot or soft targets,
    /// mean over the batch.
    SoftmaxCrossEntropy,
    /// Mean squared error.
    Mse,
    /// Poisson negative log-likelihood with log-rate inputs: `exp(x) - y x`, mean
    /// (PyTorch `PoissonNLLLoss(log_input=True, full=False)`).
    Poisson,
    /// BPNet's profile loss: multinomial negative log-likelihood of the observed counts
    /// `[batch, values]` under one `softmax(logits)` over each item's values (both strands
    /// of a stranded profile together, as bpnet-lite), mean over the batch. The value
    /// includes the multinomial coefficient, as bpnet-lite's `MNLLLoss` does; it does not
    /// depend on the logits, so the gradient is that of the cross-entropy.
    MultinomialNll,
}

impl Loss {
    /// The name configs use.
    pub fn name(&self) -> &'static str {
        match self {
            Loss::BceWithLogits { .. } => "bce_with_logits",
            Loss::SoftmaxCrossEntropy => "softmax_cross_entropy",
            Loss::Mse => "mse",
            Loss::Poisson => "poisson",
            Loss::MultinomialNll => "multinomial_nll",
        }
    }

    /// `(mean loss, d loss / d output)`.
    pub fn compute(&self, out: &Tensor, target: &Tensor) -> Result<(f64, Tensor), Error> {
        if out.shape != target.shape {
            return Err(Error::Shape(format!(
                "loss {}: output {:?} and target {:?} differ",
                self.name(),
                out.shape,
                target.shape
            )));
        }
        let n = out.batch().max(1);
        let k = out.per_item().max(1);
        let total = out.len().max(1) as f64;
        let mut grad = out.zeros_like();
        let mut loss = 0.0f64;
        match self {
            Loss::BceWithLogits { pos_weight } => {
                if let Some(w) = pos_weight
                    && w.len() != k
                {
                    return Err(Error::Shape(format!(
                        "pos_weight has {} values for {k} outputs",
                        w.len()
                    )));
                }
                for (i, ((&x, &y), g)) in out
                    .data
                    .iter()
                    .zip(&target.data)
                    .zip(&mut grad.data)
                    .enumerate()
                {
                    let pw = pos_weight.as_ref().map_or(1.0, |w| w[i % k]);
                    // log(1 + e^-|x|) form avoids overflow for large |x|.
                    let log_sig = -softplus(-x); // log sigmoid(x)
                    let log_one_minus = -softplus(x); // log(1 - sigmoid(x))
                    loss -= (pw * y * log_sig + (1.0 - y) * log_one_minus) as f64;
                    let s = sigmoid(x);
                    *g = ((pw * y + 1.0 - y) * s - pw * y) / total as f32;
                }
                loss /= total;
            }
            Loss::SoftmaxCrossEntropy | Loss::MultinomialNll => {
                for ((row, t), g) in out
                    .data
                    .chunks(k)
                    .zip(target.data.chunks(k))
                    .zip(grad.data.chunks_mut(k))
                {
                    let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f32>().ln();
                    let tsum: f32 = t.iter().sum();
                    for ((&x, &y), gi) in row.iter().zip(t).zip(g.iter_mut()) {
                        loss -= (y * (x - lse)) as f64;
                        *gi = ((x - lse).exp() * tsum - y) / n as f32;
                    }
                    if matches!(self, Loss::MultinomialNll) {
                        // -log(N! / prod y_i!), the coefficient.
                        loss += t.iter().map(|&y| libm::lgamma(y as f64 + 1.0)).sum::<f64>()
                            - libm::lgamma(tsum as f64 + 1.0);
                    }
                }
                loss /= n as f64;
            }
            Loss::Mse => {
                for ((&x, &y), g) in out.data.iter().zip(&target.data).zip(&mut grad.data) {
                    loss += ((x - y) as f64).powi(2);
                    *g = 2.0 * (x - y) / total as f32;
                }
                loss /= total;
            }
            Loss::Poisson => {
                for ((&x, &y), g) in out.data.iter().zip(&target.data).zip(&mut grad.data) {
                    loss += (x.exp() - y * x) as f64;
                    *g = (x.exp() - y) / total as f32;
                }
                loss /= total;
            }
        }
        Ok((loss, grad))
    }
}

/// How one output of a multi-output model is trained (`[[train.heads]]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadLoss {
    /// The output's name, as the model names it.
    pub name: String,
    /// Its loss.
    pub loss: Loss,
    /// Its weight in the total loss (default 1).
    #[serde(default = "one")]
    pub weight: f32,
    /// What it is compared with (default: its own columns of the targets).
    #[serde(default)]
    pub target: HeadTarget,
}

fn one() -> f32 {
    1.0
}

/// Where a head's targets come from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HeadTarget {
    /// The next columns of the data, one per output value (heads in the model's order).
    #[default]
    Columns,
    /// `log(1 + the sum of another head's targets)`: BPNet's count head, trained on the log
    /// of the profile's total count.
    LogTotal {
        /// The head whose targets are summed.
        of: String,
    },
}

/// One term of an [`Objective`]: a loss over a range of the output's values per item,
/// against a range of the data's target columns (or the log total of one).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Term {
    pub(crate) name: String,
    pub(crate) loss: Loss,
    weight: f32,
    pub(crate) out: std::ops::Range<usize>,
    pub(crate) columns: std::ops::Range<usize>,
    pub(crate) log_total: bool,
}

impl Term {
    /// This head's targets for one sequence's target row.
    pub(crate) fn target(&self, row: &[f32]) -> Vec<f32> {
        let cols = &row[self.columns.clone()];
        if self.log_total {
            vec![(cols.iter().map(|&v| v as f64).sum::<f64>() + 1.0).ln() as f32]
        } else {
            cols.to_vec()
        }
    }
}

/// What training minimises: one loss over the whole output, or, for a multi-output model,
/// a weighted sum of one loss per output (BPNet: multinomial NLL of the profile plus the MSE
/// of the log count, as bpnet-lite's `_mixture_loss`).
#[derive(Clone, Debug, PartialEq)]
pub struct Objective {
    single: Option<Loss>,
    terms: Vec<Term>,
    width: usize,
}

impl Objective {
    /// One loss over every output value and target column.
    pub fn single(loss: Loss) -> Objective {
        Objective {
            single: Some(loss),
            terms: Vec::new(),
            width: 0,
        }
    }

    /// One term per head: `heads` (the model's, with their per-item value counts) and
    /// `losses` (the config's) must name the same outputs.
    pub fn heads(heads: &[(String, usize)], losses: &[HeadLoss]) -> Result<Objective, String> {
        let names = |v: Vec<&str>| v.join(", ");
        let model: Vec<&str> = heads.iter().map(|(n, _)| n.as_str()).collect();
        let given: Vec<&str> = losses.iter().map(|h| h.name.as_str()).collect();
        let mut sorted = (model.clone(), given.clone());
        sorted.0.sort_unstable();
        sorted.1.sort_unstable();
        if sorted.0 != sorted.1 {
            return Err(format!(
                "the model's outputs are {}, but [[train.heads]] names {}: give one loss per output",
                names(model),
                if given.is_empty() {
                    "none".into()
                } else {
                    names(given)
                }
            ));
        }
        let (mut out, mut col) = (0, 0);
        let mut spans = Vec::new();
        for (name, w) in heads {
            let h = losses
                .iter()
                .find(|h| &h.name == name)
                .expect("names match");
            let columns = match &h.target {
                HeadTarget::Columns => {
                    col += w;
                    col - w..col
                }
                HeadTarget::LogTotal { .. } => 0..0,
            };
            spans.push((h, out..out + w, columns));
            out += w;
        }
        let mut terms = Vec::with_capacity(spans.len());
        for (h, out, columns) in &spans {
            let (columns, log_total) = match &h.target {
                HeadTarget::Columns => (columns.clone(), false),
                HeadTarget::LogTotal { of } => {
                    let src = spans.iter().find(|(s, ..)| &s.name == of);
                    match src {
                        Some((s, _, c)) if s.target == HeadTarget::Columns => (c.clone(), true),
                        _ => {
                            return Err(format!(
                                "head '{}': target log_total of '{of}', which is not an output \
                                 trained on its own columns",
                                h.name
                            ));
                        }
                    }
                }
            };
            if log_total && out.len() != 1 {
                return Err(format!(
                    "head '{}' has {} values per sequence; a log_total target is one value",
                    h.name,
                    out.len()
                ));
            }
            if !(h.weight.is_finite() && h.weight >= 0.0) {
                return Err(format!(
                    "head '{}': weight {} is not a non-negative number",
                    h.name, h.weight
                ));
            }
            terms.push(Term {
                name: h.name.clone(),
                loss: h.loss.clone(),
                weight: h.weight,
                out: out.clone(),
                columns,
                log_total,
            });
        }
        Ok(Objective {
            single: None,
            terms,
            width: col,
        })
    }

    /// The single loss, if there is one.
    pub fn loss(&self) -> Option<&Loss> {
        self.single.as_ref()
    }

    /// The per-head terms (empty for a single loss).
    pub(crate) fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// The per-head terms' names (empty for a single loss).
    pub fn head_names(&self) -> Vec<&str> {
        self.terms.iter().map(|t| t.name.as_str()).collect()
    }

    /// Target columns the data must have, for a multi-output objective.
    pub fn target_columns(&self) -> Option<usize> {
        self.single.is_none().then_some(self.width)
    }

    /// `(total loss, each head's loss, d total / d output)`; the heads' losses are empty for
    /// a single loss.
    pub fn compute(&self, out: &Tensor, target: &Tensor) -> Result<(f64, Vec<f64>, Tensor), Error> {
        if let Some(loss) = &self.single {
            let (l, g) = loss.compute(out, target)?;
            return Ok((l, Vec::new(), g));
        }
        let (n, k, t) = (out.batch(), out.per_item(), target.per_item());
        let want = self.terms.iter().map(|t| t.out.end).max().unwrap_or(0);
        if k != want || t != self.width || target.batch() != n {
            return Err(Error::Shape(format!(
                "the heads ({}) take {want} output values and {} target columns per sequence; \
                 got {k} and {t}",
                self.head_names().join(", "),
                self.width
            )));
        }
        let mut grad = out.zeros_like();
        let (mut total, mut each) = (0.0, Vec::with_capacity(self.terms.len()));
        for term in &self.terms {
            let w = term.out.len();
            let o: Vec<f32> = (0..n)
                .flat_map(|i| out.data[i * k + term.out.start..i * k + term.out.end].to_vec())
                .collect();
            let y: Vec<f32> = target
                .data
                .chunks(t.max(1))
                .flat_map(|row| term.target(row))
                .collect();
            let (l, g) = term
                .loss
                .compute(&Tensor::new(&[n, w], o)?, &Tensor::new(&[n, w], y)?)?;
            total += term.weight as f64 * l;
            each.push(l);
            for i in 0..n {
                for (d, s) in grad.data[i * k + term.out.start..i * k + term.out.end]
                    .iter_mut()
                    .zip(&g.data[i * w..(i + 1) * w])
                {
                    *d = term.weight * s;
                }
            }
        }
        Ok((total, each, grad))
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

fn softplus(x: f32) -> f32 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(shape: &[usize], v: &[f32]) -> Tensor {
        Tensor::new(shape, v.to_vec()).unwrap()
    }

    /// The gradient matches central differences of the loss value.
    fn gradcheck(loss: &Loss, out: &Tensor, target: &Tensor) {
        let (_, g) = loss.compute(out, target).unwrap();
        let h = 1e-3f32;
        for i in 0..out.len() {
            let (mut p, mut m) = (out.clone(), out.clone());
            p.data[i] += h;
            m.data[i] -= h;
            let num = (loss.compute(&p, target).unwrap().0 - loss.compute(&m, target).unwrap().0)
                / (2.0 * h as f64);
            assert!(
                (g.data[i] as f64 - num).abs() < 1e-3 + 1e-2 * num.abs(),
                "{}[{i}]: {} vs {num}",
                loss.name(),
                g.data[i]
            );
        }
    }

    /// Two heads: a profile of 3 values (multinomial NLL, weight 1) and its log total
    /// (MSE, weight 0.5), against 3 target columns. By hand for one sequence with logits
    /// [0, 0, 0], log count 1 and counts [2, 0, 1]: the profile term is -ln(3!/(2! 1!)) +
    /// 3 ln 3, the count term (1 - ln 4)^2; the count's gradient 2 (1 - ln 4) x 0.5.
    #[test]
    fn heads_sum_weighted_losses_over_their_columns() {
        let heads = [("profile".to_string(), 3), ("counts".to_string(), 1)];
        let losses = [
            HeadLoss {
                name: "counts".into(),
                loss: Loss::Mse,
                weight: 0.5,
                target: HeadTarget::LogTotal {
                    of: "profile".into(),
                },
            },
            HeadLoss {
                name: "profile".into(),
                loss: Loss::MultinomialNll,
                weight: 1.0,
                target: HeadTarget::Columns,
            },
        ];
        let o = Objective::heads(&heads, &losses).unwrap();
        assert_eq!(o.target_columns(), Some(3));
        let (total, each, g) = o
            .compute(
                &t(&[1, 4], &[0.0, 0.0, 0.0, 1.0]),
                &t(&[1, 3], &[2.0, 0.0, 1.0]),
            )
            .unwrap();
        let profile = 3.0 * 3f64.ln() - 3f64.ln();
        let count = (1.0 - 4f64.ln()).powi(2);
        assert!((each[0] - profile).abs() < 1e-6 && (each[1] - count).abs() < 1e-6);
        assert!((total - (profile + 0.5 * count)).abs() < 1e-6);
        assert!((g.data[3] as f64 - (1.0 - 4f64.ln())).abs() < 1e-6);
        let err = Objective::heads(&heads, &losses[..1]).unwrap_err();
        assert!(
            err.contains("profile, counts") && err.contains("one loss per output"),
            "{err}"
        );
        let mut bad = losses.clone();
        bad[0].target = HeadTarget::LogTotal { of: "nope".into() };
        let err = Objective::heads(&heads, &bad).unwrap_err();
        assert!(err.contains("log_total of 'nope'"), "{err}");
    }

    #[test]
    fn gradients_match_finite_differences() {
        let out = t(&[2, 3], &[0.3, -1.2, 2.0, -0.4, 0.8, 0.1]);
        let labels = t(&[2, 3], &[1.0, 0.0, 1.0, 0.0, 0.0, 1.0]);
        let counts = t(&[2, 3], &[3.0, 0.0, 1.0, 2.0, 5.0, 0.0]);
        gradcheck(&Loss::BceWithLogits { pos_weight: None }, &out, &labels);
        gradcheck(
            &Loss::BceWithLogits {
                pos_weight: Some(vec![2.0, 1.0, 0.5]),
            },
            &out,
            &labels,
        );
        gradcheck(&Loss::SoftmaxCrossEntropy, &out, &labels);
        gradcheck(&Loss::Mse, &out, &counts);
        gradcheck(&Loss::Poisson, &out, &counts);
        gradcheck(&Loss::MultinomialNll, &out, &counts);
    }

    // Expected values computed by hand (and matching torch.nn.functional on the same inputs).
    #[test]
    fn values_match_hand_calculation() {
        // BCE(x=0, y=1) = ln 2
        let (l, _) = Loss::BceWithLogits { pos_weight: None }
            .compute(&t(&[1, 1], &[0.0]), &t(&[1, 1], &[1.0]))
            .unwrap();
        assert!((l - std::f64::consts::LN_2).abs() < 1e-6);
        // CE of uniform logits over 4 classes = ln 4
        let (l, _) = Loss::SoftmaxCrossEntropy
            .compute(&t(&[1, 4], &[1.0; 4]), &t(&[1, 4], &[0.0, 1.0, 0.0, 0.0]))
            .unwrap();
        assert!((l - 4f64.ln()).abs() < 1e-6);
        // MSE([1, 3], [0, 0]) = 5; Poisson(x=0, y=2) = 1
        assert_eq!(
            Loss::Mse
                .compute(&t(&[1, 2], &[1.0, 3.0]), &t(&[1, 2], &[0.0, 0.0]))
                .unwrap()
                .0,
            5.0
        );
        assert_eq!(
            Loss::Poisson
                .compute(&t(&[1, 1], &[0.0]), &t(&[1, 1], &[2.0]))
                .unwrap()
                .0,
            1.0
        );
        // Multinomial NLL of counts [1, 0, 2, 1] under uniform logits over 4 values, with
        // bpnet-lite's coefficient: -ln(4! / (1! 0! 2! 1!)) + 4 ln 4 = -ln 12 + 4 ln 4.
        let (l, _) = Loss::MultinomialNll
            .compute(&t(&[1, 4], &[0.5; 4]), &t(&[1, 4], &[1.0, 0.0, 2.0, 1.0]))
            .unwrap();
        assert!((l - (4.0 * 4f64.ln() - 12f64.ln())).abs() < 1e-6, "{l}");
        // Large logits stay finite.
        let (l, g) = Loss::BceWithLogits { pos_weight: None }
            .compute(&t(&[1, 2], &[80.0, -80.0]), &t(&[1, 2], &[0.0, 1.0]))
            .unwrap();
        assert!((l - 80.0).abs() < 1e-3 && g.data.iter().all(|v| v.is_finite()));
    }
}
