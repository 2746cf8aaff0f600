use rand::RngExt;
use rand_distr::{Distribution, Normal, Uniform};
use serde::{Deserialize, Serialize};

use super::Rng;

/// A trainable tensor and its gradient.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Param {
    /// Its shape.
    pub shape: Vec<usize>,
    /// The values, row-major.
    pub value: Vec<f32>,
    /// Empty until a backward pass needs it (see `Param::grad_mut`).
    #[serde(skip)]
    pub grad: Vec<f32>,
    /// Frozen parameters keep their values during training (transfer learning).
    #[serde(default)]
    pub frozen: bool,
}

/// Weight initialisation schemes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// PyTorch's default for `Conv1d` and `Linear` weights (`kaiming_uniform_` with
    /// a = sqrt(5)): uniform in +-1/sqrt(fan_in).
    #[default]
    Torch,
    /// He et al. 2015: normal with std sqrt(2 / fan_in), for ReLU networks.
    KaimingNormal,
    /// Glorot & Bengio 2010: uniform in +-sqrt(6 / (fan_in + fan_out)).
    XavierUniform,
    /// All zero.
    Zeros,
    /// All one.
    Ones,
}

impl std::str::FromStr for Init {
    type Err = String;
    /// The names a config file uses (`torch`, `kaiming_normal`, ...).
    fn from_str(s: &str) -> Result<Init, String> {
        serde::Deserialize::deserialize(
            serde::de::value::StrDeserializer::<serde::de::value::Error>::new(s),
        )
        .map_err(|_| {
            format!(
                "unknown init '{s}'; expected torch, kaiming_normal, xavier_uniform, zeros or ones"
            )
        })
    }
}

impl Param {
    /// A parameter without a gradient buffer: `Param::grad_mut` allocates it on first use,
    /// so a model that only predicts or explains holds its weights once.
    pub fn new(shape: &[usize], value: Vec<f32>) -> Param {
        Param {
            shape: shape.to_vec(),
            value,
            grad: Vec::new(),
            frozen: false,
        }
    }

    /// A parameter of `shape` drawn from `init`; fan-in is the product of all dims but the
    /// first, fan-out the product of all but the second (PyTorch's convention).
    pub fn init(shape: &[usize], init: Init, rng: &mut Rng) -> Param {
        let n: usize = shape.iter().product();
        let fan_in: usize = shape.iter().skip(1).product::<usize>().max(1);
        let fan_out: usize = (shape[0] * shape.iter().skip(2).product::<usize>()).max(1);
        let value = match init {
            Init::Zeros => vec![0.0; n],
            Init::Ones => vec![1.0; n],
            Init::Torch => {
                let a = 1.0 / (fan_in as f32).sqrt();
                let d = Uniform::new_inclusive(-a, a).expect("a > 0");
                (0..n).map(|_| d.sample(rng)).collect()
            }
            Init::KaimingNormal => {
                let d = Normal::new(0.0f32, (2.0 / fan_in as f32).sqrt()).expect("std > 0");
                (0..n).map(|_| d.sample(rng)).collect()
            }
            Init::XavierUniform => {
                let a = (6.0 / (fan_in + fan_out) as f32).sqrt();
                let d = Uniform::new_inclusive(-a, a).expect("a > 0");
                (0..n).map(|_| d.sample(rng)).collect()
            }
        };
        Param::new(shape, value)
    }

    /// A bias in PyTorch's default range, uniform in +-1/sqrt(fan_in).
    pub fn bias(n: usize, fan_in: usize, rng: &mut Rng) -> Param {
        let a = 1.0 / (fan_in.max(1) as f32).sqrt();
        Param::new(&[n], (0..n).map(|_| rng.random_range(-a..=a)).collect())
    }

    /// Values it holds.
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    /// Sets the gradient to zero (allocating it after deserialisation).
    pub fn zero_grad(&mut self) {
        self.grad.clear();
        self.grad.resize(self.value.len(), 0.0);
    }

    /// The gradient buffer, allocated on first use.
    pub(crate) fn grad_mut(&mut self) -> &mut [f32] {
        if self.grad.len() != self.value.len() {
            self.zero_grad();
        }
        &mut self.grad
    }
}
