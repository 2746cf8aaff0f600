use super::loss::Objective;
use super::trainer::{Checkpoint, Steps};
use crate::blocking::block_on;
use crate::gpu::{Gpu, GpuTrainer};
use crate::nn::{Rng, Tensor};

/// Training steps on the GPU ([`GpuTrainer`]): the weights stay on the device between steps
/// and come back to the checkpoint at each [`Steps::sync`]. Native only: the steps block on
/// the device, which a browser cannot.
pub struct GpuSteps {
    gpu: Gpu,
    trainer: GpuTrainer,
}

impl GpuSteps {
    /// The first GPU adapter, with `ck`'s weights and optimiser state uploaded; refuses a
    /// graph the GPU cannot train, naming its first such node.
    pub fn new(ck: &Checkpoint) -> Result<GpuSteps, crate::Error> {
        let gpu = block_on(Gpu::new())?;
        let trainer = block_on(GpuTrainer::new(&gpu, &ck.graph, &ck.optim))?;
        Ok(GpuSteps { gpu, trainer })
    }

    /// The adapter the steps run on.
    pub fn adapter(&self) -> String {
        self.gpu.capabilities().display_name()
    }

    /// Whether the adapter is a software implementation (correct, not fast).
    pub fn software(&self) -> bool {
        self.gpu.capabilities().software
    }
}

impl Steps for GpuSteps {
    fn step(
        &mut self,
        ck: &mut Checkpoint,
        x: Tensor,
        y: &Tensor,
        objective: &Objective,
        rng: &mut Rng,
        lr: f32,
    ) -> Result<(f64, Vec<f64>), crate::Error> {
        let loss = |out: Tensor| {
            let (l, heads, dy) = objective.compute(&out, y)?;
            Ok(((l, heads), dy))
        };
        let c = &ck.config;
        block_on(
            self.trainer
                .step(&self.gpu, &x, rng, loss, &c.optimizer, lr, c.clip_norm),
        )
    }

    fn sync(&mut self, ck: &mut Checkpoint) -> Result<(), crate::Error> {
        block_on(
            self.trainer
                .download(&self.gpu, &mut ck.graph, &mut ck.optim),
        )?;
        Ok(())
    }
}
