use super::Error;

/// A dense, row-major f32 tensor. Sequence activations are `[batch, channels, length]`,
/// dense ones `[batch, features]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tensor {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<f32>,
}

impl Tensor {
    /// A tensor of zeros.
    pub fn zeros(shape: &[usize]) -> Tensor {
        Tensor {
            shape: shape.to_vec(),
            data: vec![0.0; shape.iter().product()],
        }
    }

    /// Wraps `data`, checking it holds `shape`'s number of values.
    pub fn new(shape: &[usize], data: Vec<f32>) -> Result<Tensor, Error> {
        let want: usize = shape.iter().product();
        if data.len() != want {
            return Err(Error::Shape(format!(
                "{} values cannot form shape {shape:?} ({want} values)",
                data.len()
            )));
        }
        Ok(Tensor {
            shape: shape.to_vec(),
            data,
        })
    }

    /// Values it holds.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The batch size (first dimension).
    pub fn batch(&self) -> usize {
        self.shape.first().copied().unwrap_or(0)
    }

    /// Values per batch item.
    pub fn per_item(&self) -> usize {
        self.shape.iter().skip(1).product()
    }

    /// `(batch, channels, length)` of a rank-3 tensor, or an error naming `op`.
    pub fn ncl(&self, op: &str) -> Result<(usize, usize, usize), Error> {
        match self.shape[..] {
            [n, c, l] => Ok((n, c, l)),
            _ => Err(Error::Shape(format!(
                "{op} needs [batch, channels, length], got {:?}",
                self.shape
            ))),
        }
    }

    /// Same-shaped tensor of zeros.
    pub fn zeros_like(&self) -> Tensor {
        Tensor::zeros(&self.shape)
    }
}
