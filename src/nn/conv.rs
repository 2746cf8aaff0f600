use serde::{Deserialize, Serialize};

use super::kernels::{
    Mat, Window1d, col2im, for_batch, im2col, im2col_range, map_batch, matmul, par_map,
};

/// The im2col block of one forward tile holds about this many values (1 MiB).
const TILE_VALUES: usize = 1 << 18;
use super::{Error, Init, Param, Rng, Tensor};

/// 1-D convolution over `[batch, in_channels, length]` (PyTorch `Conv1d`, ONNX `Conv`):
/// im2col per sequence, then one GEMM with the `[out, in * kernel]` weight matrix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conv1d {
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: usize,
    pub stride: usize,
    pub dilation: usize,
    pub pad_left: usize,
    pub pad_right: usize,
    /// `[out_channels, in_channels, kernel]`.
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
        let weight = Param::init(
            &[out_channels, in_channels, kernel],
            Init::KaimingNormal,
            rng,
        );
        let bias = bias.then(|| Param::bias(out_channels, in_channels * kernel, rng));
        Conv1d {
            in_channels,
            out_channels,
            kernel,
            stride,
            dilation,
            pad_left,
            pad_right,
            weight,
            bias,
        }
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
        let wmat = Mat::new(&self.weight.value, co, ci * k);
        // Output positions are cut into tiles whose im2col block stays small (and in cache),
        // and every (sequence, tile) pair is one parallel task, so one long sequence keeps
        // every thread busy and no buffer grows with the sequence length.
        let tile = (TILE_VALUES / (ci * k)).clamp(64, 2048).min(lout);
        let per_item = lout.div_ceil(tile);
        let tiles = par_map(
            n * per_item,
            || vec![0.0f32; ci * k * tile],
            |cols, task| {
                let (b, t0) = (task / per_item, (task % per_item) * tile);
                let t1 = (t0 + tile).min(lout);
                let xb = &x.data[b * ci * l..(b + 1) * ci * l];
                let width = t1 - t0;
                let cols = &mut cols[..ci * k * width];
                im2col_range(xb, ci, l, w, lout, t0..t1, cols);
                let mut out = vec![0.0f32; co * width];
                matmul(&mut out, wmat, Mat::new(cols, ci * k, width), false);
                out
            },
        );
        let mut y = Tensor::zeros(&[n, co, lout]);
        for (task, out) in tiles.iter().enumerate() {
            let (b, t0) = (task / per_item, (task % per_item) * tile);
            let width = out.len() / co;
            for (o, row) in out.chunks(width).enumerate() {
                let dst = &mut y.data[(b * co + o) * lout + t0..(b * co + o) * lout + t0 + width];
                match &self.bias {
                    Some(bias) => {
                        let bv = bias.value[o];
                        dst.iter_mut().zip(row).for_each(|(d, v)| *d = v + bv);
                    }
                    None => dst.copy_from_slice(row),
                }
            }
        }
        Ok(y)
    }

    /// Accumulates weight and bias gradients; returns the input gradient.
    pub fn backward(&mut self, x: &Tensor, dy: &Tensor) -> Result<Tensor, Error> {
        let (n, l, lout) = self.check(x, self.window())?;
        let (ci, co, k, w) = (
            self.in_channels,
            self.out_channels,
            self.kernel,
            self.window(),
        );
        let wv = &self.weight.value;
        let mut dx = x.zeros_like();
        for_batch(&mut dx.data, ci * l, |first, out| {
            let mut dcols = vec![0.0; ci * k * lout];
            let wt = Mat::new(wv, co, ci * k).t();
            for (j, dxb) in out.chunks_mut(ci * l).enumerate() {
                let dyb = &dy.data[(first + j) * co * lout..(first + j + 1) * co * lout];
                matmul(&mut dcols, wt, Mat::new(dyb, co, lout), false);
                col2im(&dcols, ci, l, w, lout, dxb);
            }
        });
        // Weight gradients: each chunk of the batch sums into its own buffer; the buffers are
        // added in chunk order so the result does not depend on scheduling.
        let partials = map_batch(n, |range| {
            let mut dw = vec![0.0; co * ci * k];
            let mut db = vec![0.0; co];
            let mut cols = vec![0.0; ci * k * lout];
            for b in range {
                let xb = &x.data[b * ci * l..(b + 1) * ci * l];
                let dyb = &dy.data[b * co * lout..(b + 1) * co * lout];
                im2col(xb, ci, l, w, lout, &mut cols);
                matmul(
                    &mut dw,
                    Mat::new(dyb, co, lout),
                    Mat::new(&cols, ci * k, lout).t(),
                    true,
                );
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
        Ok(dx)
    }
}
