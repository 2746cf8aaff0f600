//! Max and average pooling along the length axis of `[batch, channels, length]`.

use serde::{Deserialize, Serialize};

use rayon::prelude::*;

use super::{Error, Tensor};

/// A pooling window as ONNX and PyTorch define it: `kernel` taps `dilation` apart, every
/// `stride` positions, over the input padded by `pad_left` and `pad_right` positions. Padding
/// never wins a max; an average counts it only with `count_pad` (PyTorch's
/// `count_include_pad`). In `ceil` mode a last, partial window is kept when it starts inside
/// the input or the left padding; the positions it reaches past the right padding never
/// count.
///
/// Fields other than `kernel` and `stride` default to the plain window, so graphs saved
/// before padding existed still read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool1d {
    /// Window width.
    pub kernel: usize,
    /// Step between windows.
    pub stride: usize,
    /// Spacing between the taps of a window.
    #[serde(default = "one")]
    pub dilation: usize,
    /// Padding before the input (never chosen by max pooling).
    #[serde(default)]
    pub pad_left: usize,
    /// Padding after the input.
    #[serde(default)]
    pub pad_right: usize,
    /// Whether a last partial window is kept (ONNX `ceil_mode`).
    #[serde(default)]
    pub ceil: bool,
    /// Whether average pooling counts padded positions.
    #[serde(default)]
    pub count_pad: bool,
}

fn one() -> usize {
    1
}

/// How a reduction combines values: ONNX's ReduceMax, ReduceMean and ReduceSum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reduce {
    /// The largest value.
    Max,
    /// The mean.
    Mean,
    /// The sum.
    Sum,
}

impl Reduce {
    /// The ONNX op for this reduction over channels.
    pub fn onnx_op(self) -> &'static str {
        match self {
            Reduce::Max => "ReduceMax",
            Reduce::Mean => "ReduceMean",
            Reduce::Sum => "ReduceSum",
        }
    }
}

/// Reduces the channels of `[n, c, l]` at each position to `[n, 1, l]`; with `Max`, also
/// each output's winning channel (the first maximum, NaN wins).
pub fn reduce_channels(x: &Tensor, op: Reduce) -> Result<(Tensor, Vec<u32>), Error> {
    let (n, c, l) = x.ncl("ReduceChannels")?;
    let mut y = Tensor::zeros(&[n, 1, l]);
    let mut arg = vec![0u32; if op == Reduce::Max { n * l } else { 0 }];
    for b in 0..n {
        for t in 0..l {
            let at = |j: usize| x.data[(b * c + j) * l + t];
            y.data[b * l + t] = match op {
                Reduce::Max => {
                    let (mut best, mut win) = (at(0), 0);
                    for j in 1..c {
                        if at(j) > best || at(j).is_nan() {
                            (best, win) = (at(j), j);
                        }
                    }
                    arg[b * l + t] = win as u32;
                    best
                }
                Reduce::Mean => (0..c).map(at).sum::<f32>() / c as f32,
                Reduce::Sum => (0..c).map(at).sum(),
            };
        }
    }
    Ok((y, arg))
}

pub fn reduce_channels_backward(x: &Tensor, op: Reduce, arg: &[u32], dy: &Tensor) -> Tensor {
    let (n, c, l) = (x.shape[0], x.shape[1], x.shape[2]);
    let mut dx = x.zeros_like();
    for b in 0..n {
        for t in 0..l {
            let g = dy.data[b * l + t];
            match op {
                Reduce::Max => dx.data[(b * c + arg[b * l + t] as usize) * l + t] = g,
                Reduce::Mean | Reduce::Sum => {
                    let g = if op == Reduce::Mean { g / c as f32 } else { g };
                    (0..c).for_each(|j| dx.data[(b * c + j) * l + t] = g);
                }
            }
        }
    }
    dx
}

impl Pool1d {
    /// `kernel` taps every `stride` positions, without padding (floor mode).
    pub fn new(kernel: usize, stride: usize) -> Pool1d {
        Pool1d {
            kernel,
            stride,
            dilation: 1,
            pad_left: 0,
            pad_right: 0,
            ceil: false,
            count_pad: false,
        }
    }

    /// A window with no padding, dilation or ceil mode: each output reads `kernel`
    /// consecutive inputs, which the demand-driven evaluators rely on.
    pub fn is_plain(&self) -> bool {
        self.dilation == 1 && self.pad_left == 0 && self.pad_right == 0 && !self.ceil
    }

    /// The output length for input length `l`.
    pub fn out_len(&self, op: &str, l: usize) -> Result<usize, Error> {
        let span = self
            .kernel
            .checked_sub(1)
            .and_then(|k| k.checked_mul(self.dilation))
            .and_then(|s| s.checked_add(1));
        let padded = l
            .checked_add(self.pad_left)
            .and_then(|p| p.checked_add(self.pad_right));
        let (Some(span), Some(padded)) = (span, padded) else {
            return Err(Error::Shape(format!(
                "{op} kernel {} (dilation {}, pads {}+{}) is too large",
                self.kernel, self.dilation, self.pad_left, self.pad_right
            )));
        };
        if self.stride == 0 || padded < span {
            return Err(Error::Shape(format!(
                "{op} kernel {} (dilation {}) does not fit length {l} padded by {}+{}",
                self.kernel, self.dilation, self.pad_left, self.pad_right
            )));
        }
        let room = padded - span;
        let mut out = room / self.stride + 1;
        if self.ceil && !room.is_multiple_of(self.stride) {
            out += 1;
            // The last window must start inside the input or the left padding.
            if (out - 1)
                .checked_mul(self.stride)
                .is_none_or(|start| start >= l + self.pad_left)
            {
                out -= 1;
            }
        }
        Ok(out)
    }

    /// The input positions of output `t`'s taps that lie inside the input, and how many
    /// taps an average divides by.
    fn taps(&self, t: usize, l: usize) -> (impl Iterator<Item = usize>, usize) {
        let start = t as i64 * self.stride as i64 - self.pad_left as i64;
        let (k, d) = (self.kernel as i64, self.dilation as i64);
        let inside = move |p: i64| (0..l as i64).contains(&p);
        let padded = (-(self.pad_left as i64))..(l + self.pad_right) as i64;
        let count = if self.count_pad {
            (0..k).filter(|j| padded.contains(&(start + j * d))).count()
        } else {
            (0..k).filter(|j| inside(start + j * d)).count()
        };
        let taps = (0..k)
            .map(move |j| start + j * d)
            .filter(move |&p| inside(p))
            .map(|p| p as usize);
        (taps, count)
    }
}

/// Max pooling; returns the output and each output's argmax (the first maximum, NaN wins).
pub fn max_pool(x: &Tensor, w: &Pool1d) -> Result<(Tensor, Vec<u32>), Error> {
    let (n, c, l) = x.ncl("MaxPool1d")?;
    let lout = w.out_len("MaxPool1d", l)?;
    let mut y = Tensor::zeros(&[n, c, lout]);
    let mut arg = vec![0u32; n * c * lout];
    if l == 0 || lout == 0 {
        // Every window lies in the padding.
        y.data.fill(f32::NEG_INFINITY);
        arg.fill(u32::MAX);
        return Ok((y, arg));
    }
    // Rows (sequence, channel) in one contiguous block per thread.
    let rows = n * c;
    let per = rows.div_ceil(super::kernels::threads()).max(1);
    let block =
        |((xb, yb), ab): ((&[f32], &mut [f32]), &mut [u32])| max_pool_rows(xb, yb, ab, w, l, lout);
    if super::kernels::parallel(rows.div_ceil(per)) {
        (x.data.par_chunks(per * l))
            .zip(y.data.par_chunks_mut(per * lout))
            .zip(arg.par_chunks_mut(per * lout))
            .for_each(block);
    } else {
        x.data
            .chunks(per * l)
            .zip(y.data.chunks_mut(per * lout))
            .zip(arg.chunks_mut(per * lout))
            .for_each(block);
    }
    Ok((y, arg))
}

/// Max pooling of whole rows: `x` holds rows of `l` values, `y` and `arg` the same rows'
/// `lout` outputs and their positions.
fn max_pool_rows(x: &[f32], y: &mut [f32], arg: &mut [u32], w: &Pool1d, l: usize, lout: usize) {
    let (k, d) = (w.kernel, w.dilation);
    for ((xr, yr), ar) in (x.chunks_exact(l))
        .zip(y.chunks_exact_mut(lout))
        .zip(arg.chunks_exact_mut(lout))
    {
        for (t, (yv, av)) in yr.iter_mut().zip(ar.iter_mut()).enumerate() {
            // A window wholly inside the input (all but the edges of a padded pool) is read
            // by plain indexing: the general tap iterator cost more than the comparisons.
            let start = (t * w.stride).checked_sub(w.pad_left);
            // (A dilation of 0, which only a hand-written config can give, takes the general
            // path: every tap reads the window's start.)
            let (best, at) = match start.filter(|&s| k > 0 && d > 0 && s + (k - 1) * d < l) {
                Some(s) => {
                    let (mut best, mut at) = (xr[s], s);
                    for p in (s + d..s + k * d).step_by(d) {
                        let v = xr[p];
                        if v > best || v.is_nan() {
                            (best, at) = (v, p);
                        }
                    }
                    (best, Some(at))
                }
                None => {
                    let (mut best, mut at) = (f32::NEG_INFINITY, None);
                    for p in w.taps(t, l).0 {
                        let v = xr[p];
                        if at.is_none() || v > best || v.is_nan() {
                            (best, at) = (v, Some(p));
                        }
                    }
                    (best, at)
                }
            };
            // A window wholly in the padding has no input: ONNX and PyTorch give -inf.
            *yv = best;
            *av = at.map_or(u32::MAX, |p| p as u32);
        }
    }
}

/// Routes each output gradient to the input that won its window.
pub fn max_pool_backward(x: &Tensor, arg: &[u32], dy: &Tensor) -> Tensor {
    let l = x.shape[2];
    let lout = dy.shape[2];
    let mut dx = x.zeros_like();
    for (i, (&a, &g)) in arg.iter().zip(&dy.data).enumerate() {
        if a != u32::MAX {
            dx.data[(i / lout) * l + a as usize] += g;
        }
    }
    dx
}

/// Average pooling.
pub fn avg_pool(x: &Tensor, w: &Pool1d) -> Result<Tensor, Error> {
    let (n, c, l) = x.ncl("AvgPool1d")?;
    let lout = w.out_len("AvgPool1d", l)?;
    let mut y = Tensor::zeros(&[n, c, lout]);
    for row in 0..n * c {
        let xr = &x.data[row * l..(row + 1) * l];
        for t in 0..lout {
            let (taps, count) = w.taps(t, l);
            let sum: f32 = taps.map(|p| xr[p]).sum();
            y.data[row * lout + t] = if count == 0 { 0.0 } else { sum / count as f32 };
        }
    }
    Ok(y)
}

pub fn avg_pool_backward(x: &Tensor, w: &Pool1d, dy: &Tensor) -> Tensor {
    let l = x.shape[2];
    let lout = dy.shape[2];
    let mut dx = x.zeros_like();
    for (i, &g) in dy.data.iter().enumerate() {
        let (row, t) = (i / lout, i % lout);
        let (taps, count) = w.taps(t, l);
        if count > 0 {
            for p in taps {
                dx.data[row * l + p] += g / count as f32;
            }
        }
    }
    dx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Layer;

    /// A dilation of 0 (possible in a hand-written JSON config, never from ONNX) pools as the
    /// tap definition says, each window reading its start, instead of panicking.
    #[test]
    fn max_pool_with_dilation_zero_reads_each_windows_start() {
        let mut w = Pool1d::new(3, 2);
        w.dilation = 0;
        let x = Tensor::new(&[1, 1, 5], vec![1., 5., 2., 7., 3.]).unwrap();
        let (y, arg) = max_pool(&x, &w).unwrap();
        assert_eq!(y.data, [1., 2., 3.]);
        assert_eq!(arg, [0, 2, 4]);
    }

    /// Checkpoints written before pools had padding still read, as the plain window.
    #[test]
    fn a_saved_plain_pool_reads_as_before() {
        let old = r#"{"type":"max_pool1d","kernel":2,"stride":2}"#;
        let layer: Layer = serde_json::from_str(old).unwrap();
        assert_eq!(layer, Layer::MaxPool1d(Pool1d::new(2, 2)));
        let back: Layer = serde_json::from_str(&serde_json::to_string(&layer).unwrap()).unwrap();
        assert_eq!(back, layer);
    }

    /// PyTorch's output lengths (torch.nn.MaxPool1d's documented formula, with its rule that
    /// a ceil-mode window must start inside the input or the left padding).
    #[test]
    fn output_lengths_follow_pytorch() {
        let w = |k, s, d, p, ceil| Pool1d {
            dilation: d,
            pad_left: p,
            pad_right: p,
            ceil,
            ..Pool1d::new(k, s)
        };
        // floor((L + 2p - d(k-1) - 1) / s + 1), ceil alike
        assert_eq!(w(3, 2, 1, 1, true).out_len("", 101).unwrap(), 51);
        assert_eq!(w(3, 2, 1, 1, false).out_len("", 100).unwrap(), 50);
        assert_eq!(w(3, 2, 1, 1, true).out_len("", 100).unwrap(), 51);
        assert_eq!(w(3, 1, 2, 0, false).out_len("", 10).unwrap(), 6);
        // L=5, k=2, s=2, p=1, ceil: ceil(5/2)+1 = 4 windows, but the 4th would start at 6 >=
        // L + p = 6: dropped.
        assert_eq!(w(2, 2, 1, 1, true).out_len("", 5).unwrap(), 3);
        assert!(w(5, 1, 1, 0, false).out_len("", 4).is_err());
    }
}
