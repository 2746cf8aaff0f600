//! The tract backend: the model's optimised tract plans, which run any valid ONNX model on
//! the CPU (and every model whose graph the engine does not import).

use std::sync::Arc;

use tract_onnx::prelude::*;

use super::{Error, Run};
use crate::model::{guarded, tract_err};
use crate::nn::{Multipliers, Tensor as EngineTensor};

/// tract's runnable plan of a model, or for models that tract can only run at one batch size
/// per plan (recurrent ones), a plan per batch size, built on first use.
pub(crate) struct Plans {
    plan: Arc<TypedRunnableModel>,
    per_batch: Option<PerBatch>,
}

impl Plans {
    pub(crate) fn new(plan: Arc<TypedRunnableModel>, per_batch: Option<PerBatch>) -> Plans {
        Plans { plan, per_batch }
    }
}

/// tract runs the model's own input layout (the engine and the GPU take NCL).
impl Run for Plans {
    async fn forward(&self, x: Vec<f32>, shape: &[usize]) -> Result<Vec<(Vec<f32>, usize)>, Error> {
        let input = Tensor::from_shape(shape, &x).map_err(|e| Error::Run(tract_err(e)))?;
        let plan = match &self.per_batch {
            Some(p) => p.plan(shape[0])?,
            None => self.plan.clone(),
        };
        let outputs = plan
            .run(tvec![input.into()])
            .map_err(|e| Error::Run(tract_err(e)))?;
        outputs
            .iter()
            .map(|o| {
                let o = o.cast_to::<f32>().map_err(|e| Error::Run(tract_err(e)))?;
                let view = o
                    .to_plain_array_view::<f32>()
                    .map_err(|e| Error::Run(tract_err(e)))?;
                Ok((view.iter().copied().collect(), o.rank()))
            })
            .collect()
    }

    async fn input_gradient(&mut self, _: &EngineTensor, _: &[f32]) -> Result<EngineTensor, Error> {
        Err(Error::Options(
            "tract computes no gradients; input gradients run on the seqlens engine".into(),
        ))
    }

    async fn deeplift(
        &mut self,
        _: &EngineTensor,
        _: &EngineTensor,
        _: &[f32],
    ) -> Result<Multipliers, Error> {
        Err(Error::Options(
            "tract has no DeepLIFT rules; DeepLIFT runs on the seqlens engine".into(),
        ))
    }
}

/// Runnable plans of one model with its batch size bound, built on first use of each size.
pub(crate) struct PerBatch {
    /// The model, typed but not yet simplified (simplifying would settle the batch size).
    model: TypedModel,
    batch: Symbol,
    plans: std::sync::Mutex<Vec<(usize, Arc<TypedRunnableModel>)>>,
}

impl PerBatch {
    /// How many plans are kept: a run uses one batch size, and one more for its last batch.
    const KEEP: usize = 4;

    pub(crate) fn new(model: TypedModel, batch: Symbol) -> PerBatch {
        PerBatch {
            model,
            batch,
            plans: Default::default(),
        }
    }

    fn plan(&self, n: usize) -> Result<Arc<TypedRunnableModel>, Error> {
        let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, p)) = plans.iter().find(|(k, _)| *k == n) {
            return Ok(p.clone());
        }
        let subs = std::collections::HashMap::from([(self.batch.clone(), TDim::from(n))]);
        let plan = guarded("analysing the graph for one batch size", || {
            self.model
                .set_symbols(&subs)
                .and_then(|m| m.into_optimized())
                .and_then(|m| m.into_runnable())
                .map_err(|e| Error::Run(format!("batch size {n}: {}", tract_err(e))))
        })?;
        if plans.len() == Self::KEEP {
            plans.remove(0);
        }
        plans.push((n, plan.clone()));
        Ok(plan)
    }
}
