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
    /// `[batch, length]` under `softmax(logits)` over the length axis, mean over the batch
    /// (the count-independent multinomial coefficient is dropped).
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
        // Large logits stay finite.
        let (l, g) = Loss::BceWithLogits { pos_weight: None }
            .compute(&t(&[1, 2], &[80.0, -80.0]), &t(&[1, 2], &[0.0, 1.0]))
            .unwrap();
        assert!((l - 80.0).abs() < 1e-3 && g.data.iter().all(|v| v.is_finite()));
    }
}
