//! Loading ONNX models and running predictions.
//!
//! This module owns [`Model`]: the ONNX bytes parsed by tract, the seqlens metadata that says
//! how to encode sequences for it, and batched prediction (optionally averaged with the reverse
//! complement), on the backend that [`backend`] chooses: tract, the CPU engine or the GPU,
//! each reached only through `backend::Run`. It knows nothing about JavaScript or the command
//! line.

pub mod backend;
mod profile;

use serde::Serialize;
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::internal::DimLike;

pub use crate::metadata::{Metadata, Output, Overrides, keys};
pub use crate::onnx::summary::{Dim, ProtoSummary, TensorInfo};
pub use backend::{Backend, BackendReport};
pub use profile::{PROFILE_WINDOW_POSITIONS, Profiles, Track};

use crate::encode::{self, Alphabet, Encoder, Layout, UnknownPolicy, Window};
use crate::io::SeqRecord;

/// The largest model file accepted. ONNX's protobuf encoding cannot exceed 2 GiB, and in the
/// browser the whole model must fit in 32-bit wasm memory beside its working buffers.
pub const MAX_MODEL_BYTES: usize = if cfg!(target_arch = "wasm32") {
    1 << 30
} else {
    (2 << 30) - 1
};

/// The largest number of input values (batch x channels x length) handed to one model run;
/// batches shrink to fit, so long sequences never need more than ~256 MiB of input at once.
pub const MAX_BATCH_VALUES: usize = 64 << 20;

/// The longest input window a model is run on, in bases: 16 Mi, beyond the longest-context
/// sequence models (Enformer 196 kb, Borzoi 524 kb, 1 Mb models) and far below what would
/// exhaust memory before a run. A model that declares more, or a record that a model of any
/// length would take whole, is refused before anything is allocated.
pub const MAX_LENGTH: usize = 1 << 24;

/// Errors raised while loading a model or predicting with it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bytes do not parse as an ONNX model.
    #[error("not a valid ONNX model: {0} (the file may be truncated, corrupt, or not ONNX at all)")]
    Corrupt(String),
    /// tract panicked: the model is malformed in a way tract does not check, or valid but
    /// beyond what tract handles. Not called corrupt, as it may well be neither.
    #[error(
        "{0} (tract stopped on this model: it may be malformed, or valid but beyond what tract handles)"
    )]
    Tract(String),
    /// The file is past the size seqlens loads.
    #[error("model is {size} bytes; the largest supported is {max} bytes")]
    TooLarge {
        /// The file's size in bytes.
        size: usize,
        /// The largest size loaded.
        max: usize,
    },
    /// The weights are in files beside the model that were not given.
    #[error(
        "the model keeps its weights in external data files ({0}) beside the .onnx file: load it \
         from its path (the CLI and onnx::read_model_file read them), or pass them \
         (externalData in JS), or save it without external data"
    )]
    ExternalData(String),
    /// An op tract cannot run.
    #[error(
        "unsupported ONNX operator '{op}' (node '{node}'); tract cannot run it. Supported models use standard ONNX ops such as Conv, Relu, MaxPool, Gemm, MatMul"
    )]
    UnsupportedOp {
        /// The op type.
        op: String,
        /// The node's name.
        node: String,
    },
    /// The model's input (its shape or type), or a sequence given to it, does not fit.
    #[error("model input: {0}")]
    Input(String),
    /// A `seqlens.*` metadata value is malformed.
    #[error(transparent)]
    Metadata(#[from] crate::metadata::Error),
    /// A sequence's length differs from the model's fixed length.
    #[error("sequence '{id}' has length {found}, but the model expects {expected}")]
    Length {
        /// The sequence.
        id: String,
        /// Its length.
        found: usize,
        /// The model's length.
        expected: usize,
    },
    /// Options that cannot be carried out for this model (a backend, a target, a range).
    #[error("{0}")]
    Options(String),
    /// The backend failed while running the model.
    #[error("the model failed to run: {0}")]
    Run(String),
    /// A sequence could not be encoded.
    #[error(transparent)]
    Encode(#[from] encode::Error),
}

pub(crate) fn tract_err(e: TractError) -> String {
    format!("{e:#}")
}

/// How the model's batch dimension behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "size")]
pub enum Batch {
    /// Any number of sequences per run.
    Dynamic,
    /// Exactly this many per run.
    Fixed(usize),
}

/// What `Model::info` reports: the declared graph and the metadata in force.
#[derive(Clone, Debug, Serialize)]
pub struct ModelInfo {
    /// The graph as the file declares it.
    #[serde(flatten)]
    pub summary: ProtoSummary,
    /// How the model wants its sequences, with overrides applied.
    pub metadata: Metadata,
    /// How many sequences one run takes.
    pub batch: Batch,
    /// Input channels (symbols per position).
    pub channels: usize,
    /// Values per sequence, summed over outputs.
    pub outputs_per_sequence: Option<usize>,
    /// Each output's rank as tract types it: whatever backend runs the model (the engine
    /// concatenates several outputs into one), what the outputs are is decided here.
    #[serde(skip)]
    pub output_ranks: Vec<usize>,
}

/// Options for [`Model::predict`].
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PredictOptions {
    /// Average each prediction with that of the reverse complement.
    pub rc_average: bool,
    /// Sequences per model run (capped by [`MAX_BATCH_VALUES`] and by a fixed batch size).
    pub batch_size: usize,
    /// What to do with characters outside the alphabet.
    pub unknown: UnknownPolicy,
    /// Tile sequences longer than the model into windows every `stride` bases; otherwise
    /// sequences are center-cropped or N-padded to the model's length.
    pub stride: Option<usize>,
}

impl Default for PredictOptions {
    fn default() -> Self {
        PredictOptions {
            rc_average: false,
            batch_size: 64,
            unknown: UnknownPolicy::Error,
            stride: None,
        }
    }
}

/// Predictions for a set of windows: `values` is row-major `[windows, labels]`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Predictions {
    /// Each window's name.
    pub ids: Vec<String>,
    /// The windows predicted, in record order.
    pub windows: Vec<Window>,
    /// One name per output value.
    pub labels: Vec<String>,
    /// Row-major `[windows, labels]`.
    pub values: Vec<f32>,
    /// `[windows, labels]`.
    pub shape: [usize; 2],
}

impl Predictions {
    /// The values for window `i`, one per label.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.shape[1]..(i + 1) * self.shape[1]]
    }
}

/// Predictions for sequences given encoded ([`Model::predict_encoded`]): `values` is
/// row-major `[sequences, labels]`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EncodedPredictions {
    /// One name per output value.
    pub labels: Vec<String>,
    /// Row-major `[sequences, labels]`.
    pub values: Vec<f32>,
    /// `[sequences, labels]`.
    pub shape: [usize; 2],
}

/// NCL sequences `[n, channels, len]` in `layout`: as they are, or transposed to NLC.
fn to_layout(ncl: &[f32], channels: usize, len: usize, layout: Layout) -> Vec<f32> {
    match layout {
        Layout::Ncl => ncl.to_vec(),
        Layout::Nlc => {
            let mut out = vec![0.0; ncl.len()];
            for (s, d) in ncl
                .chunks(channels * len)
                .zip(out.chunks_mut(channels * len))
            {
                for c in 0..channels {
                    for l in 0..len {
                        d[l * channels + c] = s[c * len + l];
                    }
                }
            }
            out
        }
    }
}

/// An ONNX sequence model ready to predict.
pub struct Model {
    /// tract's plans: the backend for every valid ONNX model.
    tract: backend::tract::Plans,
    info: ModelInfo,
    /// The model in the seqlens engine, in its inference form (imported once, on loading,
    /// with batch norms folded into the layers before them), or why its graph is not in the
    /// engine's op set. The CPU backend predicts with it, gradients and fast ISM run on it,
    /// and the GPU uploads it: the only copy of the weights besides tract's plan.
    engine: Result<crate::nn::Graph, String>,
    backend: BackendReport,
    /// What runs predictions: tract until a backend is selected.
    runner: backend::Runner,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("info", &self.info)
            .field("backend", &self.backend)
            .finish()
    }
}

/// Receives each batch of windows with its outputs (`[batch, values per window]`).
pub(crate) type BatchSink<'a> = dyn FnMut(&[Window], Vec<f32>) -> Result<(), Error> + 'a;

/// tract's work on an untrusted graph, with a panic inside tract (a malformed model it does
/// not check for) turned into an error instead of ending the process. Natively only: in
/// wasm a panic aborts the instance (the bindings report it).
pub(crate) fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|p| {
        let why = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(Error::Tract(format!("tract failed while {what}: {why}")))
    })
}

impl Model {
    /// Loads an ONNX model from its bytes, using its `seqlens.*` metadata.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, Error> {
        Self::from_bytes_with(bytes, &Overrides::default())
    }

    /// Loads an ONNX model, with `overrides` taking precedence over its metadata.
    pub fn from_bytes_with(bytes: &[u8], overrides: &Overrides) -> Result<Model, Error> {
        if bytes.len() > MAX_MODEL_BYTES {
            return Err(Error::TooLarge {
                size: bytes.len(),
                max: MAX_MODEL_BYTES,
            });
        }
        let onnx = tract_onnx::onnx();
        let proto = onnx
            .proto_model_for_read(&mut &bytes[..])
            .map_err(|e| Error::Corrupt(tract_err(e)))?;
        let external = crate::onnx::external_files_in(&proto);
        if !external.is_empty() {
            return Err(Error::ExternalData(external.join(", ")));
        }
        let Some(graph) = proto.graph.as_ref() else {
            return Err(Error::Corrupt("the file holds no graph".into()));
        };
        if graph.node.is_empty() {
            return Err(Error::Corrupt("the graph has no nodes".into()));
        }
        crate::onnx::check_graph(graph).map_err(Error::Corrupt)?;
        if let Some(n) = graph
            .node
            .iter()
            .find(|n| !onnx.op_register.0.contains_key(&n.op_type))
        {
            return Err(Error::UnsupportedOp {
                op: n.op_type.clone(),
                node: n.name.clone(),
            });
        }
        let summary = crate::onnx::summary::summarize(&proto);
        let declared = crate::metadata::parse_props(&summary.properties)?;
        let wanted = overrides.over(&declared);

        let [input] = summary.inputs.as_slice() else {
            return Err(Error::Input(format!(
                "seqlens runs models with one input; this one has {}",
                summary.inputs.len()
            )));
        };
        if input.dtype != "float" {
            return Err(Error::Input(format!(
                "'{}' has type {}; expected float (one-hot f32)",
                input.name, input.dtype
            )));
        }
        let shape = &input.shape;
        if shape.len() != 3 {
            return Err(Error::Input(format!(
                "'{}' has shape [{}]; expected [batch, channels, length] or [batch, length, channels]",
                input.name,
                join(shape)
            )));
        }
        let (layout, channels, declared_len) = infer_layout(shape, &wanted)?;
        let alphabet = match wanted.alphabet {
            Some(a) => a,
            None => Alphabet::for_channels(channels).ok_or_else(|| {
                Error::Input(format!(
                    "'{}' has {channels} channels; expected 4 (DNA/RNA) or 20 (protein), or set seqlens.alphabet",
                    input.name
                ))
            })?,
        };
        if alphabet.size() != channels {
            return Err(Error::Input(format!(
                "the {alphabet} alphabet has {} channels but '{}' has {channels}",
                alphabet.size(),
                input.name
            )));
        }
        let length = match (declared_len, wanted.length) {
            (Some(d), Some(w)) if d != w => {
                return Err(Error::Metadata(crate::metadata::Error::new(
                    keys::LENGTH,
                    format!("{w} disagrees with the input shape, whose length is {d}"),
                )));
            }
            (d, w) => d.or(w),
        };
        if let Some(l) = length.filter(|&l| l > MAX_LENGTH) {
            return Err(Error::Input(format!(
                "the model takes sequences of {l} bases; the longest window seqlens runs is \
                 {MAX_LENGTH} bases (set a shorter length with --length / {{length}} if the \
                 model accepts one)"
            )));
        }
        let batch = match shape[0].fixed() {
            Some(n) => Batch::Fixed(n),
            None => Batch::Dynamic,
        };

        let mut model = guarded("reading the graph", || {
            onnx.model_for_proto_model(&proto)
                .map_err(|e| Error::Corrupt(tract_err(e)))
        })?;
        // The model's own names for its symbolic dimensions: exporters (torch.onnx's dynamo
        // exporter) repeat them in every intermediate shape, and a different name would not
        // unify with those. Unnamed dimensions get N and L.
        let name_of = |d: &Dim, default: &str| match d {
            Dim::Symbol(s) if !s.starts_with('?') => s.clone(),
            _ => default.to_string(),
        };
        let length_axis = match layout {
            Layout::Ncl => 2,
            Layout::Nlc => 1,
        };
        let n_sym = model.symbols.sym(&name_of(&shape[0], "N"));
        let l_sym = model.symbols.sym(&name_of(&shape[length_axis], "L"));
        let b_dim: TDim = match batch {
            Batch::Fixed(n) => n.into(),
            Batch::Dynamic => n_sym.clone().into(),
        };
        let l_dim: TDim = length.map_or(l_sym.into(), TDim::from);
        let c_dim: TDim = channels.into();
        let fact_shape = match layout {
            Layout::Ncl => tvec![b_dim, c_dim, l_dim],
            Layout::Nlc => tvec![b_dim, l_dim, c_dim],
        };
        let fact_desc = format!("{fact_shape:?}");
        model
            .set_input_fact(
                0,
                InferenceFact::dt_shape(f32::datum_type(), fact_shape.clone()),
            )
            .map_err(|e| Error::Input(tract_err(e)))?;
        let (typed, per_batch) = guarded("analysing the graph", || {
            let fail = |e| {
                Error::Input(format!(
                    "the model cannot take input shape {fact_desc}: {}",
                    tract_err(e)
                ))
            };
            // tract's Scan (ONNX LSTM/GRU) settles the batch size inside its body from the
            // exporters' shape arithmetic, and refuses any other size afterwards; such a
            // model gets one plan per batch size, analysed with that size fixed.
            let scans = batch == Batch::Dynamic
                && model.nodes.iter().any(|n| {
                    n.op.name().contains("Scan")
                        || n.op.name() == "LSTM"
                        || n.op.name() == "GRU"
                        || n.op.name() == "RNN"
                });
            let per_batch = match scans {
                true => Some(backend::tract::PerBatch::new(
                    model.clone().into_typed().map_err(fail)?,
                    n_sym.clone(),
                )),
                false => None,
            };
            Ok((model.into_optimized().map_err(fail)?, per_batch))
        })?;
        let mut per_output = Vec::new();
        let mut output_dims = Vec::new();
        for o in typed
            .output_outlets()
            .map_err(|e| Error::Input(tract_err(e)))?
        {
            let fact = typed
                .outlet_fact(*o)
                .map_err(|e| Error::Input(tract_err(e)))?;
            let dims: Vec<Option<usize>> = fact.shape.iter().map(|d| d.to_usize().ok()).collect();
            per_output.push(
                dims.iter()
                    .skip(1)
                    .try_fold(1usize, |acc, d| d.map(|d| acc * d)),
            );
            output_dims.push(dims);
        }
        let output = wanted.output.unwrap_or_default();
        let (outputs_per_sequence, labels) = match output {
            Output::Values => {
                let outputs_per_sequence = per_output
                    .iter()
                    .try_fold(0usize, |acc, d| d.map(|d| acc + d));
                let labels = match (wanted.labels, outputs_per_sequence) {
                    (Some(l), Some(k)) if l.len() != k => {
                        return Err(Error::Metadata(crate::metadata::Error::new(
                            keys::LABELS,
                            format!(
                                "{} labels given, but the model outputs {k} values per sequence",
                                l.len()
                            ),
                        )));
                    }
                    (Some(l), _) => l,
                    (None, Some(k)) => default_labels(&summary.outputs, &per_output, k),
                    (None, None) => Vec::new(),
                };
                (outputs_per_sequence, labels)
            }
            Output::Profile {
                context, log_total, ..
            } => {
                let bad = |message: String| {
                    Error::Metadata(crate::metadata::Error::new(keys::OUTPUT, message))
                };
                // A profile, and with seqlens.counts its log total count, one value.
                let dims = match (output_dims.as_slice(), log_total) {
                    ([dims], false) => dims,
                    ([dims, count], true) if count[1..] == [Some(1)] => dims,
                    (_, true) => {
                        return Err(bad(format!(
                            "with {} = log_total a profile model has two outputs, the profile \
                             and its log total count [batch, 1]; this one has {}",
                            keys::COUNTS,
                            output_dims
                                .iter()
                                .map(|d| format!("{d:?}"))
                                .collect::<Vec<_>>()
                                .join(" and ")
                        )));
                    }
                    _ => {
                        return Err(bad(format!(
                            "a profile model has one output; this one has {}",
                            output_dims.len()
                        )));
                    }
                };
                let [_, Some(classes), positions] = dims[..] else {
                    return Err(bad(format!(
                        "a profile output is [batch, classes, positions] with fixed classes; this one has rank {} ({:?})",
                        dims.len(),
                        dims
                    )));
                };
                if let (Some(l), Some(p)) = (length, positions)
                    && l.checked_sub(context) != Some(p)
                {
                    return Err(Error::Metadata(crate::metadata::Error::new(
                        keys::CONTEXT,
                        format!(
                            "{context} does not match the model, which maps {l} input bases to {p} positions"
                        ),
                    )));
                }
                let labels = match wanted.labels {
                    Some(l) if l.len() != classes => {
                        return Err(Error::Metadata(crate::metadata::Error::new(
                            keys::LABELS,
                            format!(
                                "{} labels given, but the profile has {classes} classes",
                                l.len()
                            ),
                        )));
                    }
                    Some(l) => l,
                    None => (0..classes).map(|i| format!("class_{i}")).collect(),
                };
                (None, labels)
            }
        };
        let plan = typed
            .into_runnable()
            .map_err(|e| Error::Input(tract_err(e)))?;
        let metadata = Metadata {
            alphabet,
            layout,
            length,
            n_policy: wanted.n_policy.unwrap_or_default(),
            labels,
            task: wanted.task,
            output,
        };
        let engine = crate::onnx::import_proto(&proto, length, layout)
            .map(|g| g.for_inference())
            .map_err(|e| e.to_string());
        Ok(Model {
            tract: backend::tract::Plans::new(plan, per_batch),
            engine,
            info: ModelInfo {
                summary,
                metadata,
                batch,
                channels,
                outputs_per_sequence,
                output_ranks: output_dims.iter().map(Vec::len).collect(),
            },
            backend: BackendReport::cpu("the default until a backend is selected", None),
            runner: backend::Runner::Tract,
        })
    }

    /// The declared graph and the metadata in force.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Which backend runs predictions, and why.
    pub fn backend(&self) -> &BackendReport {
        &self.backend
    }

    /// The model in the seqlens engine, in inference form (batch norms folded into the layers
    /// before them, so it is not the graph to fine-tune: `onnx::import` gives that one), or
    /// why its graph does not import (then tract runs it, and the gradient methods and fast
    /// ISM are unavailable).
    pub fn engine(&self) -> Result<&crate::nn::Graph, &str> {
        self.engine.as_ref().map_err(String::as_str)
    }

    /// The engine graph, or an error saying that `what` needs it and why it is missing.
    pub(crate) fn engine_for(&self, what: &str) -> Result<&crate::nn::Graph, Error> {
        self.engine().map_err(|e| no_engine(what, e))
    }

    /// Why input gradients run on the CPU engine rather than on the selected backend, or
    /// `None` when the GPU computes them (its kernels cover the graph).
    pub fn gradient_fallback(&self) -> Option<String> {
        self.gradient_gpu().err().map(str::to_string)
    }

    /// The GPU half that computes input gradients, or why the CPU engine does.
    fn gradient_gpu(&self) -> Result<&backend::GpuHalf, &str> {
        match &self.runner {
            backend::Runner::Gpu(half) => half.gradient_blocker().map_or(Ok(&**half), Err),
            _ => Err("the model runs on the CPU"),
        }
    }

    /// One encoded batch through the selected backend: each output as (values, rank). The
    /// one place where predictions choose between the backends' `backend::Run`
    /// implementations.
    async fn forward(&self, x: Vec<f32>, shape: &[usize]) -> Result<Vec<(Vec<f32>, usize)>, Error> {
        use backend::Run;
        match &self.runner {
            backend::Runner::Tract => self.tract.forward(x, shape).await,
            backend::Runner::Engine => {
                Run::forward(self.engine_for("the CPU backend")?, x, shape).await
            }
            backend::Runner::Gpu(half) => half.forward(x, shape).await,
        }
    }

    /// The gradient of `sum_j weights[j] * output[j]` with respect to each input item
    /// `[batch, channels, length]` (NCL, evaluation mode; `weights` has one value per output
    /// value of an item): on the GPU where the model runs there and its kernels cover the
    /// graph, else on the CPU engine.
    pub async fn weighted_input_gradient(
        &mut self,
        x: &crate::nn::Tensor,
        weights: &[f32],
    ) -> Result<crate::nn::Tensor, Error> {
        use backend::Run;
        if let backend::Runner::Gpu(half) = &mut self.runner
            && half.gradient_blocker().is_none()
        {
            return half.input_gradient(x, weights).await;
        }
        let graph = (self.engine.as_mut()).map_err(|e| no_engine("an input gradient", e))?;
        Run::input_gradient(graph, x, weights).await
    }

    /// DeepLIFT multipliers of `sum_j weights[j] * output[j]` for each (input, reference)
    /// pair (`x` and `refs` `[n, channels, length]`; item `i` of `refs` is item `i`'s
    /// reference), where gradients run ([`Model::weighted_input_gradient`]): the GPU's
    /// kernels follow the CPU engine's rules. A layer without a DeepLIFT rule is refused on
    /// either.
    pub async fn deeplift(
        &mut self,
        x: &crate::nn::Tensor,
        refs: &crate::nn::Tensor,
        weights: &[f32],
    ) -> Result<crate::nn::Multipliers, Error> {
        use backend::Run;
        let graph = (self.engine.as_mut()).map_err(|e| no_engine("DeepLIFT", e))?;
        if let Some(why) = graph.deeplift_blocker() {
            return Err(Error::Run(why));
        }
        if let backend::Runner::Gpu(half) = &mut self.runner
            && half.gradient_blocker().is_none()
        {
            return half.deeplift(x, refs, weights).await;
        }
        Run::deeplift(graph, x, refs, weights).await
    }

    /// Chooses the backend for predictions: the GPU runs the model when `choice` allows, the
    /// model's graph imports into the engine, and an adapter exists. `Backend::Auto` falls
    /// back to the CPU with the reason in [`Model::backend`]; `Backend::Gpu` fails with it.
    pub async fn select_backend(&mut self, choice: Backend) -> Result<&BackendReport, Error> {
        let (report, runner) = backend::select(self.engine(), choice).await?;
        self.backend = report;
        self.runner = runner;
        Ok(&self.backend)
    }

    /// [`Model::select_backend`], blocking until the device is ready (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn with_backend(mut self, choice: Backend) -> Result<Model, Error> {
        crate::blocking::block_on(self.select_backend(choice))?;
        Ok(self)
    }

    /// How the model wants its sequences, with overrides applied.
    pub fn metadata(&self) -> &Metadata {
        &self.info.metadata
    }

    /// The encoder for this model's alphabet and N policy.
    pub fn encoder(&self, unknown: UnknownPolicy) -> Encoder {
        let m = &self.info.metadata;
        Encoder::new(m.alphabet, m.n_policy, unknown)
    }

    /// Checks records against the alphabet (so errors give positions in the record, not in a
    /// window), then cuts them into windows of the model's length: fitted, or tiled when
    /// `opts.stride` is set. A model that accepts any length takes each record whole.
    pub fn windows(
        &self,
        records: &[SeqRecord],
        opts: &PredictOptions,
    ) -> Result<Vec<Window>, Error> {
        let mut out = Vec::new();
        for r in records {
            out.extend(self.record_windows(r, opts)?);
        }
        Ok(out)
    }

    /// One record's windows (as [`Model::windows`] cuts them), made as they are taken: a
    /// chromosome tiled at a small stride never holds more windows than its caller keeps.
    pub fn record_windows<'a>(
        &self,
        r: &'a SeqRecord,
        opts: &PredictOptions,
    ) -> Result<encode::Windows<'a>, Error> {
        if r.seq.is_empty() {
            return Err(Error::Input(format!("sequence '{}' is empty", r.id)));
        }
        self.encoder(opts.unknown).check(&r.id, &r.seq)?;
        let width = self.info.metadata.length.unwrap_or(r.seq.len());
        if width > MAX_LENGTH {
            return Err(Error::Input(format!(
                "sequence '{}' has {width} bases; the model takes each sequence whole, and \
                 the longest window seqlens runs is {MAX_LENGTH} bases: give a window length \
                 to tile it (--length L --stride S; in JS, overrides {{ length }} and the \
                 stride option)",
                r.id
            )));
        }
        let pad = self.info.metadata.alphabet.wildcard();
        Ok(encode::Windows::new(
            &r.id,
            &r.seq,
            width,
            opts.stride,
            pad,
        )?)
    }

    /// Fits or tiles `records` to the model, then predicts every window (blocking; native
    /// only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn predict(
        &self,
        records: &[SeqRecord],
        opts: &PredictOptions,
    ) -> Result<Predictions, Error> {
        let windows = self.windows(records, opts)?;
        self.predict_windows(windows, opts, &mut |_, _| true)
    }

    /// Predicts windows that already have the model's length, on the selected backend,
    /// blocking until the GPU's readbacks arrive. `progress(done, total)` is called after
    /// every batch; returning `false` cancels. Native only (the browser awaits
    /// [`Model::predict_windows_async`]).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn predict_windows(
        &self,
        windows: Vec<Window>,
        opts: &PredictOptions,
        progress: &mut dyn FnMut(usize, usize) -> bool,
    ) -> Result<Predictions, Error> {
        crate::blocking::block_on(self.predict_windows_async(windows, opts, progress))
    }

    /// [`Model::predict_windows`], awaiting the GPU's readbacks.
    pub async fn predict_windows_async(
        &self,
        windows: Vec<Window>,
        opts: &PredictOptions,
        progress: &mut dyn FnMut(usize, usize) -> bool,
    ) -> Result<Predictions, Error> {
        let meta = &self.info.metadata;
        if let Output::Profile { .. } = meta.output {
            return Err(Error::Options(
                "this model predicts a profile per position; use the profile predictions \
                 (Model::predict_profiles, or seqlens predict, which writes tracks)"
                    .into(),
            ));
        }
        let mut values = Vec::new();
        let mut k = None;
        self.run_windows(&windows, opts, progress, &mut |chunk, rows| {
            let kk = rows.len() / chunk.len();
            if *k.get_or_insert(kk) != kk {
                return Err(Error::Run(format!(
                    "the model returned {kk} values per sequence for '{}' but {} before",
                    chunk[0].id,
                    k.unwrap_or(0)
                )));
            }
            values.extend_from_slice(&rows);
            Ok(())
        })
        .await?;
        let k = k.unwrap_or(self.info.outputs_per_sequence.unwrap_or(0));
        Ok(Predictions {
            ids: windows.iter().map(|w| w.id.clone()).collect(),
            shape: [windows.len(), k],
            windows,
            labels: self.labels_for(k),
            values,
        })
    }

    /// The names of the values predicted per sequence, as predictions label them (empty
    /// when the model's outputs have no fixed size).
    pub fn output_labels(&self) -> Vec<String> {
        self.labels_for(self.info.outputs_per_sequence.unwrap_or(0))
    }

    /// One name per output value: the metadata's labels when there are `k` of them,
    /// `output_i` otherwise.
    fn labels_for(&self, k: usize) -> Vec<String> {
        let labels = &self.info.metadata.labels;
        if labels.len() == k {
            labels.clone()
        } else {
            (0..k).map(|i| format!("output_{i}")).collect()
        }
    }

    /// Sequences per model run for sequences of `per_seq` input values: `opts.batch_size`
    /// capped by [`MAX_BATCH_VALUES`], or the model's fixed batch size.
    fn batch_cap(&self, opts: &PredictOptions, per_seq: usize) -> usize {
        match self.info.batch {
            Batch::Fixed(n) => n,
            Batch::Dynamic => opts
                .batch_size
                .max(1)
                .min((MAX_BATCH_VALUES / per_seq.max(1)).max(1)),
        }
    }

    /// Predicts sequences given already encoded, as `x` of `shape` `[n, channels, length]`
    /// (NCL: PyTorch's and tangermeme's convention) whatever layout the model takes, so
    /// soft or masked encodings run as given. Blocking; native only.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn predict_encoded(
        &self,
        x: &[f32],
        shape: [usize; 3],
        opts: &PredictOptions,
        progress: &mut dyn FnMut(usize, usize) -> bool,
    ) -> Result<EncodedPredictions, Error> {
        crate::blocking::block_on(self.predict_encoded_async(x, shape, opts, progress))
    }

    /// [`Model::predict_encoded`], awaiting the GPU's readbacks. `opts.rc_average` averages
    /// with the reverse complement, which for DNA and RNA reverses both axes (the
    /// complement's channels are the alphabet's in reverse order); `opts.stride` and
    /// `opts.unknown` concern sequences as text and are refused when set.
    pub async fn predict_encoded_async(
        &self,
        x: &[f32],
        shape: [usize; 3],
        opts: &PredictOptions,
        progress: &mut dyn FnMut(usize, usize) -> bool,
    ) -> Result<EncodedPredictions, Error> {
        let meta = &self.info.metadata;
        if let Output::Profile { .. } = meta.output {
            return Err(Error::Options(
                "this model predicts a profile per position; predict it from sequences, which \
                 places each track on its bases"
                    .into(),
            ));
        }
        if opts.stride.is_some() {
            return Err(Error::Options(
                "'stride' tiles sequences given as text; encoded sequences are predicted as given"
                    .into(),
            ));
        }
        if opts.unknown != UnknownPolicy::Error {
            return Err(Error::Options(
                "'unknown' says how to read characters outside the alphabet; encoded sequences \
                 have none"
                    .into(),
            ));
        }
        let [n, channels, len] = shape;
        if channels != self.info.channels {
            return Err(Error::Input(format!(
                "the encoded sequences have {channels} channels (axis 1 of [n, channels, length]); \
                 the model takes {} ({})",
                self.info.channels, meta.alphabet
            )));
        }
        if let Some(l) = meta.length
            && len != l
        {
            return Err(Error::Input(format!(
                "the encoded sequences have length {len} (axis 2 of [n, channels, length]); the \
                 model expects {l}"
            )));
        }
        if len == 0 || len > MAX_LENGTH {
            return Err(Error::Input(format!(
                "the encoded sequences have length {len}; expected 1 to {MAX_LENGTH}"
            )));
        }
        let per_seq = channels * len;
        if n.checked_mul(per_seq) != Some(x.len()) {
            return Err(Error::Input(format!(
                "{} values do not make the shape [{n}, {channels}, {len}]",
                x.len()
            )));
        }
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            return Err(Error::Input(format!(
                "encoded sequence {} has {} at channel {}, position {}; expected finite values",
                i / per_seq,
                x[i],
                i % per_seq / len,
                i % len
            )));
        }
        if opts.rc_average && meta.alphabet == crate::encode::Alphabet::Protein {
            return Err(Error::Options(
                "reverse-complement averaging needs a DNA or RNA model; this one reads protein"
                    .into(),
            ));
        }
        self.check_reversible(opts.rc_average)?;
        let layout = self.input_layout();
        let cap = self.batch_cap(opts, per_seq);
        let mut values = Vec::new();
        let mut done = 0;
        while done < n {
            let end = (done + cap).min(n);
            let ncl = &x[done * per_seq..end * per_seq];
            let forward = self
                .run_encoded(
                    to_layout(ncl, channels, len, layout),
                    layout,
                    end - done,
                    len,
                    false,
                )
                .await?;
            if opts.rc_average {
                let mut rc = ncl.to_vec();
                rc.chunks_mut(per_seq).for_each(|s| s.reverse());
                let reverse = self
                    .run_encoded(
                        to_layout(&rc, channels, len, layout),
                        layout,
                        end - done,
                        len,
                        true,
                    )
                    .await?;
                values.extend(forward.iter().zip(&reverse).map(|(a, b)| 0.5 * (a + b)));
            } else {
                values.extend(forward);
            }
            done = end;
            if !progress(done, n) {
                return Err(Error::Options("cancelled".into()));
            }
        }
        let k = values
            .len()
            .checked_div(n)
            .unwrap_or(self.info.outputs_per_sequence.unwrap_or(0));
        Ok(EncodedPredictions {
            labels: self.labels_for(k),
            values,
            shape: [n, k],
        })
    }

    /// Runs `windows` in batches of equal length, averaged with the reverse strand when
    /// asked, and hands each batch's outputs (`[batch, values per window]`) to `sink` in
    /// order. `progress(done, total)` follows every batch; returning `false` cancels.
    pub(crate) async fn run_windows(
        &self,
        windows: &[Window],
        opts: &PredictOptions,
        progress: &mut dyn FnMut(usize, usize) -> bool,
        sink: &mut BatchSink<'_>,
    ) -> Result<(), Error> {
        let meta = &self.info.metadata;
        for w in windows {
            if let Some(l) = meta.length
                && w.seq.len() != l
            {
                return Err(Error::Length {
                    id: w.id.clone(),
                    found: w.seq.len(),
                    expected: l,
                });
            }
        }
        // Each window's characters are checked as it is encoded (`encode_batch`).
        let encoder = self.encoder(opts.unknown);
        let total = windows.len();
        let mut done = 0;
        while done < total {
            let len = windows[done].seq.len();
            let cap = self.batch_cap(opts, encoder.channels() * len.max(1));
            let end = (done..total)
                .take(cap)
                .take_while(|&i| windows[i].seq.len() == len)
                .last()
                .map_or(done + 1, |i| i + 1);
            let chunk = &windows[done..end];
            let forward = self.run_chunk(&encoder, chunk, false).await?;
            let rows = if opts.rc_average {
                let reverse = self.run_chunk(&encoder, chunk, true).await?;
                forward
                    .iter()
                    .zip(&reverse)
                    .map(|(a, b)| 0.5 * (a + b))
                    .collect()
            } else {
                forward
            };
            sink(chunk, rows)?;
            done = end;
            if !progress(done, total) {
                return Err(Error::Options("cancelled".into()));
            }
        }
        Ok(())
    }

    /// Encodes and runs one batch on the selected backend;
    /// returns `[batch, values per sequence]`, outputs concatenated.
    async fn run_chunk(
        &self,
        encoder: &Encoder,
        chunk: &[Window],
        reverse: bool,
    ) -> Result<Vec<f32>, Error> {
        self.check_reversible(reverse)?;
        let meta = &self.info.metadata;
        let len = chunk[0].seq.len();
        let rc;
        let seqs: Vec<&[u8]> = if reverse {
            rc = chunk
                .iter()
                .map(|w| encode::reverse_complement(&w.seq, meta.alphabet))
                .collect::<Result<Vec<_>, _>>()?;
            rc.iter().map(Vec::as_slice).collect()
        } else {
            chunk.iter().map(|w| w.seq.as_slice()).collect()
        };
        let ids: Vec<&str> = chunk.iter().map(|w| w.id.as_str()).collect();
        let layout = self.input_layout();
        let x = encoder.encode_batch(&ids, &seqs, layout)?;
        self.run_encoded(x, layout, chunk.len(), len, reverse).await
    }

    /// The layout the selected backend takes: the engine and the GPU take every model as
    /// NCL (a channels-last input is a view of it there); tract runs the model's own input.
    fn input_layout(&self) -> Layout {
        match self.runner {
            backend::Runner::Tract => self.info.metadata.layout,
            backend::Runner::Engine | backend::Runner::Gpu(_) => Layout::Ncl,
        }
    }

    /// Refuses reverse-complement averaging where outputs are not one row per sequence.
    fn check_reversible(&self, reverse: bool) -> Result<(), Error> {
        if reverse
            && self.info.metadata.output == Output::Values
            && let Some(i) = self.info.output_ranks.iter().position(|&r| r > 2)
        {
            return Err(Error::Options(format!(
                "reverse-complement averaging needs outputs of shape [batch, k]; output {i} has rank {}",
                self.info.output_ranks[i]
            )));
        }
        Ok(())
    }

    /// Runs `n` encoded sequences of length `len` (`x` in `layout`, which the selected
    /// backend takes) as one batch, padded to a fixed batch size; `reverse` says they are
    /// reverse complements, whose profiles are flipped back. Returns `[n, values per
    /// sequence]`, outputs concatenated.
    async fn run_encoded(
        &self,
        mut x: Vec<f32>,
        layout: Layout,
        n: usize,
        len: usize,
        reverse: bool,
    ) -> Result<Vec<f32>, Error> {
        let meta = &self.info.metadata;
        let channels = self.info.channels;
        let mut batch = n;
        if let Batch::Fixed(size) = self.info.batch {
            // Pad a short final batch with zeros; the extra rows are dropped below.
            x.resize(size * channels * len, 0.0);
            batch = size;
        }
        let shape = match layout {
            Layout::Ncl => [batch, channels, len],
            Layout::Nlc => [batch, len, channels],
        };
        // Each output as (values, rank).
        let outputs = self.forward(x, &shape).await?;
        let mut per_output = Vec::with_capacity(outputs.len());
        for (i, (mut flat, rank)) in outputs.into_iter().enumerate() {
            match (rank, reverse, meta.output) {
                (
                    3,
                    true,
                    Output::Profile {
                        log_total: true, ..
                    },
                ) => {
                    return Err(Error::Options(
                        "reverse-complement averaging of a stranded profile with a count output \
                         (seqlens.counts) would need its strands swapped, which is not \
                         implemented; predict without it"
                            .into(),
                    ));
                }
                (
                    3,
                    true,
                    Output::Profile {
                        offset, context, ..
                    },
                ) if 2 * offset == context => {
                    // The reverse strand's positions run backwards: flip them back.
                    let classes = meta.labels.len().max(1);
                    let p = flat.len() / batch / classes;
                    flat.chunks_mut(p.max(1)).for_each(|row| row.reverse());
                }
                (3, true, Output::Profile { .. }) => {
                    return Err(Error::Options(
                        "reverse-complement averaging of a profile needs the same context on both sides (seqlens.context = 2 x seqlens.offset)".into(),
                    ));
                }
                // Other ranks above 2 were refused from the model's output ranks above.
                _ => {}
            }
            if !flat.len().is_multiple_of(batch) {
                return Err(Error::Run(format!(
                    "output {i} has {} values, which does not split into {batch} sequences",
                    flat.len()
                )));
            }
            per_output.push(flat);
        }
        let mut rows = Vec::new();
        for b in 0..n {
            for flat in &per_output {
                let k = flat.len() / batch;
                rows.extend_from_slice(&flat[b * k..(b + 1) * k]);
            }
        }
        Ok(rows)
    }
}

/// The error for `what`, which needs the engine graph, on a model whose import failed (`why`).
fn no_engine(what: &str, why: &str) -> Error {
    Error::Options(format!(
        "{what} needs the model in the seqlens engine, which cannot import it ({why})"
    ))
}

fn join(shape: &[Dim]) -> String {
    shape
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Decides which axis holds channels. Metadata wins; otherwise the axis of size 4 or 20 that
/// is not also the other axis's size.
fn infer_layout(
    shape: &[Dim],
    wanted: &Overrides,
) -> Result<(Layout, usize, Option<usize>), Error> {
    let (a, b) = (shape[1].fixed(), shape[2].fixed());
    let is_channels = |d: Option<usize>| matches!(d, Some(4) | Some(20));
    let layout = match wanted.layout {
        Some(l) => l,
        None if is_channels(a) && !(is_channels(b) && a != b && b < a) => Layout::Ncl,
        None if is_channels(b) => Layout::Nlc,
        None => {
            return Err(Error::Input(format!(
                "cannot tell channels from length in shape [{}]; set seqlens.layout (NCL or NLC)",
                join(shape)
            )));
        }
    };
    let (c, l) = match layout {
        Layout::Ncl => (a, b),
        Layout::Nlc => (b, a),
    };
    let c = c.ok_or_else(|| {
        Error::Input(format!(
            "the channel axis of shape [{}] has no fixed size",
            join(shape)
        ))
    })?;
    Ok((layout, c, l))
}

/// Labels when the metadata gives none: the output's name when it yields one value per
/// sequence, `name[i]` otherwise.
fn default_labels(
    outputs: &[TensorInfo],
    per_output: &[Option<usize>],
    total: usize,
) -> Vec<String> {
    let mut labels = Vec::with_capacity(total);
    for (o, k) in outputs.iter().zip(per_output) {
        match k {
            Some(1) => labels.push(o.name.clone()),
            Some(k) => labels.extend((0..*k).map(|i| format!("{}[{i}]", o.name))),
            None => {}
        }
    }
    labels
}

impl Model {
    /// Windows of the model's length centred on each BED interval, read from `genome`. Bases
    /// past a contig end are `N`. A model that accepts any length takes each interval as is.
    /// Ids are the BED name column, or `chrom:start-end`.
    pub fn bed_windows<R: std::io::BufRead + std::io::Seek>(
        &self,
        intervals: &[crate::io::Interval],
        genome: &mut crate::io::IndexedFasta<R>,
    ) -> Result<Vec<Window>, crate::Error> {
        let mut out = Vec::with_capacity(intervals.len());
        for iv in intervals {
            let (start, end) = match self.info.metadata.length {
                Some(l) => {
                    let center = (iv.start + iv.end) as i64 / 2;
                    let start = center - l as i64 / 2;
                    (start, start + l as i64)
                }
                None => (iv.start as i64, iv.end as i64),
            };
            let seq = genome.fetch(&iv.chrom, start, end)?;
            out.push(Window {
                id: iv
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("{}:{}-{}", iv.chrom, iv.start, iv.end)),
                chrom: iv.chrom.clone(),
                start,
                end,
                seq,
            });
        }
        Ok(out)
    }
}
