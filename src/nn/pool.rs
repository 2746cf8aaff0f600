//! Max and average pooling along the length axis of `[batch, channels, length]`.

use super::kernels::Window1d;
use super::{Error, Tensor};

fn window(kernel: usize, stride: usize) -> Window1d {
    Window1d {
        kernel,
        stride,
        dilation: 1,
        pad_left: 0,
        pad_right: 0,
    }
}

pub(crate) fn out_len(op: &str, kernel: usize, stride: usize, l: usize) -> Result<usize, Error> {
    window(kernel, stride)
        .out_len(l)
        .ok_or_else(|| Error::Shape(format!("{op} kernel {kernel} does not fit length {l}")))
}

/// Max pooling (floor mode, no padding); returns the output and each output's argmax.
pub fn max_pool(x: &Tensor, kernel: usize, stride: usize) -> Result<(Tensor, Vec<u32>), Error> {
    let (n, c, l) = x.ncl("MaxPool1d")?;
    let lout = out_len("MaxPool1d", kernel, stride, l)?;
    let mut y = Tensor::zeros(&[n, c, lout]);
    let mut arg = vec![0u32; n * c * lout];
    for row in 0..n * c {
        let xr = &x.data[row * l..(row + 1) * l];
        for t in 0..lout {
            let s = t * stride;
            let (mut best, mut at) = (f32::NEG_INFINITY, s);
            for (p, &v) in xr[s..s + kernel].iter().enumerate() {
                if v > best || v.is_nan() {
                    best = v;
                    at = s + p;
                }
            }
            y.data[row * lout + t] = best;
            arg[row * lout + t] = at as u32;
        }
    }
    Ok((y, arg))
}

/// Routes each output gradient to the input that won its window.
pub fn max_pool_backward(x: &Tensor, arg: &[u32], dy: &Tensor) -> Tensor {
    let l = x.shape[2];
    let lout = dy.shape[2];
    let mut dx = x.zeros_like();
    for (i, (&a, &g)) in arg.iter().zip(&dy.data).enumerate() {
        dx.data[(i / lout) * l + a as usize] += g;
    }
    dx
}

/// Average pooling (floor mode, no padding).
pub fn avg_pool(x: &Tensor, kernel: usize, stride: usize) -> Result<Tensor, Error> {
    let (n, c, l) = x.ncl("AvgPool1d")?;
    let lout = out_len("AvgPool1d", kernel, stride, l)?;
    let mut y = Tensor::zeros(&[n, c, lout]);
    for row in 0..n * c {
        let xr = &x.data[row * l..(row + 1) * l];
        for t in 0..lout {
            let s = t * stride;
            y.data[row * lout + t] = xr[s..s + kernel].iter().sum::<f32>() / kernel as f32;
        }
    }
    Ok(y)
}

pub fn avg_pool_backward(x: &Tensor, kernel: usize, stride: usize, dy: &Tensor) -> Tensor {
    let l = x.shape[2];
    let lout = dy.shape[2];
    let mut dx = x.zeros_like();
    for (i, &g) in dy.data.iter().enumerate() {
        let (row, t) = (i / lout, i % lout);
        for p in t * stride..t * stride + kernel {
            dx.data[row * l + p] += g / kernel as f32;
        }
    }
    dx
}
