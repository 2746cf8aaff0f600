use serde::{Deserialize, Serialize};

use crate::nn::Param;

/// Optimisers. State (momentum, Adam moments) is kept per parameter, in the order
/// `Graph::params_mut` returns them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Optimizer {
    /// SGD with momentum and L2 weight decay (PyTorch `SGD`).
    Sgd {
        /// Learning rate.
        lr: f32,
        /// Momentum (default 0).
        #[serde(default)]
        momentum: f32,
        /// L2 penalty (default 0).
        #[serde(default)]
        weight_decay: f32,
    },
    /// Adam; with `decoupled` it is AdamW (weight decay applied to the weights directly).
    Adam {
        /// Learning rate.
        lr: f32,
        /// First-moment decay (default 0.9).
        #[serde(default = "beta1")]
        beta1: f32,
        /// Second-moment decay (default 0.999).
        #[serde(default = "beta2")]
        beta2: f32,
        /// Added to the denominator (default 1e-8).
        #[serde(default = "adam_eps")]
        eps: f32,
        /// Weight decay (default 0).
        #[serde(default)]
        weight_decay: f32,
        /// Decay the weights directly (AdamW) instead of through the gradient.
        #[serde(default)]
        decoupled: bool,
    },
}

fn beta1() -> f32 {
    0.9
}
fn beta2() -> f32 {
    0.999
}
fn adam_eps() -> f32 {
    1e-8
}

impl Optimizer {
    /// Adam with PyTorch's defaults at learning rate `lr`.
    pub fn adam(lr: f32) -> Optimizer {
        Optimizer::Adam {
            lr,
            beta1: beta1(),
            beta2: beta2(),
            eps: adam_eps(),
            weight_decay: 0.0,
            decoupled: false,
        }
    }

    /// The base learning rate.
    pub fn lr(&self) -> f32 {
        match self {
            Optimizer::Sgd { lr, .. } | Optimizer::Adam { lr, .. } => *lr,
        }
    }
}

/// Per-parameter optimiser state, saved in checkpoints.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OptimState {
    /// Steps taken.
    pub step: u64,
    /// First moments (or SGD momentum), one vector per parameter.
    pub m: Vec<Vec<f32>>,
    /// Second moments, one vector per parameter.
    pub v: Vec<Vec<f32>>,
}

/// Scales all gradients so their global L2 norm is at most `max_norm`; returns the norm
/// before clipping (PyTorch `clip_grad_norm_`).
pub fn clip_grad_norm(params: &mut [&mut Param], max_norm: f32) -> f32 {
    let norm = params
        .iter()
        .flat_map(|p| p.grad.iter())
        .map(|g| (*g as f64).powi(2))
        .sum::<f64>()
        .sqrt() as f32;
    if norm > max_norm && norm > 0.0 {
        let s = max_norm / (norm + 1e-6);
        for p in params.iter_mut() {
            p.grad.iter_mut().for_each(|g| *g *= s);
        }
    }
    norm
}

impl OptimState {
    /// One update of every unfrozen parameter at learning rate `lr`.
    pub fn step(&mut self, opt: &Optimizer, params: &mut [&mut Param], lr: f32) {
        self.step += 1;
        if self.m.len() != params.len() {
            self.m = params.iter().map(|p| vec![0.0; p.len()]).collect();
            self.v = params.iter().map(|p| vec![0.0; p.len()]).collect();
        }
        let t = self.step as i32;
        for ((p, m), v) in params.iter_mut().zip(&mut self.m).zip(&mut self.v) {
            if p.frozen || p.grad.len() != p.value.len() {
                continue;
            }
            match *opt {
                Optimizer::Sgd {
                    momentum,
                    weight_decay,
                    ..
                } => {
                    for ((w, g), m) in p.value.iter_mut().zip(&p.grad).zip(m.iter_mut()) {
                        let g = g + weight_decay * *w;
                        *m = if t == 1 { g } else { momentum * *m + g };
                        *w -= lr * if momentum > 0.0 { *m } else { g };
                    }
                }
                Optimizer::Adam {
                    beta1,
                    beta2,
                    eps,
                    weight_decay,
                    decoupled,
                    ..
                } => {
                    let (c1, c2) = (1.0 - beta1.powi(t), 1.0 - beta2.powi(t));
                    for (((w, g), m), v) in p
                        .value
                        .iter_mut()
                        .zip(&p.grad)
                        .zip(m.iter_mut())
                        .zip(v.iter_mut())
                    {
                        let mut g = *g;
                        if decoupled {
                            *w -= lr * weight_decay * *w;
                        } else {
                            g += weight_decay * *w;
                        }
                        *m = beta1 * *m + (1.0 - beta1) * g;
                        *v = beta2 * *v + (1.0 - beta2) * g * g;
                        *w -= lr * (*m / c1) / ((*v / c2).sqrt() + eps);
                    }
                }
            }
        }
    }
}

/// Learning-rate schedules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Schedule {
    /// The base rate throughout.
    Constant,
    /// Cosine decay from the base rate to `min_lr` over `epochs`.
    Cosine {
        /// Epochs to decay over.
        epochs: usize,
        /// The rate at the end.
        min_lr: f32,
    },
    /// Multiply by `factor` after `patience` epochs without validation improvement.
    ReduceOnPlateau {
        /// Multiplier on a plateau.
        factor: f32,
        /// Epochs without improvement before it applies.
        patience: usize,
    },
}

/// Tracks the schedule's state across epochs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scheduler {
    /// The schedule followed.
    pub schedule: Schedule,
    /// The rate it starts from.
    pub base_lr: f32,
    /// The rate now.
    pub lr: f32,
    /// The best validation score so far (plateau schedules).
    pub best: Option<f64>,
    /// Epochs since it improved.
    pub bad_epochs: usize,
}

impl Scheduler {
    /// A schedule starting at `base_lr`.
    pub fn new(schedule: Schedule, base_lr: f32) -> Scheduler {
        Scheduler {
            schedule,
            base_lr,
            lr: base_lr,
            best: None,
            bad_epochs: 0,
        }
    }

    /// Sets the rate for `epoch` (0-based) given the last validation score (higher is better).
    pub fn update(&mut self, epoch: usize, score: Option<f64>) -> f32 {
        match self.schedule {
            Schedule::Constant => {}
            Schedule::Cosine { epochs, min_lr } => {
                let p = (epoch as f32 / epochs.max(1) as f32).min(1.0);
                self.lr = min_lr
                    + 0.5 * (self.base_lr - min_lr) * (1.0 + (std::f32::consts::PI * p).cos());
            }
            Schedule::ReduceOnPlateau { factor, patience } => {
                if let Some(s) = score {
                    if self.best.is_none_or(|b| s > b) {
                        self.best = Some(s);
                        self.bad_epochs = 0;
                    } else {
                        self.bad_epochs += 1;
                        if self.bad_epochs > patience {
                            self.lr *= factor;
                            self.bad_epochs = 0;
                        }
                    }
                }
            }
        }
        self.lr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(v: &[f32], g: &[f32]) -> Param {
        let mut p = Param::new(&[v.len()], v.to_vec());
        p.grad = g.to_vec();
        p
    }

    // Expected values worked by hand from the update rules (they are also what torch.optim
    // gives for the same single steps).
    #[test]
    fn sgd_with_momentum_and_weight_decay() {
        let opt = Optimizer::Sgd {
            lr: 0.1,
            momentum: 0.9,
            weight_decay: 0.5,
        };
        let mut p = param(&[1.0], &[2.0]);
        let mut st = OptimState::default();
        st.step(&opt, &mut [&mut p], 0.1);
        // g = 2 + 0.5 * 1 = 2.5; w = 1 - 0.1 * 2.5 = 0.75
        assert!((p.value[0] - 0.75).abs() < 1e-7);
        st.step(&opt, &mut [&mut p], 0.1);
        // g = 2 + 0.375 = 2.375; m = 0.9 * 2.5 + 2.375 = 4.625; w = 0.75 - 0.4625 = 0.2875
        assert!((p.value[0] - 0.2875).abs() < 1e-6);
    }

    #[test]
    fn adam_first_step_moves_by_lr() {
        let opt = Optimizer::adam(0.01);
        let mut p = param(&[1.0, -1.0], &[3.0, -0.5]);
        OptimState::default().step(&opt, &mut [&mut p], 0.01);
        // Bias-corrected first step is lr * g / |g| (up to eps).
        assert!((p.value[0] - 0.99).abs() < 1e-6 && (p.value[1] + 0.99).abs() < 1e-6);
    }

    #[test]
    fn frozen_params_do_not_move_and_clipping_bounds_the_norm() {
        let mut p = param(&[1.0], &[1.0]);
        p.frozen = true;
        OptimState::default().step(&Optimizer::adam(0.1), &mut [&mut p], 0.1);
        assert_eq!(p.value[0], 1.0);
        let mut q = param(&[0.0, 0.0], &[3.0, 4.0]);
        let norm = clip_grad_norm(&mut [&mut q], 1.0);
        assert_eq!(norm, 5.0);
        assert!((q.grad[0] - 0.6).abs() < 1e-5 && (q.grad[1] - 0.8).abs() < 1e-5);
    }

    #[test]
    fn schedules() {
        let mut c = Scheduler::new(
            Schedule::Cosine {
                epochs: 10,
                min_lr: 0.0,
            },
            1.0,
        );
        assert_eq!(c.update(0, None), 1.0);
        assert!((c.update(5, None) - 0.5).abs() < 1e-6);
        let mut r = Scheduler::new(
            Schedule::ReduceOnPlateau {
                factor: 0.5,
                patience: 1,
            },
            1.0,
        );
        r.update(0, Some(0.8));
        r.update(1, Some(0.7));
        assert_eq!(r.update(2, Some(0.7)), 0.5);
    }
}
