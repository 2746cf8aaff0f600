//! Small helpers over tract-onnx's generated protobuf types.

use tract_onnx::pb;
use tract_onnx::pb::attribute_proto::AttributeType;
use tract_onnx::pb::tensor_proto::DataType;

pub fn attr_int(name: &str, i: i64) -> pb::AttributeProto {
    pb::AttributeProto {
        name: name.into(),
        r#type: AttributeType::Int as i32,
        i,
        ..Default::default()
    }
}

pub fn attr_ints(name: &str, ints: &[i64]) -> pb::AttributeProto {
    pb::AttributeProto {
        name: name.into(),
        r#type: AttributeType::Ints as i32,
        ints: ints.to_vec(),
        ..Default::default()
    }
}

pub fn attr_string(name: &str, v: &str) -> pb::AttributeProto {
    pb::AttributeProto {
        name: name.into(),
        r#type: AttributeType::String as i32,
        s: v.as_bytes().to_vec(),
        ..Default::default()
    }
}

pub fn attr_tensor(name: &str, t: pb::TensorProto) -> pb::AttributeProto {
    pb::AttributeProto {
        name: name.into(),
        r#type: AttributeType::Tensor as i32,
        t: Some(t),
        ..Default::default()
    }
}

pub fn attr_float(name: &str, f: f32) -> pb::AttributeProto {
    pb::AttributeProto {
        name: name.into(),
        r#type: AttributeType::Float as i32,
        f,
        ..Default::default()
    }
}

pub fn f32_tensor(name: &str, dims: &[usize], data: &[f32]) -> pb::TensorProto {
    pb::TensorProto {
        name: name.into(),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: DataType::Float as i32,
        raw_data: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    }
}

pub fn i64_tensor(name: &str, data: &[i64]) -> pb::TensorProto {
    pb::TensorProto {
        name: name.into(),
        dims: vec![data.len() as i64],
        data_type: DataType::Int64 as i32,
        raw_data: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    }
}

/// The values of an 8-bit or 32-bit integer tensor (quantised weights and their zero
/// points), from `raw_data` or `int32_data`.
pub fn int_values(t: &pb::TensorProto) -> Result<Vec<i32>, String> {
    let raw = !t.raw_data.is_empty();
    Ok(match DataType::try_from(t.data_type) {
        Ok(DataType::Int8) if raw => t.raw_data.iter().map(|&b| b as i8 as i32).collect(),
        Ok(DataType::Uint8) if raw => t.raw_data.iter().map(|&b| b as i32).collect(),
        Ok(DataType::Int32) if raw => t
            .raw_data
            .chunks_exact(4)
            .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        Ok(DataType::Int8 | DataType::Uint8 | DataType::Int32) => t.int32_data.clone(),
        _ => {
            return Err(format!("tensor '{}' is not int8, uint8 or int32", t.name));
        }
    })
}

/// The values of a floating-point tensor as f32, from `raw_data` or the typed field:
/// float32, float16 (the fp16-weight models cast back to float32) or float64.
pub fn f32_values(t: &pb::TensorProto) -> Result<Vec<f32>, String> {
    let raw = !t.raw_data.is_empty();
    let v: Vec<f32> = match DataType::try_from(t.data_type) {
        Ok(DataType::Float) if raw => t
            .raw_data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        Ok(DataType::Float) => t.float_data.clone(),
        Ok(DataType::Float16) if raw => t
            .raw_data
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        // ONNX keeps non-raw float16 values as their bit patterns in int32_data.
        Ok(DataType::Float16) => t
            .int32_data
            .iter()
            .map(|&b| half::f16::from_bits(b as u16).to_f32())
            .collect(),
        Ok(DataType::Double) if raw => t
            .raw_data
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32)
            .collect(),
        Ok(DataType::Double) => t.double_data.iter().map(|&v| v as f32).collect(),
        _ => {
            return Err(format!(
                "tensor '{}' is not floating point (float32, float16 or float64)",
                t.name
            ));
        }
    };
    let n = t
        .dims
        .iter()
        .try_fold(1i64, |n, &d| (d >= 0).then(|| n.checked_mul(d)).flatten())
        .ok_or_else(|| format!("tensor '{}' has impossible dims {:?}", t.name, t.dims))?;
    if v.len() as i64 != n {
        return Err(format!(
            "tensor '{}' holds {} values for dims {:?} (external data is not supported)",
            t.name,
            v.len(),
            t.dims
        ));
    }
    Ok(v)
}

/// The values of an int64 tensor, from `raw_data` or `int64_data`.
pub fn i64_values(t: &pb::TensorProto) -> Result<Vec<i64>, String> {
    if t.data_type != DataType::Int64 as i32 {
        return Err(format!("tensor '{}' is not int64", t.name));
    }
    Ok(if !t.raw_data.is_empty() {
        t.raw_data
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")))
            .collect()
    } else {
        t.int64_data.clone()
    })
}

/// A float tensor's declaration; `dims: None` leaves the shape unknown.
pub fn value_info(name: &str, dims: Option<&[Result<i64, &str>]>) -> pb::ValueInfoProto {
    use pb::tensor_shape_proto::{Dimension, dimension::Value};
    pb::ValueInfoProto {
        name: name.into(),
        r#type: Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: DataType::Float as i32,
                shape: dims.map(|dims| pb::TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|d| Dimension {
                            value: Some(match d {
                                Ok(n) => Value::DimValue(*n),
                                Err(s) => Value::DimParam(s.to_string()),
                            }),
                            ..Default::default()
                        })
                        .collect(),
                }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A convolution's or pooling's window attributes agree on the number of spatial axes:
/// `kernel_shape`, `strides` and `dilations` have one value per axis and `pads` two, when
/// given (tract indexes one by the other's length and panics on a mismatch).
fn check_window_attributes(n: &pb::NodeProto) -> Result<(), String> {
    if !matches!(
        n.op_type.as_str(),
        "Conv"
            | "ConvTranspose"
            | "ConvInteger"
            | "QLinearConv"
            | "MaxPool"
            | "AveragePool"
            | "LpPool"
            | "MaxUnpool"
    ) {
        return Ok(());
    }
    let len = |name: &str| {
        n.attribute
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.ints.len())
    };
    let axes = len("kernel_shape")
        .or(len("strides"))
        .or(len("dilations"))
        .or(len("pads").map(|p| p / 2));
    let Some(axes) = axes else { return Ok(()) };
    for (name, per_axis) in [
        ("kernel_shape", 1),
        ("strides", 1),
        ("dilations", 1),
        ("pads", 2),
    ] {
        if let Some(l) = len(name)
            && (l != axes * per_axis || axes == 0)
        {
            return Err(format!(
                "{name} has {l} values for {axes} spatial axes (expected {})",
                axes * per_axis
            ));
        }
    }
    Ok(())
}

/// A Transpose's `perm`, when given, is a permutation of its input's axes: each of 0..n
/// exactly once. tract's layout analysis takes a repeated axis (`[0, 2, 0]`) as a cycle it
/// never leaves and allocates until the process dies, and an out-of-range one panics.
fn check_perm(n: &pb::NodeProto) -> Result<(), String> {
    if n.op_type != "Transpose" {
        return Ok(());
    }
    let Some(perm) = n.attribute.iter().find(|a| a.name == "perm") else {
        return Ok(());
    };
    let mut seen = vec![false; perm.ints.len()];
    for &axis in &perm.ints {
        match usize::try_from(axis).ok().and_then(|a| seen.get_mut(a)) {
            Some(s) if !*s => *s = true,
            _ => {
                return Err(format!(
                    "perm {:?} is not a permutation of the axes 0..{} (axis {axis} is {})",
                    perm.ints,
                    perm.ints.len(),
                    if usize::try_from(axis).is_ok_and(|a| a < perm.ints.len()) {
                        "repeated"
                    } else {
                        "out of range"
                    }
                ));
            }
        }
    }
    Ok(())
}

/// Checks that the graph's wiring is whole: every node writes at least one named output, and
/// every tensor a node reads or the graph returns is an input, an initializer or some node's
/// output. tract indexes its tensors by name and panics on a dangling one; the importer
/// refuses a node whose first output is omitted. Each node's window attributes and
/// Transpose `perm` are checked too, since tract panics or runs out of memory on bad ones.
pub fn check_graph(graph: &pb::GraphProto) -> Result<(), String> {
    use std::collections::HashSet;
    let node = |i: usize, n: &pb::NodeProto| {
        if n.name.is_empty() {
            format!("node #{i} ({})", n.op_type)
        } else {
            format!("node '{}' ({})", n.name, n.op_type)
        }
    };
    let mut defined: HashSet<&str> = graph
        .input
        .iter()
        .map(|v| v.name.as_str())
        .chain(graph.initializer.iter().map(|t| t.name.as_str()))
        .collect();
    for (i, n) in graph.node.iter().enumerate() {
        // An empty name is an omitted optional output (an LSTM's Y when only Y_h is used).
        if n.output.iter().all(|o| o.is_empty()) {
            return Err(format!("{} has no output", node(i, n)));
        }
        defined.extend(n.output.iter().map(String::as_str));
    }
    for (i, n) in graph.node.iter().enumerate() {
        check_window_attributes(n)
            .and_then(|()| check_perm(n))
            .map_err(|e| format!("{}: {e}", node(i, n)))?;
        if let Some(t) = n
            .input
            .iter()
            .find(|t| !t.is_empty() && !defined.contains(t.as_str()))
        {
            return Err(format!(
                "{} reads '{t}', which no input, initializer or node defines",
                node(i, n)
            ));
        }
    }
    if let Some(o) = graph
        .output
        .iter()
        .find(|o| !defined.contains(o.name.as_str()))
    {
        return Err(format!(
            "the graph returns '{}', which no input, initializer or node defines",
            o.name
        ));
    }
    Ok(())
}
