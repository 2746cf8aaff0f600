//! What the ONNX protobuf itself says: declared inputs and outputs, operators, parameters,
//! metadata. Read from the proto rather than from tract's graph so `info` works even for a
//! model tract cannot optimise.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use tract_onnx::pb;
use tract_onnx::pb::tensor_shape_proto::dimension::Value as DimValue;
use tract_onnx::pb::type_proto::Value as TypeValue;

/// One dimension as declared: a number, a named symbol, or nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Dim {
    /// A number of elements.
    Fixed(usize),
    /// A named symbol (such as `batch`).
    Symbol(String),
}

impl Dim {
    /// The number, for a fixed dimension.
    pub fn fixed(&self) -> Option<usize> {
        match self {
            Dim::Fixed(n) => Some(*n),
            Dim::Symbol(_) => None,
        }
    }
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Fixed(n) => write!(f, "{n}"),
            Dim::Symbol(s) => f.write_str(s),
        }
    }
}

/// A graph input or output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TensorInfo {
    /// The name in the graph.
    pub name: String,
    /// The element type (`float32`, ...).
    pub dtype: String,
    /// The dimensions, as declared.
    pub shape: Vec<Dim>,
}

/// Everything `seqlens info` reports about a model file.
#[derive(Clone, Debug, Serialize)]
pub struct ProtoSummary {
    /// The graph's inputs.
    pub inputs: Vec<TensorInfo>,
    /// The graph's outputs.
    pub outputs: Vec<TensorInfo>,
    /// How many nodes of each op type.
    pub ops: BTreeMap<String, usize>,
    /// Values in the initializers.
    pub parameters: u64,
    /// The tool that wrote the file, with its version.
    pub producer: String,
    /// The default-domain opset.
    pub opset: i64,
    /// Every `metadata_props` entry.
    pub properties: BTreeMap<String, String>,
}

fn dtype_name(t: i32) -> String {
    pb::tensor_proto::DataType::try_from(t)
        .map(|d| d.as_str_name().to_ascii_lowercase())
        .unwrap_or_else(|_| format!("type {t}"))
}

fn tensor_info(v: &pb::ValueInfoProto) -> TensorInfo {
    let (dtype, shape) = match v.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(TypeValue::TensorType(t)) => {
            let shape = t
                .shape
                .as_ref()
                .map(|s| {
                    s.dim
                        .iter()
                        .enumerate()
                        .map(|(i, d)| match &d.value {
                            Some(DimValue::DimValue(n)) if *n > 0 => Dim::Fixed(*n as usize),
                            Some(DimValue::DimParam(p)) if !p.is_empty() => Dim::Symbol(p.clone()),
                            _ => Dim::Symbol(format!("?{i}")),
                        })
                        .collect()
                })
                .unwrap_or_default();
            (dtype_name(t.elem_type), shape)
        }
        _ => ("unknown".to_string(), Vec::new()),
    };
    TensorInfo {
        name: v.name.clone(),
        dtype,
        shape,
    }
}

/// Summarises a parsed model. Inputs that are really initializers (old exporters list both)
/// are left out.
pub fn summarize(proto: &pb::ModelProto) -> ProtoSummary {
    let empty = pb::GraphProto::default();
    let graph = proto.graph.as_ref().unwrap_or(&empty);
    let init: HashSet<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let mut ops = BTreeMap::new();
    for n in &graph.node {
        *ops.entry(n.op_type.clone()).or_insert(0) += 1;
    }
    let constant_params: u64 = graph
        .node
        .iter()
        .filter(|n| n.op_type == "Constant")
        .flat_map(|n| n.attribute.iter())
        .filter_map(|a| a.t.as_ref())
        .map(|t| t.dims.iter().product::<i64>().max(0) as u64)
        .sum();
    let parameters = graph
        .initializer
        .iter()
        .map(|t| t.dims.iter().product::<i64>().max(0) as u64)
        .sum::<u64>()
        + constant_params;
    ProtoSummary {
        inputs: graph
            .input
            .iter()
            .filter(|i| !init.contains(i.name.as_str()))
            .map(tensor_info)
            .collect(),
        outputs: graph.output.iter().map(tensor_info).collect(),
        ops,
        parameters,
        producer: format!("{} {}", proto.producer_name, proto.producer_version)
            .trim()
            .to_string(),
        opset: proto
            .opset_import
            .iter()
            .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
            .map_or(0, |o| o.version),
        properties: proto
            .metadata_props
            .iter()
            .map(|p| (p.key.clone(), p.value.clone()))
            .collect(),
    }
}

/// Declared dims of a graph input: `Some(n)` when fixed.
pub fn dims(v: &pb::ValueInfoProto) -> Vec<Option<usize>> {
    tensor_info(v).shape.iter().map(Dim::fixed).collect()
}
