//! JavaScript bindings (`#[wasm_bindgen]`) only: DTO conversion, error mapping and the panic
//! hook. Every export returns a `Result`, so JS sees a thrown `Error` with the library's
//! message; the algorithms live in the other modules.

use std::cell::RefCell;

use js_sys::{Float32Array, Object, Reflect, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::encode::{self, Alphabet, Encoder, Layout, NPolicy, UnknownPolicy};
use crate::io;
use crate::model::{self, Overrides, PredictOptions};

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Records panic messages so the JS wrapper can turn a trap into a readable `Error`.
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(info.to_string()));
    }));
}

/// The message of the last Rust panic, if any (read by the JS wrapper after a `RuntimeError`).
#[wasm_bindgen(js_name = lastPanic)]
pub fn last_panic() -> Option<String> {
    LAST_PANIC.with(|p| p.borrow().clone())
}

fn err(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsError> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(err)
}

fn from_js<T: serde::de::DeserializeOwned + Default>(v: JsValue, what: &str) -> Result<T, JsError> {
    if v.is_undefined() || v.is_null() {
        return Ok(T::default());
    }
    serde_wasm_bindgen::from_value(v).map_err(|e| JsError::new(&format!("invalid {what}: {e}")))
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

/// An ONNX sequence model.
#[wasm_bindgen]
pub struct Model {
    inner: model::Model,
}

#[wasm_bindgen]
impl Model {
    /// Loads a model from its bytes. `overrides` may set `alphabet`, `layout`, `length`,
    /// `nPolicy`, `labels` and `task` in place of the model's metadata.
    pub fn load(bytes: &[u8], overrides: JsValue) -> Result<Model, JsError> {
        let overrides: Overrides = from_js(overrides, "overrides")?;
        let inner = model::Model::from_bytes_with(bytes, &overrides).map_err(err)?;
        Ok(Model { inner })
    }

    /// Inputs, outputs, metadata, operators and parameter count.
    pub fn info(&self) -> Result<JsValue, JsError> {
        to_js(self.inner.info())
    }

    /// Predicts FASTA/FASTQ text (string or bytes, gzip allowed) or an array of sequences
    /// (strings, or `{id, seq}` objects). Returns `{ids, labels, values, shape, windows}`.
    pub fn predict(&self, input: JsValue, options: JsValue) -> Result<JsValue, JsError> {
        let opts: PredictOptions = from_js(options, "options")?;
        let records = records_of(&input)?;
        let windows = self.inner.windows(&records, &opts).map_err(err)?;
        let preds = self
            .inner
            .predict_windows(windows, &opts, &mut |_, _| true)
            .map_err(err)?;
        predictions_to_js(&preds)
    }
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

#[derive(Serialize)]
struct WindowDto<'a> {
    id: &'a str,
    chrom: &'a str,
    start: i64,
    end: i64,
}

fn predictions_to_js(p: &model::Predictions) -> Result<JsValue, JsError> {
    let obj = Object::new();
    let set = |k: &str, v: &JsValue| Reflect::set(&obj, &JsValue::from_str(k), v);
    let windows: Vec<WindowDto> = p
        .windows
        .iter()
        .map(|w| WindowDto {
            id: &w.id,
            chrom: &w.chrom,
            start: w.start,
            end: w.end,
        })
        .collect();
    set("ids", &to_js(&p.ids)?).map_err(|_| JsError::new("ids"))?;
    set("labels", &to_js(&p.labels)?).map_err(|_| JsError::new("labels"))?;
    set("values", &Float32Array::from(p.values.as_slice())).map_err(|_| JsError::new("values"))?;
    set("shape", &to_js(&p.shape)?).map_err(|_| JsError::new("shape"))?;
    set("windows", &to_js(&windows)?).map_err(|_| JsError::new("windows"))?;
    Ok(obj.into())
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
    let o: OneHotOptions = from_js(options, "options")?;
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
