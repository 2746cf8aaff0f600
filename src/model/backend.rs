//! Which engine runs a [`Model`](super::Model): the seqlens engine graph on the GPU through
//! wgpu or on the CPU (models whose operators the engine imports), or tract on the CPU (any
//! ONNX model). This module owns the choice, the reason for it, and the one interface
//! (`Run`) that each backend implements: tract's plans (`tract`), the engine's graph
//! (`nn::Graph`, below) and the GPU upload (`GpuHalf`).

pub(crate) mod tract;

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Error;
use crate::nn::{Graph, Multipliers, Tensor};

/// What a backend does with a loaded model. Async, so that the GPU awaits its readbacks (a
/// browser cannot block on them); the CPU implementations finish before they return.
pub(crate) trait Run {
    /// Each of the model's outputs as (values, rank), for the encoded batch `x` of `shape`.
    async fn forward(&self, x: Vec<f32>, shape: &[usize]) -> Result<Vec<(Vec<f32>, usize)>, Error>;

    /// The gradient of `sum_j weights[j] * output[j]` with respect to each input item
    /// `[batch, channels, length]` (NCL, evaluation mode), or why this backend has none.
    async fn input_gradient(&mut self, x: &Tensor, weights: &[f32]) -> Result<Tensor, Error>;

    /// DeepLIFT multipliers of the same target for each (input, reference) pair (item `i`
    /// of `refs` is item `i`'s reference), or why this backend has none.
    async fn deeplift(
        &mut self,
        x: &Tensor,
        refs: &Tensor,
        weights: &[f32],
    ) -> Result<Multipliers, Error>;
}

/// The CPU engine: the model's own engine graph, in inference form.
impl Run for Graph {
    async fn forward(&self, x: Vec<f32>, shape: &[usize]) -> Result<Vec<(Vec<f32>, usize)>, Error> {
        let t = Tensor::new(shape, x).map_err(|e| Error::Run(e.to_string()))?;
        let y = self.predict(&t).map_err(|e| Error::Run(e.to_string()))?;
        let rank = y.shape.len();
        Ok(vec![(y.data, rank)])
    }

    async fn input_gradient(&mut self, x: &Tensor, weights: &[f32]) -> Result<Tensor, Error> {
        self.weighted_input_gradient(x, weights)
            .map_err(|e| Error::Run(e.to_string()))
    }

    async fn deeplift(
        &mut self,
        x: &Tensor,
        refs: &Tensor,
        weights: &[f32],
    ) -> Result<Multipliers, Error> {
        Graph::deeplift(self, x, refs, weights).map_err(|e| Error::Run(e.to_string()))
    }
}

/// The backend a caller asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// The GPU when the model's graph runs there and a hardware adapter exists; else the CPU.
    #[default]
    Auto,
    /// The CPU: the seqlens engine where the model's graph imports, tract otherwise.
    Cpu,
    /// tract on the CPU, even where the engine could run the model.
    Tract,
    /// The GPU or an error saying why not (a software adapter is accepted when forced).
    #[serde(alias = "webgpu")]
    Gpu,
}

impl FromStr for Backend {
    type Err = Error;

    fn from_str(s: &str) -> Result<Backend, Error> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Backend::Auto),
            "cpu" => Ok(Backend::Cpu),
            "tract" => Ok(Backend::Tract),
            "gpu" | "webgpu" => Ok(Backend::Gpu),
            other => Err(Error::Options(format!(
                "unknown backend '{other}'; expected auto, gpu (webgpu), cpu or tract"
            ))),
        }
    }
}

/// Which backend runs the model's predictions, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BackendReport {
    /// `cpu`, `gpu` (native) or `webgpu` (browser).
    pub backend: String,
    /// On the CPU, what runs the model: `seqlens` (the engine) or `tract`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// The GPU adapter that runs the model, or that was found and not used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adapter: Option<String>,
    /// Why the CPU runs the model, when it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl BackendReport {
    /// tract on the CPU, for `reason`.
    pub(crate) fn cpu(reason: impl Into<String>, adapter: Option<String>) -> BackendReport {
        BackendReport {
            backend: "cpu".into(),
            engine: Some("tract".into()),
            adapter,
            reason: Some(reason.into()),
        }
    }

    /// Whether predictions run on the GPU.
    pub fn is_gpu(&self) -> bool {
        self.backend != "cpu"
    }
}

impl std::fmt::Display for BackendReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.backend)?;
        if let Some(e) = &self.engine {
            write!(f, " ({e})")?;
        }
        if let Some(a) = &self.adapter {
            write!(f, " (adapter: {a})")?;
        }
        if let Some(r) = &self.reason {
            write!(f, ": {r}")?;
        }
        Ok(())
    }
}

/// The model on the GPU: a device and the engine graph uploaded to it.
#[cfg(feature = "gpu")]
pub(crate) struct GpuHalf {
    gpu: crate::gpu::Gpu,
    graph: crate::gpu::GpuGraph,
}

#[cfg(feature = "gpu")]
impl GpuHalf {
    /// Why the GPU cannot compute input gradients for this graph, if it cannot.
    pub(crate) fn gradient_blocker(&self) -> Option<&str> {
        self.graph.gradient_unsupported()
    }
}

#[cfg(feature = "gpu")]
impl Run for GpuHalf {
    async fn forward(&self, x: Vec<f32>, shape: &[usize]) -> Result<Vec<(Vec<f32>, usize)>, Error> {
        let gpu_err = |e: crate::gpu::Error| Error::Run(format!("on the GPU: {e}"));
        let t = Tensor::new(shape, x).map_err(|e| gpu_err(e.into()))?;
        let y = self.graph.predict(&self.gpu, &t).await.map_err(gpu_err)?;
        let rank = y.shape.len();
        Ok(vec![(y.data, rank)])
    }

    async fn input_gradient(&mut self, x: &Tensor, weights: &[f32]) -> Result<Tensor, Error> {
        (self.graph.input_gradient(&self.gpu, x, weights).await)
            .map_err(|e| Error::Run(format!("on the GPU: {e}")))
    }

    async fn deeplift(
        &mut self,
        x: &Tensor,
        refs: &Tensor,
        weights: &[f32],
    ) -> Result<Multipliers, Error> {
        (self.graph.deeplift(&self.gpu, x, refs, weights).await)
            .map_err(|e| Error::Run(format!("on the GPU: {e}")))
    }
}

/// What runs a model's predictions once a backend is selected.
pub(crate) enum Runner {
    /// tract's optimised plan (kept by every model).
    Tract,
    /// The seqlens engine on the CPU, running the model's own engine graph.
    Engine,
    /// The engine graph on the GPU (never made without the `gpu` feature, where its
    /// payload is uninhabited).
    #[cfg_attr(not(feature = "gpu"), allow(dead_code))]
    Gpu(Box<GpuHalf>),
}

/// Without the GPU feature a model never has a GPU half.
#[cfg(not(feature = "gpu"))]
pub(crate) enum GpuHalf {}

#[cfg(not(feature = "gpu"))]
impl GpuHalf {
    pub(crate) fn gradient_blocker(&self) -> Option<&str> {
        match *self {}
    }
}

#[cfg(not(feature = "gpu"))]
impl Run for GpuHalf {
    async fn forward(&self, _: Vec<f32>, _: &[usize]) -> Result<Vec<(Vec<f32>, usize)>, Error> {
        match *self {}
    }

    async fn input_gradient(&mut self, _: &Tensor, _: &[f32]) -> Result<Tensor, Error> {
        match *self {}
    }

    async fn deeplift(&mut self, _: &Tensor, _: &Tensor, _: &[f32]) -> Result<Multipliers, Error> {
        match *self {}
    }
}

/// Picks the backend for a model whose engine import gave `graph` (or why it failed).
/// `Backend::Gpu` fails, with the reason, where `Backend::Auto` falls back to the CPU; on the
/// CPU the engine runs the model where its graph imports, tract otherwise.
pub(crate) async fn select(
    graph: Result<&Graph, &str>,
    choice: Backend,
) -> Result<(BackendReport, Runner), Error> {
    let engine =
        graph.map_err(|e| format!("the model's graph is not in the engine's op set ({e})"));
    let on_cpu = |reason: String, adapter: Option<String>| match &engine {
        Ok(_) => (
            BackendReport {
                backend: "cpu".into(),
                engine: Some("seqlens".into()),
                adapter,
                reason: Some(reason),
            },
            Runner::Engine,
        ),
        Err(why) => (
            BackendReport::cpu(format!("{reason}; tract runs it: {why}"), adapter),
            Runner::Tract,
        ),
    };
    match choice {
        Backend::Tract => {
            return Ok((
                BackendReport::cpu("tract was requested", None),
                Runner::Tract,
            ));
        }
        Backend::Cpu => return Ok(on_cpu("the CPU was requested".into(), None)),
        Backend::Auto | Backend::Gpu => {}
    }
    let fallback = |reason: String, adapter: Option<String>| match choice {
        Backend::Gpu => Err(Error::Options(format!("cannot run on the GPU: {reason}"))),
        _ => Ok(on_cpu(reason, adapter)),
    };
    let graph = match &engine {
        Ok(g) => *g,
        Err(e) => return fallback(e.clone(), None),
    };
    gpu_half(graph, choice, fallback).await
}

#[cfg(feature = "gpu")]
async fn gpu_half(
    graph: &Graph,
    choice: Backend,
    fallback: impl Fn(String, Option<String>) -> Result<(BackendReport, Runner), Error>,
) -> Result<(BackendReport, Runner), Error> {
    let gpu = match crate::gpu::Gpu::new().await {
        Ok(g) => g,
        Err(e) => return fallback(e.to_string(), None),
    };
    let caps = gpu.capabilities();
    let adapter = caps.display_name();
    if caps.software && choice == Backend::Auto {
        return fallback(
            "the GPU adapter is a software renderer, slower than the CPU engine \
             (choose the gpu backend to use it anyway)"
                .into(),
            Some(adapter),
        );
    }
    match crate::gpu::GpuGraph::new(&gpu, graph).await {
        Ok(g) => {
            let backend = if cfg!(target_arch = "wasm32") {
                "webgpu"
            } else {
                "gpu"
            };
            Ok((
                BackendReport {
                    backend: backend.into(),
                    engine: None,
                    adapter: Some(adapter),
                    reason: None,
                },
                Runner::Gpu(Box::new(GpuHalf { gpu, graph: g })),
            ))
        }
        Err(e) => fallback(format!("uploading the model failed: {e}"), Some(adapter)),
    }
}

#[cfg(not(feature = "gpu"))]
async fn gpu_half(
    _graph: &Graph,
    _choice: Backend,
    fallback: impl Fn(String, Option<String>) -> Result<(BackendReport, Runner), Error>,
) -> Result<(BackendReport, Runner), Error> {
    fallback(NO_GPU.into(), None)
}

/// Why this build cannot run `graph` on the GPU, naming the first node without a kernel (or
/// the missing GPU backend); `None` when every node has one. Static: no adapter is sought.
pub(crate) fn gpu_forward_blocker(graph: &Graph) -> Option<String> {
    #[cfg(feature = "gpu")]
    return crate::gpu::forward_blocker(graph);
    #[cfg(not(feature = "gpu"))]
    {
        let _ = graph;
        Some(NO_GPU.into())
    }
}

/// Why input gradients cannot run on the GPU for `graph`, if they cannot.
pub(crate) fn gpu_gradient_blocker(graph: &Graph) -> Option<String> {
    #[cfg(feature = "gpu")]
    return crate::gpu::gradient_blocker(graph);
    #[cfg(not(feature = "gpu"))]
    {
        let _ = graph;
        Some(NO_GPU.into())
    }
}

#[cfg(not(feature = "gpu"))]
const NO_GPU: &str = "this build has no GPU backend (the gpu feature)";
