//! Training: datasets, architectures and presets, losses, optimisers and schedules, metrics,
//! and the resumable training loop.
//!
//! This module owns what turns sequences and labels into a trained `nn::Graph`. It reads data
//! through `io` and `encode`; files (checkpoints, logs) are written by the caller.

pub mod arch;
pub mod config;
pub mod data;
/// Training steps on the GPU.
#[cfg(all(feature = "gpu", not(target_arch = "wasm32")))]
pub mod gpu;
/// Losses and their gradients.
pub mod loss;
pub mod metrics;
/// Optimisers and learning-rate schedules.
pub mod optim;
pub mod trainer;

pub use arch::{Arch, HeadSpec, LayerSpec, PRESETS, bpnet_heads, preset, preset_losses};
pub use config::{ModelSection, RunConfig};
pub use data::{Dataset, Split, groups, kfold, shared_sequences, split};
pub use loss::{HeadLoss, HeadTarget, Loss, Objective};
pub use metrics::{Metrics, evaluate, evaluate_heads};
pub use optim::{OptimState, Optimizer, Schedule, Scheduler, clip_grad_norm};
pub use trainer::{
    Checkpoint, CpuSteps, EpochLog, Event, Steps, TrainConfig, final_graph, fit, fit_on,
};
