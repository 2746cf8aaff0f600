use prost::Message;
use tract_onnx::pb;

use super::Error;
use super::proto::{
    attr_float, attr_int, attr_ints, attr_string, attr_tensor, f32_tensor, i64_tensor, value_info,
};
use crate::metadata::Metadata;
use crate::nn::{Cell, Direction, Graph, Layer, Reduce};

/// What the exported model says about itself in `metadata_props`.
#[derive(Clone, Debug)]
pub struct ExportMeta {
    /// What the model reads and outputs, written as `seqlens.*` keys.
    pub metadata: Metadata,
    /// Free-form `key = value` pairs added beside the `seqlens.*` keys.
    pub extra: Vec<(String, String)>,
    /// How the weight matrices are stored.
    pub precision: Precision,
}

/// How an exported model stores its weight matrices (conv kernels, dense and recurrent
/// weights; biases and batch-norm statistics stay float32). Computation is float32 either way:
/// each stored weight is converted back by a node in front of the graph, which every ONNX
/// runtime (and the engine's importer, by folding) understands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// float32.
    #[default]
    F32,
    /// float16, cast to float32 (`Cast`): half the size.
    F16,
    /// int8 with a float32 scale per output channel (symmetric: the largest magnitude maps
    /// to 127), dequantised (`DequantizeLinear`, axis 0): a quarter of the size.
    Int8,
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(match self {
            Precision::F32 => "fp32",
            Precision::F16 => "fp16",
            Precision::Int8 => "int8",
        })
    }
}

impl std::str::FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> Result<Precision, String> {
        match s {
            "f32" | "fp32" | "float32" => Ok(Precision::F32),
            "f16" | "fp16" | "float16" => Ok(Precision::F16),
            "int8" => Ok(Precision::Int8),
            _ => Err(format!(
                "unknown precision '{s}'; expected fp32, fp16 or int8"
            )),
        }
    }
}

/// Stores every weight matrix (an initializer of rank 2 or more) at `precision`, with the node
/// that restores float32 under the initializer's old name, so consumers stay as they are.
fn lower_precision(
    inits: &mut Vec<pb::TensorProto>,
    nodes: &mut Vec<pb::NodeProto>,
    precision: Precision,
) {
    use tract_onnx::pb::tensor_proto::DataType;
    let mut front = Vec::new();
    let mut added = Vec::new();
    for t in inits.iter_mut() {
        if precision == Precision::F32 || t.dims.len() < 2 || t.data_type != DataType::Float as i32
        {
            continue;
        }
        let Ok(values) = super::proto::f32_values(t) else {
            continue;
        };
        let name = std::mem::take(&mut t.name);
        let node = |op: &str, inputs: Vec<String>, attribute| pb::NodeProto {
            name: format!("{name}.{}", op.to_lowercase()),
            op_type: op.into(),
            input: inputs,
            output: vec![name.clone()],
            attribute,
            ..Default::default()
        };
        match precision {
            Precision::F32 => unreachable!("skipped above"),
            Precision::F16 => {
                t.name = format!("{name}.f16");
                t.data_type = DataType::Float16 as i32;
                t.raw_data = values
                    .iter()
                    .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
                    .collect();
                front.push(node(
                    "Cast",
                    vec![t.name.clone()],
                    vec![attr_int("to", DataType::Float as i64)],
                ));
            }
            Precision::Int8 => {
                let channels = t.dims[0].max(1) as usize;
                let per = values.len() / channels;
                let scales: Vec<f32> = values
                    .chunks(per.max(1))
                    .map(|c| {
                        let m = c.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                        if m > 0.0 { m / 127.0 } else { 1.0 }
                    })
                    .collect();
                t.name = format!("{name}.int8");
                t.data_type = DataType::Int8 as i32;
                t.raw_data = values
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| (v / scales[i / per]).round().clamp(-127.0, 127.0) as i8 as u8)
                    .collect();
                let scale = f32_tensor(&format!("{name}.scale"), &[channels], &scales);
                let zero = pb::TensorProto {
                    name: format!("{name}.zero_point"),
                    dims: vec![channels as i64],
                    data_type: DataType::Int8 as i32,
                    raw_data: vec![0; channels],
                    ..Default::default()
                };
                front.push(node(
                    "DequantizeLinear",
                    vec![t.name.clone(), scale.name.clone(), zero.name.clone()],
                    vec![attr_int("axis", 0)],
                ));
                added.extend([scale, zero]);
            }
        }
    }
    inits.extend(added);
    // The restoring nodes come first: they read only initializers.
    nodes.splice(0..0, front);
}

/// Writes `graph` as an ONNX model (opset 13, or 20 with a GELU) taking `sequence: [batch, C, L]` and returning
/// `output`, or each of a multi-output graph's `heads` under its name. Dropout disappears (it is the identity at inference); batch norm is exported as
/// `BatchNormalization` with its running statistics.
pub fn export(graph: &Graph, meta: &ExportMeta) -> Result<Vec<u8>, Error> {
    if graph.nodes.is_empty() {
        return Err(Error::Graph("cannot export an empty graph".into()));
    }
    let c = graph.input_shape.first().copied().unwrap_or(0) as i64;
    // Every value's shape, inferred statically (a graph of any length at a nominal length).
    let nominal = if graph.any_length {
        1 << 20
    } else {
        graph.input_shape.get(1).copied().unwrap_or(1)
    };
    let shapes = graph.shapes(&[c as usize, nominal])?;
    // Opset 13 unless a layer needs a later one (Gelu: 20, with IR version 9). Every op the
    // export writes means the same at both; ReduceMax/ReduceMean take their axes as an input
    // from 18 on.
    let gelu = graph
        .nodes
        .iter()
        .any(|n| matches!(n.layer, Layer::Gelu { .. }));
    let (opset, ir_version) = if gelu { (20, 9) } else { (13, 8) };
    let mut nodes = Vec::new();
    let mut inits = Vec::new();
    // The model's outputs: (value, name). A multi-output graph's final Concat, and the
    // Flatten nodes that only feed it, exist to join the outputs; they are not written.
    let heads = graph.head_outputs(&shapes[0])?;
    let mut skip = vec![false; graph.nodes.len() + 1];
    let outputs: Vec<(usize, String)> = if heads.is_empty() {
        vec![(graph.nodes.len(), "output".to_string())]
    } else {
        skip[graph.nodes.len()] = true;
        let mut seen = std::collections::HashSet::new();
        for h in &heads {
            skip[h.joined] |= h.joined != h.value;
            if h.value == 0 || h.name.is_empty() || h.name == "sequence" || !seen.insert(&h.name) {
                return Err(Error::Graph(format!(
                    "output '{}' must be a distinct, non-empty name for a computed value",
                    h.name
                )));
            }
        }
        heads.iter().map(|h| (h.value, h.name.clone())).collect()
    };
    // names[v]: the ONNX tensor holding value v (0 = input, i + 1 = node i's output).
    let mut names = vec!["sequence".to_string()];
    for (i, node) in graph.nodes.iter().enumerate() {
        let ins: Vec<String> = node.inputs.iter().map(|&j| names[j].clone()).collect();
        let out = match outputs.iter().find(|(v, _)| *v == i + 1) {
            Some((_, name)) => name.clone(),
            None => format!("{}_out", node.name),
        };
        if skip[i + 1] {
            names.push(out);
            continue;
        }
        let p = |s: &str| format!("{}.{s}", node.name);
        let mut op = |op_type: &str,
                      inputs: Vec<String>,
                      output: &str,
                      attribute: Vec<pb::AttributeProto>| {
            nodes.push(pb::NodeProto {
                input: inputs,
                output: vec![output.to_string()],
                // A layer written as several nodes names its intermediate nodes by their
                // outputs (ONNX node names must be unique).
                name: if output == out {
                    format!("{}:{op_type}", node.name)
                } else {
                    output.to_string()
                },
                op_type: op_type.into(),
                attribute,
                ..Default::default()
            })
        };
        match &node.layer {
            Layer::Conv1d(c) => {
                let mut inputs = vec![ins[0].clone(), p("weight")];
                inits.push(f32_tensor(&p("weight"), &c.weight.shape, &c.weight.value));
                if let Some(b) = &c.bias {
                    inputs.push(p("bias"));
                    inits.push(f32_tensor(&p("bias"), &b.shape, &b.value));
                }
                let mut attrs = vec![
                    attr_ints("kernel_shape", &[c.kernel as i64]),
                    attr_ints("strides", &[c.stride as i64]),
                    attr_ints("dilations", &[c.dilation as i64]),
                    attr_ints("pads", &[c.pad_left as i64, c.pad_right as i64]),
                ];
                if c.groups != 1 {
                    attrs.push(attr_int("group", c.groups as i64));
                }
                op("Conv", inputs, &out, attrs);
            }
            Layer::Linear(l) => {
                let mut inputs = vec![ins[0].clone(), p("weight")];
                inits.push(f32_tensor(&p("weight"), &l.weight.shape, &l.weight.value));
                if let Some(b) = &l.bias {
                    inputs.push(p("bias"));
                    inits.push(f32_tensor(&p("bias"), &b.shape, &b.value));
                }
                op("Gemm", inputs, &out, vec![attr_int("transB", 1)]);
            }
            Layer::BatchNorm1d(b) => {
                let c = [b.channels];
                inits.push(f32_tensor(&p("weight"), &c, &b.gamma.value));
                inits.push(f32_tensor(&p("bias"), &c, &b.beta.value));
                inits.push(f32_tensor(&p("running_mean"), &c, &b.running_mean));
                inits.push(f32_tensor(&p("running_var"), &c, &b.running_var));
                let inputs = [
                    ins[0].clone(),
                    p("weight"),
                    p("bias"),
                    p("running_mean"),
                    p("running_var"),
                ];
                op(
                    "BatchNormalization",
                    inputs.to_vec(),
                    &out,
                    vec![
                        attr_float("epsilon", b.eps),
                        attr_float("momentum", 1.0 - b.momentum),
                    ],
                );
            }
            Layer::Rnn(r) => {
                // ONNX runs recurrent layers over [length, batch, in] and returns
                // [length, directions, batch, hidden]; the engine's layout is channels-first.
                let (d, gh) = (r.direction.count(), r.cell.gates() * r.hidden);
                inits.push(f32_tensor(
                    &p("W"),
                    &[d, gh, r.input_size],
                    &r.weight_ih.value,
                ));
                inits.push(f32_tensor(&p("R"), &[d, gh, r.hidden], &r.weight_hh.value));
                inits.push(f32_tensor(&p("B"), &[d, 2 * gh], &r.bias.value));
                inits.push(i64_tensor(&p("shape"), &[0, (d * r.hidden) as i64, -1]));
                let (seq, y, t) = (p("seq"), p("Y"), p("Yt"));
                op("Transpose", ins, &seq, vec![attr_ints("perm", &[2, 0, 1])]);
                let direction = match r.direction {
                    Direction::Forward => "forward",
                    Direction::Reverse => "reverse",
                    Direction::Bidirectional => "bidirectional",
                };
                let mut attrs = vec![
                    attr_int("hidden_size", r.hidden as i64),
                    attr_string("direction", direction),
                ];
                let kind = match r.cell {
                    Cell::Lstm => "LSTM",
                    Cell::Gru => {
                        attrs.push(attr_int("linear_before_reset", 1));
                        "GRU"
                    }
                };
                // Zero initial states shaped [directions, batch, hidden] from the input, as
                // PyTorch exports them: tract cannot size omitted states for a symbolic batch.
                inits.push(i64_tensor(&p("batch_at"), &[1]));
                inits.push(i64_tensor(&p("batch_end"), &[2]));
                inits.push(i64_tensor(&p("dirs"), &[d as i64]));
                inits.push(i64_tensor(&p("units"), &[r.hidden as i64]));
                let (shape, batch, state_shape, zeros) =
                    (p("seq_shape"), p("batch"), p("state_shape"), p("zeros"));
                op("Shape", vec![seq.clone()], &shape, vec![]);
                op(
                    "Slice",
                    vec![shape, p("batch_at"), p("batch_end")],
                    &batch,
                    vec![],
                );
                op(
                    "Concat",
                    vec![p("dirs"), batch, p("units")],
                    &state_shape,
                    vec![attr_int("axis", 0)],
                );
                // The value is explicit: tract reads a missing one as f64.
                op(
                    "ConstantOfShape",
                    vec![state_shape],
                    &zeros,
                    vec![attr_tensor("value", f32_tensor("value", &[1], &[0.0]))],
                );
                let mut inputs = vec![seq, p("W"), p("R"), p("B"), String::new(), zeros.clone()];
                if r.cell == Cell::Lstm {
                    inputs.push(zeros);
                }
                op(kind, inputs, &y, attrs);
                op(
                    "Transpose",
                    vec![y],
                    &t,
                    vec![attr_ints("perm", &[2, 1, 3, 0])],
                );
                op("Reshape", vec![t, p("shape")], &out, vec![]);
            }
            Layer::Relu => op("Relu", ins, &out, vec![]),
            Layer::Elu { alpha } => op("Elu", ins, &out, vec![attr_float("alpha", *alpha)]),
            Layer::Softplus => op("Softplus", ins, &out, vec![]),
            Layer::Exp => op("Exp", ins, &out, vec![]),
            Layer::Sigmoid => op("Sigmoid", ins, &out, vec![]),
            Layer::Tanh => op("Tanh", ins, &out, vec![]),
            Layer::LeakyRelu { alpha } => {
                op("LeakyRelu", ins, &out, vec![attr_float("alpha", *alpha)])
            }
            // ONNX's Gelu is opset 20: a graph with one is written at that opset.
            Layer::Gelu { tanh } => op(
                "Gelu",
                ins,
                &out,
                vec![attr_string(
                    "approximate",
                    if *tanh { "tanh" } else { "none" },
                )],
            ),
            Layer::Softmax => op("Softmax", ins, &out, vec![attr_int("axis", 1)]),
            Layer::SoftmaxLength => op("Softmax", ins, &out, vec![attr_int("axis", 2)]),
            Layer::MaxPool1d(w) | Layer::AvgPool1d(w) => {
                let max = matches!(node.layer, Layer::MaxPool1d(_));
                // Attributes beyond the plain window only where they differ from ONNX's
                // defaults, so that plain pools are written as before.
                let mut attrs = vec![
                    attr_ints("kernel_shape", &[w.kernel as i64]),
                    attr_ints("strides", &[w.stride as i64]),
                ];
                if w.pad_left + w.pad_right > 0 {
                    attrs.push(attr_ints("pads", &[w.pad_left as i64, w.pad_right as i64]));
                }
                if w.ceil {
                    attrs.push(attr_int("ceil_mode", 1));
                }
                if w.dilation != 1 {
                    if !max {
                        // AveragePool's dilations are opset 19; the import never makes one.
                        return Err(Error::Graph(format!(
                            "node '{}': dilated average pooling cannot be written at opset 13",
                            node.name
                        )));
                    }
                    attrs.push(attr_ints("dilations", &[w.dilation as i64]));
                }
                if w.count_pad {
                    attrs.push(attr_int("count_include_pad", 1));
                }
                let kind = if max { "MaxPool" } else { "AveragePool" };
                op(kind, ins, &out, attrs)
            }
            Layer::GlobalMaxPool | Layer::GlobalAvgPool => {
                let kind = if matches!(node.layer, Layer::GlobalMaxPool) {
                    "GlobalMaxPool"
                } else {
                    "GlobalAveragePool"
                };
                let pooled = p("pooled");
                op(kind, ins, &pooled, vec![]);
                op("Flatten", vec![pooled], &out, vec![attr_int("axis", 1)]);
            }
            Layer::GlobalSumPool => {
                inits.push(i64_tensor(&p("axes"), &[2]));
                let inputs = vec![ins[0].clone(), p("axes")];
                op("ReduceSum", inputs, &out, vec![attr_int("keepdims", 0)]);
            }
            Layer::ReduceChannels { op: reduce } => {
                let keep = attr_int("keepdims", 1);
                if *reduce == Reduce::Sum || opset >= 18 {
                    inits.push(i64_tensor(&p("axes"), &[1]));
                    let inputs = vec![ins[0].clone(), p("axes")];
                    op(reduce.onnx_op(), inputs, &out, vec![keep]);
                } else {
                    op(
                        reduce.onnx_op(),
                        ins,
                        &out,
                        vec![attr_ints("axes", &[1]), keep],
                    );
                }
            }
            Layer::Dropout { .. } => op("Identity", ins, &out, vec![]),
            Layer::Flatten => op("Flatten", ins, &out, vec![attr_int("axis", 1)]),
            Layer::Add => op("Add", ins, &out, vec![]),
            Layer::Concat => op("Concat", ins, &out, vec![attr_int("axis", 1)]),
            Layer::Crop { left, right } => {
                inits.push(i64_tensor(&p("starts"), &[*left as i64]));
                let end = if *right == 0 {
                    i64::MAX
                } else {
                    -(*right as i64)
                };
                inits.push(i64_tensor(&p("ends"), &[end]));
                inits.push(i64_tensor(&p("axes"), &[2]));
                let inputs = [ins[0].clone(), p("starts"), p("ends"), p("axes")];
                op("Slice", inputs.to_vec(), &out, vec![]);
            }
            Layer::Affine { scale, shift } => {
                // Constants shaped to broadcast over channels: [C, 1] beside a length, [C]
                // without one.
                let dims: Vec<usize> = match shapes[node.inputs[0]].len() {
                    2 => vec![scale.len(), 1],
                    _ => vec![scale.len()],
                };
                inits.push(f32_tensor(&p("scale"), &dims, scale));
                inits.push(f32_tensor(&p("shift"), &dims, shift));
                let scaled = p("scaled");
                op("Mul", vec![ins[0].clone(), p("scale")], &scaled, vec![]);
                op("Add", vec![scaled, p("shift")], &out, vec![]);
            }
        }
        names.push(out);
    }
    let m = &meta.metadata;
    let l = match (graph.any_length, graph.input_shape.get(1)) {
        (false, Some(&l)) => Ok(l as i64),
        _ => Err("length"),
    };
    let input = match m.layout {
        crate::encode::Layout::Ncl => value_info("sequence", Some(&[Err("batch"), Ok(c), l])),
        crate::encode::Layout::Nlc => {
            return Err(Error::Graph(
                "export writes NCL models; the engine is channels-first".into(),
            ));
        }
    };
    // Each output's shape: [batch, ...], with a length that follows the input's left
    // symbolic for a graph of any length.
    let output_info = |(v, name): &(usize, String)| {
        let mut dims: Vec<Result<i64, &str>> = vec![Err("batch")];
        for (i, &d) in shapes[*v].iter().enumerate() {
            dims.push(if graph.any_length && i == 1 {
                Err("positions")
            } else {
                Ok(d as i64)
            });
        }
        value_info(name, Some(&dims))
    };
    lower_precision(&mut inits, &mut nodes, meta.precision);
    let mut props = m.props();
    props.extend(meta.extra.iter().cloned());
    let model = pb::ModelProto {
        ir_version,
        producer_name: "seqlens".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        opset_import: vec![pb::OperatorSetIdProto {
            domain: String::new(),
            version: opset,
        }],
        metadata_props: props
            .into_iter()
            .map(|(key, value)| pb::StringStringEntryProto { key, value })
            .collect(),
        graph: Some(pb::GraphProto {
            name: "seqlens".into(),
            node: nodes,
            initializer: inits,
            input: vec![input],
            output: outputs.iter().map(output_info).collect(),
            ..Default::default()
        }),
        ..Default::default()
    };
    Ok(model.encode_to_vec())
}
