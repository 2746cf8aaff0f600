//! Recurrent layers (LSTM and GRU) over the length axis, with ONNX's semantics: gates in
//! ONNX order (LSTM `i, o, f, c`; GRU `z, r, h` with `linear_before_reset = 1`, as PyTorch
//! and Keras' `reset_after` compute it), zero initial states, default activations, and
//! both directions of a bidirectional layer concatenated along channels (forward first).
//!
//! In the engine's layout the input is `[batch, in, length]` and the output `[batch,
//! directions * hidden, length]`: channel `d * hidden + j` is unit `j` of direction `d`,
//! which is ONNX's `Y[t, d, n, j]` at position `t`.
//!
//! The input projection of a whole sequence is one GEMM per item; the recurrence is one
//! small GEMM per step over the batch. The backward pass is backpropagation through time.

use serde::{Deserialize, Serialize};

use super::kernels::{Mat, matmul};
use super::{Error, Param, Rng, Tensor};

/// Which recurrent cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cell {
    /// Long short-term memory (input, output, forget and cell gates).
    Lstm,
    /// With `linear_before_reset = 1`: the reset gate scales `R_h h + Rb_h`.
    Gru,
}

impl Cell {
    /// Gates per unit.
    pub fn gates(self) -> usize {
        match self {
            Cell::Lstm => 4,
            Cell::Gru => 3,
        }
    }

    /// The ONNX op name.
    pub fn name(self) -> &'static str {
        match self {
            Cell::Lstm => "LSTM",
            Cell::Gru => "GRU",
        }
    }
}

/// Which way the sequence is read (ONNX's `direction`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the first position to the last.
    Forward,
    /// From the last position to the first.
    Reverse,
    /// Both, with the two outputs concatenated along channels.
    Bidirectional,
}

impl Direction {
    /// Directions run (1 or 2).
    pub fn count(self) -> usize {
        match self {
            Direction::Bidirectional => 2,
            _ => 1,
        }
    }

    /// Whether direction `d` of this layer reads the sequence from its end.
    fn reversed(self, d: usize) -> bool {
        matches!(self, Direction::Reverse) || (matches!(self, Direction::Bidirectional) && d == 1)
    }
}

/// An LSTM or GRU layer (ONNX `LSTM` / `GRU`, PyTorch `nn.LSTM` / `nn.GRU` of one layer).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rnn {
    /// LSTM or GRU.
    pub cell: Cell,
    /// Which way it reads the sequence.
    pub direction: Direction,
    /// Input channels.
    pub input_size: usize,
    /// Hidden units per direction.
    pub hidden: usize,
    /// `[directions, gates * hidden, input_size]` (ONNX `W`).
    pub weight_ih: Param,
    /// `[directions, gates * hidden, hidden]` (ONNX `R`).
    pub weight_hh: Param,
    /// `[directions, 2 * gates * hidden]`: the input biases, then the recurrent ones (ONNX `B`).
    pub bias: Param,
}

/// What the backward pass needs: per direction, step and item, the gate activations, and
/// the LSTM's cell state or the GRU's `R_h h + Rb_h` (which the reset gate scaled).
#[derive(Clone, Debug, Default)]
pub struct RnnCache {
    gates: Vec<f32>,
    state: Vec<f32>,
}

fn sigmoid(v: f32) -> f32 {
    1.0 / (1.0 + (-v).exp())
}

impl Rnn {
    /// A layer with PyTorch's initialisation: every weight and bias uniform in
    /// `+-1/sqrt(hidden)`.
    pub fn new(
        cell: Cell,
        direction: Direction,
        input_size: usize,
        hidden: usize,
        rng: &mut Rng,
    ) -> Rnn {
        use rand::RngExt;
        let a = 1.0 / (hidden.max(1) as f32).sqrt();
        let (d, gh) = (direction.count(), cell.gates() * hidden);
        let mut draw = |shape: &[usize]| {
            let n = shape.iter().product();
            Param::new(shape, (0..n).map(|_| rng.random_range(-a..=a)).collect())
        };
        Rnn {
            cell,
            direction,
            input_size,
            hidden,
            weight_ih: draw(&[d, gh, input_size]),
            weight_hh: draw(&[d, gh, hidden]),
            bias: draw(&[d, 2 * gh]),
        }
    }

    /// Output channels: `directions * hidden`.
    pub fn out_channels(&self) -> usize {
        self.direction.count() * self.hidden
    }

    /// Checks that the weights have the shapes the layer's sizes say, so a malformed model
    /// is refused at import instead of indexing out of bounds later.
    pub fn check_weights(&self) -> Result<(), Error> {
        let (d, gh) = (self.direction.count(), self.cell.gates() * self.hidden);
        for (what, p, want) in [
            ("input weights", &self.weight_ih, d * gh * self.input_size),
            ("recurrent weights", &self.weight_hh, d * gh * self.hidden),
            ("biases", &self.bias, d * 2 * gh),
        ] {
            if p.value.len() != want {
                return Err(Error::Shape(format!(
                    "{} {what}: {} values, expected {want} for {d} direction(s) of {} units over {} inputs",
                    self.cell.name(),
                    p.value.len(),
                    self.hidden,
                    self.input_size
                )));
            }
        }
        Ok(())
    }

    fn check(&self, x: &Tensor) -> Result<(usize, usize), Error> {
        let (n, c, l) = x.ncl(self.cell.name())?;
        if c != self.input_size {
            return Err(Error::Shape(format!(
                "{} expects {} input channels, got {c}",
                self.cell.name(),
                self.input_size
            )));
        }
        self.check_weights()?;
        Ok((n, l))
    }

    /// The input projection `W_d x + Wb_d` of every item: `[n][gates * hidden, l]`.
    fn project(&self, x: &Tensor, d: usize) -> Vec<f32> {
        let (n, c, l) = (x.shape[0], self.input_size, x.shape[2]);
        let gh = self.cell.gates() * self.hidden;
        let w = &self.weight_ih.value[d * gh * c..(d + 1) * gh * c];
        let wb = &self.bias.value[d * 2 * gh..d * 2 * gh + gh];
        let mut gx = vec![0.0; n * gh * l];
        for (item, out) in gx.chunks_mut(gh * l).enumerate() {
            let xi = &x.data[item * c * l..(item + 1) * c * l];
            matmul(out, Mat::new(w, gh, c), Mat::new(xi, c, l), false);
            for (row, b) in out.chunks_mut(l).zip(wb) {
                row.iter_mut().for_each(|v| *v += b);
            }
        }
        gx
    }

    /// `[batch, input_size, length]` -> `[batch, directions * hidden, length]`, with the states the backward pass needs.
    pub fn forward(&self, x: &Tensor) -> Result<(Tensor, RnnCache), Error> {
        let (n, l) = self.check(x)?;
        let (h, g) = (self.hidden, self.cell.gates());
        let gh = g * h;
        let dirs = self.direction.count();
        let mut y = Tensor::zeros(&[n, dirs * h, l]);
        let mut cache = RnnCache {
            gates: vec![0.0; dirs * l * n * gh],
            state: vec![0.0; dirs * l * n * h],
        };
        for d in 0..dirs {
            let gx = self.project(x, d);
            let r = &self.weight_hh.value[d * gh * h..(d + 1) * gh * h];
            let rb = &self.bias.value[d * 2 * gh + gh..(d + 1) * 2 * gh];
            let mut hs = vec![0.0f32; n * h];
            let mut cs = vec![0.0f32; n * h];
            let mut rec = vec![0.0f32; n * gh];
            for s in 0..l {
                let t = if self.direction.reversed(d) {
                    l - 1 - s
                } else {
                    s
                };
                // rec[n, gh] = h_prev [n, h] x R^T + Rb
                matmul(&mut rec, Mat::new(&hs, n, h), Mat::new(r, gh, h).t(), false);
                let step = (d * l + s) * n;
                for item in 0..n {
                    let pre = |k: usize| gx[(item * gh + k) * l + t];
                    let rec = &mut rec[item * gh..(item + 1) * gh];
                    rec.iter_mut().zip(rb).for_each(|(v, b)| *v += b);
                    let acts = &mut cache.gates[(step + item) * gh..(step + item + 1) * gh];
                    let state = &mut cache.state[(step + item) * h..(step + item + 1) * h];
                    let hi = &mut hs[item * h..(item + 1) * h];
                    let ci = &mut cs[item * h..(item + 1) * h];
                    for j in 0..h {
                        match self.cell {
                            Cell::Lstm => {
                                let i = sigmoid(pre(j) + rec[j]);
                                let o = sigmoid(pre(h + j) + rec[h + j]);
                                let f = sigmoid(pre(2 * h + j) + rec[2 * h + j]);
                                let c = (pre(3 * h + j) + rec[3 * h + j]).tanh();
                                ci[j] = f * ci[j] + i * c;
                                hi[j] = o * ci[j].tanh();
                                acts[j] = i;
                                acts[h + j] = o;
                                acts[2 * h + j] = f;
                                acts[3 * h + j] = c;
                                state[j] = ci[j];
                            }
                            Cell::Gru => {
                                let z = sigmoid(pre(j) + rec[j]);
                                let rr = sigmoid(pre(h + j) + rec[h + j]);
                                let cand = (pre(2 * h + j) + rr * rec[2 * h + j]).tanh();
                                hi[j] = (1.0 - z) * cand + z * hi[j];
                                acts[j] = z;
                                acts[h + j] = rr;
                                acts[2 * h + j] = cand;
                                state[j] = rec[2 * h + j];
                            }
                        }
                        y.data[(item * dirs * h + d * h + j) * l + t] = hi[j];
                    }
                }
            }
        }
        Ok((y, cache))
    }

    /// Backpropagation through time; weight gradients accumulate in place when `params`.
    pub fn backward(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        cache: &RnnCache,
        dy: &Tensor,
        params: bool,
    ) -> Result<Tensor, Error> {
        let (n, l) = self.check(x)?;
        let (h, g, c) = (self.hidden, self.cell.gates(), self.input_size);
        let gh = g * h;
        let dirs = self.direction.count();
        if cache.gates.len() != dirs * l * n * gh || y.shape != [n, dirs * h, l] {
            return Err(Error::Shape(format!(
                "internal: {} backward without its forward pass",
                self.cell.name()
            )));
        }
        let mut dx = x.zeros_like();
        for d in 0..dirs {
            let reversed = self.direction.reversed(d);
            let r = self.weight_hh.value[d * gh * h..(d + 1) * gh * h].to_vec();
            // Gradients of the input projection (`dgx`, per item `[gh, l]`) and of the
            // recurrent pre-activations of one step (`dgr`, `[n, gh]`).
            let mut dgx = vec![0.0f32; n * gh * l];
            let mut dgr = vec![0.0f32; n * gh];
            let mut dh_rec = vec![0.0f32; n * h];
            let mut dc_rec = vec![0.0f32; n * h];
            let mut h_prev = vec![0.0f32; n * h];
            let mut dr = vec![0.0f32; gh * h];
            let mut drb = vec![0.0f32; gh];
            // y at position t, direction d, item, unit j.
            let y_at =
                |item: usize, t: usize, j: usize| y.data[(item * dirs * h + d * h + j) * l + t];
            for s in (0..l).rev() {
                let t = if reversed { l - 1 - s } else { s };
                let prev_t = if reversed { t + 1 } else { t.wrapping_sub(1) };
                let step = (d * l + s) * n;
                for item in 0..n {
                    let acts = &cache.gates[(step + item) * gh..(step + item + 1) * gh];
                    let state = &cache.state[(step + item) * h..(step + item + 1) * h];
                    let prev_state = (s > 0).then(|| {
                        let ps = (d * l + s - 1) * n + item;
                        &cache.state[ps * h..(ps + 1) * h]
                    });
                    for j in 0..h {
                        let hp = if s > 0 { y_at(item, prev_t, j) } else { 0.0 };
                        h_prev[item * h + j] = hp;
                        let dh =
                            dy.data[(item * dirs * h + d * h + j) * l + t] + dh_rec[item * h + j];
                        let gx_at = |k: usize| (item * gh + k) * l + t;
                        let gr = &mut dgr[item * gh..(item + 1) * gh];
                        match self.cell {
                            Cell::Lstm => {
                                let (i, o, f, cc) =
                                    (acts[j], acts[h + j], acts[2 * h + j], acts[3 * h + j]);
                                let tc = state[j].tanh();
                                let cp = prev_state.map_or(0.0, |p| p[j]);
                                let dc = dc_rec[item * h + j] + dh * o * (1.0 - tc * tc);
                                dc_rec[item * h + j] = dc * f;
                                let pre = [
                                    dc * cc * i * (1.0 - i),
                                    dh * tc * o * (1.0 - o),
                                    dc * cp * f * (1.0 - f),
                                    dc * i * (1.0 - cc * cc),
                                ];
                                for (k, v) in pre.into_iter().enumerate() {
                                    dgx[gx_at(k * h + j)] = v;
                                    gr[k * h + j] = v;
                                }
                            }
                            Cell::Gru => {
                                let (z, rr, cand) = (acts[j], acts[h + j], acts[2 * h + j]);
                                let dcand = dh * (1.0 - z) * (1.0 - cand * cand);
                                let dz = dh * (hp - cand) * z * (1.0 - z);
                                let dr_ = dcand * state[j] * rr * (1.0 - rr);
                                dgx[gx_at(j)] = dz;
                                dgx[gx_at(h + j)] = dr_;
                                dgx[gx_at(2 * h + j)] = dcand;
                                gr[j] = dz;
                                gr[h + j] = dr_;
                                gr[2 * h + j] = dcand * rr;
                                // h_t = ... + z * h_prev reaches h_prev directly.
                                dh_rec[item * h + j] = dh * z;
                            }
                        }
                    }
                }
                // Through the recurrence: dh_prev += dgr [n, gh] x R [gh, h].
                let accumulate = self.cell == Cell::Gru;
                matmul(
                    &mut dh_rec,
                    Mat::new(&dgr, n, gh),
                    Mat::new(&r, gh, h),
                    accumulate,
                );
                if !params {
                    continue;
                }
                // dR += dgr^T [gh, n] x h_prev [n, h]
                matmul(
                    &mut dr,
                    Mat::new(&dgr, n, gh).t(),
                    Mat::new(&h_prev, n, h),
                    true,
                );
                for row in dgr.chunks(gh) {
                    drb.iter_mut().zip(row).for_each(|(a, b)| *a += b);
                }
            }
            let w = self.weight_ih.value[d * gh * c..(d + 1) * gh * c].to_vec();
            let mut dw = vec![0.0f32; gh * c];
            let mut dwb = vec![0.0f32; gh];
            for item in 0..n {
                let g_item = &dgx[item * gh * l..(item + 1) * gh * l];
                let xi = &x.data[item * c * l..(item + 1) * c * l];
                // dx += W^T [c, gh] x dgx [gh, l]
                matmul(
                    &mut dx.data[item * c * l..(item + 1) * c * l],
                    Mat::new(&w, gh, c).t(),
                    Mat::new(g_item, gh, l),
                    true,
                );
                if !params {
                    continue;
                }
                // dW += dgx [gh, l] x x^T [l, c]
                matmul(
                    &mut dw,
                    Mat::new(g_item, gh, l),
                    Mat::new(xi, c, l).t(),
                    true,
                );
                for (b, row) in dwb.iter_mut().zip(g_item.chunks(l)) {
                    *b += row.iter().sum::<f32>();
                }
            }
            if !params {
                continue;
            }
            let add =
                |dst: &mut [f32], src: &[f32]| dst.iter_mut().zip(src).for_each(|(a, b)| *a += b);
            add(
                &mut self.weight_ih.grad_mut()[d * gh * c..(d + 1) * gh * c],
                &dw,
            );
            add(
                &mut self.weight_hh.grad_mut()[d * gh * h..(d + 1) * gh * h],
                &dr,
            );
            let bias = self.bias.grad_mut();
            add(&mut bias[d * 2 * gh..d * 2 * gh + gh], &dwb);
            add(&mut bias[d * 2 * gh + gh..(d + 1) * 2 * gh], &drb);
        }
        Ok(dx)
    }
}
