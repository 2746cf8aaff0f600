//! JavaScript bindings (`#[wasm_bindgen]`) only: DTO conversion, error mapping and the panic
//! hook. Every export returns a `Result`, so JS sees a thrown `Error` with the library's
//! message; the algorithms live in the other modules.

use std::sync::Mutex;

use js_sys::{Float32Array, Object, Reflect, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::attrib::{self, Explainer};
use crate::design;
use crate::encode::{self, Alphabet, Encoder, Layout, NPolicy, UnknownPolicy};
use crate::io;
use crate::model::{self, Backend, Overrides, PredictOptions};
use crate::motif;
use crate::options::{self, struct_fields};
use crate::output;
use crate::perturb;
use crate::plot::{self, PlotOptions};
use crate::splice::{self, SpliceOptions};
use crate::variants::{self, VariantOptions};

/// The last panic's message, from whichever thread it happened on (a pool worker's too).
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Records panic messages so the JS wrapper can turn a trap into a readable `Error`.
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        if let Ok(mut p) = LAST_PANIC.lock() {
            *p = Some(info.to_string());
        }
    }));
}

/// The message of the last Rust panic, if any (read by the JS wrapper after a `RuntimeError`).
#[wasm_bindgen(js_name = lastPanic)]
pub fn last_panic() -> Option<String> {
    LAST_PANIC.lock().ok().and_then(|p| p.clone())
}

/// The threads the engine's kernels run on: the Web Workers of `initThreadPool` in the
/// threaded build, 1 in the plain one.
#[wasm_bindgen(js_name = threadCount)]
pub fn thread_count() -> usize {
    rayon::current_num_threads()
}

fn err(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsError> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(err)
}

/// An options object as `T`, or `T::default()` when absent. A key that `T` does not have is
/// refused, naming it and the keys it has: serde_wasm_bindgen reads only the fields it knows,
/// so a misspelt option would otherwise be ignored.
fn from_js<T: serde::de::DeserializeOwned + Default>(v: JsValue, what: &str) -> Result<T, JsError> {
    if v.is_undefined() || v.is_null() {
        return Ok(T::default());
    }
    if let Some(fields) = struct_fields::<T>() {
        check_keys(&v, fields, what)?;
    }
    serde_wasm_bindgen::from_value(v).map_err(|e| JsError::new(&format!("invalid {what}: {e}")))
}

/// As [`from_js`], for options with nested objects of settings (`T`'s fields are structs
/// that deny unknown fields): serde_wasm_bindgen reads only a struct's known keys at every
/// level, so they are read through JSON, where a misspelt nested key is refused by name.
fn from_js_nested<T: serde::de::DeserializeOwned + Default>(
    v: JsValue,
    what: &str,
) -> Result<T, JsError> {
    if v.is_undefined() || v.is_null() {
        return Ok(T::default());
    }
    let text = js_sys::JSON::stringify(&v)
        .ok()
        .and_then(|t| t.as_string())
        .ok_or_else(|| JsError::new(&format!("invalid {what}: not a plain object")))?;
    options::from_json(&text, what).map_err(|e| JsError::new(&e))
}

/// Refuses an option object's key that is not in `known`, naming it.
fn check_keys(options: &JsValue, known: &[&str], what: &str) -> Result<(), JsError> {
    if options.is_object() {
        let keys: Vec<String> = Object::keys(options.unchecked_ref::<Object>())
            .iter()
            .map(|k| k.as_string().unwrap_or_default())
            .collect();
        options::check_keys(keys, known, what).map_err(|e| JsError::new(&e))?;
    }
    Ok(())
}

/// Text from a JS string, `Uint8Array` or `ArrayBuffer`.
fn bytes_of(v: &JsValue, what: &str) -> Result<Vec<u8>, JsError> {
    if let Some(s) = v.as_string() {
        return Ok(s.into_bytes());
    }
    if v.is_instance_of::<Uint8Array>() || v.is_instance_of::<js_sys::ArrayBuffer>() {
        return Ok(Uint8Array::new(v).to_vec());
    }
    Err(JsError::new(&format!(
        "{what} must be a string, Uint8Array or ArrayBuffer"
    )))
}

/// A JS progress callback `(done, total) => boolean | undefined`: returning `false` cancels.
fn progress_fn(f: &Option<js_sys::Function>) -> impl FnMut(usize, usize) -> bool + '_ {
    move |done, total| report_progress(f, &[(done as f64).into(), (total as f64).into()])
}

/// Calls a JS progress callback (if any) with `args`; `false` if it returned `false`
/// (cancel), `true` otherwise, a throwing callback included.
fn report_progress(f: &Option<js_sys::Function>, args: &[JsValue]) -> bool {
    match f {
        None => true,
        Some(f) => f
            .apply(&JsValue::NULL, &args.iter().collect::<js_sys::Array>())
            .map(|r| r.as_bool() != Some(false))
            .unwrap_or(true),
    }
}

/// An ONNX sequence model, with the engine graph that gradient attributions need when the
/// model's operators allow.
#[wasm_bindgen]
pub struct Model {
    inner: Explainer,
}

#[wasm_bindgen]
impl Model {
    /// Loads a model from its bytes. `overrides` may set `alphabet`, `layout`, `length`,
    /// `nPolicy`, `labels` and `task` in place of the model's metadata. `external` maps the
    /// names of a model's external data files (as the model gives them, e.g.
    /// `model.onnx.data`) to their bytes.
    pub fn load(bytes: &[u8], overrides: JsValue, external: JsValue) -> Result<Model, JsError> {
        let overrides: Overrides = from_js(overrides, "overrides")?;
        let inlined = if external.is_object() {
            crate::onnx::inline_external_data(bytes, &mut |name| {
                let v = Reflect::get(&external, &JsValue::from_str(name))
                    .ok()
                    .filter(|v| !v.is_undefined())
                    .ok_or_else(|| format!("externalData has no file named '{name}'"))?;
                Ok(Uint8Array::new(&v).to_vec())
            })
            .map_err(err)?
        } else {
            None
        };
        let bytes = inlined.as_deref().unwrap_or(bytes);
        let model = model::Model::from_bytes_with(bytes, &overrides).map_err(err)?;
        Ok(Model {
            inner: Explainer::new(model),
        })
    }

    /// Inputs, outputs, metadata, operators and parameter count, plus `gradients`: whether
    /// the gradient methods are available (and `gradientsUnavailable`, why not), and
    /// `capabilities`: `{backends, methods}`, each `{name, available, runsOn, reason}`.
    pub fn info(&self) -> Result<JsValue, JsError> {
        let v = to_js(self.inner.model().info())?;
        let set = |k: &str, x: JsValue| Reflect::set(&v, &JsValue::from_str(k), &x);
        set(
            "gradients",
            JsValue::from_bool(self.inner.engine_error().is_none()),
        )
        .map_err(|_| JsError::new("info"))?;
        if let Some(e) = self.inner.engine_error() {
            set("gradientsUnavailable", JsValue::from_str(e)).map_err(|_| JsError::new("info"))?;
        }
        set("capabilities", to_js(&self.inner.capabilities())?)
            .map_err(|_| JsError::new("info"))?;
        Ok(v)
    }

    /// Chooses where predictions run: `auto` (WebGPU on a hardware adapter when the model's
    /// graph runs there, else the CPU), `webgpu` (fails with the reason if it cannot) or
    /// `cpu`. Resolves to `{backend, adapter, reason}`.
    #[wasm_bindgen(js_name = selectBackend)]
    pub async fn select_backend(&mut self, backend: String) -> Result<JsValue, JsError> {
        let choice: Backend = backend.parse().map_err(err)?;
        let report = self.inner.select_backend(choice).await.map_err(err)?;
        to_js(report)
    }

    /// The backend predictions run on: `{backend: 'cpu' | 'webgpu', adapter, reason}`.
    pub fn backend(&self) -> Result<JsValue, JsError> {
        to_js(self.inner.model().backend())
    }

    /// Where the gradient methods and DeepLIFT/SHAP run: `gpu`, or `cpu (why)`.
    #[wasm_bindgen(js_name = gradientBackend)]
    pub fn gradient_backend(&self) -> String {
        self.inner.gradient_backend()
    }

    /// Predicts FASTA/FASTQ text (string or bytes, gzip allowed) or an array of sequences
    /// (strings, or `{id, seq}` objects) on the selected backend. Resolves to `{ids, labels,
    /// values, shape, windows, backend}`.
    pub async fn predict(
        &self,
        input: JsValue,
        options: JsValue,
        progress: Option<js_sys::Function>,
    ) -> Result<JsValue, JsError> {
        let opts: PredictOptions = from_js(options, "predict options")?;
        let records = records_of(&input)?;
        let model = self.inner.model();
        let out = if model.profile().is_ok() {
            let windows = model.profile_windows(&records, &opts).map_err(err)?;
            let p = model
                .predict_profiles_async(&windows, &opts, &mut progress_fn(&progress))
                .await
                .map_err(err)?;
            profiles_to_js(&p)?
        } else {
            let windows = model.windows(&records, &opts).map_err(err)?;
            let preds = model
                .predict_windows_async(windows, &opts, &mut progress_fn(&progress))
                .await
                .map_err(err)?;
            predictions_to_js(&preds)?
        };
        Reflect::set(
            &out,
            &JsValue::from_str("backend"),
            &JsValue::from_str(&model.backend().backend),
        )
        .map_err(|_| JsError::new("predict"))?;
        Ok(out)
    }

    /// Attribution maps for each sequence of `input` (as for `predict`). Options: `method`
    /// (grad, ixg, ig, deeplift-shap, ism, fast-ism; default ixg), `target` (label names,
    /// summed; default the first label), `at` (profile models: `[from, to]`, the bases whose
    /// predictions are explained), `range` (`[from, to]`, the positions attributed; default
    /// the whole sequence, or `at` with 50 bases on each side), `steps` (ig, default 50),
    /// `baseline` (ig's start and DeepLIFT/SHAP's references: zeros, uniform, shuffle),
    /// `shuffles` (default 10 for ig, 20 for deeplift-shap), `seed`, `references` (instead
    /// of shuffles: `{id: [sequences]}`, the user's references per sequence id). Resolves to
    /// `[{id, chrom, start, sequence, channels, length, map, perBase, targetValue, delta?}]`
    /// with `map` a `Float32Array [channels, length]` (for deeplift-shap the hypothetical
    /// contributions) and `delta` DeepLIFT's largest convergence delta over the references.
    pub async fn attribute(
        &mut self,
        input: JsValue,
        options: JsValue,
        progress: Option<js_sys::Function>,
    ) -> Result<JsValue, JsError> {
        let o: AttributeOptions = from_js(options, "attribute options")?;
        let method = attrib::MethodOptions {
            method: o.method,
            steps: o.steps,
            baseline: o.baseline,
            shuffles: o.shuffles,
            seed: o.seed,
            references: o.references,
        }
        .method()
        .map_err(err)?;
        let target = self.inner.target(&o.target, o.at).map_err(err)?;
        self.inner.range = o.range;
        let records = records_of(&input)?;
        let windows = self.inner.windows(&records, &target).map_err(err)?;
        let out = js_sys::Array::new();
        let total = windows.len();
        let mut report = progress_fn(&progress);
        for (i, w) in windows.iter().enumerate() {
            // Progress counts windows, with ISM's batches as fractions of one.
            let r = self
                .inner
                .explain_async(w, &target, &method, &mut |d, t| {
                    report(i * 1000 + d * 1000 / t.max(1), total * 1000)
                })
                .await
                .map_err(|e| JsError::new(&format!("sequence '{}': {e}", w.id)))?;
            let obj = Object::new();
            let set = |k: &str, v: &JsValue| {
                Reflect::set(&obj, &JsValue::from_str(k), v).map_err(|_| JsError::new(k))
            };
            set("id", &JsValue::from_str(&r.id))?;
            set("chrom", &JsValue::from_str(&r.chrom))?;
            set("start", &JsValue::from(r.start as f64))?;
            set("sequence", &JsValue::from_str(&r.sequence))?;
            set("channels", &JsValue::from(r.channels as f64))?;
            set("length", &JsValue::from(r.length as f64))?;
            set("map", &Float32Array::from(r.map.as_slice()))?;
            set("perBase", &Float32Array::from(r.per_base.as_slice()))?;
            set("targetValue", &JsValue::from(r.target_value))?;
            if let Some(d) = r.delta {
                set("delta", &JsValue::from(d))?;
            }
            out.push(&obj);
            if !report((i + 1) * 1000, total * 1000) {
                return Err(JsError::new("cancelled"));
            }
        }
        Ok(out.into())
    }

    /// Substitutes `motifs` into each background of `input` (as for `predict`, fitted to the
    /// model's length) and predicts before and after: tangermeme's `marginalize`, or with two
    /// or more motifs its `space`, each of `spacings` (gaps) between consecutive motifs.
    /// Options: `motifs` (strings; an N keeps the background's base), `spacings`, `start`
    /// (default centred), `shuffles` (use this many dinucleotide shuffles of each input
    /// sequence as the backgrounds), `seed`. Resolves to `{ids, labels, before [n, labels],
    /// spacings, after [n, spacings, labels], meanEffect [spacings, labels]}`.
    pub async fn marginalize(&self, input: JsValue, options: JsValue) -> Result<JsValue, JsError> {
        let o: MarginalizeJsOptions = from_js(options, "marginalize options")?;
        if o.seed.is_some() && o.shuffles.is_none() {
            return Err(JsError::new(
                "'seed' seeds the background shuffles: give 'shuffles' too",
            ));
        }
        let mut backgrounds = records_of(&input)?;
        if let Some(n) = o.shuffles {
            backgrounds =
                perturb::shuffled_backgrounds(&backgrounds, n, o.seed.unwrap_or(0)).map_err(err)?;
        }
        let motifs: Vec<Vec<u8>> = o.motifs.iter().map(|m| m.as_bytes().to_vec()).collect();
        let spacings = perturb::arrangements(motifs.len(), o.spacings.as_deref()).map_err(err)?;
        let p = perturb::space(
            self.inner.model(),
            &backgrounds,
            &motifs,
            &spacings,
            o.start,
            &PredictOptions::default(),
        )
        .await
        .map_err(err)?;
        to_js(&PerturbationJs {
            mean_effect: p.mean_effect(),
            result: p,
        })
    }

    /// Shuffles positions `region` (`[from, to)`, required) of each sequence of `input`
    /// `shuffles` times (default 20; seeded by `seed`, default 0; `dinucleotide: true` keeps
    /// dinucleotide counts) and predicts before and after: tangermeme's `ablate`. Resolves to
    /// `{ids, labels, before [n, labels], shuffles, after [n, shuffles, labels], meanEffect
    /// [labels]}`.
    pub async fn ablate(&self, input: JsValue, options: JsValue) -> Result<JsValue, JsError> {
        let o: AblateJsOptions = from_js(options, "ablate options")?;
        let (from, to) = o.region.ok_or_else(|| {
            JsError::new("ablate needs 'region': [from, to), the positions to shuffle")
        })?;
        let how = if o.dinucleotide {
            perturb::Shuffle::Dinucleotides
        } else {
            perturb::Shuffle::Bases
        };
        let records = records_of(&input)?;
        let a = perturb::ablate(
            self.inner.model(),
            &records,
            from..to,
            o.shuffles.unwrap_or(20),
            how,
            o.seed,
            &PredictOptions::default(),
        )
        .await
        .map_err(err)?;
        to_js(&PerturbationJs {
            mean_effect: a.mean_effect(),
            result: a,
        })
    }

    /// Designs each sequence of `input` (as for `predict`, fitted to the model's length):
    /// single-base substitutions toward a goal under an edit budget, greedily or with a beam
    /// (tangermeme's greedy_substitution and beam_substitution). Options: `labels` (default
    /// all), `goal` ('max', 'min', or one value per output; default 'max'), `edits` (default
    /// 10), `beam` (default 1: greedy), `keep` (designs per sequence, default 1), `tol`
    /// (default 0.001), `region` (`[from, to]`, the positions that may change), `scoring`
    /// ('auto', 'fast', 'ism'). Resolves to `[{id, sequence, labels, original, originalLoss,
    /// rounds, scoring, designs: [{sequence, edits: [{position, from, to}], prediction,
    /// loss}]}]`.
    pub async fn design(
        &self,
        input: JsValue,
        options: JsValue,
        progress: Option<js_sys::Function>,
    ) -> Result<JsValue, JsError> {
        let o: DesignJsOptions = from_js(options, "design options")?;
        let model = self.inner.model();
        let defaults = design::DesignOptions::default();
        let opts = design::DesignOptions {
            goal: match o.goal {
                None => defaults.goal,
                Some(GoalJs::Name(n)) => n.parse().map_err(err)?,
                Some(GoalJs::Values(v)) => design::Goal::Values(v),
            },
            outputs: model.metadata().label_indices(&o.labels).map_err(err)?,
            edits: o.edits.unwrap_or(defaults.edits),
            beam: o.beam.unwrap_or(defaults.beam),
            keep: o.keep.unwrap_or(defaults.keep),
            tol: o.tol.unwrap_or(defaults.tol),
            region: o.region.map(|(from, to)| from..to),
            scoring: match o.scoring {
                None => defaults.scoring,
                Some(s) => s.parse().map_err(err)?,
            },
            ..defaults
        };
        let records = records_of(&input)?;
        let windows = model
            .windows(&records, &PredictOptions::default())
            .map_err(err)?;
        let total = windows.len();
        let mut report = progress_fn(&progress);
        let mut out = Vec::with_capacity(total);
        for (i, w) in windows.iter().enumerate() {
            // Progress counts windows, with rounds as fractions of one.
            let d = design::design(model, w, &opts, &mut |r, n| {
                report(i * 1000 + r * 1000 / n.max(1), total * 1000)
            })
            .await
            .map_err(|e| JsError::new(&format!("sequence '{}': {e}", w.id)))?;
            out.push(d);
        }
        to_js(&out)
    }

    /// Scores every ALT allele of a VCF (text or bytes, gzip allowed) against a reference
    /// genome read by slices: `genome` is `{fai, size, read(offset, length) -> Uint8Array,
    /// name?}` (the worker helper builds one from a `File`). Options: `scores` (diff,
    /// abs_diff, log_odds, log2_fc), `pseudocount`, `predict` ({rcAverage, batchSize}).
    /// Resolves to `{labels, scores, variants: [{chrom, pos, id, ref, alt, line, status, detail,
    /// ref_pred, alt_pred, scores}], tsv}`, with `tsv` the table `seqlens variants` writes.
    #[wasm_bindgen(js_name = scoreVariants)]
    pub async fn score_variants(
        &self,
        vcf: JsValue,
        genome: JsValue,
        options: JsValue,
        progress: Option<js_sys::Function>,
    ) -> Result<JsValue, JsError> {
        let opts: VariantOptions = from_js(options, "variant options")?;
        let vcf_name = "VCF";
        let variants = io::read_vcf(&bytes_of(&vcf, "vcf")?[..], vcf_name).map_err(err)?;
        let mut reference = genome_of(&genome)?;
        let model = self.inner.model();
        let rows = variants::score_variants_async(
            model,
            &variants,
            &mut reference,
            &opts,
            &mut progress_fn(&progress),
        )
        .await
        .map_err(err)?;
        let labels = &model.metadata().labels;
        let json = variants::to_json(&rows, labels, &opts.scores);
        let out = js_sys::JSON::parse(&json).map_err(|_| JsError::new("variant scores"))?;
        let tsv = JsValue::from_str(&variants::to_tsv(&rows, labels, &opts.scores));
        Reflect::set(&out, &JsValue::from_str("tsv"), &tsv)
            .map_err(|_| JsError::new("variant scores"))?;
        Ok(out)
    }

    /// CI-SpliceAI delta scores for every ALT allele of `variants` (a VCF as text or bytes,
    /// gzip allowed, or variants typed one per line as `chr1:12345 A>G`), against a reference
    /// read by slices (`genome` as for `scoreVariants`, with `gzi` for a bgzf FASTA) and the
    /// genes of `genes`. Options: `distance` (1000), `mask`, `outside`, `all` (every gene in
    /// the VCF and TSV), `includeTracks` (reference and alternate tracks per gene, for
    /// figures), `batchSize`. Resolves to `{options, alleles: [...], vcf, tsv}`: per allele
    /// its status, padding and annotations (`ds_ag`..`dp_dl` per gene), and the annotated VCF
    /// and TSV as text.
    #[wasm_bindgen(js_name = scoreSplice)]
    pub async fn score_splice(
        &self,
        variants: JsValue,
        genome: JsValue,
        genes: &Genes,
        options: JsValue,
        progress: Option<js_sys::Function>,
    ) -> Result<JsValue, JsError> {
        // The splice options are flattened in, so serde reads them as a map and from_js cannot
        // list them: their keys are checked here.
        let mut known: Vec<&str> = struct_fields::<SpliceOptions>()
            .unwrap_or_default()
            .to_vec();
        known.push("all");
        check_keys(&options, &known, "splice options")?;
        let o: SpliceJsOptions = from_js(options, "splice options")?;
        let vcf =
            io::read_variants_any(&bytes_of(&variants, "variants")?, "variants").map_err(err)?;
        let mut reference = genome_of(&genome)?;
        let model = self.inner.model();
        let scores = splice::score_async(
            model,
            &vcf.variants,
            &mut reference,
            &genes.inner,
            &o.splice,
            &mut progress_fn(&progress),
        )
        .await
        .map_err(err)?;
        let mut text = Vec::new();
        splice::write_vcf(&mut text, &vcf, &scores, &o.splice, o.all).map_err(err)?;
        let out = js_sys::JSON::parse(&splice::to_json(&scores, &o.splice))
            .map_err(|_| JsError::new("splice scores"))?;
        let set = |k: &str, v: &JsValue| Reflect::set(&out, &JsValue::from_str(k), v);
        set("vcf", &JsValue::from_str(&String::from_utf8_lossy(&text)))
            .map_err(|_| JsError::new("vcf"))?;
        set("tsv", &JsValue::from_str(&splice::to_tsv(&scores, o.all)))
            .map_err(|_| JsError::new("tsv"))?;
        Ok(out)
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SpliceJsOptions {
    #[serde(flatten)]
    splice: SpliceOptions,
    all: bool,
}

/// A gene annotation for splice scoring: seqlens' compact table (the bundled GRCh37/GRCh38
/// tables), cispliceai's CSV, or a GTF; plain or gzip.
#[wasm_bindgen]
pub struct Genes {
    inner: splice::GeneTable,
}

#[wasm_bindgen]
impl Genes {
    /// Reads a gene table from its bytes; `name` names it in error messages.
    pub fn load(bytes: &[u8], name: Option<String>) -> Result<Genes, JsError> {
        let name = name.unwrap_or_else(|| "genes".into());
        Ok(Genes {
            inner: splice::GeneTable::read(bytes, &name).map_err(err)?,
        })
    }

    /// How many genes the table holds.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.inner.genes().len()
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct MarginalizeJsOptions {
    motifs: Vec<String>,
    spacings: Option<Vec<usize>>,
    start: Option<usize>,
    shuffles: Option<usize>,
    seed: Option<u64>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct AblateJsOptions {
    region: Option<(usize, usize)>,
    shuffles: Option<usize>,
    dinucleotide: bool,
    seed: u64,
}

/// A perturbation's predictions with their mean effect, as the package returns them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PerturbationJs<T: Serialize> {
    #[serde(flatten)]
    result: T,
    mean_effect: Vec<f32>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct DesignJsOptions {
    labels: Vec<String>,
    goal: Option<GoalJs>,
    edits: Option<usize>,
    beam: Option<usize>,
    keep: Option<usize>,
    tol: Option<f64>,
    region: Option<(usize, usize)>,
    scoring: Option<String>,
}

/// `'max'`, `'min'`, or one value per output.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum GoalJs {
    Name(String),
    Values(Vec<f32>),
}

#[derive(serde::Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct AttributeOptions {
    method: Option<String>,
    target: Vec<String>,
    at: Option<(i64, i64)>,
    range: Option<(i64, i64)>,
    steps: Option<usize>,
    baseline: Option<String>,
    references: Option<std::collections::BTreeMap<String, Vec<String>>>,
    shuffles: Option<usize>,
    seed: Option<u64>,
}

/// A reference FASTA that lives in JS (a browser `File`, a Node file handle): bytes come
/// from `read(offset, length)`, so a multi-GB genome is never copied whole into wasm.
struct JsReader {
    read: js_sys::Function,
    this: JsValue,
    pos: u64,
    size: u64,
}

impl std::io::Read for JsReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.size.saturating_sub(self.pos));
        if n == 0 {
            return Ok(0);
        }
        let got = self
            .read
            .call2(
                &self.this,
                &JsValue::from(self.pos as f64),
                &JsValue::from(n as f64),
            )
            .map_err(|e| {
                std::io::Error::other(format!(
                    "reading the reference at byte {}: {}",
                    self.pos,
                    e.as_string()
                        .or_else(|| js_sys::Error::from(e).message().as_string())
                        .unwrap_or_default()
                ))
            })?;
        let bytes = Uint8Array::new(&got);
        let len = (bytes.length() as usize).min(n as usize);
        bytes.subarray(0, len as u32).copy_to(&mut buf[..len]);
        self.pos += len as u64;
        Ok(len)
    }
}

impl std::io::Seek for JsReader {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            std::io::SeekFrom::Start(p) => p as i128,
            std::io::SeekFrom::End(d) => self.size as i128 + d as i128,
            std::io::SeekFrom::Current(d) => self.pos as i128 + d as i128,
        };
        if target < 0 {
            return Err(std::io::Error::other(
                "seek before the start of the reference",
            ));
        }
        self.pos = target as u64;
        Ok(self.pos)
    }
}

fn genome_of(genome: &JsValue) -> Result<io::IndexedFasta<io::FastaSource<JsReader>>, JsError> {
    let get = |k: &str| Reflect::get(genome, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED);
    let read = get("read").dyn_into::<js_sys::Function>().map_err(|_| {
        JsError::new("genome.read must be a function (offset, length) -> Uint8Array")
    })?;
    let size = get("size")
        .as_f64()
        .ok_or_else(|| JsError::new("genome.size must be the reference's size in bytes"))?;
    let fai = bytes_of(&get("fai"), "genome.fai (the .fai index)")?;
    let name = get("name")
        .as_string()
        .unwrap_or_else(|| "reference".into());
    let reader = JsReader {
        read,
        this: genome.clone(),
        pos: 0,
        size: size as u64,
    };
    let gzi = match get("gzi") {
        v if v.is_undefined() || v.is_null() => None,
        v => Some(bytes_of(&v, "genome.gzi (the .gzi index of a bgzf FASTA)")?),
    };
    // A plain FASTA is read through a 64 KiB buffer (one File.slice per window for typical
    // models, few calls into JS); bgzf reads whole compressed blocks.
    io::IndexedFasta::from_parts(reader, &fai[..], gzi.as_deref(), &name).map_err(err)
}

/// The SVG figure of an allele's effect in one gene: `allele` and `annotation` as
/// `scoreSplice` returns them (scored with `includeTracks`). Reference and alternate
/// acceptor and donor probabilities around the variant, with the delta scores' positions
/// marked.
#[wasm_bindgen(js_name = spliceFigureSvg)]
pub fn splice_figure_svg(allele: JsValue, annotation: JsValue) -> Result<String, JsError> {
    #[derive(serde::Deserialize)]
    struct AlleleDto {
        chrom: String,
        pos: u64,
        #[serde(rename = "ref")]
        reference: String,
        alt: String,
    }
    let v: AlleleDto = serde_wasm_bindgen::from_value(allele)
        .map_err(|e| JsError::new(&format!("invalid allele: {e}")))?;
    let a: splice::Annotation = serde_wasm_bindgen::from_value(annotation)
        .map_err(|e| JsError::new(&format!("invalid annotation: {e}")))?;
    let tracks = a
        .tracks
        .as_ref()
        .ok_or_else(|| JsError::new("the annotation has no tracks: score with includeTracks"))?;
    let title = format!(
        "{}:{} {}>{} in {} ({} strand)",
        v.chrom,
        v.pos,
        v.reference,
        v.alt,
        a.gene,
        a.strand.symbol()
    );
    Ok(splice::figure(tracks, v.pos, v.reference.len(), &a, &title))
}

/// A figure's options, refused with the option named when no figure can be drawn with them.
fn plot_options(options: JsValue) -> Result<PlotOptions, JsError> {
    let opts: PlotOptions = from_js(options, "plot options")?;
    opts.check()
        .map_err(|e| JsError::new(&format!("options.{e}")))?;
    Ok(opts)
}

/// An SVG sequence logo of an attribution map `[channels, length]` (`symbols`: one letter per
/// channel, e.g. "ACGT"). Options: `baseWidth`, `height`, `start`, `end`, `offset`, `title`,
/// `yRange` (`[lowest, highest]`, e.g. shared by a reference and an alternate logo), `marks`
/// (positions to shade).
#[wasm_bindgen(js_name = logoSvg)]
pub fn logo_svg(map: &[f32], symbols: &str, options: JsValue) -> Result<String, JsError> {
    let opts = plot_options(options)?;
    check_map(map, symbols)?;
    Ok(plot::logo(map, symbols.as_bytes(), &opts))
}

/// Seqlets in attributions (as `Model.attribute` resolves them: `[{id, chrom?, start?,
/// sequence?, perBase}]`, `perBase` a `Float32Array` or numbers) with tangermeme's recursive
/// seqlet caller, pooled into one null over all of them. Options: `threshold` (0.01),
/// `minLen` (4), `maxLen` (25), `flank` (0), `bins` (1000), `negative` (false). Returns
/// `[{id, chrom, start, end, attribution, pValue, sequence}]` by p-value.
#[wasm_bindgen(js_name = callSeqlets)]
pub fn call_seqlets(attributions: JsValue, options: JsValue) -> Result<JsValue, JsError> {
    let opts: attrib::SeqletOptions = from_js(options, "seqlet options")?;
    let tracks = attribution_tracks(&attributions, false)?;
    let scores: Vec<&[f32]> = tracks.iter().map(|t| t.scores.as_slice()).collect();
    let found = attrib::recursive_seqlets(&scores, &opts).map_err(err)?;
    to_js(&attrib::seqlet_rows(&tracks, &found))
}

/// Attributions as `Model.attribute` resolves them (`[{id, chrom?, start?, sequence?,
/// perBase, map?}]`, arrays a `Float32Array` or numbers) as tables; with `with_map`, each
/// needs its sequence and a DNA `map` (`[4, length]`, channel-major), kept position by
/// position as the tables hold it.
fn attribution_tracks(list: &JsValue, with_map: bool) -> Result<Vec<attrib::Track>, JsError> {
    let list = js_sys::Array::from(list);
    let mut tracks = Vec::with_capacity(list.length() as usize);
    for (i, a) in list.iter().enumerate() {
        let get = |k: &str| Reflect::get(&a, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED);
        let floats = |k: &str| -> Result<Vec<f32>, JsError> {
            let v = get(k);
            if !(v.is_instance_of::<Float32Array>() || js_sys::Array::is_array(&v)) {
                return Err(JsError::new(&format!(
                    "attribution {i}: {k} must be a Float32Array or an array of numbers"
                )));
            }
            Ok(Float32Array::new(&v).to_vec())
        };
        let scores = floats("perBase")?;
        let id = get("id").as_string().unwrap_or_else(|| format!("#{i}"));
        let sequence = get("sequence").as_string().unwrap_or_default();
        let mut map = Vec::new();
        if with_map {
            let channels = floats("map")?;
            let n = scores.len();
            if sequence.len() != n || channels.len() != 4 * n {
                return Err(JsError::new(&format!(
                    "attribution {i} ('{id}'): expected a sequence of {n} bases and a map of 4 x {n} hypothetical contributions (DNA, method deeplift-shap); found {} bases and {} values",
                    sequence.len(),
                    channels.len()
                )));
            }
            map = attrib::position_major(&channels, 4, n);
        }
        tracks.push(attrib::Track {
            chrom: get("chrom").as_string().unwrap_or_else(|| id.clone()),
            start: get("start").as_f64().unwrap_or(0.0) as i64,
            sequence,
            scores,
            symbols: String::new(),
            map,
            id,
        });
    }
    Ok(tracks)
}

/// The motif database of an options object's `motifs` (a MEME file's text), or the bundled
/// JASPAR 2024 CORE vertebrates.
fn motif_database(
    text: Option<String>,
) -> Result<std::borrow::Cow<'static, motif::tomtom::Database>, JsError> {
    Ok(match text {
        Some(text) => {
            let motifs = motif::meme::read(&text, "the motifs option").map_err(err)?;
            std::borrow::Cow::Owned(
                motif::tomtom::Database::new(motifs, Default::default()).map_err(err)?,
            )
        }
        None => std::borrow::Cow::Borrowed(motif::jaspar::database().map_err(err)?),
    })
}

/// Motif discovery (TF-MoDISco-lite, modisco-lite 3.0's defaults) in DeepLIFT/SHAP
/// attributions (as `Model.attribute` resolves them with method deeplift-shap: each one's
/// `sequence`, `perBase` and `map` of hypothetical contributions), and each pattern's best
/// database motifs by TOMTOM. `discovery` holds the pipeline's settings as
/// `DiscoverOptions` names them (`seqlets`, `metaclusters`, `affinity`, `patterns`,
/// `collapse`, each an object of camelCase settings); `report`: `top` (default 3) and
/// `motifs` (a MEME file's text; default the bundled JASPAR). `progress(done, total, stage)`
/// is told each stage; returning `false` cancels. Returns `{seqlets, metaclusterSizes,
/// patterns}` with the patterns as `PatternReport`s (positive metacluster first).
#[wasm_bindgen(js_name = discoverMotifs)]
pub fn discover_motifs(
    attributions: JsValue,
    discovery: JsValue,
    report: JsValue,
    progress: Option<js_sys::Function>,
) -> Result<JsValue, JsError> {
    #[derive(serde::Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    struct Report {
        motifs: Option<String>,
        top: Option<usize>,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Found {
        seqlets: usize,
        metacluster_sizes: (usize, usize),
        patterns: Vec<motif::modisco::PatternReport>,
    }
    let o: motif::modisco::DiscoverOptions = from_js_nested(discovery, "discovery options")?;
    let r: Report = from_js(report, "report options")?;
    let top = r.top.unwrap_or(3);
    if top == 0 {
        return Err(JsError::new("top must be at least 1"));
    }
    let db = motif_database(r.motifs)?;
    let tables = attribution_tracks(&attributions, true)?;
    let tracks = motif::modisco::TrackSet::from_table(&tables, "attributions").map_err(err)?;
    let mut done = 0;
    let found = motif::modisco::discover(&tracks, &o, &mut |stage| {
        let args = [
            (done as f64).into(),
            (motif::modisco::STAGES as f64).into(),
            stage.into(),
        ];
        done += 1;
        report_progress(&progress, &args)
    })
    .map_err(err)?;
    let patterns = motif::modisco::report(&found, &db, top).map_err(err)?;
    to_js(&Found {
        seqlets: found.extracted.seqlets.len(),
        metacluster_sizes: found.metacluster_sizes,
        patterns,
    })
}

/// The SVG figure of a pattern from `discoverMotifs`: its contributions' logo over the span
/// compared with the database, above its best match's information-content logo, aligned as
/// TOMTOM aligned them. Options: `baseWidth`, `height`, `palette`. `motifs`: the MEME text
/// the pattern was matched against (default the bundled JASPAR).
#[wasm_bindgen(js_name = patternSvg)]
pub fn pattern_svg(
    pattern: JsValue,
    options: JsValue,
    motifs: Option<String>,
) -> Result<String, JsError> {
    let p: motif::modisco::PatternReport = serde_wasm_bindgen::from_value(pattern)
        .map_err(|e| JsError::new(&format!("pattern: {e}")))?;
    let opts = plot_options(options)?;
    let db = motif_database(motifs)?;
    let matched = match p.matches.first() {
        Some(m) => Some((
            m,
            db.motif(&m.id).ok_or_else(|| {
                JsError::new(&format!(
                    "{}: its match {} is not in the motif database (pass the MEME text it was matched against as options.motifs)",
                    p.name, m.id
                ))
            })?,
        )),
        None => None,
    };
    plot::pattern(&p, matched, &opts).map_err(|e| JsError::new(&e))
}

/// The best database motifs of seqlets (as `callSeqlets` returns them; each one's `sequence`
/// is compared, one-hot, as tangermeme's `annotate_seqlets` compares it) by TOMTOM, memelite's
/// numbers. Options: `motifs`, a MEME file's text (default: the bundled JASPAR 2024 CORE
/// vertebrates), and `top` (1). Returns, per seqlet, `[{id, name, pValue, eValue, qValue,
/// strand, offset, overlap}]`, best first (empty for a seqlet with no A, C, G or T).
#[wasm_bindgen(js_name = annotateSeqlets)]
pub fn annotate_seqlets(seqlets: JsValue, options: JsValue) -> Result<JsValue, JsError> {
    #[derive(serde::Deserialize, Default)]
    struct Options {
        motifs: Option<String>,
        top: Option<usize>,
    }
    let opts: Options = from_js(options, "annotation options")?;
    let top = opts.top.unwrap_or(1);
    if top == 0 {
        return Err(JsError::new("top must be at least 1"));
    }
    let db = motif_database(opts.motifs)?;
    let list = js_sys::Array::from(&seqlets);
    let mut sequences = Vec::with_capacity(list.length() as usize);
    for (i, s) in list.iter().enumerate() {
        let seq = Reflect::get(&s, &JsValue::from_str("sequence"))
            .ok()
            .and_then(|v| v.as_string())
            .ok_or_else(|| JsError::new(&format!("seqlet {i}: no sequence (a string of bases)")))?;
        sequences.push(seq);
    }
    to_js(&motif::annotate(&db, &sequences, top).map_err(err)?)
}

/// The y range `[lowest, highest]` a logo of `map` needs over the positions `start..end` of
/// `options`: pass the union of two logos' ranges to both as `yRange` to compare them.
#[wasm_bindgen(js_name = logoRange)]
pub fn logo_range(map: &[f32], symbols: &str, options: JsValue) -> Result<Vec<f32>, JsError> {
    let opts = plot_options(options)?;
    check_map(map, symbols)?;
    Ok(plot::logo_range(map, symbols.len(), &opts).to_vec())
}

/// An SVG ISM heatmap of substitution effects `[channels, length]`, with the reference
/// sequence's cells outlined.
#[wasm_bindgen(js_name = heatmapSvg)]
pub fn heatmap_svg(
    effects: &[f32],
    sequence: &str,
    symbols: &str,
    options: JsValue,
) -> Result<String, JsError> {
    let opts = plot_options(options)?;
    check_map(effects, symbols)?;
    Ok(plot::heatmap(
        effects,
        sequence.as_bytes(),
        symbols.as_bytes(),
        &opts,
    ))
}

fn check_map(map: &[f32], symbols: &str) -> Result<(), JsError> {
    if symbols.is_empty() || !map.len().is_multiple_of(symbols.len()) {
        return Err(JsError::new(&format!(
            "a map of {} values does not split into {} channels ({symbols})",
            map.len(),
            symbols.len()
        )));
    }
    Ok(())
}

#[derive(serde::Deserialize)]
struct SeqInput {
    id: Option<String>,
    seq: String,
}

fn records_of(input: &JsValue) -> Result<Vec<io::SeqRecord>, JsError> {
    if js_sys::Array::is_array(input) {
        let arr = js_sys::Array::from(input);
        let mut out = Vec::with_capacity(arr.length() as usize);
        for (i, v) in arr.iter().enumerate() {
            let (id, seq) = if let Some(s) = v.as_string() {
                (format!("seq{}", i + 1), s)
            } else {
                let s: SeqInput = serde_wasm_bindgen::from_value(v).map_err(|e| {
                    JsError::new(&format!(
                        "sequence {}: expected a string or {{id, seq}}: {e}",
                        i + 1
                    ))
                })?;
                (s.id.unwrap_or_else(|| format!("seq{}", i + 1)), s.seq)
            };
            out.push(io::SeqRecord {
                id,
                description: None,
                seq: seq.trim().as_bytes().to_vec(),
            });
        }
        return Ok(out);
    }
    let bytes = bytes_of(input, "input")?;
    let recs = io::read_sequences(&bytes[..], "input").map_err(err)?;
    if recs.is_empty() {
        return Err(JsError::new("input: no sequences found"));
    }
    Ok(recs)
}

fn predictions_to_js(p: &model::Predictions) -> Result<JsValue, JsError> {
    let obj = Object::new();
    let set = |k: &str, v: &JsValue| Reflect::set(&obj, &JsValue::from_str(k), v);
    set("ids", &to_js(&p.ids)?).map_err(|_| JsError::new("ids"))?;
    set("labels", &to_js(&p.labels)?).map_err(|_| JsError::new("labels"))?;
    set("values", &Float32Array::from(p.values.as_slice())).map_err(|_| JsError::new("values"))?;
    set("shape", &to_js(&p.shape)?).map_err(|_| JsError::new("shape"))?;
    set("windows", &to_js(&p.windows)?).map_err(|_| JsError::new("windows"))?;
    Ok(obj.into())
}

/// Profile predictions: `{kind: 'profile', labels, tracks: [{id, chrom, start, positions,
/// values: Float32Array [classes, positions]}]}`, plus `values` `[n, classes, positions]`
/// and `shape` when every track has the same length.
fn profiles_to_js(p: &model::Profiles) -> Result<JsValue, JsError> {
    let obj = Object::new();
    let set = |o: &Object, k: &str, v: &JsValue| {
        Reflect::set(o, &JsValue::from_str(k), v).map_err(|_| JsError::new(k))
    };
    set(&obj, "kind", &JsValue::from_str("profile"))?;
    set(&obj, "labels", &to_js(&p.labels)?)?;
    let tracks = js_sys::Array::new();
    for t in &p.tracks {
        let o = Object::new();
        set(&o, "id", &JsValue::from_str(&t.id))?;
        set(&o, "chrom", &JsValue::from_str(&t.chrom))?;
        set(&o, "start", &JsValue::from(t.start as f64))?;
        set(&o, "positions", &JsValue::from(t.positions as f64))?;
        set(&o, "values", &Float32Array::from(t.values.as_slice()))?;
        tracks.push(&o);
    }
    set(&obj, "tracks", &tracks)?;
    if let Some(first) = p.tracks.first()
        && p.tracks.iter().all(|t| t.positions == first.positions)
    {
        let flat: Vec<f32> = p
            .tracks
            .iter()
            .flat_map(|t| t.values.iter().copied())
            .collect();
        set(&obj, "values", &Float32Array::from(flat.as_slice()))?;
        set(
            &obj,
            "shape",
            &to_js(&[p.tracks.len(), p.labels.len(), first.positions])?,
        )?;
    }
    Ok(obj.into())
}

/// Predictions as `predict` resolves them, less their values (passed as a typed array).
#[derive(serde::Deserialize)]
struct PredictionsIn {
    ids: Vec<String>,
    labels: Vec<String>,
    shape: [usize; 2],
    windows: Vec<encode::Window>,
}

/// The table `seqlens predict --out` writes for predictions `p` (as `predict` resolves them)
/// with their `values`, byte for byte: `format` "tsv" (the default) or "json".
#[wasm_bindgen(js_name = formatPredictions)]
pub fn format_predictions(
    p: JsValue,
    values: &[f32],
    format: Option<String>,
) -> Result<String, JsError> {
    let p: PredictionsIn = serde_wasm_bindgen::from_value(p)
        .map_err(|e| JsError::new(&format!("predictions: {e}")))?;
    let [n, k] = p.shape;
    if p.windows.len() != n || p.ids.len() != n || p.labels.len() != k || values.len() != n * k {
        return Err(JsError::new(&format!(
            "predictions: shape [{n}, {k}] does not fit {} windows, {} ids, {} labels and {} \
             values (profile predictions have no table)",
            p.windows.len(),
            p.ids.len(),
            p.labels.len(),
            values.len()
        )));
    }
    let preds = model::Predictions {
        ids: p.ids,
        windows: p.windows,
        labels: p.labels,
        values: values.to_vec(),
        shape: p.shape,
    };
    match format.as_deref().unwrap_or("tsv") {
        "tsv" => Ok(output::to_tsv(&preds)),
        "json" => Ok(output::to_json(&preds)),
        other => Err(JsError::new(&format!(
            "unknown format '{other}'; expected tsv or json"
        ))),
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct OneHotOptions {
    alphabet: Option<Alphabet>,
    layout: Option<Layout>,
    n_policy: Option<NPolicy>,
    unknown: Option<UnknownPolicy>,
}

/// One-hot encodes a sequence: `[channels, length]` (or `[length, channels]` with
/// `layout: "NLC"`), as a `Float32Array`.
#[wasm_bindgen(js_name = oneHot)]
pub fn one_hot(seq: &str, options: JsValue) -> Result<Float32Array, JsError> {
    let o: OneHotOptions = from_js(options, "oneHot options")?;
    let e = Encoder::new(
        o.alphabet.unwrap_or_default(),
        o.n_policy.unwrap_or_default(),
        o.unknown.unwrap_or_default(),
    );
    let v = e
        .encode("sequence", seq.as_bytes(), o.layout.unwrap_or_default())
        .map_err(err)?;
    Ok(Float32Array::from(v.as_slice()))
}

/// IUPAC-aware reverse complement (`alphabet`: "dna" default, or "rna").
#[wasm_bindgen(js_name = reverseComplement)]
pub fn reverse_complement(seq: &str, alphabet: Option<String>) -> Result<String, JsError> {
    let a: Alphabet = match alphabet {
        Some(a) => a.parse().map_err(err)?,
        None => Alphabet::Dna,
    };
    let rc = encode::reverse_complement(seq.as_bytes(), a).map_err(err)?;
    String::from_utf8(rc).map_err(err)
}

/// Parses FASTA or FASTQ (string or bytes, gzip allowed) into `[{id, description, seq}]`.
#[wasm_bindgen(js_name = parseFasta)]
pub fn parse_fasta(data: JsValue, name: Option<String>) -> Result<JsValue, JsError> {
    let bytes = bytes_of(&data, "data")?;
    let recs = io::read_sequences(&bytes[..], name.as_deref().unwrap_or("input")).map_err(err)?;
    to_js(&recs)
}

/// Parses a VCF (string or bytes, gzip allowed) into `[{chrom, pos, id, ref, alts, line}]`.
#[wasm_bindgen(js_name = parseVcf)]
pub fn parse_vcf(data: JsValue, name: Option<String>) -> Result<JsValue, JsError> {
    let bytes = bytes_of(&data, "data")?;
    let vars = io::read_vcf(&bytes[..], name.as_deref().unwrap_or("input")).map_err(err)?;
    to_js(&vars)
}
