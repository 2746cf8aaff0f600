//! Training: losses, optimisers and learning-rate schedules, metrics.
//!
//! This module owns what turns a `nn::Graph` into a trained model. It reads data through `io`
//! and `encode` and never touches JavaScript.

pub mod loss;
pub mod metrics;
pub mod optim;

pub use loss::Loss;
pub use metrics::{Metrics, evaluate};
pub use optim::{OptimState, Optimizer, Schedule, Scheduler, clip_grad_norm};
