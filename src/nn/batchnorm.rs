use serde::{Deserialize, Serialize};

use super::{Error, Param, Tensor};

/// Batch normalisation over channels of `[batch, channels, length]` or `[batch, channels]`
/// (PyTorch `BatchNorm1d`, ONNX `BatchNormalization`). Training uses batch statistics and
/// updates the running ones (`momentum` 0.1, unbiased variance, as PyTorch); evaluation uses the
/// running ones.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchNorm1d {
    /// Channels normalised.
    pub channels: usize,
    /// Added to the variance before the square root.
    pub eps: f32,
    /// Weight of the batch statistics in the running ones (PyTorch convention).
    pub momentum: f32,
    /// Scale per channel.
    pub gamma: Param,
    /// Shift per channel.
    pub beta: Param,
    /// Running mean per channel, used at inference.
    pub running_mean: Vec<f32>,
    /// Running variance per channel, used at inference.
    pub running_var: Vec<f32>,
}

/// What the backward pass needs from a training forward pass.
#[derive(Clone, Debug, Default)]
pub struct BnCache {
    xhat: Vec<f32>,
    inv_std: Vec<f32>,
    /// Batch mean and unbiased variance per channel, for the running statistics.
    mean: Vec<f32>,
    var: Vec<f32>,
}

impl BatchNorm1d {
    /// A layer over `channels` channels: scale 1, shift 0, running mean 0 and variance 1.
    pub fn new(channels: usize) -> BatchNorm1d {
        BatchNorm1d {
            channels,
            eps: 1e-5,
            momentum: 0.1,
            gamma: Param::new(&[channels], vec![1.0; channels]),
            beta: Param::new(&[channels], vec![0.0; channels]),
            running_mean: vec![0.0; channels],
            running_var: vec![1.0; channels],
        }
    }

    fn dims(&self, x: &Tensor) -> Result<(usize, usize), Error> {
        match x.shape[..] {
            [n, c, l] if c == self.channels => Ok((n, l)),
            [n, c] if c == self.channels => Ok((n, 1)),
            _ => Err(Error::Shape(format!(
                "BatchNorm1d expects {} channels, got shape {:?}",
                self.channels, x.shape
            ))),
        }
    }

    /// Per-channel scale and shift that evaluation mode applies: `y = x * s + t`.
    pub fn folded(&self) -> (Vec<f32>, Vec<f32>) {
        let s: Vec<f32> = (0..self.channels)
            .map(|c| self.gamma.value[c] / (self.running_var[c] + self.eps).sqrt())
            .collect();
        let t = (0..self.channels)
            .map(|c| self.beta.value[c] - self.running_mean[c] * s[c])
            .collect();
        (s, t)
    }

    /// Folds a training batch's statistics into the running ones.
    pub fn update_running(&mut self, cache: &BnCache) {
        let m = self.momentum;
        for ch in 0..cache.mean.len().min(self.channels) {
            self.running_mean[ch] = (1.0 - m) * self.running_mean[ch] + m * cache.mean[ch];
            self.running_var[ch] = (1.0 - m) * self.running_var[ch] + m * cache.var[ch];
        }
    }

    /// Normalises `x` `[batch, channels, length]`: by the batch statistics when `train`, else by the running ones; the cache feeds the backward pass.
    pub fn forward(&self, x: &Tensor, train: bool) -> Result<(Tensor, BnCache), Error> {
        let (n, l) = self.dims(x)?;
        let c = self.channels;
        let mut y = x.clone();
        if !train {
            let (s, t) = self.folded();
            // row by row (one channel of one item each), so the inner loop vectorises
            for (row, ys) in y.data.chunks_mut(l.max(1)).enumerate() {
                let (sc, sh) = (s[row % c], t[row % c]);
                ys.iter_mut().for_each(|v| *v = *v * sc + sh);
            }
            return Ok((y, BnCache::default()));
        }
        let count = (n * l) as f32;
        let mut cache = BnCache {
            xhat: vec![0.0; x.len()],
            inv_std: vec![0.0; c],
            mean: vec![0.0; c],
            var: vec![0.0; c],
        };
        for ch in 0..c {
            let vals = || (0..n).flat_map(move |b| (0..l).map(move |t| (b * c + ch) * l + t));
            let mean = vals().map(|i| x.data[i] as f64).sum::<f64>() / count as f64;
            let var = vals()
                .map(|i| (x.data[i] as f64 - mean).powi(2))
                .sum::<f64>()
                / count as f64;
            let inv = 1.0 / (var as f32 + self.eps).sqrt();
            cache.inv_std[ch] = inv;
            for i in vals() {
                let xh = (x.data[i] - mean as f32) * inv;
                cache.xhat[i] = xh;
                y.data[i] = xh * self.gamma.value[ch] + self.beta.value[ch];
            }
            let unbiased = if count > 1.0 {
                var as f32 * count / (count - 1.0)
            } else {
                var as f32
            };
            cache.mean[ch] = mean as f32;
            cache.var[ch] = unbiased;
        }
        Ok((y, cache))
    }

    /// Backward through a forward pass (batch statistics in training mode, else the running
    /// ones), accumulating the gradients of gamma and beta when `params`.
    pub fn backward(
        &mut self,
        x: &Tensor,
        cache: &BnCache,
        dy: &Tensor,
        params: bool,
    ) -> Result<Tensor, Error> {
        let (n, l) = self.dims(x)?;
        let c = self.channels;
        if cache.xhat.is_empty() {
            // Evaluation mode: a fixed affine map per channel.
            let (s, _) = self.folded();
            let mut dx = dy.clone();
            for (i, v) in dx.data.iter_mut().enumerate() {
                *v *= s[(i / l) % c];
            }
            return Ok(dx);
        }
        let count = (n * l) as f32;
        let mut dx = x.zeros_like();
        let (mut dgamma, mut dbeta) = (vec![0.0f32; c], vec![0.0f32; c]);
        for ch in 0..c {
            let idx: Vec<usize> = (0..n)
                .flat_map(|b| (0..l).map(move |t| (b * c + ch) * l + t))
                .collect();
            let sum_dy: f32 = idx.iter().map(|&i| dy.data[i]).sum();
            let sum_dy_xh: f32 = idx.iter().map(|&i| dy.data[i] * cache.xhat[i]).sum();
            dgamma[ch] = sum_dy_xh;
            dbeta[ch] = sum_dy;
            let k = self.gamma.value[ch] * cache.inv_std[ch] / count;
            for &i in &idx {
                dx.data[i] = k * (count * dy.data[i] - sum_dy - cache.xhat[i] * sum_dy_xh);
            }
        }
        if !params {
            return Ok(dx);
        }
        self.gamma
            .grad_mut()
            .iter_mut()
            .zip(&dgamma)
            .for_each(|(g, d)| *g += d);
        self.beta
            .grad_mut()
            .iter_mut()
            .zip(&dbeta)
            .for_each(|(g, d)| *g += d);
        Ok(dx)
    }
}
