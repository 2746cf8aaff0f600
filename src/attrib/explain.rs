//! One entry point for every attribution method, shared by the CLI, the Rust API and the
//! browser bindings: a model (whose engine graph, when its ops import, gives gradients and
//! fast ISM) plus the attribution settings.

use serde::{Deserialize, Serialize};

use std::ops::Range;

use super::{Baseline, Ism, ProfileTarget, Target, fast_ism, profile_ism, saliency};
use crate::encode::{Layout, UnknownPolicy, Window};
use crate::model::{Model, PredictOptions};
use crate::nn::Tensor;

/// An attribution method and its settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "method")]
pub enum Method {
    /// d target / d input (engine models).
    Gradient,
    /// Gradient x one-hot input (engine models).
    GradientTimesInput,
    /// Integrated gradients with `steps` midpoint steps from `baseline` (engine models).
    IntegratedGradients {
        /// Points on the path from the baseline to the input.
        steps: usize,
        /// Where the path starts.
        baseline: Baseline,
    },
    /// DeepLIFT/DeepSHAP (engine models; the DeepLIFT rules run where gradients run):
    /// hypothetical contributions averaged over `references`, as tangermeme's
    /// `deep_lift_shap`.
    DeepLiftShap {
        /// The references compared with: dinucleotide shuffles or the user's sequences.
        references: Baseline,
    },
    /// Saturation mutagenesis through the model as given (any model).
    Ism,
    /// Saturation mutagenesis recomputing only each substitution's receptive field (engine
    /// models); equal to `Ism`.
    FastIsm,
}

impl Method {
    /// Whether the method starts from a baseline or references (integrated gradients,
    /// DeepLIFT/SHAP): the others refuse baseline options instead of ignoring them.
    pub fn uses_baseline(&self) -> bool {
        matches!(
            self,
            Method::IntegratedGradients { .. } | Method::DeepLiftShap { .. }
        )
    }

    /// Parses the CLI/JS names: grad, ixg, ig, deeplift-shap, ism, fast-ism (`baseline` is
    /// integrated gradients' start and DeepLIFT/SHAP's references).
    pub fn parse(name: &str, steps: usize, baseline: Baseline) -> Result<Method, crate::Error> {
        Ok(match name {
            "grad" | "gradient" => Method::Gradient,
            "ixg" | "gradient_times_input" => Method::GradientTimesInput,
            "ig" | "integrated_gradients" => Method::IntegratedGradients { steps, baseline },
            "deeplift-shap" | "deep_lift_shap" | "deepshap" => Method::DeepLiftShap {
                references: baseline,
            },
            "ism" => Method::Ism,
            "fast-ism" | "fast_ism" => Method::FastIsm,
            other => {
                return Err(crate::Error::Invalid(format!(
                    "unknown attribution method '{other}'; expected grad, ixg, ig, deeplift-shap, ism or fast-ism"
                )));
            }
        })
    }

    /// How many dinucleotide shuffles the method `name` averages over when the user does
    /// not say: tangermeme's 20 for DeepLIFT/SHAP, 10 for integrated gradients.
    pub fn default_shuffles(name: &str) -> usize {
        match Method::parse(name, 1, Baseline::Zeros) {
            Ok(Method::DeepLiftShap { .. }) => 20,
            _ => 10,
        }
    }

    fn needs_engine(&self) -> bool {
        !matches!(self, Method::Ism)
    }
}

/// A method named as the CLI and the bindings take it, with its optional settings: turned
/// into a [`Method`] by [`MethodOptions::method`], which refuses settings the method would
/// ignore.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MethodOptions {
    /// grad, ixg, ig, deeplift-shap, ism or fast-ism (default ixg).
    pub method: Option<String>,
    /// Integrated gradients' steps (default 50).
    pub steps: Option<usize>,
    /// zeros, uniform or shuffle (default shuffle).
    pub baseline: Option<String>,
    /// Dinucleotide shuffles averaged over (default [`Method::default_shuffles`]).
    pub shuffles: Option<usize>,
    /// Seeds the shuffles (default 0).
    pub seed: Option<u64>,
    /// The user's references per sequence id, in place of shuffles.
    pub references: Option<std::collections::BTreeMap<String, Vec<String>>>,
}

impl MethodOptions {
    /// The method, or an error naming the setting that conflicts with it.
    pub fn method(self) -> Result<Method, crate::Error> {
        let name = self.method.as_deref().unwrap_or("ixg");
        let given = [
            ("references", self.references.is_some()),
            ("baseline", self.baseline.is_some()),
            ("shuffles", self.shuffles.is_some()),
            ("seed", self.seed.is_some()),
        ];
        let bad = |m: String| Err(crate::Error::Invalid(m));
        if self.references.is_some()
            && let Some((other, _)) = given[1..].iter().find(|(_, set)| *set)
        {
            return bad(format!(
                "references are the baseline: '{other}' cannot be given with them"
            ));
        }
        let baseline = match self.references {
            Some(references) => Baseline::Given { references },
            None => Baseline::parse(
                self.baseline.as_deref().unwrap_or("shuffle"),
                self.shuffles.unwrap_or(Method::default_shuffles(name)),
                self.seed.unwrap_or(0),
            )?,
        };
        let method = Method::parse(name, self.steps.unwrap_or(50), baseline)?;
        if !method.uses_baseline()
            && let Some((option, _)) = given.iter().find(|(_, set)| *set)
        {
            return bad(format!(
                "method '{name}' takes no baseline or references: '{option}' would be ignored"
            ));
        }
        if self.steps.is_some() && !matches!(method, Method::IntegratedGradients { .. }) {
            return bad(format!(
                "'steps' is for integrated gradients (ig); method '{name}' would ignore it"
            ));
        }
        Ok(method)
    }
}

/// An attribution for one window, over its attributed positions (the whole window unless
/// a range or a profile target narrows it).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Attribution {
    /// The window's name (the record's, or `record:start-end` for a tile).
    pub id: String,
    /// The record the window was cut from.
    pub chrom: String,
    /// The coordinate of the first attributed position.
    pub start: i64,
    /// The attributed positions' sequence.
    pub sequence: String,
    /// Symbols per position (4 for DNA).
    pub channels: usize,
    /// Positions attributed.
    pub length: usize,
    /// `[channels, length]`: the attribution of each symbol at each position. For ISM, the
    /// target's change when that symbol is substituted in (0 for the observed base); for
    /// DeepLIFT/SHAP, each symbol's hypothetical contribution.
    pub map: Vec<f32>,
    /// One score per position: the sum over channels (gradient methods), the observed
    /// base's contribution (DeepLIFT/SHAP), or minus the mean substitution effect (ISM:
    /// positive where the observed base raises the target).
    pub per_base: Vec<f32>,
    /// The target's value on the unmodified window.
    pub target_value: f32,
    /// DeepLIFT/SHAP: the largest convergence delta over the references,
    /// `|sum of contributions - (f(x) - f(reference))|`; above
    /// [`DELTA_TOLERANCE`](super::DELTA_TOLERANCE) the attributions are suspect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta: Option<f32>,
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

/// Bases on each side of a profile target that are attributed when no range is given.
pub const PROFILE_FLANK: i64 = 50;

/// A model ready to be explained.
pub struct Explainer {
    model: Model,
    /// What a character outside the alphabet does: refused, or read as N.
    pub unknown: UnknownPolicy,
    /// The positions attributed (and mutated by ISM), `from..to` in the coordinates of
    /// [`Attribution::start`]; `None`: the whole window, or for a profile target its
    /// positions and `PROFILE_FLANK` (50) bases on each side.
    pub range: Option<(i64, i64)>,
}

impl Explainer {
    /// Wraps a loaded model.
    pub fn new(model: Model) -> Explainer {
        Explainer {
            model,
            unknown: UnknownPolicy::Error,
            range: None,
        }
    }

    /// The model explained.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// [`Explainer::select_backend`], blocking until the device is ready (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn with_backend(
        mut self,
        choice: crate::model::Backend,
    ) -> Result<Explainer, crate::model::Error> {
        self.model = self.model.with_backend(choice)?;
        Ok(self)
    }

    /// Selects the backend that runs the model's predictions (and so ISM and variant
    /// scoring) and, where its kernels cover the graph, the GPU's gradients.
    pub async fn select_backend(
        &mut self,
        choice: crate::model::Backend,
    ) -> Result<&crate::model::BackendReport, crate::model::Error> {
        self.model.select_backend(choice).await
    }

    /// Where gradient attributions and DeepLIFT run: `gpu`, or `cpu` with the reason.
    pub fn gradient_backend(&self) -> String {
        match self.model.gradient_fallback() {
            None => "gpu".into(),
            Some(why) => format!("cpu ({why})"),
        }
    }

    /// Why gradient methods are unavailable, if they are.
    pub fn engine_error(&self) -> Option<&str> {
        self.model.engine().err()
    }

    /// The target summing the named labels (the first label when `names` is empty). For a
    /// profile model, `at` names the bases whose outputs are summed (`from..to`, in the
    /// coordinates of [`Attribution::start`]); other models take no positions.
    pub fn target(&self, names: &[String], at: Option<(i64, i64)>) -> Result<Target, crate::Error> {
        let classes = if names.is_empty() {
            vec![0]
        } else {
            self.model
                .metadata()
                .label_indices(names)
                .map_err(|e| crate::Error::Invalid(format!("target: {e}")))?
        };
        Ok(match at {
            Some((from, to)) => Target::Positions { classes, from, to },
            None if names.is_empty() => Target::Output(0),
            None => Target::Sum(classes),
        })
    }

    /// The windows to explain for `records`: each record fitted to the model's length, as
    /// for predictions; or, for a target over profile positions, one window per record whose
    /// outputs are the target's bases (and whose input covers [`Explainer::range`]), with N
    /// past the record's ends, as `Model::profile_windows` pads them: the target's value is
    /// what profile predictions report for those bases.
    pub fn windows(
        &self,
        records: &[crate::io::SeqRecord],
        target: &Target,
    ) -> Result<Vec<Window>, crate::Error> {
        let opts = PredictOptions {
            unknown: self.unknown,
            ..Default::default()
        };
        let (Ok((offset, context)), Target::Positions { from, to, .. }) =
            (self.model.profile(), target)
        else {
            return Ok(self.model.windows(records, &opts)?);
        };
        let (offset, right) = (offset as i64, (context - offset) as i64);
        let (from, to) = match self.range {
            Some((a, b)) => ((*from).min(a + offset), (*to).max(b - right)),
            None => (
                (*from).min(from - PROFILE_FLANK + offset),
                (*to).max(to + PROFILE_FLANK - right),
            ),
        };
        let mut out = Vec::with_capacity(records.len());
        for r in records {
            let mut w: Vec<_> = self
                .model
                .record_profile_windows(r, from, to, &opts)?
                .collect();
            if w.len() != 1 {
                return Err(crate::Error::Invalid(format!(
                    "'{}': the target and the attributed range span {} windows of the \
                     model's length; narrow them",
                    r.id,
                    w.len()
                )));
            }
            out.append(&mut w);
        }
        Ok(out)
    }

    /// For a profile model, `target` resolved against `window`'s output positions; `None`
    /// for a model that predicts one vector per sequence.
    fn profile_target(
        &self,
        window: &Window,
        target: &Target,
    ) -> Result<Option<ProfileTarget>, crate::Error> {
        let meta = self.model.metadata();
        let profile = self.model.profile().ok();
        let (offset, context, classes, from, to) = match (profile, target) {
            (None, Target::Positions { .. }) => {
                return Err(crate::Error::Invalid(
                    "target positions are for models that predict a profile per position; \
                     this one predicts one vector per sequence (name labels only)"
                        .into(),
                ));
            }
            (None, _) => return Ok(None),
            (Some((offset, context)), Target::Positions { classes, from, to }) => {
                (offset, context, classes, *from, *to)
            }
            (Some(_), _) => {
                return Err(crate::Error::Invalid(
                    "this model predicts a profile per position: name the positions to \
                     explain (--at in the CLI, `at` in JS)"
                        .into(),
                ));
            }
        };
        let l = window.seq.len();
        let positions = meta.output.positions(l).ok_or_else(|| {
            crate::Error::Invalid(format!(
                "'{}' has {l} bases; the model needs more than its context of {context}",
                window.id
            ))
        })?;
        // Output j describes base `window.start + offset + j`.
        let first = window.start + offset as i64;
        let (a, b) = (from - first, to - first);
        if from >= to || a < 0 || b > positions as i64 {
            return Err(crate::Error::Invalid(format!(
                "target positions {from}..{to} are not among the bases the model predicts for \
                 '{}' ({first}..{}): it needs {offset} bases of context on the left and {} on \
                 the right",
                window.id,
                first + positions as i64,
                context - offset
            )));
        }
        let (a, b) = (a as usize, b as usize);
        let n = meta.labels.len();
        let mut weights = vec![0.0; n * (b - a)];
        for &c in classes {
            if c >= n {
                return Err(crate::Error::Invalid(format!(
                    "target class {c} is out of range: the model has {n} classes"
                )));
            }
            for w in &mut weights[c * (b - a)..(c + 1) * (b - a)] {
                *w += 1.0;
            }
        }
        Ok(Some(ProfileTarget {
            out: a..b,
            classes: n,
            weights,
        }))
    }

    /// The window positions attributed: [`Explainer::range`], else the profile target's
    /// positions with `PROFILE_FLANK` (50) bases on each side, else the whole window.
    fn span(
        &self,
        window: &Window,
        profile: Option<&ProfileTarget>,
    ) -> Result<Range<usize>, crate::Error> {
        let l = window.seq.len() as i64;
        let (a, b) = match (self.range, profile) {
            (Some((from, to)), _) => (from - window.start, to - window.start),
            (None, Some(p)) => {
                let offset = self.model.profile().map(|p| p.0).unwrap_or(0) as i64;
                (
                    (p.out.start as i64 + offset - PROFILE_FLANK).max(0),
                    (p.out.end as i64 + offset + PROFILE_FLANK).min(l),
                )
            }
            (None, None) => (0, l),
        };
        if a < 0 || a >= b || b > l {
            return Err(crate::Error::Invalid(format!(
                "the range {}..{} is not inside '{}' ({}..{})",
                a + window.start,
                b + window.start,
                window.id,
                window.start,
                window.start + l
            )));
        }
        Ok(a as usize..b as usize)
    }

    /// Explains one window (already of the model's length), blocking (native only).
    /// `progress(done, total)` is called during ISM; returning `false` cancels.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn explain(
        &mut self,
        window: &Window,
        target: &Target,
        method: &Method,
        progress: &mut dyn FnMut(usize, usize) -> bool,
    ) -> Result<Attribution, crate::Error> {
        crate::blocking::block_on(self.explain_async(window, target, method, progress))
    }

    /// [`Explainer::explain`], awaiting the GPU's readbacks (the browser's path).
    pub async fn explain_async(
        &mut self,
        window: &Window,
        target: &Target,
        method: &Method,
        progress: &mut dyn FnMut(usize, usize) -> bool,
    ) -> Result<Attribution, crate::Error> {
        let meta = self.model.metadata();
        let symbols = meta.alphabet.symbols().to_vec();
        let encoder = self.model.encoder(self.unknown);
        let (c, l) = (symbols.len(), window.seq.len());
        let profile = self.profile_target(window, target)?;
        let span = self.span(window, profile.as_ref())?;
        if method.needs_engine()
            && let Err(e) = self.model.engine()
        {
            return Err(crate::Error::Invalid(format!(
                "this method needs the model in the seqlens engine, which cannot import it \
                 ({e}); use ism, which works with any model"
            )));
        }
        let x = Tensor::new(
            &[1, c, l],
            encoder.encode(&window.id, &window.seq, Layout::Ncl)?,
        )?;
        // ISM results cover `span`; for a profile target they carry the target's value only.
        let from_ism = |r: Ism, w: &[f32]| -> (Vec<f32>, Vec<f32>, f32) {
            let n = r.length;
            let mut map = vec![0.0; c * n];
            for t in 0..n {
                for ch in 0..c {
                    map[ch * n + t] = r.effect(t, ch, w);
                }
            }
            let value = w.iter().zip(&r.reference).map(|(w, v)| w * v).sum();
            (map, r.per_base(w), value)
        };
        let opts = PredictOptions {
            unknown: self.unknown,
            ..Default::default()
        };
        let mut delta = None;
        let (map, per_base, target_value) = match (method, &profile) {
            (Method::Ism, None) => {
                let r = super::ism::ism_async(&self.model, window, span.clone(), &opts, progress)
                    .await?;
                let w = target.weights(r.labels)?;
                from_ism(r, &w)
            }
            (Method::Ism, Some(p)) => {
                let r =
                    super::ism::profile_ism(&self.model, window, span.clone(), p, &opts, progress)
                        .await?;
                from_ism(r, &[1.0])
            }
            (Method::FastIsm, None) => {
                let g = self.model.engine_for("fast ISM")?;
                let r = fast_ism(g, &x, &window.seq, &symbols, span.clone(), progress)?;
                let w = target.weights(r.labels)?;
                from_ism(r, &w)
            }
            (Method::FastIsm, Some(p)) => {
                let g = self.model.engine_for("fast ISM")?;
                let r = profile_ism(g, &x, &window.seq, &symbols, span.clone(), p, progress)?;
                from_ism(r, &[1.0])
            }
            (Method::DeepLiftShap { references }, _) => {
                let refs = references.inputs(&window.id, &window.seq, &encoder)?;
                let outputs =
                    (self.model.engine_for("DeepLIFT/SHAP")?).output_len(&x.shape[1..])?;
                let weights = match &profile {
                    Some(p) => p.full(outputs / p.classes),
                    None => target.weights(outputs)?,
                };
                // The model runs the multipliers where it runs gradients: the GPU where its
                // kernels cover the graph.
                let r =
                    super::deeplift::deep_lift_shap(&mut self.model, &x, &refs, &weights).await?;
                delta = Some(r.max_delta());
                let map = (0..c)
                    .flat_map(|ch| r.hypothetical[ch * l + span.start..ch * l + span.end].to_vec())
                    .collect();
                (map, r.per_base[span.clone()].to_vec(), r.value)
            }
            (m, _) => {
                let y = self.model.engine_for("a gradient method")?.predict(&x)?;
                let target = match &profile {
                    Some(p) => Target::Weights(p.full(y.data.len() / p.classes)),
                    None => target.clone(),
                };
                let value = target.apply(&y.data)?;
                // The model computes the gradients on its backend: the GPU where its kernels
                // cover the graph, the CPU engine otherwise.
                let model = &mut self.model;
                let map = match m {
                    Method::Gradient => saliency::gradient(model, &x, &target).await?,
                    Method::GradientTimesInput => {
                        saliency::gradient_times_input(model, &x, &target).await?
                    }
                    Method::IntegratedGradients { steps, baseline } => {
                        let b = baseline.inputs(&window.id, &window.seq, &encoder)?;
                        saliency::integrated_gradients(model, &x, &b, &target, *steps).await?
                    }
                    Method::Ism | Method::FastIsm | Method::DeepLiftShap { .. } => {
                        unreachable!("handled above")
                    }
                };
                // Gradients cover the window; keep the attributed positions.
                let map: Vec<f32> = (0..c)
                    .flat_map(|ch| map.data[ch * l + span.start..ch * l + span.end].to_vec())
                    .collect();
                let pb = super::per_base(&map, c);
                (map, pb, value)
            }
        };
        Ok(Attribution {
            id: window.id.clone(),
            chrom: window.chrom.clone(),
            start: window.start + span.start as i64,
            sequence: String::from_utf8_lossy(&window.seq[span.clone()]).into_owned(),
            channels: c,
            length: span.len(),
            map,
            per_base,
            target_value,
            delta,
        })
    }
}
