//! DeepLIFT's backward pass (Shrikumar et al. 2017) through a [`Graph`]: multipliers of a
//! target with respect to each input, relative to a reference input, with the rules of the
//! reference implementations that tangermeme's `deep_lift_shap` (after SHAP's DeepExplainer)
//! applies:
//!
//! - linear operations (convolutions, dense layers, evaluation-mode batch norm, average and
//!   sum pooling, shape operations, residual sums) back-propagate their ordinary gradient;
//! - element-wise nonlinearities use the Rescale rule: the multiplier is
//!   `(f(x) - f(r)) / (x - r)`, or the ordinary gradient at `x` where `|x - r| < 1e-6`;
//! - max pooling splits each window's output difference between the input's and the
//!   reference's winning positions (through the element-wise maximum of the two outputs),
//!   divided by each position's input difference (the ordinary gradient where that is
//!   exactly zero).
//!
//! - softmax follows tangermeme's `_softmax` rule (through the exponentials and through the
//!   normaliser, each with its secant).
//!
//! Any other operation (recurrent layers, a channel-wise max) has no rule here and
//! is refused before anything runs: passing its ordinary gradient through would give numbers
//! that look like DeepLIFT's and are not.

use super::layer::{Cache, Layer, Mode, Rows};
use super::pool::Reduce;
use super::{Error, Graph, Tensor};

/// Below this input difference a nonlinearity's multiplier is its gradient (tangermeme's
/// `_nonlinear` threshold).
const RESCALE_EPS: f32 = 1e-6;

/// How DeepLIFT carries multipliers through one layer.
enum Rule {
    /// The ordinary gradient (the layer is linear in its inputs).
    Linear,
    /// Rescale: `delta out / delta in`, element-wise.
    Rescale,
    /// The max-pool rule.
    MaxPool,
    /// tangermeme's softmax rule.
    Softmax,
}

// Exhaustive on purpose (as the engine's other per-layer tables): a new layer must be given
// a rule or a refusal here before it compiles.
fn rule(layer: &Layer) -> Result<Rule, String> {
    Ok(match layer {
        Layer::Conv1d(_)
        | Layer::Linear(_)
        | Layer::BatchNorm1d(_)
        | Layer::AvgPool1d(_)
        | Layer::GlobalAvgPool
        | Layer::GlobalSumPool
        | Layer::ReduceChannels {
            op: Reduce::Mean | Reduce::Sum,
        }
        | Layer::Dropout { .. }
        | Layer::Flatten
        | Layer::Add
        | Layer::Concat
        | Layer::Crop { .. }
        | Layer::Affine { .. } => Rule::Linear,
        Layer::Relu
        | Layer::Elu { .. }
        | Layer::Softplus
        | Layer::Exp
        | Layer::Sigmoid
        | Layer::Tanh
        | Layer::LeakyRelu { .. }
        | Layer::Gelu { .. } => Rule::Rescale,
        Layer::MaxPool1d(_) | Layer::GlobalMaxPool => Rule::MaxPool,
        Layer::ReduceChannels { op: Reduce::Max } => {
            return Err("a maximum over channels (ReduceMax)".into());
        }
        Layer::Softmax | Layer::SoftmaxLength => Rule::Softmax,
        Layer::Rnn(_) => return Err("a recurrent layer (LSTM/GRU)".into()),
    })
}

/// What [`Graph::deeplift`] computes for `n` (input, reference) pairs.
#[derive(Clone, Debug, PartialEq)]
pub struct Multipliers {
    /// `[n, ...input item]`: the multiplier of the target with respect to each input value;
    /// `(x - r) * m` are the pair's contributions.
    pub multipliers: Tensor,
    /// The target's value on each input, `f(x)`.
    pub input_values: Vec<f32>,
    /// The target's value on each reference, `f(r)`.
    pub reference_values: Vec<f32>,
}

/// Items `from..from + n` of a batch, as a tensor of `n` items.
fn items(t: &Tensor, from: usize, n: usize) -> Tensor {
    let per = t.per_item();
    let mut shape = t.shape.clone();
    shape[0] = n;
    Tensor {
        shape,
        data: t.data[from * per..(from + n) * per].to_vec(),
    }
}

impl Graph {
    /// Why DeepLIFT cannot run through this graph: the first layer without a rule, named.
    pub fn deeplift_blocker(&self) -> Option<String> {
        self.nodes.iter().find_map(|node| {
            rule(&node.layer).err().map(|what| {
                format!(
                    "DeepLIFT has no rule for layer '{}' ({what}); it is refused rather than \
                     given the layer's gradient, which would not be DeepLIFT",
                    node.name
                )
            })
        })
    }

    /// DeepLIFT multipliers of `sum_j weights[j] * output[j]` for each pair of an input and
    /// its reference (`x` and `refs` of equal shape `[n, ...item]`; item `i` of `refs` is
    /// item `i`'s reference), in evaluation mode. Refuses a graph with a layer that has no
    /// DeepLIFT rule ([`Graph::deeplift_blocker`]).
    pub fn deeplift(
        &mut self,
        x: &Tensor,
        refs: &Tensor,
        weights: &[f32],
    ) -> Result<Multipliers, Error> {
        if let Some(why) = self.deeplift_blocker() {
            return Err(Error::Graph(why));
        }
        if x.shape != refs.shape {
            return Err(Error::Shape(format!(
                "DeepLIFT needs one reference per input: inputs {:?}, references {:?}",
                x.shape, refs.shape
            )));
        }
        let n = x.batch();
        let mut both = x.clone();
        both.shape[0] = 2 * n;
        both.data.extend_from_slice(&refs.data);
        let tape = self.forward(both, Mode::Eval)?;
        let out = tape.output();
        let k = super::graph::target_width(out, weights)?;
        let target = |item: usize| -> f32 {
            let row = &out.data[item * k..(item + 1) * k];
            row.iter().zip(weights).map(|(v, w)| v * w).sum()
        };
        let input_values = (0..n).map(target).collect();
        let reference_values = (n..2 * n).map(target).collect();

        let count = self.nodes.len();
        let mut grads: Vec<Option<Tensor>> = vec![None; count + 1];
        let mut dy = items(out, 0, n);
        dy.data
            .iter_mut()
            .enumerate()
            .for_each(|(i, g)| *g = weights[i % k]);
        grads[count] = Some(dy);
        for i in (0..count).rev() {
            let Some(g) = grads[i + 1].take() else {
                continue;
            };
            let node = &mut self.nodes[i];
            let dxs = node_multipliers(
                &mut node.layer,
                &node.inputs,
                &tape.values,
                i + 1,
                tape.cache(i),
                n,
                &g,
            )
            .map_err(|e| e.at(&node.name))?;
            for (&j, dx) in node.inputs.iter().zip(dxs) {
                match &mut grads[j] {
                    Some(acc) => acc.data.iter_mut().zip(&dx.data).for_each(|(a, d)| *a += d),
                    slot => *slot = Some(dx),
                }
            }
        }
        let multipliers = grads[0].take().unwrap_or_else(|| x.zeros_like());
        Ok(Multipliers {
            multipliers,
            input_values,
            reference_values,
        })
    }
}

/// The multipliers with respect to a node's inputs (their first `n` items), given those of
/// its output `g`. `values` holds every value of the paired batch (inputs first, then
/// references); the node's output is `values[out]`.
fn node_multipliers(
    layer: &mut Layer,
    inputs: &[usize],
    values: &[Tensor],
    out: usize,
    cache: &Cache,
    n: usize,
    g: &Tensor,
) -> Result<Vec<Tensor>, Error> {
    let xs: Vec<Tensor> = inputs.iter().map(|&j| items(&values[j], 0, n)).collect();
    let x_refs: Vec<&Tensor> = xs.iter().collect();
    let y = &values[out];
    let yx = items(y, 0, n);
    match rule(layer).map_err(Error::Graph)? {
        Rule::Linear => {
            // Linear layers' input gradients do not depend on the input; only a mean or sum
            // over channels reads the cache's shape, which it does not use.
            let cache = match layer {
                Layer::ReduceChannels { .. } => Cache::ArgMax(Vec::new()),
                _ => Cache::None,
            };
            layer.backward(&x_refs, &yx, &cache, g, false)
        }
        Rule::Rescale => {
            let mut dx = layer
                .backward(&x_refs, &yx, &Cache::None, g, false)?
                .remove(0);
            let x = &values[inputs[0]];
            let per = dx.len();
            let (xi, xr) = (&x.data[..per], &x.data[per..2 * per]);
            let (yi, yr) = (&y.data[..per], &y.data[per..2 * per]);
            for (j, d) in dx.data.iter_mut().enumerate() {
                let delta = xi[j] - xr[j];
                if delta.abs() >= RESCALE_EPS {
                    *d = g.data[j] * (yi[j] - yr[j]) / delta;
                }
            }
            Ok(vec![dx])
        }
        Rule::MaxPool => {
            let Cache::ArgMax(arg) = cache else {
                return Err(Error::Graph(
                    "internal: max pooling without its positions".into(),
                ));
            };
            Ok(vec![max_pool_multipliers(&values[inputs[0]], y, arg, n, g)])
        }
        Rule::Softmax => {
            let rows = layer.softmax_rows(&g.shape)?;
            Ok(vec![softmax_multipliers(&values[inputs[0]], rows, g)])
        }
    }
}

/// tangermeme's softmax rule (`_softmax`) for `x` (inputs then references, each holding
/// `rows`): the softmax `y_j = a_j v` with `a_j = exp(x_j - c)` (`c` the larger of the two
/// rows' maxima, shared so that nothing overflows) and `v = 1 / sum a` is split into the
/// path through `a_j` and the path through `v`, each with its own secant multiplier (or its
/// derivative where a difference is below 1e-6), in log space where that keeps the ratio
/// finite.
fn softmax_multipliers(x: &Tensor, rows: Rows, g: &Tensor) -> Tensor {
    let Rows { outer, k, inner } = rows;
    let half = g.len();
    let mut dx = g.zeros_like();
    let guard = |d: f32, ratio: f32, fallback: f32| if d.abs() > 1e-6 { ratio } else { fallback };
    for b in 0..outer {
        for t in 0..inner {
            let idx = |j: usize| (b * k + j) * inner + t;
            let xi = |j: usize| x.data[idx(j)];
            let xr = |j: usize| x.data[half + idx(j)];
            let c = (0..k)
                .map(|j| xi(j).max(xr(j)))
                .fold(f32::NEG_INFINITY, f32::max);
            let a: Vec<f32> = (0..k).map(|j| (xi(j) - c).exp()).collect();
            let ar: Vec<f32> = (0..k).map(|j| (xr(j) - c).exp()).collect();
            let v = 1.0 / a.iter().sum::<f32>().max(f32::MIN_POSITIVE);
            let vr = 1.0 / ar.iter().sum::<f32>().max(f32::MIN_POSITIVE);
            let (dv, dlogv) = (v - vr, v.ln() - vr.ln());
            let v_to_log = guard(dv, dlogv / dv, 1.0 / vr);
            // Per j: the secant of y_j over log y_j (the numerator path), and of x_j -> a_j.
            let mut y_over_log = vec![0.0f32; k];
            let mut x_to_a = vec![0.0f32; k];
            let mut through_v = 0.0f32;
            for j in 0..k {
                let d = xi(j) - xr(j);
                let (y, yr) = (a[j] * v, ar[j] * vr);
                y_over_log[j] = guard(d + dlogv, (y - yr) / (d + dlogv), yr);
                x_to_a[j] = guard(d, (a[j] - ar[j]) / d, ar[j]);
                through_v += g.data[idx(j)] * y_over_log[j] * v_to_log * (-v * vr);
            }
            for j in 0..k {
                dx.data[idx(j)] = g.data[idx(j)] * y_over_log[j] + x_to_a[j] * through_v;
            }
        }
    }
    dx
}

/// The max-pool rule for `n` pairs: `x` `[2n, c, l]` and `y` (pooled, `2n * c * lout`
/// values) hold inputs then references, `arg` each output's winning position in its row.
/// Output `o`'s difference `y(o) - r(o)` splits into `max(y, r) - r(o)`, given to the input's
/// winner, and `y(o) - max(y, r)`, given to the reference's winner; each input position's
/// multiplier is what it received over its own input difference, or its ordinary gradient
/// where that difference is exactly zero (tangermeme's `_maxpool`; overlapping windows add
/// their shares, as its scatter-add does).
fn max_pool_multipliers(x: &Tensor, y: &Tensor, arg: &[u32], n: usize, g: &Tensor) -> Tensor {
    let l = x.shape[2];
    let half_in = x.len() / 2;
    let half_out = g.len();
    let lout = (half_out / (n * x.shape[1]).max(1)).max(1);
    let mut received = vec![0.0f32; half_in];
    let mut gradient = vec![0.0f32; half_in];
    for o in 0..half_out {
        let (yi, yr) = (y.data[o], y.data[half_out + o]);
        let cross = yi.max(yr);
        let row = o / lout;
        let (ax, ar) = (arg[o], arg[half_out + o]);
        if ax != u32::MAX {
            received[row * l + ax as usize] += g.data[o] * (cross - yr);
            gradient[row * l + ax as usize] += g.data[o];
        }
        if ar != u32::MAX {
            received[row * l + ar as usize] += g.data[o] * (yi - cross);
        }
    }
    let mut shape = x.shape.clone();
    shape[0] = n;
    let data = (0..half_in)
        .map(|j| {
            let delta = x.data[j] - x.data[half_in + j];
            if delta == 0.0 {
                gradient[j]
            } else {
                received[j] / delta
            }
        })
        .collect();
    Tensor { shape, data }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{Conv1d, Linear, Padding, Pool1d};

    /// A conv -> ReLU -> max-pool -> dense graph with fixed weights.
    fn graph() -> Graph {
        let mut rng = crate::nn::rng(3);
        let mut g = Graph::new(&[4, 12]);
        g.push(
            "conv",
            Layer::Conv1d(Conv1d::new(4, 3, 5, 1, 1, Padding::Same, true, &mut rng)),
        )
        .unwrap();
        g.push("relu", Layer::Relu).unwrap();
        g.push("pool", Layer::MaxPool1d(Pool1d::new(3, 3))).unwrap();
        g.push("flat", Layer::Flatten).unwrap();
        g.push("dense", Layer::Linear(Linear::new(12, 2, true, &mut rng)))
            .unwrap();
        g
    }

    fn one_hot(seq: &[u8]) -> Vec<f32> {
        let l = seq.len();
        let mut v = vec![0.0; 4 * l];
        for (t, b) in seq.iter().enumerate() {
            v[b"ACGT".iter().position(|s| s == b).unwrap() * l + t] = 1.0;
        }
        v
    }

    /// DeepLIFT's summation-to-delta: with the Rescale rule and the max-pool rule, the
    /// contributions `(x - r) * m` sum to `f(x) - f(r)` exactly (up to rounding) whenever no
    /// input difference falls under the thresholds.
    #[test]
    fn contributions_sum_to_the_output_difference() {
        let mut g = graph();
        let x = Tensor::new(&[1, 4, 12], one_hot(b"ACGTTGCAACGT")).unwrap();
        let r = Tensor::new(&[1, 4, 12], one_hot(b"TTGCAACGTACG")).unwrap();
        let m = g.deeplift(&x, &r, &[1.0, -0.5]).unwrap();
        let sum: f32 = (0..x.len())
            .map(|j| (x.data[j] - r.data[j]) * m.multipliers.data[j])
            .sum();
        let want = m.input_values[0] - m.reference_values[0];
        assert!((sum - want).abs() < 1e-5, "{sum} vs {want}");
        // The target values are the graph's predictions.
        let y = g.predict(&x).unwrap();
        assert!((m.input_values[0] - (y.data[0] - 0.5 * y.data[1])).abs() < 1e-6);
    }

    /// With the reference equal to the input everywhere but one position, every multiplier
    /// of the unchanged positions is the ordinary gradient's (Rescale falls back to it) and
    /// the changed position carries the whole output difference.
    #[test]
    fn a_single_change_carries_the_whole_difference() {
        let mut g = graph();
        let x = Tensor::new(&[1, 4, 12], one_hot(b"ACGTTGCAACGT")).unwrap();
        let r = Tensor::new(&[1, 4, 12], one_hot(b"ACGTTCCAACGT")).unwrap();
        let m = g.deeplift(&x, &r, &[1.0, 0.0]).unwrap();
        let at5: f32 = (0..4)
            .map(|c| (x.data[c * 12 + 5] - r.data[c * 12 + 5]) * m.multipliers.data[c * 12 + 5])
            .sum();
        let want = m.input_values[0] - m.reference_values[0];
        assert!((at5 - want).abs() < 1e-5, "{at5} vs {want}");
    }

    /// The softmax rule conserves the output difference too.
    #[test]
    fn a_softmax_head_sums_to_the_output_difference() {
        let mut g = graph();
        g.push("probs", Layer::Softmax).unwrap();
        let x = Tensor::new(&[1, 4, 12], one_hot(b"ACGTTGCAACGT")).unwrap();
        let r = Tensor::new(&[1, 4, 12], one_hot(b"TTGCAACGTACG")).unwrap();
        let m = g.deeplift(&x, &r, &[1.0, 0.0]).unwrap();
        let sum: f32 = (0..x.len())
            .map(|j| (x.data[j] - r.data[j]) * m.multipliers.data[j])
            .sum();
        let want = m.input_values[0] - m.reference_values[0];
        assert!(
            want.abs() > 1e-3 && (sum - want).abs() < 1e-5,
            "{sum} vs {want}"
        );
    }

    #[test]
    fn a_layer_without_a_rule_is_refused_by_name() {
        let mut g = graph();
        g.push("channel max", Layer::ReduceChannels { op: Reduce::Max })
            .unwrap();
        let x = Tensor::new(&[1, 4, 12], one_hot(b"ACGTTGCAACGT")).unwrap();
        let e = g.deeplift(&x, &x, &[1.0]).unwrap_err().to_string();
        assert!(
            e.contains("layer 'channel max' (a maximum over channels"),
            "{e}"
        );
        assert!(e.contains("refused"), "{e}");
    }
}
