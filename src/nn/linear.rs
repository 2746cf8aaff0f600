use serde::{Deserialize, Serialize};

use super::kernels::{Mat, matmul, matmul_column_blocks};
use super::{Error, Init, Param, Rng, Tensor};

/// Fully connected layer `y = x W^T + b` on `[batch, in_features]` (PyTorch `Linear`, ONNX
/// `Gemm` with `transB = 1`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Linear {
    /// Input features.
    pub in_features: usize,
    /// Output features.
    pub out_features: usize,
    /// `[out_features, in_features]`.
    pub weight: Param,
    /// `[out_features]`, if the layer has one.
    pub bias: Option<Param>,
}

impl Linear {
    /// A layer initialised as PyTorch's `Linear` is: weights and bias uniform in
    /// +-1/sqrt(in_features).
    pub fn new(in_features: usize, out_features: usize, bias: bool, rng: &mut Rng) -> Linear {
        Linear {
            in_features,
            out_features,
            weight: Param::init(&[out_features, in_features], Init::Torch, rng),
            bias: bias.then(|| Param::bias(out_features, in_features, rng)),
        }
    }

    fn check(&self, x: &Tensor) -> Result<usize, Error> {
        match x.shape[..] {
            [n, f] if f == self.in_features => Ok(n),
            _ => Err(Error::Shape(format!(
                "Linear expects [batch, {}], got {:?} (add a Flatten before it?)",
                self.in_features, x.shape
            ))),
        }
    }

    /// `[batch, in_features]` -> `[batch, out_features]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor, Error> {
        let n = self.check(x)?;
        let (fi, fo) = (self.in_features, self.out_features);
        let mut y = Tensor::zeros(&[n, fo]);
        matmul_column_blocks(
            &mut y.data,
            Mat::new(&x.data, n, fi),
            Mat::new(&self.weight.value, fo, fi).t(),
            false,
        );
        if let Some(b) = &self.bias {
            for row in y.data.chunks_mut(fo) {
                row.iter_mut().zip(&b.value).for_each(|(v, b)| *v += b);
            }
        }
        Ok(y)
    }

    /// Returns the input gradient, accumulating weight and bias gradients when `params`.
    pub fn backward(&mut self, x: &Tensor, dy: &Tensor, params: bool) -> Result<Tensor, Error> {
        let n = self.check(x)?;
        let (fi, fo) = (self.in_features, self.out_features);
        let mut dx = x.zeros_like();
        matmul(
            &mut dx.data,
            Mat::new(&dy.data, n, fo),
            Mat::new(&self.weight.value, fo, fi),
            false,
        );
        if !params {
            return Ok(dx);
        }
        matmul(
            self.weight.grad_mut(),
            Mat::new(&dy.data, n, fo).t(),
            Mat::new(&x.data, n, fi),
            true,
        );
        if let Some(b) = &mut self.bias {
            let g = b.grad_mut();
            for row in dy.data.chunks(fo) {
                g.iter_mut().zip(row).for_each(|(g, d)| *g += d);
            }
        }
        Ok(dx)
    }
}
