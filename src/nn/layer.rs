use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::batchnorm::{BatchNorm1d, BnCache};
use super::conv::Conv1d;
use super::linear::Linear;
use super::pool::{self, Pool1d, Reduce};
use super::rnn::{Rnn, RnnCache};
use super::{Error, Param, Rng, Tensor};

/// Whether a forward pass trains (batch statistics, dropout) or evaluates.
pub enum Mode<'a> {
    /// Inference: running statistics, no dropout.
    Eval,
    /// Training, drawing dropout masks from the generator.
    Train(&'a mut Rng),
}

impl Mode<'_> {
    /// Whether this is a training pass.
    pub fn is_train(&self) -> bool {
        matches!(self, Mode::Train(_))
    }
}

/// One operation of a [`Graph`](super::Graph). Layers with weights hold them; the rest are
/// pure functions of their inputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Layer {
    /// 1-D convolution.
    Conv1d(Conv1d),
    /// Dense layer over `[batch, features]`.
    Linear(Linear),
    /// Batch normalisation over channels.
    BatchNorm1d(BatchNorm1d),
    /// LSTM or GRU over the length axis: `[batch, in, l]` -> `[batch, directions * hidden, l]`.
    Rnn(Rnn),
    /// max(0, x).
    Relu,
    /// `x` where positive, `alpha * (exp(x) - 1)` elsewhere.
    Elu {
        /// The negative saturation value.
        alpha: f32,
    },
    /// ln(1 + exp(x)).
    Softplus,
    /// exp(x).
    Exp,
    /// 1 / (1 + exp(-x)).
    Sigmoid,
    /// tanh(x).
    Tanh,
    /// `x` where positive, `alpha * x` elsewhere; `alpha >= 0` (so the output's sign is the
    /// input's, which the GPU's backward pass relies on).
    LeakyRelu {
        /// The slope below zero.
        alpha: f32,
    },
    /// `x * Phi(x)` with the normal CDF `Phi`, exactly (erf) or with ONNX's tanh
    /// approximation.
    Gelu {
        /// Whether the tanh approximation is used instead of erf.
        tanh: bool,
    },
    /// Softmax over axis 1 (labels of `[batch, k]`, or channels of `[batch, c, l]`).
    Softmax,
    /// Softmax over the length axis of `[batch, c, l]`, per channel: a profile model's
    /// distribution of each task's reads over positions (BPNet).
    SoftmaxLength,
    /// Max pooling over the length.
    MaxPool1d(Pool1d),
    /// Average pooling over the length.
    AvgPool1d(Pool1d),
    /// `[batch, c, l]` -> `[batch, c]`.
    GlobalMaxPool,
    /// `[batch, c, l]` -> `[batch, c]`.
    GlobalAvgPool,
    /// `[batch, c, l]` -> `[batch, c]`: the sum over the length (ONNX ReduceSum).
    GlobalSumPool,
    /// `[batch, c, l]` -> `[batch, 1, l]`: the max, mean or sum over the channels at each
    /// position.
    ReduceChannels {
        /// How the channels are combined.
        op: Reduce,
    },
    /// Zeroes each value with probability `p` in training (scaling the rest by 1 / (1 - p)); the identity at inference.
    Dropout {
        /// The drop probability.
        p: f32,
    },
    /// `[batch, ...]` -> `[batch, product]`.
    Flatten,
    /// Element-wise sum of two same-shaped inputs (residual connections).
    Add,
    /// Concatenation of inputs along channels (axis 1).
    Concat,
    /// Drops `left` and `right` positions from the length axis (BPNet-style heads).
    Crop {
        /// Positions dropped at the start.
        left: usize,
        /// Positions dropped at the end.
        right: usize,
    },
    /// `x * scale[c] + shift[c]` for each channel `c` (axis 1), with constants that training
    /// leaves alone: an imported model's arithmetic with constants (`x * 0.5`, `x - mean`).
    Affine {
        /// Per-channel factor.
        scale: Vec<f32>,
        /// Per-channel offset.
        shift: Vec<f32>,
    },
}

/// What a layer's backward pass needs from its forward pass, beyond inputs and output.
#[derive(Clone, Debug, Default)]
pub enum Cache {
    #[default]
    None,
    ArgMax(Vec<u32>),
    Mask(Vec<f32>),
    Bn(BnCache),
    Rnn(RnnCache),
}

fn map(x: &Tensor, f: impl Fn(f32) -> f32) -> Tensor {
    Tensor {
        shape: x.shape.clone(),
        data: x.data.iter().map(|&v| f(v)).collect(),
    }
}

/// `dy * f(x, y)` element-wise.
fn chain(x: &Tensor, y: &Tensor, dy: &Tensor, f: impl Fn(f32, f32) -> f32) -> Tensor {
    Tensor {
        shape: x.shape.clone(),
        data: x
            .data
            .iter()
            .zip(&y.data)
            .zip(&dy.data)
            .map(|((&x, &y), &g)| g * f(x, y))
            .collect(),
    }
}

fn sigmoid(v: f32) -> f32 {
    1.0 / (1.0 + (-v).exp())
}

/// GELU and its derivative at `v`: `v * Phi(v)` exactly, or ONNX's (and PyTorch's)
/// `0.5 v (1 + tanh(sqrt(2/pi) (v + 0.044715 v^3)))`. Computed in f64, as erf's f32
/// versions lose digits in the tails.
fn gelu(v: f32, tanh: bool) -> (f32, f32) {
    let x = v as f64;
    let (y, dy) = if tanh {
        let k = (2.0 / std::f64::consts::PI).sqrt();
        let t = (k * (x + 0.044715 * x * x * x)).tanh();
        let dt = (1.0 - t * t) * k * (1.0 + 3.0 * 0.044715 * x * x);
        (0.5 * x * (1.0 + t), 0.5 * (1.0 + t) + 0.5 * x * dt)
    } else {
        let cdf = 0.5 * (1.0 + libm::erf(x / std::f64::consts::SQRT_2));
        let pdf = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
        (x * cdf, cdf + x * pdf)
    };
    (y as f32, dy as f32)
}

impl Layer {
    /// How many inputs the layer takes (`None`: two or more).
    pub fn arity(&self) -> Option<usize> {
        match self {
            Layer::Add => Some(2),
            Layer::Concat => None,
            _ => Some(1),
        }
    }

    /// The per-item output shape for inputs of per-item shapes `ins` (`[channels, length]`
    /// or `[features]`), without running the layer: what [`Layer::forward`] would produce,
    /// or the error it would raise.
    pub fn out_shape(&self, ins: &[&[usize]]) -> Result<Vec<usize>, Error> {
        let x = ins[0];
        let cl = |op: &str| match *x {
            [c, l] => Ok((c, l)),
            _ => Err(Error::Shape(format!(
                "{op} needs [batch, channels, length], got [batch, {}]",
                dims(x)
            ))),
        };
        match self {
            Layer::Conv1d(c) => {
                let (ci, l) = cl("Conv1d")?;
                if ci != c.in_channels {
                    return Err(Error::Shape(format!(
                        "Conv1d expects {} input channels, got {ci}",
                        c.in_channels
                    )));
                }
                let lout = c.window().out_len(l).ok_or_else(|| {
                    Error::Shape(format!(
                        "Conv1d kernel {} (dilation {}) does not fit length {l}",
                        c.kernel, c.dilation
                    ))
                })?;
                Ok(vec![c.out_channels, lout])
            }
            Layer::Rnn(r) => {
                let (ci, l) = cl(r.cell.name())?;
                if ci != r.input_size {
                    return Err(Error::Shape(format!(
                        "{} expects {} input channels, got {ci}",
                        r.cell.name(),
                        r.input_size
                    )));
                }
                Ok(vec![r.out_channels(), l])
            }
            Layer::Linear(lin) => match *x {
                [f] if f == lin.in_features => Ok(vec![lin.out_features]),
                _ => Err(Error::Shape(format!(
                    "Linear expects [batch, {}], got [batch, {}] (add a Flatten before it?)",
                    lin.in_features,
                    dims(x)
                ))),
            },
            Layer::BatchNorm1d(b) => match x.first() {
                Some(&c) if c == b.channels && x.len() <= 2 => Ok(x.to_vec()),
                _ => Err(Error::Shape(format!(
                    "BatchNorm1d expects {} channels, got shape [batch, {}]",
                    b.channels,
                    dims(x)
                ))),
            },
            Layer::Relu
            | Layer::Elu { .. }
            | Layer::Softplus
            | Layer::Exp
            | Layer::Sigmoid
            | Layer::Tanh
            | Layer::LeakyRelu { .. }
            | Layer::Gelu { .. }
            | Layer::Dropout { .. } => Ok(x.to_vec()),
            Layer::Softmax => match x.len() {
                1 | 2 => Ok(x.to_vec()),
                _ => Err(Error::Shape(format!(
                    "Softmax needs rank 2 or 3, got [batch, {}]",
                    dims(x)
                ))),
            },
            Layer::SoftmaxLength => cl("SoftmaxLength").map(|_| x.to_vec()),
            Layer::MaxPool1d(w) | Layer::AvgPool1d(w) => {
                let op = if matches!(self, Layer::MaxPool1d(_)) {
                    "MaxPool1d"
                } else {
                    "AvgPool1d"
                };
                let (c, l) = cl(op)?;
                Ok(vec![c, w.out_len(op, l)?])
            }
            Layer::GlobalMaxPool | Layer::GlobalAvgPool | Layer::GlobalSumPool => {
                Ok(vec![cl("global pooling")?.0])
            }
            Layer::ReduceChannels { .. } => Ok(vec![1, cl("ReduceChannels")?.1]),
            Layer::Flatten => Ok(vec![x.iter().product()]),
            Layer::Add => {
                let b = ins
                    .get(1)
                    .ok_or_else(|| Error::Shape("Add needs two inputs".into()))?;
                if x != *b {
                    return Err(Error::Shape(format!(
                        "Add needs equal shapes, got [batch, {}] and [batch, {}]",
                        dims(x),
                        dims(b)
                    )));
                }
                Ok(x.to_vec())
            }
            Layer::Concat => {
                let mut out = x.to_vec();
                out[0] = 0;
                for s in ins {
                    if s.len() != x.len() || s[1..] != x[1..] {
                        return Err(Error::Shape(format!(
                            "Concat needs equal batch and length, got [batch, {}] and [batch, {}]",
                            dims(x),
                            dims(s)
                        )));
                    }
                    out[0] += s[0];
                }
                Ok(out)
            }
            Layer::Crop { left, right } => {
                let (c, l) = cl("Crop")?;
                if left + right >= l {
                    return Err(Error::Shape(format!(
                        "Crop {left}+{right} leaves nothing of length {l}"
                    )));
                }
                Ok(vec![c, l - left - right])
            }
            Layer::Affine { scale, shift } => match x.first() {
                Some(&c) if c == scale.len() && c == shift.len() && x.len() <= 2 => Ok(x.to_vec()),
                _ => Err(Error::Shape(format!(
                    "Affine has {} channels, got shape [batch, {}]",
                    scale.len(),
                    dims(x)
                ))),
            },
        }
    }

    /// The trainable parameters, in a fixed order.
    pub fn params_mut(&mut self) -> Vec<&mut Param> {
        match self {
            Layer::Conv1d(c) => std::iter::once(&mut c.weight)
                .chain(c.bias.as_mut())
                .collect(),
            Layer::Linear(l) => std::iter::once(&mut l.weight)
                .chain(l.bias.as_mut())
                .collect(),
            Layer::BatchNorm1d(b) => vec![&mut b.gamma, &mut b.beta],
            Layer::Rnn(r) => vec![&mut r.weight_ih, &mut r.weight_hh, &mut r.bias],
            _ => Vec::new(),
        }
    }

    /// Its trainable parameters (none for weightless layers).
    pub fn params(&self) -> Vec<&Param> {
        match self {
            Layer::Conv1d(c) => std::iter::once(&c.weight).chain(c.bias.as_ref()).collect(),
            Layer::Linear(l) => std::iter::once(&l.weight).chain(l.bias.as_ref()).collect(),
            Layer::BatchNorm1d(b) => vec![&b.gamma, &b.beta],
            Layer::Rnn(r) => vec![&r.weight_ih, &r.weight_hh, &r.bias],
            _ => Vec::new(),
        }
    }

    /// Computes the output from its inputs, and what the backward pass needs.
    pub fn forward(&self, xs: &[&Tensor], mode: &mut Mode) -> Result<(Tensor, Cache), Error> {
        let x = xs[0];
        let plain = |t: Tensor| Ok((t, Cache::None));
        match self {
            Layer::Conv1d(c) => plain(c.forward(x)?),
            Layer::Linear(l) => plain(l.forward(x)?),
            Layer::BatchNorm1d(b) => {
                let (y, cache) = b.forward(x, mode.is_train())?;
                Ok((y, Cache::Bn(cache)))
            }
            Layer::Rnn(r) => {
                let (y, cache) = r.forward(x)?;
                Ok((y, Cache::Rnn(cache)))
            }
            Layer::Relu => plain(map(x, |v| v.max(0.0))),
            Layer::Elu { alpha } => plain(map(x, |v| if v > 0.0 { v } else { alpha * v.exp_m1() })),
            Layer::Softplus => plain(map(x, |v| v.max(0.0) + (-v.abs()).exp().ln_1p())),
            Layer::Exp => plain(map(x, f32::exp)),
            Layer::Sigmoid => plain(map(x, sigmoid)),
            Layer::Tanh => plain(map(x, f32::tanh)),
            Layer::LeakyRelu { alpha } => plain(map(x, |v| if v > 0.0 { v } else { alpha * v })),
            Layer::Gelu { tanh } => plain(map(x, |v| gelu(v, *tanh).0)),
            Layer::Softmax => plain(softmax(x, rows_over_channels(&x.shape)?)),
            Layer::SoftmaxLength => {
                let (n, c, l) = x.ncl("SoftmaxLength")?;
                plain(softmax(
                    x,
                    Rows {
                        outer: n * c,
                        k: l,
                        inner: 1,
                    },
                ))
            }
            Layer::MaxPool1d(w) => {
                let (y, arg) = pool::max_pool(x, w)?;
                Ok((y, Cache::ArgMax(arg)))
            }
            Layer::AvgPool1d(w) => plain(pool::avg_pool(x, w)?),
            Layer::GlobalMaxPool => {
                let (_, _, l) = x.ncl("GlobalMaxPool")?;
                let (y, arg) = pool::max_pool(x, &Pool1d::new(l, 1))?;
                Ok((flatten(y), Cache::ArgMax(arg)))
            }
            Layer::GlobalAvgPool => {
                let (_, _, l) = x.ncl("GlobalAvgPool")?;
                plain(flatten(pool::avg_pool(x, &Pool1d::new(l, 1))?))
            }
            Layer::GlobalSumPool => {
                let (n, c, l) = x.ncl("GlobalSumPool")?;
                let data = x.data.chunks(l.max(1)).map(|r| r.iter().sum()).collect();
                plain(Tensor::new(&[n, c], data)?)
            }
            Layer::ReduceChannels { op } => {
                let (y, arg) = pool::reduce_channels(x, *op)?;
                Ok((y, Cache::ArgMax(arg)))
            }
            Layer::Dropout { p } => match mode {
                Mode::Train(rng) if *p > 0.0 => {
                    let mask = dropout_mask(*p, x.len(), rng);
                    let y = Tensor {
                        shape: x.shape.clone(),
                        data: x.data.iter().zip(&mask).map(|(a, m)| a * m).collect(),
                    };
                    Ok((y, Cache::Mask(mask)))
                }
                _ => plain(x.clone()),
            },
            Layer::Flatten => plain(flatten(x.clone())),
            Layer::Add => {
                let b = xs
                    .get(1)
                    .ok_or_else(|| Error::Shape("Add needs two inputs".into()))?;
                if x.shape != b.shape {
                    return Err(Error::Shape(format!(
                        "Add needs equal shapes, got {:?} and {:?}",
                        x.shape, b.shape
                    )));
                }
                plain(Tensor {
                    shape: x.shape.clone(),
                    data: x.data.iter().zip(&b.data).map(|(a, b)| a + b).collect(),
                })
            }
            Layer::Concat => plain(concat(xs)?),
            Layer::Affine { scale, shift } => plain(per_channel(x, |c, v| v * scale[c] + shift[c])),
            Layer::Crop { left, right } => {
                let (n, c, l) = x.ncl("Crop")?;
                if left + right >= l {
                    return Err(Error::Shape(format!(
                        "Crop {left}+{right} leaves nothing of length {l}"
                    )));
                }
                let lo = l - left - right;
                let mut y = Tensor::zeros(&[n, c, lo]);
                for (row, out) in y.data.chunks_mut(lo).enumerate() {
                    out.copy_from_slice(&x.data[row * l + left..row * l + left + lo]);
                }
                plain(y)
            }
        }
    }

    /// Gradients with respect to each input; parameter gradients accumulate in place when
    /// `params` (an input gradient alone skips their work and memory).
    pub fn backward(
        &mut self,
        xs: &[&Tensor],
        y: &Tensor,
        cache: &Cache,
        dy: &Tensor,
        params: bool,
    ) -> Result<Vec<Tensor>, Error> {
        let x = xs[0];
        let one = |t: Tensor| Ok(vec![t]);
        match (self, cache) {
            (Layer::Conv1d(c), _) => one(c.backward(x, dy, params)?),
            (Layer::Linear(l), _) => one(l.backward(x, dy, params)?),
            (Layer::BatchNorm1d(b), Cache::Bn(c)) => one(b.backward(x, c, dy, params)?),
            (Layer::BatchNorm1d(b), _) => one(b.backward(x, &BnCache::default(), dy, params)?),
            (Layer::Rnn(r), Cache::Rnn(c)) => one(r.backward(x, y, c, dy, params)?),
            (Layer::Relu, _) => one(chain(x, y, dy, |x, _| if x > 0.0 { 1.0 } else { 0.0 })),
            (Layer::Elu { alpha }, _) => {
                let a = *alpha;
                one(chain(
                    x,
                    y,
                    dy,
                    move |x, y| if x > 0.0 { 1.0 } else { y + a },
                ))
            }
            (Layer::Softplus, _) => one(chain(x, y, dy, |x, _| sigmoid(x))),
            (Layer::Exp, _) => one(chain(x, y, dy, |_, y| y)),
            (Layer::Sigmoid, _) => one(chain(x, y, dy, |_, y| y * (1.0 - y))),
            (Layer::Tanh, _) => one(chain(x, y, dy, |_, y| 1.0 - y * y)),
            (Layer::LeakyRelu { alpha }, _) => {
                let a = *alpha;
                one(chain(x, y, dy, move |x, _| if x > 0.0 { 1.0 } else { a }))
            }
            (Layer::Gelu { tanh }, _) => {
                let t = *tanh;
                one(chain(x, y, dy, move |x, _| gelu(x, t).1))
            }
            (Layer::Softmax, _) => one(softmax_backward(y, dy, rows_over_channels(&y.shape)?)),
            (Layer::SoftmaxLength, _) => {
                let (n, c, l) = y.ncl("SoftmaxLength")?;
                one(softmax_backward(
                    y,
                    dy,
                    Rows {
                        outer: n * c,
                        k: l,
                        inner: 1,
                    },
                ))
            }
            (Layer::MaxPool1d(_), Cache::ArgMax(arg)) => one(pool::max_pool_backward(x, arg, dy)),
            (Layer::GlobalMaxPool, Cache::ArgMax(arg)) => {
                let dy3 = Tensor {
                    shape: vec![x.shape[0], x.shape[1], 1],
                    data: dy.data.clone(),
                };
                one(pool::max_pool_backward(x, arg, &dy3))
            }
            (Layer::AvgPool1d(w), _) => one(pool::avg_pool_backward(x, w, dy)),
            (Layer::GlobalAvgPool, _) => {
                let l = x.shape[2];
                let dy3 = Tensor {
                    shape: vec![x.shape[0], x.shape[1], 1],
                    data: dy.data.clone(),
                };
                one(pool::avg_pool_backward(x, &Pool1d::new(l, 1), &dy3))
            }
            (Layer::GlobalSumPool, _) => {
                let l = x.shape[2];
                let data = dy
                    .data
                    .iter()
                    .flat_map(|&g| std::iter::repeat_n(g, l))
                    .collect();
                one(Tensor::new(&x.shape, data)?)
            }
            (Layer::ReduceChannels { op }, Cache::ArgMax(arg)) => {
                one(pool::reduce_channels_backward(x, *op, arg, dy))
            }
            (Layer::Dropout { .. }, Cache::Mask(m)) => one(Tensor {
                shape: dy.shape.clone(),
                data: dy.data.iter().zip(m).map(|(g, m)| g * m).collect(),
            }),
            (Layer::Dropout { .. }, _) => one(dy.clone()),
            (Layer::Flatten, _) => one(Tensor {
                shape: x.shape.clone(),
                data: dy.data.clone(),
            }),
            (Layer::Add, _) => Ok(vec![dy.clone(), dy.clone()]),
            (Layer::Concat, _) => Ok(split_channels(xs, dy)),
            (Layer::Crop { left, .. }, _) => {
                let (_, _, l) = x.ncl("Crop")?;
                let lo = dy.shape[2];
                let mut dx = x.zeros_like();
                for (row, g) in dy.data.chunks(lo).enumerate() {
                    dx.data[row * l + *left..row * l + *left + lo].copy_from_slice(g);
                }
                one(dx)
            }
            (Layer::Affine { scale, .. }, _) => one(per_channel(dy, |c, g| g * scale[c])),
            (layer, _) => Err(Error::Shape(format!(
                "internal: {layer:?} backward got a cache from another layer"
            ))),
        }
    }
}

fn dims(shape: &[usize]) -> String {
    shape
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `f(channel, value)` for every element of `[batch, c]` or `[batch, c, l]`.
fn per_channel(x: &Tensor, f: impl Fn(usize, f32) -> f32) -> Tensor {
    let c = x.shape.get(1).copied().unwrap_or(1).max(1);
    let inner = x.shape.get(2).copied().unwrap_or(1).max(1);
    Tensor {
        shape: x.shape.clone(),
        data: x
            .data
            .iter()
            .enumerate()
            .map(|(i, &v)| f((i / inner) % c, v))
            .collect(),
    }
}

fn flatten(mut t: Tensor) -> Tensor {
    t.shape = vec![t.batch(), t.per_item()];
    t
}

/// The rows a softmax normalises: `outer` groups of `k` values `inner` apart, each group
/// holding `inner` interleaved rows.
#[derive(Clone, Copy)]
pub(super) struct Rows {
    pub(super) outer: usize,
    pub(super) k: usize,
    pub(super) inner: usize,
}

impl Layer {
    /// For a softmax, the rows it normalises in a tensor of `shape`.
    pub(super) fn softmax_rows(&self, shape: &[usize]) -> Result<Rows, Error> {
        match (self, shape) {
            (Layer::Softmax, _) => rows_over_channels(shape),
            (Layer::SoftmaxLength, &[n, c, l]) => Ok(Rows {
                outer: n * c,
                k: l,
                inner: 1,
            }),
            _ => Err(Error::Shape(format!(
                "internal: softmax rows of {self:?} over {shape:?}"
            ))),
        }
    }
}

/// Rows over axis 1: `[n, k]` has one row of `k` per item; `[n, c, l]` has `l` rows of `c`
/// with stride `l`.
fn rows_over_channels(shape: &[usize]) -> Result<Rows, Error> {
    match *shape {
        [n, k] => Ok(Rows {
            outer: n,
            k,
            inner: 1,
        }),
        [n, k, l] => Ok(Rows {
            outer: n,
            k,
            inner: l,
        }),
        _ => Err(Error::Shape(format!(
            "Softmax needs rank 2 or 3, got {shape:?}"
        ))),
    }
}

fn softmax(x: &Tensor, r: Rows) -> Tensor {
    let Rows { outer, k, inner } = r;
    let mut y = x.clone();
    for b in 0..outer {
        for t in 0..inner {
            let idx = |j: usize| (b * k + j) * inner + t;
            let m = (0..k)
                .map(|j| x.data[idx(j)])
                .fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0.0;
            for j in 0..k {
                let e = (x.data[idx(j)] - m).exp();
                y.data[idx(j)] = e;
                sum += e;
            }
            for j in 0..k {
                y.data[idx(j)] /= sum;
            }
        }
    }
    y
}

fn softmax_backward(y: &Tensor, dy: &Tensor, r: Rows) -> Tensor {
    let Rows { outer, k, inner } = r;
    let mut dx = y.zeros_like();
    for b in 0..outer {
        for t in 0..inner {
            let idx = |j: usize| (b * k + j) * inner + t;
            let dot: f32 = (0..k).map(|j| y.data[idx(j)] * dy.data[idx(j)]).sum();
            for j in 0..k {
                dx.data[idx(j)] = y.data[idx(j)] * (dy.data[idx(j)] - dot);
            }
        }
    }
    dx
}

fn concat(xs: &[&Tensor]) -> Result<Tensor, Error> {
    let n = xs[0].batch();
    let inner: usize = xs[0].shape.iter().skip(2).product();
    let mut channels = 0;
    for x in xs {
        if x.batch() != n
            || x.shape.iter().skip(2).product::<usize>() != inner
            || x.shape.len() != xs[0].shape.len()
        {
            return Err(Error::Shape(format!(
                "Concat needs equal batch and length, got {:?} and {:?}",
                xs[0].shape, x.shape
            )));
        }
        channels += x.shape[1];
    }
    let mut shape = xs[0].shape.clone();
    shape[1] = channels;
    let mut data = Vec::with_capacity(n * channels * inner);
    for b in 0..n {
        for x in xs {
            let per = x.per_item();
            data.extend_from_slice(&x.data[b * per..(b + 1) * per]);
        }
    }
    Ok(Tensor { shape, data })
}

fn split_channels(xs: &[&Tensor], dy: &Tensor) -> Vec<Tensor> {
    let n = dy.batch();
    let per_out = dy.per_item();
    let mut out: Vec<Tensor> = xs.iter().map(|x| x.zeros_like()).collect();
    for b in 0..n {
        let mut off = b * per_out;
        for g in out.iter_mut() {
            let per = g.per_item();
            g.data[b * per..(b + 1) * per].copy_from_slice(&dy.data[off..off + per]);
            off += per;
        }
    }
    out
}

/// Dropout's scaled keep mask for `n` values: `1 / (1 - p)` where kept, else 0, drawn from
/// `rng` one value at a time (the GPU trainer draws the same masks in the same order).
pub fn dropout_mask(p: f32, n: usize, rng: &mut super::Rng) -> Vec<f32> {
    let keep = 1.0 - p;
    (0..n)
        .map(|_| {
            if rng.random::<f32>() < keep {
                1.0 / keep
            } else {
                0.0
            }
        })
        .collect()
}
