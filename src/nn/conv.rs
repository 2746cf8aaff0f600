use serde::{Deserialize, Serialize};

use super::kernels::{
    Blocks, Mat, Window1d, col2im, for_batch, im2col, im2col_range, map_batch, matmul, par_map,
    threads,
};

/// The im2col block of one forward tile holds about this many values (1 MiB).
const TILE_VALUES: usize = 1 << 18;
/// The fewest output channels a forward task computes when channels are split across tasks:
/// fewer would leave the GEMM too small to reach its peak.
const MIN_BLOCK_ROWS: usize = 32;

use super::{Error, Init, Param, Rng, Tensor};

fn one() -> usize {
    1
}

/// 1-D convolution over `[batch, in_channels, length]` (PyTorch `Conv1d`, ONNX `Conv`):
/// im2col per sequence, then one GEMM with the `[out, in * kernel]` weight matrix, per group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conv1d {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels (filters).
    pub out_channels: usize,
    /// Kernel width.
    pub kernel: usize,
    /// Step between output positions.
    pub stride: usize,
    /// Spacing between kernel taps.
    pub dilation: usize,
    /// Zero positions added before the input.
    pub pad_left: usize,
    /// Zero positions added after the input.
    pub pad_right: usize,
    /// Channel groups (depthwise: as many as input channels): output channels
    /// `g * out/groups..` read only input channels `g * in/groups..`. Both counts divide.
    #[serde(default = "one")]
    pub groups: usize,
    /// `[out_channels, in_channels / groups, kernel]`.
    pub weight: Param,
    /// `[out_channels]`.
    pub bias: Option<Param>,
}

/// How much to pad a convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Padding {
    /// No padding ("valid").
    Valid,
    /// Output length equals input length at stride 1; odd totals put the extra on the right
    /// (as PyTorch's `padding="same"` and ONNX `SAME_UPPER`).
    Same,
    /// Explicit left and right padding.
    Explicit(usize, usize),
}

impl Conv1d {
    /// A layer initialised as PyTorch's `Conv1d` is: weights and bias uniform in
    /// +-1/sqrt(in_channels * kernel).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        stride: usize,
        dilation: usize,
        padding: Padding,
        bias: bool,
        rng: &mut Rng,
    ) -> Conv1d {
        let total = dilation * (kernel - 1);
        let (pad_left, pad_right) = match padding {
            Padding::Valid => (0, 0),
            Padding::Same => (total / 2, total - total / 2),
            Padding::Explicit(l, r) => (l, r),
        };
        let weight = Param::init(&[out_channels, in_channels, kernel], Init::Torch, rng);
        let bias = bias.then(|| Param::bias(out_channels, in_channels * kernel, rng));
        Conv1d {
            in_channels,
            out_channels,
            kernel,
            stride,
            dilation,
            pad_left,
            pad_right,
            groups: 1,
            weight,
            bias,
        }
    }

    /// Input and output channels per group.
    fn per_group(&self) -> (usize, usize) {
        let g = self.groups.max(1);
        (self.in_channels / g, self.out_channels / g)
    }

    pub(crate) fn window(&self) -> Window1d {
        Window1d {
            kernel: self.kernel,
            stride: self.stride,
            dilation: self.dilation,
            pad_left: self.pad_left,
            pad_right: self.pad_right,
        }
    }

    fn check(&self, x: &Tensor, w: Window1d) -> Result<(usize, usize, usize), Error> {
        let (n, c, l) = x.ncl("Conv1d")?;
        let g = self.groups;
        if g == 0 || !self.in_channels.is_multiple_of(g) || !self.out_channels.is_multiple_of(g) {
            return Err(Error::Shape(format!(
                "Conv1d with {} groups needs input ({}) and output ({}) channels that divide",
                g, self.in_channels, self.out_channels
            )));
        }
        if c != self.in_channels {
            return Err(Error::Shape(format!(
                "Conv1d expects {} input channels, got {c}",
                self.in_channels
            )));
        }
        let lout = w.out_len(l).ok_or_else(|| {
            Error::Shape(format!(
                "Conv1d kernel {} (dilation {}) does not fit length {l}",
                self.kernel, self.dilation
            ))
        })?;
        Ok((n, l, lout))
    }

    /// `[batch, in_channels, length]` -> `[batch, out_channels, output length]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor, Error> {
        self.forward_window(x, self.window())
    }

    /// The convolution without its padding: `x` already holds the context (or zeros) that
    /// padding would add. Fast ISM runs layers on slices this way.
    pub fn forward_unpadded(&self, x: &Tensor) -> Result<Tensor, Error> {
        let w = Window1d {
            pad_left: 0,
            pad_right: 0,
            ..self.window()
        };
        self.forward_window(x, w)
    }

    /// The convolution over `x` with the window geometry `w` (its padding in place of the
    /// layer's own).
    pub(crate) fn forward_window(&self, x: &Tensor, w: Window1d) -> Result<Tensor, Error> {
        let (n, l, lout) = self.check(x, w)?;
        let (ci, co, k) = (self.in_channels, self.out_channels, self.kernel);
        let (gi, go) = self.per_group();
        // Output positions are cut into tiles whose im2col block stays small (and in cache),
        // and every (sequence, tile) pair is one parallel task, so one long sequence keeps
        // every thread busy and no buffer grows with the sequence length. Where that gives
        // fewer than two tasks per thread (a short batch, or a layer after pooling), each
        // tile's output channels are split into blocks as well, at the cost of repeating its
        // im2col (a fraction 1/rows of the block's GEMM).
        let tile = (TILE_VALUES / (gi * k)).clamp(64, 2048).min(lout);
        let per_item = lout.div_ceil(tile);
        let wanted = 2 * threads();
        let blocks = if n * per_item < wanted {
            wanted
                .div_ceil(n * per_item)
                .min(co / MIN_BLOCK_ROWS)
                .max(1)
        } else {
            1
        };
        let rows = co.div_ceil(blocks).max(1);
        let blocks = co.div_ceil(rows);
        // Task i's sequence, first output position and output channels o0..o1.
        let at = |i: usize| {
            let (item_tile, block) = (i / blocks, i % blocks);
            let (o0, o1) = (block * rows, ((block + 1) * rows).min(co));
            (item_tile / per_item, (item_tile % per_item) * tile, o0, o1)
        };
        let mut y = Tensor::zeros(&[n, co, lout]);
        let out = Blocks::new(&mut y.data);
        par_map(
            n * per_item * blocks,
            || vec![0.0f32; gi * k * tile],
            |cols, task| {
                let (b, t0, o0, o1) = at(task);
                let t1 = (t0 + tile).min(lout);
                let width = t1 - t0;
                let cols = &mut cols[..gi * k * width];
                // Output rows o0..o1, positions t0..t1 of sequence b, group by group.
                for g in 0..self.groups.max(1) {
                    let (lo, hi) = (o0.max(g * go), o1.min((g + 1) * go));
                    if lo >= hi {
                        continue;
                    }
                    let xg = &x.data[(b * ci + g * gi) * l..(b * ci + (g + 1) * gi) * l];
                    im2col_range(xg, gi, l, w, lout, t0..t1, cols);
                    // SAFETY: tasks cover disjoint (sequence, rows, positions) blocks.
                    unsafe {
                        out.matmul(
                            (b * co + lo) * lout + t0,
                            lout,
                            Mat::new(
                                &self.weight.value[lo * gi * k..hi * gi * k],
                                hi - lo,
                                gi * k,
                            ),
                            Mat::new(cols, gi * k, width),
                            false,
                        )
                    };
                }
                if let Some(bias) = &self.bias {
                    for o in o0..o1 {
                        // SAFETY: row o of this task's block.
                        let row = unsafe { out.row((b * co + o) * lout + t0, width) };
                        let bv = bias.value[o];
                        row.iter_mut().for_each(|v| *v += bv);
                    }
                }
            },
        );
        Ok(y)
    }

    /// Returns the input gradient, accumulating weight and bias gradients when `params`.
    pub fn backward(&mut self, x: &Tensor, dy: &Tensor, params: bool) -> Result<Tensor, Error> {
        let dx = self.input_gradient(x, dy)?;
        if params {
            self.accumulate_param_gradients(x, dy)?;
        }
        Ok(dx)
    }

    /// The gradient with respect to the input.
    fn input_gradient(&self, x: &Tensor, dy: &Tensor) -> Result<Tensor, Error> {
        let (_, l, lout) = self.check(x, self.window())?;
        let (ci, co, k, w) = (
            self.in_channels,
            self.out_channels,
            self.kernel,
            self.window(),
        );
        let wv = &self.weight.value;
        let (gi, go) = self.per_group();
        let groups = self.groups.max(1);
        // Group g's weights, input rows and output rows.
        let wg = |g: usize| &wv[g * go * gi * k..(g + 1) * go * gi * k];
        let mut dx = x.zeros_like();
        for_batch(&mut dx.data, ci * l, |first, out| {
            let mut dcols = vec![0.0; gi * k * lout];
            for (j, dxb) in out.chunks_mut(ci * l).enumerate() {
                let dyb = &dy.data[(first + j) * co * lout..(first + j + 1) * co * lout];
                for g in 0..groups {
                    let wt = Mat::new(wg(g), go, gi * k).t();
                    let dyg = &dyb[g * go * lout..(g + 1) * go * lout];
                    matmul(&mut dcols, wt, Mat::new(dyg, go, lout), false);
                    col2im(
                        &dcols,
                        gi,
                        l,
                        w,
                        lout,
                        &mut dxb[g * gi * l..(g + 1) * gi * l],
                    );
                }
            }
        });
        Ok(dx)
    }

    /// Adds the weight and bias gradients to the parameters' gradients. Training calls this
    /// alone for a first layer, whose input (the encoded sequence) needs no gradient.
    pub fn accumulate_param_gradients(&mut self, x: &Tensor, dy: &Tensor) -> Result<(), Error> {
        let (n, l, lout) = self.check(x, self.window())?;
        let (ci, co, k, w) = (
            self.in_channels,
            self.out_channels,
            self.kernel,
            self.window(),
        );
        let (gi, go) = self.per_group();
        let groups = self.groups.max(1);
        // Weight gradients: each chunk of the batch sums into its own buffer; the buffers are
        // added in chunk order so the result does not depend on scheduling.
        let partials = map_batch(n, |range| {
            let mut dw = vec![0.0; co * gi * k];
            let mut db = vec![0.0; co];
            let mut cols = vec![0.0; gi * k * lout];
            for b in range {
                let dyb = &dy.data[b * co * lout..(b + 1) * co * lout];
                for g in 0..groups {
                    let xg = &x.data[(b * ci + g * gi) * l..(b * ci + (g + 1) * gi) * l];
                    im2col(xg, gi, l, w, lout, &mut cols);
                    matmul(
                        &mut dw[g * go * gi * k..(g + 1) * go * gi * k],
                        Mat::new(&dyb[g * go * lout..(g + 1) * go * lout], go, lout),
                        Mat::new(&cols, gi * k, lout).t(),
                        true,
                    );
                }
                for (d, row) in db.iter_mut().zip(dyb.chunks(lout)) {
                    *d += row.iter().sum::<f32>();
                }
            }
            (dw, db)
        });
        let gw = self.weight.grad_mut();
        for (dw, _) in &partials {
            gw.iter_mut().zip(dw).for_each(|(g, d)| *g += d);
        }
        if let Some(bias) = &mut self.bias {
            let gb = bias.grad_mut();
            for (_, db) in &partials {
                gb.iter_mut().zip(db).for_each(|(g, d)| *g += d);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The convolution by its definition, one output at a time.
    fn by_definition(c: &Conv1d, x: &Tensor) -> Vec<f32> {
        let (n, l) = (x.shape[0], x.shape[2]);
        let (gi, go) = c.per_group();
        let w = c.window();
        let lout = w.out_len(l).unwrap();
        let mut y = vec![0.0; n * c.out_channels * lout];
        for b in 0..n {
            for o in 0..c.out_channels {
                let g = o / go;
                for t in 0..lout {
                    let mut s = c.bias.as_ref().map_or(0.0, |b| b.value[o]);
                    for i in 0..gi {
                        for k in 0..c.kernel {
                            if let Some(p) = w.src(t, k, l) {
                                s += c.weight.value[(o * gi + i) * c.kernel + k]
                                    * x.data[(b * c.in_channels + g * gi + i) * l + p];
                            }
                        }
                    }
                    y[(b * c.out_channels + o) * lout + t] = s;
                }
            }
        }
        y
    }

    /// Short batches split each tile's output channels across tasks (here 4 threads, so 8
    /// tasks wanted): blocks of 34 of 100 channels, which straddle the groups' boundary at 50
    /// in the grouped case. Every split must give the convolution's own numbers.
    #[test]
    fn forward_splits_channels_on_short_batches_and_matches_the_definition() {
        let mut rng = crate::nn::rng(7);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        for (groups, batch) in [(1, 1), (2, 1), (1, 3), (2, 2)] {
            let mut c = Conv1d::new(12, 100, 5, 1, 2, Padding::Same, true, &mut rng);
            if groups > 1 {
                c.groups = groups;
                c.weight = Param::init(&[100, 12 / groups, 5], Init::KaimingNormal, &mut rng);
            }
            let x = Tensor::new(
                &[batch, 12, 40],
                (0..batch * 12 * 40)
                    .map(|i| ((i * 37) % 11) as f32 - 5.0)
                    .collect(),
            )
            .unwrap();
            let y = pool.install(|| c.forward(&x)).unwrap();
            let want = by_definition(&c, &x);
            assert_eq!(y.shape, [batch, 100, 40]);
            for (i, (a, b)) in y.data.iter().zip(&want).enumerate() {
                assert!(
                    (a - b).abs() < 1e-4 * b.abs().max(1.0),
                    "{groups} {batch} {i}: {a} vs {b}"
                );
            }
        }
    }
}
