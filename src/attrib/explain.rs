//! One entry point for every attribution method, shared by the CLI, the Rust API and the
//! browser bindings: a model plus (when its graph is in the engine's op set) the engine graph
//! that gradients need.

use serde::{Deserialize, Serialize};

use super::{Baseline, Gradients, Ism, Target, fast_ism, saliency};
use crate::encode::{Layout, UnknownPolicy, Window};
use crate::model::{Model, PredictOptions};
use crate::nn::{Graph, Tensor};

/// An attribution method and its settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "method")]
pub enum Method {
    /// d target / d input (engine models).
    Gradient,
    /// Gradient x one-hot input (engine models).
    GradientTimesInput,
    /// Integrated gradients with `steps` midpoint steps from `baseline` (engine models).
    IntegratedGradients { steps: usize, baseline: Baseline },
    /// Saturation mutagenesis through the model as given (any model).
    Ism,
    /// Saturation mutagenesis recomputing only each substitution's receptive field (engine
    /// models); equal to `Ism`.
    FastIsm,
}

impl Method {
    /// Parses the CLI/JS names: grad, ixg, ig, ism, fast-ism (ig with the given settings).
    pub fn parse(name: &str, steps: usize, baseline: Baseline) -> Result<Method, crate::Error> {
        Ok(match name {
            "grad" | "gradient" => Method::Gradient,
            "ixg" | "gradient_times_input" => Method::GradientTimesInput,
            "ig" | "integrated_gradients" => Method::IntegratedGradients { steps, baseline },
            "ism" => Method::Ism,
            "fast-ism" | "fast_ism" => Method::FastIsm,
            other => {
                return Err(crate::Error::Invalid(format!(
                    "unknown attribution method '{other}'; expected grad, ixg, ig, ism or fast-ism"
                )));
            }
        })
    }

    fn needs_engine(&self) -> bool {
        !matches!(self, Method::Ism)
    }
}

/// An attribution for one window.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Attribution {
    pub id: String,
    pub chrom: String,
    pub start: i64,
    /// The window's sequence.
    pub sequence: String,
    pub channels: usize,
    pub length: usize,
    /// `[channels, length]`: the attribution of each symbol at each position. For ISM, the
    /// target's change when that symbol is substituted in (0 for the observed base).
    pub map: Vec<f32>,
    /// One score per position: the sum over channels (gradient methods), or minus the mean
    /// substitution effect (ISM: positive where the observed base raises the target).
    pub per_base: Vec<f32>,
    /// The target's value on the unmodified window.
    pub target_value: f32,
}

impl Attribution {
    /// `[channels, length]` with each position's per-base score on its observed symbol and
    /// zero elsewhere: what a logo of the sequence's own contributions draws.
    pub fn observed_map(&self, symbols: &[u8]) -> Vec<f32> {
        let mut out = vec![0.0; self.channels * self.length];
        for (t, b) in self.sequence.bytes().enumerate() {
            if let Some(ch) = symbols.iter().position(|s| s.eq_ignore_ascii_case(&b)) {
                out[ch * self.length + t] = self.per_base[t];
            }
        }
        out
    }
}

/// A model ready to be explained.
pub struct Explainer {
    model: Model,
    graph: Result<Graph, String>,
    pub unknown: UnknownPolicy,
}

impl Explainer {
    /// Wraps a loaded model; `bytes` are its ONNX file, imported into the engine for the
    /// gradient methods and fast ISM when its operators allow.
    pub fn new(model: Model, bytes: &[u8]) -> Explainer {
        let graph = crate::onnx::import(bytes, model.metadata().length).map_err(|e| e.to_string());
        Explainer {
            model,
            graph,
            unknown: UnknownPolicy::Error,
        }
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// [`Explainer::select_backend`], blocking until the device is ready (native only).
    pub fn with_backend(
        mut self,
        choice: crate::model::Backend,
    ) -> Result<Explainer, crate::model::Error> {
        crate::model::backend::complete(async {
            self.select_backend(choice).await?;
            Ok::<_, crate::model::Error>(())
        })?;
        Ok(self)
    }

    /// Selects the backend that runs the model's predictions (and so ISM and variant
    /// scoring), reusing the engine import. Gradient methods and fast ISM run on the CPU
    /// engine whichever backend is chosen.
    pub async fn select_backend(
        &mut self,
        choice: crate::model::Backend,
    ) -> Result<&crate::model::BackendReport, crate::model::Error> {
        let graph = self.graph.as_ref().map_err(String::as_str);
        self.model.select_backend_for(graph, choice).await
    }

    /// Where gradient attributions run: `gpu`, or `cpu` with the reason.
    pub fn gradient_backend(&self) -> String {
        match self.model.gpu_gradients() {
            Ok(_) => "gpu".into(),
            Err(why) => format!("cpu ({why})"),
        }
    }

    /// Why gradient methods are unavailable, if they are.
    pub fn engine_error(&self) -> Option<&str> {
        self.graph.as_ref().err().map(String::as_str)
    }

    /// The target summing the named labels (the first label when `names` is empty).
    pub fn target(&self, names: &[String]) -> Result<Target, crate::Error> {
        let labels = &self.model.metadata().labels;
        if names.is_empty() {
            return Ok(Target::Output(0));
        }
        names
            .iter()
            .map(|n| {
                labels.iter().position(|l| l == n).ok_or_else(|| {
                    crate::Error::Invalid(format!(
                        "unknown target label '{n}'; the model has: {}",
                        labels.join(", ")
                    ))
                })
            })
            .collect::<Result<_, _>>()
            .map(Target::Sum)
    }

    /// Explains one window (already of the model's length). `progress(done, total)` is called
    /// during ISM; returning `false` cancels.
    pub fn explain(
        &mut self,
        window: &Window,
        target: &Target,
        method: &Method,
        progress: &mut dyn FnMut(usize, usize) -> bool,
    ) -> Result<Attribution, crate::Error> {
        let gpu = crate::model::backend::SYNC_GPU;
        crate::model::backend::complete(self.explain_on(window, target, method, progress, gpu))
    }

    /// [`Explainer::explain`] with ISM's predictions on the selected backend, awaiting GPU
    /// readbacks (the browser's path; there gradients run on the CPU engine).
    pub async fn explain_async(
        &mut self,
        window: &Window,
        target: &Target,
        method: &Method,
        progress: &mut dyn FnMut(usize, usize) -> bool,
    ) -> Result<Attribution, crate::Error> {
        self.explain_on(window, target, method, progress, true)
            .await
    }

    async fn explain_on(
        &mut self,
        window: &Window,
        target: &Target,
        method: &Method,
        progress: &mut dyn FnMut(usize, usize) -> bool,
        gpu: bool,
    ) -> Result<Attribution, crate::Error> {
        let meta = self.model.metadata();
        let symbols = meta.alphabet.symbols().to_vec();
        let encoder = self.model.encoder(self.unknown);
        let (c, l) = (symbols.len(), window.seq.len());
        let graph = match (&mut self.graph, method.needs_engine()) {
            (Ok(g), true) => Some(g),
            (Err(e), true) => {
                return Err(crate::Error::Invalid(format!(
                    "this method needs the model in the seqlens engine, which cannot import it \
                     ({e}); use ism, which works with any model"
                )));
            }
            (_, false) => None,
        };
        let x = Tensor::new(
            &[1, c, l],
            encoder.encode(&window.id, &window.seq, Layout::Ncl)?,
        )?;
        let from_ism =
            |r: Ism, target: &Target| -> Result<(Vec<f32>, Vec<f32>, f32), crate::Error> {
                let w = target.weights(r.labels)?;
                let mut map = vec![0.0; c * l];
                for t in 0..l {
                    for ch in 0..c {
                        map[ch * l + t] = r.effect(t, ch, &w);
                    }
                }
                Ok((map, r.per_base(&w), target.apply(&r.reference)?))
            };
        let (map, per_base, target_value) = match (method, graph) {
            (Method::Ism, _) => {
                let opts = PredictOptions {
                    unknown: self.unknown,
                    ..Default::default()
                };
                let r = super::ism::ism_on(&self.model, window, &opts, progress, gpu).await?;
                from_ism(r, target)?
            }
            (Method::FastIsm, Some(g)) => {
                from_ism(fast_ism(g, &x, &window.seq, &symbols, progress)?, target)?
            }
            (m, Some(g)) => {
                let value = target.apply(&g.predict(&x)?.data)?;
                // The GPU computes the gradients when the model runs there and its kernels
                // cover the graph; otherwise the CPU engine does.
                let mut on_gpu = self.model.gpu_gradients().ok();
                let grads: &mut dyn Gradients = match on_gpu.as_mut() {
                    Some(gpu) => gpu.as_mut(),
                    None => g,
                };
                let map = match m {
                    Method::Gradient => saliency::gradient(grads, &x, target)?,
                    Method::GradientTimesInput => {
                        saliency::gradient_times_input(grads, &x, target)?
                    }
                    Method::IntegratedGradients { steps, baseline } => {
                        let b = baseline.inputs(&window.seq, &encoder)?;
                        saliency::integrated_gradients(grads, &x, &b, target, *steps)?
                    }
                    _ => unreachable!("ISM handled above"),
                };
                let pb = super::per_base(&map.data, c);
                (map.data, pb, value)
            }
            (_, None) => unreachable!("engine presence checked above"),
        };
        Ok(Attribution {
            id: window.id.clone(),
            chrom: window.chrom.clone(),
            start: window.start,
            sequence: String::from_utf8_lossy(&window.seq).into_owned(),
            channels: c,
            length: l,
            map,
            per_base,
            target_value,
        })
    }
}
