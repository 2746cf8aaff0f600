//! Python bindings (pyo3, feature `python`; the package is `python/seqlens`, built by
//! maturin) only: argument conversion, error mapping, the GIL and Ctrl-C. The algorithms
//! live in the other modules, as for the JS bindings (`src/wasm.rs`).
//!
//! Every call that runs a model releases the GIL, so other Python threads go on; it takes
//! the GIL back between batches only to see whether Ctrl-C was pressed, which raises
//! `KeyboardInterrupt` there. A panic is caught before it reaches Python and raised as a
//! `SeqlensError` that says it is a bug.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use numpy::ndarray::{Array2, Array3};
use numpy::{IntoPyArray, PyReadonlyArrayDyn, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};

use crate::attrib::{Explainer, MethodOptions};
use crate::encode::{self, Alphabet, Encoder, Layout, NPolicy, UnknownPolicy};
use crate::io;
use crate::model::{self, Backend, Overrides, PredictOptions};
use crate::options;
use crate::output;
use crate::variants::{self, Score, VariantOptions};

pyo3::create_exception!(
    seqlens,
    SeqlensError,
    PyException,
    "An input, model or option that seqlens refuses; the message names what was found and \
     what was expected (the same message as the CLI's)."
);

fn err(e: impl std::fmt::Display) -> PyErr {
    SeqlensError::new_err(e.to_string())
}

/// The message of a caught panic.
fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// Runs `work` without the GIL. `work` gets a progress callback for the library's long
/// calls: between batches it takes the GIL to check for signals, and a pending Ctrl-C
/// cancels the work and is raised as `KeyboardInterrupt`. A panic becomes a `SeqlensError`.
fn detached<T: Send>(
    py: Python<'_>,
    work: impl FnOnce(&mut dyn FnMut(usize, usize) -> bool) -> Result<T, String> + Send,
) -> PyResult<T> {
    let mut interrupted: Option<PyErr> = None;
    let out = py.detach(|| {
        let mut check = |_: usize, _: usize| match Python::attach(|py| py.check_signals()) {
            Ok(()) => true,
            Err(e) => {
                interrupted = Some(e);
                false
            }
        };
        catch_unwind(AssertUnwindSafe(|| work(&mut check)))
    });
    if let Some(e) = interrupted {
        return Err(e);
    }
    match out {
        Ok(r) => r.map_err(SeqlensError::new_err),
        Err(p) => Err(SeqlensError::new_err(format!(
            "internal error (a bug in seqlens; please report it): {}",
            panic_text(p)
        ))),
    }
}

/// A file opened for reading, with its name for messages; the error names it.
fn open(path: &std::path::Path) -> Result<(std::fs::File, String), String> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| format!("{name}: {e}"))?;
    Ok((file, name))
}

/// A Python object (a dict) from JSON text, through the standard library's `json`.
fn from_json_text<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (text,))
}

/// A dict of options as `T`, refusing keys `T` does not have (by name).
fn options_of<T: serde::de::DeserializeOwned + Default>(
    d: Option<&Bound<'_, PyDict>>,
    what: &str,
) -> PyResult<T> {
    let Some(d) = d else {
        return Ok(T::default());
    };
    let text: String = d
        .py()
        .import("json")?
        .call_method1("dumps", (d,))?
        .extract()?;
    options::from_json(&text, what).map_err(SeqlensError::new_err)
}

/// Sequences as records: a list (or tuple) of strings, named `seq1`, `seq2`, ..., or of
/// `(id, sequence)` pairs. A lone string is refused: it could be a path or one sequence.
fn records_of(x: &Bound<'_, PyAny>) -> PyResult<Vec<io::SeqRecord>> {
    if x.is_instance_of::<PyString>() {
        return Err(err(
            "expected a list of sequences or of (id, sequence) pairs, not one string: for one \
             sequence pass [seq]; for a FASTA file use predict_fasta(path) or read_fasta(path)",
        ));
    }
    let items: Vec<Bound<'_, PyAny>> = x
        .try_iter()
        .map_err(|_| {
            err(format!(
                "expected a list of sequences, (id, sequence) pairs or an (N, C, L) numpy \
                 array; found {}",
                type_name(x)
            ))
        })?
        .collect::<PyResult<_>>()?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let (id, seq) = if let Ok(s) = item.extract::<String>() {
            (format!("seq{}", i + 1), s)
        } else if let Ok((id, s)) = item.extract::<(String, String)>() {
            (id, s)
        } else {
            return Err(err(format!(
                "sequence {}: expected a string or an (id, sequence) pair; found {}",
                i + 1,
                type_name(item)
            )));
        };
        out.push(io::SeqRecord {
            id,
            description: None,
            seq: seq.trim().as_bytes().to_vec(),
        });
    }
    if out.is_empty() {
        return Err(err("no sequences given"));
    }
    Ok(out)
}

fn type_name(x: &Bound<'_, PyAny>) -> String {
    x.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "an object".into())
}

/// A numpy array (any float dtype, any memory order) as contiguous f32 with its shape, or
/// `None` for anything that is not a numpy array.
fn array_of(x: &Bound<'_, PyAny>) -> PyResult<Option<(Vec<f32>, Vec<usize>)>> {
    if !x.is_instance_of::<PyUntypedArray>() {
        return Ok(None);
    }
    let np = x.py().import("numpy")?;
    let a = np.call_method1("ascontiguousarray", (x, "float32"))?;
    let a: PyReadonlyArrayDyn<'_, f32> = a.extract()?;
    let shape = a.shape().to_vec();
    let data = a.as_slice().map_err(err)?.to_vec();
    Ok(Some((data, shape)))
}

/// An array's shape as `[n, channels, length]`, or an error naming the shape found.
fn ncl(shape: &[usize]) -> PyResult<[usize; 3]> {
    match shape {
        &[n, c, l] => Ok([n, c, l]),
        _ => Err(err(format!(
            "expected an array of shape (N, C, L); found {} dimensions {shape:?}",
            shape.len()
        ))),
    }
}

/// Row-major `values` as a 2-D numpy array.
fn array2<'py>(py: Python<'py>, values: Vec<f32>, rows: usize) -> PyResult<Bound<'py, PyAny>> {
    let cols = values.len().checked_div(rows).unwrap_or(0);
    Ok(Array2::from_shape_vec((rows, cols), values)
        .map_err(err)?
        .into_pyarray(py)
        .into_any())
}

/// Row-major `values` as a 3-D numpy array.
fn array3<'py>(
    py: Python<'py>,
    values: Vec<f32>,
    shape: [usize; 3],
) -> PyResult<Bound<'py, PyAny>> {
    Ok(Array3::from_shape_vec(shape, values)
        .map_err(err)?
        .into_pyarray(py)
        .into_any())
}

fn predict_options(
    rc_average: bool,
    batch_size: usize,
    stride: Option<usize>,
    unknown: &str,
) -> PyResult<PredictOptions> {
    Ok(PredictOptions {
        rc_average,
        batch_size,
        stride,
        unknown: unknown.parse::<UnknownPolicy>().map_err(err)?,
    })
}

/// An ONNX sequence model, with the engine graph that gradient attributions need where the
/// model's operators allow.
#[pyclass(module = "seqlens._seqlens", name = "Model")]
struct Model {
    inner: Explainer,
}

#[pymethods]
impl Model {
    /// Loads an ONNX model from a path (its external data files are read from beside it) or
    /// from bytes, and selects the backend: "auto", "cpu", "tract" or "gpu". `overrides` may
    /// set alphabet, layout, length, nPolicy, labels, task and output in place of the
    /// model's metadata.
    #[staticmethod]
    #[pyo3(signature = (source, backend = "auto", overrides = None))]
    fn load(
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        backend: &str,
        overrides: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Model> {
        let overrides: Overrides = options_of(overrides, "overrides")?;
        let choice: Backend = backend.parse().map_err(err)?;
        let (bytes, name) = if let Ok(b) = source.cast::<PyBytes>() {
            (Some(b.as_bytes().to_vec()), "model bytes".to_string())
        } else {
            let path: PathBuf = source.extract().map_err(|_| {
                err(format!(
                    "expected a path or the model's bytes; found {}",
                    type_name(source)
                ))
            })?;
            (None, path.display().to_string())
        };
        let path = PathBuf::from(&name);
        detached(py, move |_| {
            let bytes = match bytes {
                Some(b) => b,
                None => crate::onnx::read_model_file(&path).map_err(|e| e.to_string())?,
            };
            let model = model::Model::from_bytes_with(&bytes, &overrides)
                .map_err(|e| format!("{name}: {e}"))?;
            let inner = Explainer::new(model)
                .with_backend(choice)
                .map_err(|e| format!("{name}: {e}"))?;
            Ok(Model { inner })
        })
    }

    /// Inputs, outputs, metadata, operators and parameter count, plus `gradients` (whether
    /// the gradient methods are available; `gradientsUnavailable` says why not) and
    /// `capabilities` (`{backends, methods}`), as the JS package's `info()`.
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mut v = serde_json::to_value(self.inner.model().info()).map_err(err)?;
        if let serde_json::Value::Object(m) = &mut v {
            m.insert(
                "gradients".into(),
                self.inner.engine_error().is_none().into(),
            );
            if let Some(e) = self.inner.engine_error() {
                m.insert("gradientsUnavailable".into(), e.into());
            }
            m.insert(
                "capabilities".into(),
                serde_json::to_value(self.inner.capabilities()).map_err(err)?,
            );
        }
        from_json_text(py, &v.to_string())
    }

    /// Where predictions run: `{backend, adapter, reason}`.
    #[getter]
    fn backend<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let text = serde_json::to_string(self.inner.model().backend()).map_err(err)?;
        from_json_text(py, &text)
    }

    /// One name per output value (the columns of `predict`'s array).
    #[getter]
    fn labels(&self) -> Vec<String> {
        self.inner.model().metadata().labels.clone()
    }

    /// Predicts `x`: an `(N, C, L)` numpy array (one-hot in PyTorch's and tangermeme's
    /// channels-first convention, any float dtype, soft encodings allowed), or a list of
    /// sequences or of `(id, sequence)` pairs, each fitted to the model's length (centre-
    /// cropped or N-padded). Returns an `(N, outputs)` float32 array; a profile model's is
    /// `(N, classes, positions)`.
    #[pyo3(signature = (x, *, rc_average = false, batch_size = 64, unknown = "error"))]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        rc_average: bool,
        batch_size: usize,
        unknown: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let opts = predict_options(rc_average, batch_size, None, unknown)?;
        let model = self.inner.model();
        if let Some((data, shape)) = array_of(x)? {
            let [n, c, l] = ncl(&shape)?;
            let p = detached(py, |progress| {
                model
                    .predict_encoded(&data, [n, c, l], &opts, progress)
                    .map_err(|e| e.to_string())
            })?;
            return array2(py, p.values, p.shape[0]);
        }
        let records = records_of(x)?;
        if model.profile().is_ok() {
            let (values, shape) = detached(py, |progress| {
                let windows = model
                    .profile_windows(&records, &opts)
                    .map_err(|e| e.to_string())?;
                let p = model
                    .predict_profile_windows(&windows, &opts, progress)
                    .map_err(|e| e.to_string())?;
                let positions = p.tracks.first().map_or(0, |t| t.positions);
                if p.tracks.iter().any(|t| t.positions != positions) {
                    return Err("the sequences' profiles have different lengths; predict \
                                sequences of one length per call"
                        .to_string());
                }
                let classes = p.labels.len().max(1);
                let values: Vec<f32> = p.tracks.into_iter().flat_map(|t| t.values).collect();
                let n = values.len().checked_div(classes * positions).unwrap_or(0);
                Ok((values, [n, classes, positions]))
            })?;
            return array3(py, values, shape);
        }
        let p = detached(py, |progress| {
            let windows = model.windows(&records, &opts).map_err(|e| e.to_string())?;
            model
                .predict_windows(windows, &opts, progress)
                .map_err(|e| e.to_string())
        })?;
        array2(py, p.values, p.shape[0])
    }

    /// Predicts every record of a FASTA or FASTQ file (plain or gzip), fitted to the model's
    /// length, or tiled every `stride` bases. Returns a dict: `ids`, `labels`, `values`
    /// (`(windows, outputs)` array), `chrom`, `start`, `end` (each window's place in its
    /// record) and `tsv`, the table `seqlens predict` writes.
    #[pyo3(signature = (path, *, rc_average = false, batch_size = 64, stride = None, unknown = "error"))]
    fn predict_fasta<'py>(
        &self,
        py: Python<'py>,
        path: PathBuf,
        rc_average: bool,
        batch_size: usize,
        stride: Option<usize>,
        unknown: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let opts = predict_options(rc_average, batch_size, stride, unknown)?;
        let model = self.inner.model();
        let p = detached(py, |progress| {
            let (file, name) = open(&path)?;
            let records = io::read_sequences(file, &name).map_err(|e| e.to_string())?;
            let windows = model.windows(&records, &opts).map_err(|e| e.to_string())?;
            model
                .predict_windows(windows, &opts, progress)
                .map_err(|e| format!("{name}: {e}"))
        })?;
        let d = PyDict::new(py);
        d.set_item("tsv", output::to_tsv(&p))?;
        d.set_item("ids", &p.ids)?;
        d.set_item("labels", &p.labels)?;
        let chrom: Vec<&str> = p.windows.iter().map(|w| w.chrom.as_str()).collect();
        d.set_item("chrom", chrom)?;
        d.set_item(
            "start",
            p.windows.iter().map(|w| w.start).collect::<Vec<_>>(),
        )?;
        d.set_item("end", p.windows.iter().map(|w| w.end).collect::<Vec<_>>())?;
        d.set_item("values", array2(py, p.values, p.shape[0])?)?;
        Ok(d)
    }

    /// Attribution maps `(N, C, L)` for sequences `x` (a list of sequences or of `(id,
    /// sequence)` pairs, fitted to the model's length, or a one-hot `(N, C, L)` array, all-zero
    /// columns read as N): method grad, ixg (default), ig,
    /// deeplift-shap (hypothetical contributions, as tangermeme's `deep_lift_shap`), ism or
    /// fast-ism. `target`: label names, summed (default the first); `at`: a profile model's
    /// explained bases `(from, to)`; `range`: the positions attributed; `steps` (ig),
    /// `baseline` (zeros, uniform, shuffle), `shuffles`, `seed`, or `references` (`{id:
    /// [sequences]}`) for ig and deeplift-shap.
    #[pyo3(signature = (x, *, method = "ixg", target = None, at = None, range = None, steps = None,
                        baseline = None, shuffles = None, seed = None, references = None))]
    // Each argument is one of Python's keyword arguments.
    #[allow(clippy::too_many_arguments)]
    fn attribute<'py>(
        &mut self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        method: &str,
        target: Option<Vec<String>>,
        at: Option<(i64, i64)>,
        range: Option<(i64, i64)>,
        steps: Option<usize>,
        baseline: Option<String>,
        shuffles: Option<usize>,
        seed: Option<u64>,
        references: Option<std::collections::BTreeMap<String, Vec<String>>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let records = match array_of(x)? {
            Some((data, shape)) => {
                let [n, c, l] = ncl(&shape)?;
                let alphabet = self.inner.model().metadata().alphabet;
                if c != alphabet.size() {
                    return Err(err(format!(
                        "the array has {c} channels (axis 1 of (N, C, L)); the model reads \
                         {alphabet}, {} channels",
                        alphabet.size()
                    )));
                }
                encode::decode_one_hot(&data, [n, c, l], alphabet)
                    .map_err(err)?
                    .into_iter()
                    .enumerate()
                    .map(|(i, seq)| io::SeqRecord {
                        id: format!("seq{}", i + 1),
                        description: None,
                        seq,
                    })
                    .collect()
            }
            None => records_of(x)?,
        };
        let method = MethodOptions {
            method: Some(method.to_string()),
            steps,
            baseline,
            shuffles,
            seed,
            references,
        }
        .method()
        .map_err(err)?;
        let inner = &mut self.inner;
        let (values, shape) = detached(py, move |progress| {
            let target = inner
                .target(&target.unwrap_or_default(), at)
                .map_err(|e| e.to_string())?;
            inner.range = range;
            let windows = inner
                .windows(&records, &target)
                .map_err(|e| e.to_string())?;
            let mut values = Vec::new();
            let mut shape = [0, 0, 0];
            for w in &windows {
                let r = inner
                    .explain(w, &target, &method, progress)
                    .map_err(|e| format!("sequence '{}': {e}", w.id))?;
                if shape[0] > 0 && (shape[1], shape[2]) != (r.channels, r.length) {
                    return Err(format!(
                        "sequence '{}' is attributed over {} positions but the first over {}; \
                         attribute sequences of one length per call",
                        w.id, r.length, shape[2]
                    ));
                }
                shape = [shape[0] + 1, r.channels, r.length];
                values.extend_from_slice(&r.map);
            }
            Ok((values, shape))
        })?;
        array3(py, values, shape)
    }

    /// Saturation mutagenesis maps `(N, C, L)` (`attribute` with method "ism"): each
    /// substitution's change of the target.
    #[pyo3(signature = (x, *, target = None, at = None, range = None))]
    fn ism<'py>(
        &mut self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        target: Option<Vec<String>>,
        at: Option<(i64, i64)>,
        range: Option<(i64, i64)>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.attribute(
            py, x, "ism", target, at, range, None, None, None, None, None,
        )
    }

    /// Scores every ALT allele of a VCF (plain, gzip or bgzf) against a reference FASTA
    /// (with its .fai, or indexed in memory). `scores`: diff, abs_diff, log_odds, log2_fc.
    /// Returns a dict: `labels`, `scores`, `variants` (per allele: chrom, pos, id, ref, alt,
    /// status, ref_pred, alt_pred, scores) and `tsv`, the table `seqlens variants` writes.
    /// `out`: also write the input VCF with the scores as INFO fields, as `seqlens variants
    /// --out` does (.vcf, or .vcf.gz bgzip-compressed); `index`: and its tabix index.
    #[pyo3(signature = (vcf, fasta, *, scores = vec!["diff".to_string(), "log_odds".to_string()],
                        pseudocount = 1e-6, rc_average = false, batch_size = 64, out = None,
                        index = false))]
    // Each argument is one of Python's keyword arguments.
    #[allow(clippy::too_many_arguments)]
    fn score_variants<'py>(
        &self,
        py: Python<'py>,
        vcf: PathBuf,
        fasta: PathBuf,
        scores: Vec<String>,
        pseudocount: f32,
        rc_average: bool,
        batch_size: usize,
        out: Option<PathBuf>,
        index: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        match (&out, index) {
            (Some(p), _) if !output::is_vcf_path(p) => {
                return Err(SeqlensError::new_err(format!(
                    "out={}: out writes a VCF; name it .vcf, or .vcf.gz to bgzip-compress it",
                    p.display()
                )));
            }
            (Some(p), _) => {
                output::check_vcf_output(p, index)
                    .map_err(|e| SeqlensError::new_err(e.to_string()))?;
            }
            (None, true) => {
                return Err(SeqlensError::new_err(
                    "index=True indexes the VCF that out= writes: give out='FILE.vcf.gz'",
                ));
            }
            (None, false) => {}
        }
        let scores = scores
            .iter()
            .map(|s| Score::parse(s))
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?;
        let opts = VariantOptions {
            scores,
            pseudocount,
            predict: predict_options(rc_average, batch_size, None, "error")?,
            include_sequences: false,
        };
        let model = self.inner.model();
        let (json, tsv) = detached(py, |progress| {
            let (file, name) = open(&vcf)?;
            let records = io::read_vcf_file(file, &name).map_err(|e| e.to_string())?;
            let mut genome = io::IndexedFasta::open(&fasta).map_err(|e| e.to_string())?;
            let rows =
                variants::score_variants(model, &records.variants, &mut genome, &opts, progress)
                    .map_err(|e| format!("{name} against {}: {e}", fasta.display()))?;
            let labels = &model.metadata().labels;
            if let Some(path) = &out {
                let mut text = Vec::new();
                variants::write_vcf(&mut text, &records, &rows, labels, &opts.scores)
                    .map_err(|e| e.to_string())?;
                output::write_vcf_file(path, &text, index).map_err(|e| e.to_string())?;
            }
            Ok((
                variants::to_json(&rows, labels, &opts.scores),
                variants::to_tsv(&rows, labels, &opts.scores),
            ))
        })?;
        let out = from_json_text(py, &json)?;
        out.set_item("tsv", tsv)?;
        Ok(out)
    }

    fn __repr__(&self) -> String {
        let m = self.inner.model();
        let meta = m.metadata();
        format!(
            "seqlens.Model(alphabet={}, length={}, outputs={}, backend={})",
            meta.alphabet,
            meta.length.map_or("any".into(), |l| l.to_string()),
            meta.labels.len(),
            m.backend().backend
        )
    }
}

/// One-hot encodes `seqs` in PyTorch's and tangermeme's channels-first layout: one string
/// gives `(C, L)`, a list of strings of one length `(N, C, L)`. `n` says how N and the
/// other ambiguity codes are encoded (zero, as tangermeme; uniform; iupac); a character
/// outside the alphabet is an error.
#[pyfunction]
#[pyo3(signature = (seqs, *, alphabet = "dna", n = "zero"))]
fn one_hot<'py>(
    py: Python<'py>,
    seqs: &Bound<'py, PyAny>,
    alphabet: &str,
    n: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let alphabet: Alphabet = alphabet.parse().map_err(err)?;
    let policy: NPolicy = n.parse().map_err(err)?;
    let encoder = Encoder::new(alphabet, policy, UnknownPolicy::Error);
    let c = encoder.channels();
    if let Ok(s) = seqs.extract::<String>() {
        let x = encoder
            .encode("sequence", s.as_bytes(), Layout::Ncl)
            .map_err(err)?;
        let l = s.len();
        return Ok(Array2::from_shape_vec((c, l), x)
            .map_err(err)?
            .into_pyarray(py)
            .into_any());
    }
    let records = records_of(seqs)?;
    let l = records[0].seq.len();
    if let Some(r) = records.iter().find(|r| r.seq.len() != l) {
        return Err(err(format!(
            "sequence '{}' has length {} but the first has {l}; an array needs one length",
            r.id,
            r.seq.len()
        )));
    }
    let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
    let s: Vec<&[u8]> = records.iter().map(|r| r.seq.as_slice()).collect();
    let x = encoder.encode_batch(&ids, &s, Layout::Ncl).map_err(err)?;
    array3(py, x, [records.len(), c, l])
}

/// The reverse complement of a DNA or RNA sequence (IUPAC codes complemented, case kept).
#[pyfunction]
#[pyo3(signature = (seq, *, alphabet = "dna"))]
fn reverse_complement(seq: &str, alphabet: &str) -> PyResult<String> {
    let alphabet: Alphabet = alphabet.parse().map_err(err)?;
    let rc = encode::reverse_complement(seq.as_bytes(), alphabet).map_err(err)?;
    String::from_utf8(rc).map_err(err)
}

/// The records of a FASTA or FASTQ file (plain or gzip) as `(id, sequence)` pairs.
#[pyfunction]
fn read_fasta(py: Python<'_>, path: PathBuf) -> PyResult<Vec<(String, String)>> {
    detached(py, |_| {
        let (file, name) = open(&path)?;
        let records = io::read_sequences(file, &name).map_err(|e| e.to_string())?;
        Ok(records
            .into_iter()
            .map(|r| (r.id, String::from_utf8_lossy(&r.seq).into_owned()))
            .collect())
    })
}

/// The records of a VCF (plain, gzip or bgzf) as dicts: chrom, pos (1-based), id, ref,
/// alts, line.
#[pyfunction]
fn read_vcf<'py>(py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyAny>> {
    let json = detached(py, |_| {
        let (file, name) = open(&path)?;
        let records = io::read_vcf(file, &name).map_err(|e| e.to_string())?;
        serde_json::to_string(&records).map_err(|e| e.to_string())
    })?;
    from_json_text(py, &json)
}

/// The native module, `seqlens._seqlens`; `seqlens/__init__.py` re-exports it.
#[pymodule]
fn _seqlens(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("SeqlensError", m.py().get_type::<SeqlensError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<Model>()?;
    m.add_function(wrap_pyfunction!(one_hot, m)?)?;
    m.add_function(wrap_pyfunction!(reverse_complement, m)?)?;
    m.add_function(wrap_pyfunction!(read_fasta, m)?)?;
    m.add_function(wrap_pyfunction!(read_vcf, m)?)?;
    Ok(())
}
