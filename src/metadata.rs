//! seqlens metadata: how a model wants its sequences (alphabet, layout, length, N policy,
//! labels, output kind), kept in an ONNX file's `metadata_props` under the `seqlens.*` keys.
//! This module owns the keys, reading them (checked) and writing them; `model` applies them
//! and `onnx::export` stores them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::encode::{Alphabet, Layout, NPolicy};

/// A `seqlens.*` value that does not parse, or that disagrees with the model's graph.
#[derive(Debug, thiserror::Error)]
#[error("invalid seqlens metadata '{key}': {message}")]
pub struct Error {
    /// The key, e.g. `seqlens.length`.
    pub key: String,
    /// What was found and what was expected.
    pub message: String,
}

impl Error {
    /// `key`'s value is wrong, as `message` says.
    pub fn new(key: &str, message: impl Into<String>) -> Error {
        Error {
            key: key.to_string(),
            message: message.into(),
        }
    }
}

/// The `metadata_props` keys seqlens reads and writes.
pub mod keys {
    /// `dna`, `rna` or `protein`.
    pub const ALPHABET: &str = "seqlens.alphabet";
    /// `NCL` or `NLC`.
    pub const LAYOUT: &str = "seqlens.layout";
    /// The input length in bases.
    pub const LENGTH: &str = "seqlens.length";
    /// How N is encoded.
    pub const N_POLICY: &str = "seqlens.n_policy";
    /// A JSON array of output names.
    pub const LABELS: &str = "seqlens.labels";
    /// Free text: what the outputs mean.
    pub const TASK: &str = "seqlens.task";
    /// `values` or `profile`.
    pub const OUTPUT: &str = "seqlens.output";
    /// A profile's first output position, in input positions.
    pub const OFFSET: &str = "seqlens.offset";
    /// Input positions a profile does not predict.
    pub const CONTEXT: &str = "seqlens.context";
    /// `log_total`: the profile model's second output is the log of the profile's total
    /// count, and the profile output holds logits of one softmax over all its values (BPNet).
    pub const COUNTS: &str = "seqlens.counts";
}

/// What a model outputs for each sequence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Output {
    /// A vector of values, one per label (`seqlens.output` absent or `values`).
    #[default]
    Values,
    /// Values per position (`seqlens.output = profile`): `[classes, positions]` with one
    /// label per class, where output position `j` describes input position `j + offset` and
    /// there are `input length - context` positions.
    Profile {
        /// The input position of output position 0.
        offset: usize,
        /// Input positions without an output (`input length - output length`).
        context: usize,
        /// The model has a second output, the log total count (`seqlens.counts =
        /// log_total`), and the profile output holds logits: the track is the softmax over
        /// all classes and positions times the total count (BPNet's predicted counts).
        #[serde(default)]
        log_total: bool,
    },
}

impl Output {
    /// Output positions for an input of `len` bases (profiles), if the input is long enough.
    pub fn positions(&self, len: usize) -> Option<usize> {
        match self {
            Output::Values => None,
            Output::Profile { context, .. } => len.checked_sub(*context).filter(|&p| p > 0),
        }
    }
}

/// How a model wants its sequences: what the `seqlens.*` keys say, or what was inferred from
/// the input shape when they are absent, with the caller's overrides applied last.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// The symbols the input encodes.
    pub alphabet: Alphabet,
    /// Channels before positions (`NCL`) or after (`NLC`).
    pub layout: Layout,
    /// `None` when the model accepts any length.
    pub length: Option<usize>,
    /// How N and the other ambiguity codes are encoded.
    pub n_policy: NPolicy,
    /// One name per output value per sequence (per class for a profile); empty until known.
    pub labels: Vec<String>,
    /// What the outputs mean, as the model says (free text).
    pub task: Option<String>,
    /// A vector per sequence, or a profile per position.
    #[serde(default)]
    pub output: Output,
}

impl Metadata {
    /// The index of each named label, in the order named; an unknown name is refused with
    /// the labels the model has.
    pub fn label_indices(&self, names: &[String]) -> Result<Vec<usize>, String> {
        names
            .iter()
            .map(|n| {
                self.labels.iter().position(|l| l == n).ok_or_else(|| {
                    format!(
                        "unknown label '{n}'; the model has: {}",
                        self.labels.join(", ")
                    )
                })
            })
            .collect()
    }

    /// The `seqlens.*` key-value pairs that say all of this in an ONNX file (what
    /// `parse_props` reads back).
    pub fn props(&self) -> Vec<(String, String)> {
        let mut props = vec![
            (keys::ALPHABET.to_string(), self.alphabet.to_string()),
            (keys::LAYOUT.to_string(), self.layout.to_string()),
            (keys::N_POLICY.to_string(), self.n_policy.to_string()),
        ];
        // No labels: the reader names the outputs' values itself (`profile[0]`, ...).
        if !self.labels.is_empty() {
            props.push((
                keys::LABELS.to_string(),
                serde_json::to_string(&self.labels).unwrap_or_else(|_| "[]".into()),
            ));
        }
        if let Some(len) = self.length {
            props.push((keys::LENGTH.to_string(), len.to_string()));
        }
        if let Some(task) = &self.task {
            props.push((keys::TASK.to_string(), task.clone()));
        }
        if let Output::Profile {
            offset,
            context,
            log_total,
        } = self.output
        {
            props.push((keys::OUTPUT.to_string(), "profile".into()));
            props.push((keys::OFFSET.to_string(), offset.to_string()));
            props.push((keys::CONTEXT.to_string(), context.to_string()));
            if log_total {
                props.push((keys::COUNTS.to_string(), "log_total".into()));
            }
        }
        props
    }
}

/// Values the caller sets in place of the model's metadata. Each `None` leaves it alone.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Overrides {
    /// The alphabet to use instead of the model's.
    pub alphabet: Option<Alphabet>,
    /// The layout to use instead of the model's.
    pub layout: Option<Layout>,
    /// The length to use instead of the model's.
    pub length: Option<usize>,
    /// The N policy to use instead of the model's.
    pub n_policy: Option<NPolicy>,
    /// The labels to use instead of the model's.
    pub labels: Option<Vec<String>>,
    /// The task to use instead of the model's.
    pub task: Option<String>,
    /// The output kind to use instead of the model's.
    pub output: Option<Output>,
}

/// The `seqlens.*` values present in a model's properties, parsed and checked.
pub(crate) fn parse_props(props: &BTreeMap<String, String>) -> Result<Overrides, Error> {
    let bad = |key: &str, message: String| Error::new(key, message);
    let mut o = Overrides::default();
    if let Some(v) = props.get(keys::ALPHABET) {
        o.alphabet = Some(v.parse().map_err(|e| bad(keys::ALPHABET, format!("{e}")))?);
    }
    if let Some(v) = props.get(keys::LAYOUT) {
        o.layout = Some(v.parse().map_err(|e| bad(keys::LAYOUT, format!("{e}")))?);
    }
    if let Some(v) = props.get(keys::LENGTH) {
        let n: usize = v.trim().parse().map_err(|_| {
            bad(
                keys::LENGTH,
                format!("expected a positive integer, found {v:?}"),
            )
        })?;
        if n == 0 {
            return Err(bad(keys::LENGTH, "must be at least 1".into()));
        }
        o.length = Some(n);
    }
    if let Some(v) = props.get(keys::N_POLICY) {
        o.n_policy = Some(v.parse().map_err(|e| bad(keys::N_POLICY, format!("{e}")))?);
    }
    if let Some(v) = props.get(keys::LABELS) {
        let labels: Vec<String> = serde_json::from_str(v).map_err(|e| {
            bad(
                keys::LABELS,
                format!("expected a JSON array of strings ({e}), found {v:?}"),
            )
        })?;
        o.labels = Some(labels);
    }
    if let Some(v) = props.get(keys::TASK) {
        o.task = Some(v.clone());
    }
    let count = |key: &str| -> Result<Option<usize>, Error> {
        props
            .get(key)
            .map(|v| {
                v.trim()
                    .parse::<usize>()
                    .map_err(|_| bad(key, format!("expected a non-negative integer, found {v:?}")))
            })
            .transpose()
    };
    let (offset, context) = (count(keys::OFFSET)?, count(keys::CONTEXT)?);
    o.output = match props.get(keys::OUTPUT).map(|v| v.trim()) {
        None | Some("values") => {
            if let Some(k) = [keys::OFFSET, keys::CONTEXT, keys::COUNTS]
                .iter()
                .find(|k| props.contains_key(**k))
            {
                return Err(bad(
                    k,
                    format!("is only meaningful with {} = profile", keys::OUTPUT),
                ));
            }
            None
        }
        Some("profile") => {
            let need = |v: Option<usize>, key: &str| {
                v.ok_or_else(|| bad(key, format!("is required when {} = profile", keys::OUTPUT)))
            };
            let (offset, context) = (need(offset, keys::OFFSET)?, need(context, keys::CONTEXT)?);
            if offset > context {
                return Err(bad(
                    keys::OFFSET,
                    format!("{offset} is larger than the context {context}"),
                ));
            }
            let log_total = match props.get(keys::COUNTS).map(|v| v.trim()) {
                None => false,
                Some("log_total") => true,
                Some(other) => {
                    return Err(bad(
                        keys::COUNTS,
                        format!("expected 'log_total', found {other:?}"),
                    ));
                }
            };
            Some(Output::Profile {
                offset,
                context,
                log_total,
            })
        }
        Some(other) => {
            return Err(bad(
                keys::OUTPUT,
                format!("expected 'values' or 'profile', found {other:?}"),
            ));
        }
    };
    Ok(o)
}

impl Overrides {
    /// `self` where set, else `base`.
    pub(crate) fn over(&self, base: &Overrides) -> Overrides {
        Overrides {
            alphabet: self.alphabet.or(base.alphabet),
            layout: self.layout.or(base.layout),
            length: self.length.or(base.length),
            n_policy: self.n_policy.or(base.n_policy),
            labels: self.labels.clone().or_else(|| base.labels.clone()),
            task: self.task.clone().or_else(|| base.task.clone()),
            output: self.output.or(base.output),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `Metadata::props` writes, `parse_props` reads back as the same values.
    #[test]
    fn written_props_read_back() {
        let m = Metadata {
            alphabet: Alphabet::Rna,
            layout: Layout::Nlc,
            length: Some(12002),
            n_policy: NPolicy::Uniform,
            labels: vec!["neither".into(), "acceptor".into(), "donor".into()],
            task: Some("splice".into()),
            output: Output::Profile {
                offset: 5000,
                context: 10000,
                log_total: true,
            },
        };
        let o = parse_props(&m.props().into_iter().collect()).unwrap();
        let back = Overrides {
            alphabet: Some(m.alphabet),
            layout: Some(m.layout),
            length: m.length,
            n_policy: Some(m.n_policy),
            labels: Some(m.labels.clone()),
            task: m.task.clone(),
            output: Some(m.output),
        };
        assert_eq!(o, back);
    }

    #[test]
    fn parses_every_key_and_rejects_bad_values() {
        let mut p = BTreeMap::new();
        p.insert(keys::ALPHABET.into(), "rna".into());
        p.insert(keys::LAYOUT.into(), "NLC".into());
        p.insert(keys::LENGTH.into(), "1000".into());
        p.insert(keys::N_POLICY.into(), "uniform".into());
        p.insert(keys::LABELS.into(), r#"["a","b"]"#.into());
        p.insert(keys::TASK.into(), "binary".into());
        let o = parse_props(&p).unwrap();
        assert_eq!(o.alphabet, Some(Alphabet::Rna));
        assert_eq!(o.layout, Some(Layout::Nlc));
        assert_eq!(o.length, Some(1000));
        assert_eq!(
            o.labels.as_deref(),
            Some(&["a".to_string(), "b".to_string()][..])
        );
        p.insert(keys::LABELS.into(), "a,b".into());
        let err = parse_props(&p).unwrap_err().to_string();
        assert!(err.contains("seqlens.labels"), "{err}");
        p.remove(keys::LABELS);
        p.insert(keys::LENGTH.into(), "-3".into());
        assert!(
            parse_props(&p)
                .unwrap_err()
                .to_string()
                .contains("seqlens.length")
        );
    }

    #[test]
    fn profiles_need_offset_and_context() {
        let mut p = BTreeMap::new();
        p.insert(keys::OUTPUT.into(), "profile".into());
        p.insert(keys::OFFSET.into(), "5000".into());
        let err = parse_props(&p).unwrap_err().to_string();
        assert!(
            err.contains("seqlens.context") && err.contains("required"),
            "{err}"
        );
        p.insert(keys::CONTEXT.into(), "10000".into());
        let o = parse_props(&p).unwrap();
        assert_eq!(
            o.output,
            Some(Output::Profile {
                offset: 5000,
                context: 10000,
                log_total: false,
            })
        );
        assert_eq!(o.output.unwrap().positions(12002), Some(2002));
        assert_eq!(o.output.unwrap().positions(10000), None);
        p.insert(keys::OUTPUT.into(), "values".into());
        assert!(
            parse_props(&p)
                .unwrap_err()
                .to_string()
                .contains("only meaningful")
        );
        p.insert(keys::OUTPUT.into(), "tracks".into());
        assert!(
            parse_props(&p)
                .unwrap_err()
                .to_string()
                .contains("'values' or 'profile'")
        );
    }

    #[test]
    fn overrides_win() {
        let base = Overrides {
            length: Some(10),
            task: Some("x".into()),
            ..Default::default()
        };
        let user = Overrides {
            length: Some(20),
            ..Default::default()
        };
        let m = user.over(&base);
        assert_eq!((m.length, m.task.as_deref()), (Some(20), Some("x")));
    }
}
