use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use prost::Message;
use tract_onnx::pb;

use super::Error;
use super::proto::{f32_values, i64_values};
use tract_onnx::pb::tensor_proto::DataType;

use super::view::{Atom, Dim, View};
use crate::encode::Layout;
use crate::nn::{
    BatchNorm1d, Cell, Conv1d, Direction, Graph, Layer, Linear, Param, Pool1d, Reduce, Rnn,
};

fn attrs(n: &pb::NodeProto) -> HashMap<&str, &pb::AttributeProto> {
    n.attribute.iter().map(|a| (a.name.as_str(), a)).collect()
}

/// The attributes the importer reads for each operator. Any other attribute changes what the
/// operator computes in a way the engine does not implement, so it is refused rather than
/// ignored (exact or refuse).
fn known_attributes(op: &str) -> &'static [&'static str] {
    match op {
        "Conv" => &[
            "kernel_shape",
            "dilations",
            "strides",
            "pads",
            "auto_pad",
            "group",
        ],
        "Gemm" => &["alpha", "beta", "transA", "transB"],
        "BatchNormalization" => &["epsilon", "momentum", "spatial", "training_mode"],
        "Elu" | "LeakyRelu" => &["alpha"],
        "Gelu" => &["approximate"],
        "Softmax" => &["axis"],
        "MaxPool" | "AveragePool" => &[
            "kernel_shape",
            "strides",
            "pads",
            "ceil_mode",
            "auto_pad",
            "dilations",
            "storage_order",
            "count_include_pad",
        ],
        "Flatten" | "Concat" => &["axis"],
        "Squeeze" => &["axes"],
        "Constant" => &["value"],
        "Dropout" => &["seed", "ratio", "is_test"],
        "Cast" => &["to", "saturate"],
        "DequantizeLinear" => &["axis"],
        "Reshape" => &["allowzero"],
        "ReduceMax" | "ReduceMean" | "ReduceSum" => &["axes", "keepdims", "noop_with_empty_axes"],
        "Transpose" => &["perm"],
        "Unsqueeze" => &["axes"],
        "Shape" => &["start", "end"],
        "Gather" => &["axis"],
        "ConstantOfShape" => &["value"],
        "LSTM" => &[
            "hidden_size",
            "direction",
            "layout",
            "activations",
            "input_forget",
        ],
        "GRU" => &[
            "hidden_size",
            "direction",
            "layout",
            "activations",
            "linear_before_reset",
        ],
        _ => &[],
    }
}

/// Reads an ONNX model made of the engine's op set into a [`Graph`]. `length` fixes the
/// sequence length when the model's input leaves it symbolic; without it, such a model
/// imports as a graph of any length ([`Graph::any_length`]) when nothing in it depends on
/// the length. Shapes are inferred statically, so importing never runs the model.
///
/// `layout` is the model input's (the model's metadata says which). The graph itself always
/// takes `[batch, channels, length]`: a channels-last input is followed as a transposed
/// view of it, as exporters' own transposes are, so the model's first Transpose is free.
///
/// Every operator attribute is either implemented or refused with an error naming it.
pub fn import(bytes: &[u8], length: Option<usize>, layout: Layout) -> Result<Graph, Error> {
    let proto = pb::ModelProto::decode(bytes).map_err(|e| Error::Corrupt(e.to_string()))?;
    import_proto(&proto, length, layout)
}

/// [`import`] from a decoded model, which a caller that already holds one (the model loader,
/// for tract) need not decode a second time: the weights are copied only into the graph.
pub fn import_proto(
    proto: &pb::ModelProto,
    length: Option<usize>,
    layout: Layout,
) -> Result<Graph, Error> {
    let opset = proto
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map_or(1, |o| o.version);
    let graph =
        (proto.graph.as_ref()).ok_or_else(|| Error::Corrupt("the file holds no graph".into()))?;
    super::proto::check_graph(graph).map_err(Error::Corrupt)?;
    // The initializers borrowed; Constant nodes' tensors owned.
    let mut consts: HashMap<String, Cow<pb::TensorProto>> = graph
        .initializer
        .iter()
        .map(|t| (t.name.clone(), Cow::Borrowed(t)))
        .collect();
    let inputs: Vec<&pb::ValueInfoProto> = graph
        .input
        .iter()
        .filter(|i| !consts.contains_key(&i.name))
        .collect();
    let [input] = inputs[..] else {
        return Err(Error::Graph(format!(
            "the engine imports models with one input; this one has {}",
            inputs.len()
        )));
    };
    let dims = super::summary::dims(input);
    let (c, l) = match (dims.as_slice(), layout) {
        ([_, c, l], Layout::Ncl) | ([_, l, c], Layout::Nlc) => (*c, length.or(*l)),
        _ => {
            return Err(Error::Graph(format!(
                "input '{}' must be [batch, channels, length] or [batch, length, channels] \
                 with fixed channels",
                input.name
            )));
        }
    };
    let c = c.ok_or_else(|| {
        Error::Graph(format!("input '{}' has no fixed channel count", input.name))
    })?;
    let mut g = Graph::new(&[c, l.unwrap_or(0)]);
    g.any_length = l.is_none();
    // Shapes are tracked per engine value as nodes are added. A graph of any length is
    // tracked at a long nominal length: only channel counts and ranks are read from it.
    let mut shapes: Vec<Vec<usize>> = vec![vec![c, l.unwrap_or(ANY_LENGTH_PROBE)]];
    // ONNX tensor name -> engine value id.
    let mut ids: HashMap<String, usize> = HashMap::from([(input.name.clone(), 0)]);
    // Computed tensors whose axes are not the engine's order (see `view`).
    let mut views: HashMap<String, View> = HashMap::new();
    if layout == Layout::Nlc {
        let mut view = View::engine(&shapes[0], g.any_length);
        view.axes.swap(1, 2);
        views.insert(input.name.clone(), view);
    }
    // Integer vectors computed from shapes (the exporters' dynamic batch arithmetic).
    let mut syms: HashMap<String, Vec<Dim>> = HashMap::new();
    // Tensors of zeros built from such shapes (recurrent layers' initial states).
    let mut zeros: HashSet<String> = HashSet::new();

    // How many nodes (and graph outputs) read each tensor: a constant addend folds into the
    // bias of the layer before it only when nothing else reads that layer's output.
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for t in graph
        .node
        .iter()
        .flat_map(|n| &n.input)
        .chain(graph.output.iter().map(|o| &o.name))
    {
        *uses.entry(t.as_str()).or_default() += 1;
    }
    for (index, n) in graph.node.iter().enumerate() {
        let a = attrs(n);
        // Unnamed nodes (tf2onnx, hand-built graphs) are named by their place in the graph.
        let node_name = if n.name.is_empty() {
            format!("#{index}")
        } else {
            n.name.clone()
        };
        let fail = |message: String| Error::Node {
            node: node_name.clone(),
            op: n.op_type.clone(),
            message,
        };
        let int = |k: &str, d: i64| a.get(k).map_or(d, |a| a.i);
        let ints = |k: &str| a.get(k).map(|a| a.ints.clone());
        let konst = |name: &str, consts: &HashMap<String, Cow<pb::TensorProto>>| {
            consts
                .get(name)
                .ok_or_else(|| fail(format!("input '{name}' must be a constant (initializer)")))
                .and_then(|t| f32_values(t).map(|v| (t.dims.clone(), v)).map_err(&fail))
        };
        // `axes`: an attribute before opset 13 (Squeeze) or 18 (Reduce*), a constant input
        // since.
        let axes =
            |consts: &HashMap<String, Cow<pb::TensorProto>>| -> Result<Option<Vec<i64>>, Error> {
                match (ints("axes"), n.input.get(1).filter(|s| !s.is_empty())) {
                    (Some(v), _) => Ok(Some(v)),
                    (None, Some(k)) => consts
                        .get(k)
                        .map(|t| i64_values(t))
                        .transpose()
                        .map_err(&fail)?
                        .ok_or_else(|| fail("the axes must be a constant".into()))
                        .map(Some),
                    (None, None) => Ok(None),
                }
            };
        // Operand `i`, or an error naming it when the node lacks it.
        let arg = |i: usize| {
            n.input
                .get(i)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| fail(format!("operand {} is missing", i + 1)))
        };
        let value = |name: &str, ids: &HashMap<String, usize>| {
            ids.get(name).copied().ok_or_else(|| {
                fail(if zeros.contains(name) {
                    format!(
                        "input '{name}' is a tensor of zeros shaped from the input; the engine \
                         takes such tensors only as a recurrent layer's initial state"
                    )
                } else {
                    format!("input '{name}' is not computed by an earlier node")
                })
            })
        };
        if n.output[0].is_empty() {
            return Err(fail(
                "its first output is omitted (only later outputs are used); the engine \
                 computes the first output of each node"
                    .into(),
            ));
        }
        if let Some(a) = n
            .attribute
            .iter()
            .find(|a| !known_attributes(&n.op_type).contains(&a.name.as_str()))
        {
            return Err(fail(format!(
                "attribute '{}' is not supported by the engine",
                a.name
            )));
        }
        let x = n.input.first().map(String::as_str).unwrap_or("");
        let op = n.op_type.as_str();
        // Zeros shaped from the input stay zeros through shape-only ops.
        let is_zero = |t: &str| {
            zeros.contains(t)
                || consts
                    .get(t)
                    .and_then(|t| f32_values(t).ok())
                    .is_some_and(|v| v.iter().all(|&v| v == 0.0))
        };
        let zero_source = match op {
            "ConstantOfShape" => Some(
                a.get("value")
                    .and_then(|a| a.t.as_ref())
                    .map(f32_values)
                    .transpose()
                    .map_err(&fail)?
                    .is_none_or(|v| v.iter().all(|&v| v == 0.0)),
            ),
            "Expand" | "Slice" | "Reshape" | "Unsqueeze" | "Squeeze" | "Transpose" | "Identity"
            | "Cast"
                if zeros.contains(x) || (op == "Expand" && is_zero(x)) =>
            {
                Some(true)
            }
            _ => None,
        };
        match zero_source {
            Some(true) => {
                zeros.insert(n.output[0].clone());
                continue;
            }
            Some(false) => {
                return Err(fail(
                    "a constant other than zeros shaped from the input is not supported".into(),
                ));
            }
            None => {}
        }
        // Shape arithmetic: folded into symbolic sizes, never run.
        // How a computed tensor lays out its engine value.
        let view_of = |t: &str, id: usize| {
            views
                .get(t)
                .cloned()
                .unwrap_or_else(|| View::engine(&shapes[id], g.any_length))
        };
        if op == "Shape" {
            let src = value(x, &ids)?;
            let view = view_of(x, src);
            let dims = view.dims().map_err(&fail)?;
            let r = dims.len() as i64;
            let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
            let (from, to) = (clamp(int("start", 0)), clamp(int("end", r)));
            syms.insert(n.output[0].clone(), dims[from..to.max(from)].to_vec());
            continue;
        }
        let int_list = |t: &str| -> Option<Vec<Dim>> {
            syms.get(t).cloned().or_else(|| {
                consts
                    .get(t)
                    .filter(|c| {
                        c.data_type == DataType::Int64 as i32
                            || c.data_type == DataType::Int32 as i32
                    })
                    .and_then(|c| i64_values(c).ok())
                    .map(|v| v.into_iter().map(Dim::Known).collect())
            })
        };
        let inputs: Vec<&String> = n.input.iter().filter(|t| !t.is_empty()).collect();
        if !inputs.is_empty()
            && inputs.iter().any(|t| syms.contains_key(t.as_str()))
            && inputs.iter().all(|t| int_list(t).is_some())
        {
            let lists: Vec<Vec<Dim>> = inputs.iter().filter_map(|t| int_list(t)).collect();
            let folded = fold_shape(op, &lists, int("axis", 0)).map_err(&fail)?;
            syms.insert(n.output[0].clone(), folded);
            continue;
        }
        // Ops that follow a transposed layout; any other refuses one.
        let view_aware = matches!(
            op,
            "Transpose"
                | "Reshape"
                | "Flatten"
                | "Squeeze"
                | "Unsqueeze"
                | "LSTM"
                | "GRU"
                | "Gemm"
                | "MatMul"
                | "Identity"
                | "Dropout"
        );
        if !view_aware
            && let Some((t, v)) = n.input.iter().find_map(|t| views.get(t).map(|v| (t, v)))
        {
            return Err(fail(format!(
                "input '{t}' is laid out as {v}; the engine takes {op} on [batch, channels, length] or [batch, features] only"
            )));
        }
        // Records `out` as engine value `id` laid out as `view`.
        let publish = |out: &str,
                       id: usize,
                       view: View,
                       ids: &mut HashMap<String, usize>,
                       views: &mut HashMap<String, View>| {
            ids.insert(out.to_string(), id);
            if !view.is_engine_order() {
                views.insert(out.to_string(), view);
            }
        };
        let rank =
            |name: &str, ids: &HashMap<String, usize>| ids.get(name).map(|&v| shapes[v].len() + 1);
        let name = if n.name.is_empty() {
            format!("{}_{}", n.op_type.to_lowercase(), g.nodes.len())
        } else {
            n.name.replace(['/', ':'], "_")
        };
        let layer = match n.op_type.as_str() {
            "Constant" => {
                if let Some(t) = a.get("value").and_then(|a| a.t.clone()) {
                    consts.insert(n.output[0].clone(), Cow::Owned(t));
                }
                continue;
            }
            "Identity" | "Dropout" => {
                let id = value(x, &ids)?;
                let view = view_of(x, id);
                publish(&n.output[0], id, view, &mut ids, &mut views);
                continue;
            }
            "Transpose" => {
                let id = value(x, &ids)?;
                let view = view_of(x, id);
                let perm =
                    ints("perm").unwrap_or_else(|| (0..view.axes.len() as i64).rev().collect());
                let t = view.transpose(&perm).map_err(&fail)?;
                publish(&n.output[0], id, t, &mut ids, &mut views);
                continue;
            }
            "Reshape" | "Flatten" | "Squeeze" | "Unsqueeze"
                if views.contains_key(x) || op == "Unsqueeze" =>
            {
                let id = value(x, &ids)?;
                let view = view_of(x, id);
                let out = match op {
                    "Reshape" => {
                        let target = int_list(arg(1)?)
                            .ok_or_else(|| fail("the target shape must be a constant".into()))?;
                        view.reshape(&target, int("allowzero", 0) == 1)
                    }
                    "Flatten" => view.flatten(int("axis", 1)),
                    "Squeeze" => view.squeeze(axes(&consts)?.as_deref()),
                    _ => view.unsqueeze(
                        &axes(&consts)?.ok_or_else(|| fail("Unsqueeze needs axes".into()))?,
                    ),
                }
                .map_err(&fail)?;
                publish(&n.output[0], id, out, &mut ids, &mut views);
                continue;
            }
            "LSTM" | "GRU" => {
                let id = value(x, &ids)?;
                let rnn = recurrent(
                    n,
                    &a,
                    &shapes[id],
                    g.any_length,
                    view_of(x, id),
                    |t| konst(t, &consts),
                    |t| is_zero(t),
                    |t| uses.get(t).copied().unwrap_or(0),
                )
                .map_err(&fail)?;
                let (dirs, hidden) = (rnn.direction.count(), rnn.hidden);
                let l = shapes[id][1];
                let layout = int("layout", 0);
                g.add(name, Layer::Rnn(rnn), &[id])
                    .map_err(|e| fail(e.to_string()))?;
                shapes.push(vec![dirs * hidden, l]);
                let y = View {
                    atoms: vec![
                        Atom::Batch,
                        Atom::Channel(dirs),
                        Atom::Channel(hidden),
                        Atom::Length((!g.any_length).then_some(l)),
                    ],
                    // ONNX's Y: [length, directions, batch, hidden], or batch first.
                    axes: if layout == 0 {
                        vec![vec![3], vec![1], vec![0], vec![2]]
                    } else {
                        vec![vec![0], vec![3], vec![1], vec![2]]
                    },
                };
                publish(&n.output[0], g.nodes.len(), y, &mut ids, &mut views);
                continue;
            }
            "Conv" => {
                let (wd, w) = konst(arg(1)?, &consts)?;
                let [co, ci, k] = wd[..] else {
                    return Err(fail(format!(
                        "weight must be [out, in / group, kernel], got {wd:?}"
                    )));
                };
                let groups = int("group", 1);
                if groups < 1 || co % groups != 0 {
                    return Err(fail(format!(
                        "group {groups}: expected a positive count that divides the {co} output channels"
                    )));
                }
                let per_group = ci as usize;
                let ci = ci
                    .checked_mul(groups)
                    .ok_or_else(|| fail(format!("group {groups} is too large")))?;
                let (co, ci, k) = (co as usize, ci as usize, k as usize);
                let groups = groups as usize;
                let one = |key: &str| -> Result<Option<i64>, Error> {
                    match ints(key).as_deref() {
                        None => Ok(None),
                        Some([v]) if *v >= 1 => Ok(Some(*v)),
                        Some(v) => Err(fail(format!(
                            "{key} {v:?}: expected one positive value for a 1-D convolution"
                        ))),
                    }
                };
                if let Some(ks) = one("kernel_shape")?
                    && ks as usize != k
                {
                    return Err(fail(format!(
                        "kernel_shape [{ks}] disagrees with the weight's kernel {k}"
                    )));
                }
                let dil = one("dilations")?.unwrap_or(1) as usize;
                let stride = one("strides")?.unwrap_or(1) as usize;
                let auto = a
                    .get("auto_pad")
                    .map(|a| String::from_utf8_lossy(&a.s).to_string());
                let total = span(k, dil).ok_or_else(|| {
                    fail(format!(
                        "kernel {k} with dilation {dil} is empty or too large"
                    ))
                })? - 1;
                let pads = match ints("pads").as_deref() {
                    None => None,
                    Some([l, r]) if *l >= 0 && *r >= 0 => Some((*l as usize, *r as usize)),
                    Some(p) => {
                        return Err(fail(format!(
                            "pads {p:?}: expected [left, right] for a 1-D convolution"
                        )));
                    }
                };
                let (pl, pr) = match (auto.as_deref(), pads) {
                    (Some("SAME_UPPER" | "SAME_LOWER"), _) if stride != 1 => {
                        return Err(fail(
                            "auto_pad SAME with a stride other than 1 is not supported".into(),
                        ));
                    }
                    (Some(same @ ("SAME_UPPER" | "SAME_LOWER")), _) => same_pads(same, total),
                    (Some("VALID"), _) => (0, 0),
                    (None | Some("NOTSET"), p) => p.unwrap_or((0, 0)),
                    (Some(other), _) => {
                        return Err(fail(format!("auto_pad '{other}' is not an ONNX value")));
                    }
                };
                let bias = match n.input.get(2).filter(|s| !s.is_empty()) {
                    Some(b) => {
                        let b = konst(b, &consts)?.1;
                        if b.len() != co {
                            return Err(fail(format!(
                                "bias has {} values for {co} output channels",
                                b.len()
                            )));
                        }
                        Some(Param::new(&[co], b))
                    }
                    None => None,
                };
                Layer::Conv1d(Conv1d {
                    in_channels: ci,
                    out_channels: co,
                    kernel: k,
                    stride,
                    dilation: dil,
                    pad_left: pl,
                    pad_right: pr,
                    groups,
                    weight: Param::new(&[co, per_group, k], w),
                    bias,
                })
            }
            "Gemm" | "MatMul" => {
                if int("transA", 0) != 0 {
                    return Err(fail("transA is not supported".into()));
                }
                let (wd, w) = konst(arg(1)?, &consts)?;
                let [r, cc] = wd[..] else {
                    return Err(fail(format!("weight must be 2-D, got {wd:?}")));
                };
                let (r, cc) = (r as usize, cc as usize);
                let alpha = a.get("alpha").map_or(1.0, |a| a.f);
                let beta = a.get("beta").map_or(1.0, |a| a.f);
                // The engine stores [out, in]; Gemm without transB and MatMul hold [in, out].
                let trans_b = n.op_type == "Gemm" && int("transB", 0) == 1;
                let (fo, fi, mut wv) = if trans_b {
                    (r, cc, w)
                } else {
                    let mut t = vec![0.0; w.len()];
                    for i in 0..r {
                        for j in 0..cc {
                            t[j * r + i] = w[i * cc + j];
                        }
                    }
                    (cc, r, t)
                };
                wv.iter_mut().for_each(|v| *v *= alpha);
                // A transposed input flattened for this layer: its feature order folds into
                // the weights' columns, and the engine flattens its value in its own order.
                let viewed = views.get(x);
                if let Some(view) = viewed {
                    let order = view.feature_order(fi).map_err(&fail)?;
                    let mut permuted = vec![0.0; wv.len()];
                    for (o, row) in wv.chunks(fi).enumerate() {
                        for (j, &w) in row.iter().enumerate() {
                            permuted[o * fi + order[j]] = w;
                        }
                    }
                    wv = permuted;
                }
                let bias = match n.input.get(2).filter(|s| !s.is_empty()) {
                    Some(b) => {
                        let (_, bv) = konst(b, &consts)?;
                        if bv.len() != fo {
                            return Err(fail(format!(
                                "bias has {} values for {fo} outputs",
                                bv.len()
                            )));
                        }
                        Some(Param::new(&[fo], bv.iter().map(|v| v * beta).collect()))
                    }
                    None => None,
                };
                let linear = Layer::Linear(Linear {
                    in_features: fi,
                    out_features: fo,
                    weight: Param::new(&[fo, fi], wv),
                    bias,
                });
                if viewed.is_none() {
                    linear
                } else {
                    let mut from = value(x, &ids)?;
                    if shapes[from].len() == 2 {
                        let flat = vec![shapes[from].iter().product()];
                        from = g.add(format!("{name}_flatten"), Layer::Flatten, &[from])?;
                        shapes.push(flat);
                    }
                    let shape = linear
                        .out_shape(&[&shapes[from]])
                        .map_err(|e| fail(e.to_string()))?;
                    let id = g.add(name, linear, &[from])?;
                    shapes.push(shape);
                    ids.insert(n.output[0].clone(), id);
                    continue;
                }
            }
            "BatchNormalization" => {
                if int("training_mode", 0) != 0 {
                    return Err(fail("training_mode 1 is not supported".into()));
                }
                if int("spatial", 1) != 1 {
                    return Err(fail(
                        "spatial 0 (per-position statistics) is not supported".into(),
                    ));
                }
                if n.output.len() > 1 {
                    return Err(fail("running-statistics outputs are not supported".into()));
                }
                let get = |i: usize| konst(arg(i)?, &consts).map(|t| t.1);
                let (gamma, beta, mean, var) = (get(1)?, get(2)?, get(3)?, get(4)?);
                let ch = gamma.len();
                if [&beta, &mean, &var].iter().any(|v| v.len() != ch) {
                    return Err(fail(format!(
                        "scale, bias, mean and variance have {ch}, {}, {} and {} values; \
                         expected one per channel each",
                        beta.len(),
                        mean.len(),
                        var.len()
                    )));
                }
                let mut bn = BatchNorm1d::new(ch);
                bn.gamma = Param::new(&[ch], gamma);
                bn.beta = Param::new(&[ch], beta);
                bn.running_mean = mean;
                bn.running_var = var;
                bn.eps = a.get("epsilon").map_or(1e-5, |a| a.f);
                bn.momentum = 1.0 - a.get("momentum").map_or(0.9, |a| a.f);
                Layer::BatchNorm1d(bn)
            }
            "Relu" => Layer::Relu,
            "Elu" => Layer::Elu {
                alpha: a.get("alpha").map_or(1.0, |a| a.f),
            },
            "Softplus" => Layer::Softplus,
            "Exp" => Layer::Exp,
            "Sigmoid" => Layer::Sigmoid,
            "Tanh" => Layer::Tanh,
            "Gelu" => match a.get("approximate").map(|a| a.s.as_slice()) {
                None | Some(b"none") => Layer::Gelu { tanh: false },
                Some(b"tanh") => Layer::Gelu { tanh: true },
                Some(other) => {
                    return Err(fail(format!(
                        "approximate '{}': ONNX defines 'none' and 'tanh'",
                        String::from_utf8_lossy(other)
                    )));
                }
            },
            "LeakyRelu" => {
                let alpha = a.get("alpha").map_or(0.01, |a| a.f);
                if !(alpha >= 0.0 && alpha.is_finite()) {
                    return Err(fail(format!(
                        "alpha {alpha}: the engine implements LeakyRelu with a finite alpha >= 0"
                    )));
                }
                Layer::LeakyRelu { alpha }
            }
            "Softmax" => {
                // The engine's softmax runs over axis 1 (labels, or channels at each position).
                // Before opset 13 ONNX flattened from `axis` on, which is the same only for
                // rank-2 inputs; from 13 on it is one axis, counted from the end if negative.
                // Over axis 2 of a rank-3 input both readings are the length's softmax.
                let r = rank(x, &ids).unwrap_or(0) as i64;
                let axis = int("axis", if opset >= 13 { -1 } else { 1 });
                let axis = if axis < 0 { axis + r } else { axis };
                match (axis, r) {
                    (1, 2) => Layer::Softmax,
                    (1, 3) if opset >= 13 => Layer::Softmax,
                    (2, 3) => Layer::SoftmaxLength,
                    _ => {
                        return Err(fail(format!(
                            "softmax over axis {} of a rank-{r} input (opset {opset}); the engine \
                             takes softmax over the channels (axis 1) or the length (axis 2)",
                            int("axis", if opset >= 13 { -1 } else { 1 })
                        )));
                    }
                }
            }
            "MaxPool" | "AveragePool" => {
                let max = n.op_type == "MaxPool";
                if int("storage_order", 0) != 0 {
                    return Err(fail("storage_order 1 is not supported".into()));
                }
                if n.output.iter().skip(1).any(|o| !o.is_empty()) {
                    return Err(fail("the Indices output is not supported".into()));
                }
                let one = |key: &str, default: i64| -> Result<usize, Error> {
                    match ints(key).as_deref() {
                        None => Ok(default as usize),
                        Some([v]) if *v >= 1 => Ok(*v as usize),
                        Some(v) => Err(fail(format!(
                            "{key} {v:?}: expected one positive value (1-D pooling)"
                        ))),
                    }
                };
                if ints("kernel_shape").is_none() {
                    return Err(fail("kernel_shape is missing".into()));
                }
                let mut w = Pool1d::new(one("kernel_shape", 1)?, one("strides", 1)?);
                w.dilation = one("dilations", 1)?;
                if !max && w.dilation != 1 {
                    return Err(fail(format!(
                        "dilations [{}]: dilated average pooling is not supported",
                        w.dilation
                    )));
                }
                w.ceil = match int("ceil_mode", 0) {
                    0 => false,
                    1 => true,
                    v => return Err(fail(format!("ceil_mode {v}: expected 0 or 1"))),
                };
                w.count_pad = match (max, int("count_include_pad", 0)) {
                    (_, 0) => false,
                    (false, 1) => true,
                    (_, v) => {
                        return Err(fail(format!(
                            "count_include_pad {v}: expected 0 (or 1 for AveragePool)"
                        )));
                    }
                };
                let span = span(w.kernel, w.dilation).ok_or_else(|| {
                    fail(format!(
                        "kernel {} with dilation {} is too large",
                        w.kernel, w.dilation
                    ))
                })?;
                let auto = a
                    .get("auto_pad")
                    .map(|a| String::from_utf8_lossy(&a.s).to_string());
                match (auto.as_deref(), ints("pads").as_deref()) {
                    (None | Some("NOTSET"), None) | (Some("VALID"), _) => {}
                    (None | Some("NOTSET"), Some([l, r])) if *l >= 0 && *r >= 0 => {
                        (w.pad_left, w.pad_right) = (*l as usize, *r as usize);
                    }
                    (None | Some("NOTSET"), Some(p)) => {
                        return Err(fail(format!(
                            "pads {p:?}: expected [left, right] >= 0 for 1-D pooling"
                        )));
                    }
                    (Some(same @ ("SAME_UPPER" | "SAME_LOWER")), _) => {
                        // Output ceil(L / stride): the padding depends on L unless stride is 1.
                        let src = value(x, &ids)?;
                        let total = if w.stride == 1 {
                            span - 1
                        } else if g.any_length {
                            return Err(fail(format!(
                                "auto_pad {same} with stride {} needs a fixed sequence length",
                                w.stride
                            )));
                        } else {
                            let l = shapes[src].get(1).copied().unwrap_or(0);
                            (l.div_ceil(w.stride) - 1)
                                .checked_mul(w.stride)
                                .and_then(|v| v.checked_add(span))
                                .ok_or_else(|| fail("the SAME padding is too large".into()))?
                                .saturating_sub(l)
                        };
                        (w.pad_left, w.pad_right) = same_pads(same, total);
                        if w.ceil {
                            return Err(fail(format!(
                                "auto_pad {same} with ceil_mode 1 is not supported"
                            )));
                        }
                    }
                    (Some(other), _) => {
                        return Err(fail(format!("auto_pad '{other}' is not an ONNX value")));
                    }
                }
                // ONNX and PyTorch keep padding smaller than the window, so that no window
                // lies wholly in it.
                if w.pad_left >= span || w.pad_right >= span {
                    return Err(fail(format!(
                        "pads [{}, {}] are not smaller than the window ({span})",
                        w.pad_left, w.pad_right
                    )));
                }
                if max {
                    Layer::MaxPool1d(w)
                } else {
                    Layer::AvgPool1d(w)
                }
            }
            // The engine's global pools already drop the length axis; the Flatten/Squeeze
            // that usually follows becomes a no-op.
            "GlobalMaxPool" => Layer::GlobalMaxPool,
            "GlobalAveragePool" => Layer::GlobalAvgPool,
            // torch.amax / mean / sum over the length (DeepBind's global max): the engine's
            // global pools. Both keepdims settings fit, as the engine's pools already drop the
            // axis and what follows reads [batch, features]. Over the channels, each position
            // keeps one channel (keepdims 1). Other axes are refused.
            "ReduceMax" | "ReduceMean" | "ReduceSum" => {
                let src = value(x, &ids)?;
                let axes = axes(&consts)?.unwrap_or_default();
                let keep = int("keepdims", 1);
                let reduce = match op {
                    "ReduceMax" => Reduce::Max,
                    "ReduceMean" => Reduce::Mean,
                    _ => Reduce::Sum,
                };
                match (shapes[src].len(), &axes[..], keep) {
                    (2, [2] | [-1], _) => match reduce {
                        Reduce::Max => Layer::GlobalMaxPool,
                        Reduce::Mean => Layer::GlobalAvgPool,
                        Reduce::Sum => Layer::GlobalSumPool,
                    },
                    (2, [1] | [-2], 1) => Layer::ReduceChannels { op: reduce },
                    (2, [1] | [-2], _) => {
                        return Err(fail(
                            "a reduction over the channels with keepdims 0 leaves [batch, \
                             length], which the engine does not represent (keepdims 1 it does)"
                                .into(),
                        ));
                    }
                    _ => {
                        return Err(fail(format!(
                            "only a reduction over the length or the channels of [batch, \
                             channels, length] is supported; this one reduces axes {axes:?} of \
                             [batch, {:?}]",
                            shapes[src]
                        )));
                    }
                }
            }
            "Flatten" => {
                if int("axis", 1) != 1 {
                    return Err(fail(
                        "only Flatten with axis 1 (to [batch, features]) is supported".into(),
                    ));
                }
                Layer::Flatten
            }
            "Squeeze" => {
                // After the engine's global pools the value is already [batch, features];
                // a squeeze of a length-1 axis is then a no-op, and of [batch, c, 1] a flatten.
                let src = value(x, &ids)?;
                let shape = &shapes[src];
                let axes = axes(&consts)?;
                let flat = matches!(
                    (shape.as_slice(), axes.as_deref()),
                    ([_], _) | ([_, 1], None | Some([2] | [-1]))
                );
                if !flat {
                    return Err(fail(format!(
                        "squeezing axes {axes:?} of [batch, {shape:?}] is not supported (only to [batch, features])"
                    )));
                }
                Layer::Flatten
            }
            "Reshape" => {
                // A constant target, or one computed from shapes (PyTorch's
                // `y.reshape(x.shape[0], 1)`), where the batch reads as 0: "keep this axis".
                let target = arg(1)?;
                let shape = match syms.get(target) {
                    Some(dims) => dims
                        .iter()
                        .map(|d| match d {
                            Dim::Known(v) => Some(*v),
                            Dim::Batch => Some(0),
                            Dim::Length => None,
                        })
                        .collect::<Option<Vec<i64>>>(),
                    None => consts
                        .get(target)
                        .map(|t| i64_values(t))
                        .transpose()
                        .map_err(&fail)?,
                }
                .ok_or_else(|| {
                    fail(
                        "the target shape must be a constant, or computed from the batch size"
                            .into(),
                    )
                })?;
                let src = value(x, &ids)?;
                let per: i64 = shapes[src].iter().product::<usize>() as i64;
                // [batch, features] spelled as [-1 | 0 | n, features] or [0, -1].
                let ok = match shape[..] {
                    [b, f] => (f == per && b >= -1) || (f == -1 && b == 0),
                    _ => false,
                };
                if !ok {
                    return Err(fail(format!(
                        "only reshapes to [batch, features] are supported, got {shape:?} for {per} values per item"
                    )));
                }
                Layer::Flatten
            }
            // Two computed tensors: the residual sum.
            "Add" if n.input.len() == 2 && n.input.iter().all(|t| ids.contains_key(t)) => {
                Layer::Add
            }
            "Add" | "Sub" | "Mul" | "Div" => {
                let op = n.op_type.as_str();
                let (lhs, rhs) = (arg(0)?, arg(1)?);
                let (v, k, constant_first) = match (ids.get(lhs), ids.get(rhs)) {
                    (Some(_), Some(_)) => {
                        return Err(fail(format!(
                            "{op} of two computed tensors is not supported; the engine takes {op} with a constant"
                        )));
                    }
                    (Some(&v), None) => (v, rhs, false),
                    (None, Some(&v)) => (v, lhs, true),
                    (None, None) => return Err(fail(format!("{op} of two constants"))),
                };
                let computed = if constant_first { rhs } else { lhs };
                let (dims, k) = konst(k, &consts)?;
                let k = per_channel(&dims, k, &shapes[v]).map_err(&fail)?;
                let ones = vec![1.0; k.len()];
                let zeros = vec![0.0; k.len()];
                let (scale, shift) = match (op, constant_first) {
                    ("Add", _) => {
                        // x + constant after a bias-free Linear or Conv whose output feeds only
                        // this Add is that layer's bias.
                        let only_use = uses.get(computed.as_str()).copied() == Some(1);
                        let layer = v.checked_sub(1).and_then(|i| g.nodes.get_mut(i));
                        let slot = match layer.map(|node| &mut node.layer) {
                            Some(Layer::Linear(lin)) if only_use && lin.bias.is_none() => {
                                Some(&mut lin.bias)
                            }
                            Some(Layer::Conv1d(cv)) if only_use && cv.bias.is_none() => {
                                Some(&mut cv.bias)
                            }
                            _ => None,
                        };
                        if let Some(slot) = slot {
                            *slot = Some(Param::new(&[k.len()], k));
                            ids.insert(n.output[0].clone(), v);
                            continue;
                        }
                        (ones, k)
                    }
                    ("Sub", false) => (ones, k.iter().map(|b| -b).collect()),
                    ("Sub", true) => (vec![-1.0; k.len()], k),
                    ("Mul", _) => (k, zeros),
                    ("Div", false) => (k.iter().map(|d| 1.0 / d).collect(), zeros),
                    _ => {
                        return Err(fail(
                            "a constant divided by a computed tensor is not supported".into(),
                        ));
                    }
                };
                g.add(name, Layer::Affine { scale, shift }, &[v])
                    .map_err(|e| fail(e.to_string()))?;
                shapes.push(shapes[v].clone());
                ids.insert(n.output[0].clone(), g.nodes.len());
                continue;
            }
            "Concat" => {
                let r = rank(x, &ids).unwrap_or(0) as i64;
                let axis = int("axis", 1);
                if !(axis == 1 || axis + r == 1) {
                    return Err(fail(
                        "only concatenation along channels (axis 1) is supported".into(),
                    ));
                }
                Layer::Concat
            }
            "Slice" => {
                // Bounds are constants, or shape arithmetic that folded to numbers (PyTorch
                // writes `x[:, :, a:x.shape[2] - a]` as Shape, Gather, Sub).
                let get = |i: usize| match n.input.get(i).filter(|s| !s.is_empty()) {
                    Some(s) if syms.contains_key(s) => syms[s]
                        .iter()
                        .map(|d| match d {
                            Dim::Known(v) => Ok(*v),
                            _ => Err(fail(format!(
                                "slice bound '{s}' follows the sequence length or batch, which \
                                 the model leaves open; give the length (seqlens.length) to \
                                 import it"
                            ))),
                        })
                        .collect::<Result<Vec<i64>, _>>()
                        .map(Some),
                    Some(s) => consts
                        .get(s)
                        .map(|t| i64_values(t))
                        .transpose()
                        .map_err(&fail),
                    None => Ok(None),
                };
                let (starts, ends, axes) = (get(1)?, get(2)?, get(3)?);
                if get(4)?.is_some_and(|s| s.iter().any(|&v| v != 1)) {
                    return Err(fail("strided slices are not supported".into()));
                }
                match (starts.as_deref(), ends.as_deref(), axes.as_deref()) {
                    (Some([s]), Some([e]), Some([2] | [-1])) => {
                        let src = value(x, &ids)?;
                        match (g.any_length && src_is_input_length(&shapes, src), *s, *e) {
                            // ONNX clamps; an end of i64::MAX (or any huge one) means "to the end".
                            (true, s, e) if s >= 0 && !(0..TO_THE_END).contains(&e) => {
                                Layer::Crop {
                                    left: s as usize,
                                    right: if e < 0 { (-e) as usize } else { 0 },
                                }
                            }
                            (true, ..) => {
                                return Err(fail(
                                    "this slice depends on the sequence length, which the model leaves open; give the length (seqlens.length) to import it"
                                        .into(),
                                ));
                            }
                            (false, s, e) => {
                                let len = shapes[src].get(1).copied().unwrap_or(0) as i64;
                                let norm =
                                    |v: i64| if v < 0 { (v + len).max(0) } else { v.min(len) };
                                let (start, end) = (norm(s), norm(e));
                                Layer::Crop {
                                    left: start as usize,
                                    right: (len - end.max(start)) as usize,
                                }
                            }
                        }
                    }
                    _ => {
                        return Err(fail(
                            "only slices of the length axis (2) are supported".into(),
                        ));
                    }
                }
            }
            "Mean" => {
                // The average of n values: a chain of adds, then a scale by 1/n (constant: a
                // fine-tuned model keeps averaging).
                let srcs: Vec<usize> = n
                    .input
                    .iter()
                    .map(|s| value(s, &ids))
                    .collect::<Result<_, _>>()?;
                let Some(&first) = srcs.first() else {
                    return Err(fail("Mean of no operands".into()));
                };
                let mut acc = first;
                for (j, &u) in srcs.iter().enumerate().skip(1) {
                    let shape = Layer::Add
                        .out_shape(&[&shapes[acc], &shapes[u]])
                        .map_err(|e| fail(e.to_string()))?;
                    acc = g.add(format!("{name}_add{j}"), Layer::Add, &[acc, u])?;
                    shapes.push(shape);
                }
                let ch = shapes[acc].first().copied().unwrap_or(1);
                let mean = Layer::Affine {
                    scale: vec![1.0 / srcs.len() as f32; ch],
                    shift: vec![0.0; ch],
                };
                let shape = shapes[acc].clone();
                let id = g.add(name, mean, &[acc])?;
                shapes.push(shape);
                ids.insert(n.output[0].clone(), id);
                continue;
            }
            "DequantizeLinear" => {
                // Quantised weights (int8 or uint8, a float32 scale and zero point per tensor
                // or per `axis`) fold into float32 constants: the engine computes in float32,
                // as the runtimes do after dequantising.
                let t = consts
                    .get(x)
                    .ok_or_else(|| fail("only constant (weight) inputs are supported".into()))?;
                let input = |k: usize| n.input.get(k).filter(|s| !s.is_empty());
                let scale = match input(1).and_then(|s| consts.get(s)) {
                    Some(s) => f32_values(s).map_err(&fail)?,
                    None => return Err(fail("the scale must be a constant".into())),
                };
                let zero = match input(2) {
                    Some(z) => match consts.get(z) {
                        Some(z) => super::proto::int_values(z).map_err(&fail)?,
                        None => return Err(fail("the zero point must be a constant".into())),
                    },
                    None => vec![0; scale.len()],
                };
                let q = super::proto::int_values(t).map_err(&fail)?;
                let dims: Vec<usize> = t.dims.iter().map(|&d| d as usize).collect();
                let rank = dims.len() as i64;
                let axis = int("axis", 1);
                let axis = if axis < 0 { axis + rank } else { axis };
                // Elements per step along the axis, and the axis's length.
                let (inner, along) = if scale.len() == 1 {
                    (q.len().max(1), 1)
                } else if (0..rank).contains(&axis) && dims[axis as usize] == scale.len() {
                    (dims[axis as usize + 1..].iter().product(), scale.len())
                } else {
                    return Err(fail(format!(
                        "{} scales for axis {axis} of a tensor of shape {dims:?}",
                        scale.len()
                    )));
                };
                if zero.len() != scale.len() {
                    return Err(fail(format!(
                        "{} zero points for {} scales",
                        zero.len(),
                        scale.len()
                    )));
                }
                let v: Vec<f32> = q
                    .iter()
                    .enumerate()
                    .map(|(i, &q)| {
                        let c = (i / inner) % along;
                        (q - zero[c]) as f32 * scale[c]
                    })
                    .collect();
                let folded = super::proto::f32_tensor(&n.output[0], &dims, &v);
                consts.insert(n.output[0].clone(), Cow::Owned(folded));
                continue;
            }
            "Cast" => {
                // Casting a constant (fp16 weights back to float) folds into the constant;
                // a float value cast to float is the value itself.
                if int("to", 0) != DataType::Float as i64 {
                    return Err(fail("only casts to float32 are supported".into()));
                }
                if let Some(t) = consts.get(x) {
                    let v = f32_values(t).map_err(&fail)?;
                    let folded = super::proto::f32_tensor(
                        &n.output[0],
                        &t.dims.iter().map(|&d| d as usize).collect::<Vec<_>>(),
                        &v,
                    );
                    consts.insert(n.output[0].clone(), Cow::Owned(folded));
                } else {
                    let id = value(x, &ids)?;
                    ids.insert(n.output[0].clone(), id);
                }
                continue;
            }
            _ => {
                return Err(Error::UnsupportedOp {
                    op: n.op_type.clone(),
                    node: node_name,
                });
            }
        };
        let srcs: Vec<usize> = n
            .input
            .iter()
            .take(layer.arity().unwrap_or(n.input.len()))
            .map(|s| value(s, &ids))
            .collect::<Result<_, _>>()?;
        if let Some(k) = layer.arity()
            && srcs.len() < k
        {
            return Err(fail(format!("expects {k} operands, got {}", srcs.len())));
        }
        let ins: Vec<&[usize]> = srcs.iter().map(|&u| shapes[u].as_slice()).collect();
        let shape = layer.out_shape(&ins).map_err(|e| fail(e.to_string()))?;
        let id = g.add(name, layer, &srcs)?;
        shapes.push(shape);
        ids.insert(n.output[0].clone(), id);
    }
    // The model's outputs, each flattened per sequence and concatenated in order when there
    // are several (a BPNet's profile and counts): the values, in the order, that seqlens
    // reports for a multi-output model on tract.
    if graph.output.is_empty() {
        return Err(Error::Graph("the model declares no output".into()));
    }
    let mut outs = Vec::with_capacity(graph.output.len());
    for out in &graph.output {
        if let Some(v) = views.get(&out.name) {
            return Err(Error::Graph(format!(
                "output '{}' is laid out as {v}; the engine gives [batch, channels, length] or \
                 [batch, features] only",
                out.name
            )));
        }
        match ids.get(&out.name) {
            Some(&id) if id > 0 => outs.push(id),
            Some(_) => {
                return Err(Error::Graph(format!(
                    "output '{}' is the model's input passed through (Identity, Dropout): \
                     the engine needs at least one layer",
                    out.name
                )));
            }
            None => {
                return Err(Error::Graph(format!(
                    "output '{}' is not computed by a node the engine imported",
                    out.name
                )));
            }
        }
    }
    if let [id] = outs[..] {
        if id != g.nodes.len() {
            return Err(Error::Graph(format!(
                "output '{}' must be computed by the last node",
                graph.output[0].name
            )));
        }
        return Ok(g);
    }
    if g.any_length && outs.iter().any(|&id| shapes[id].len() == 2) {
        return Err(Error::Graph(
            "a model of any length with several outputs, one of them per position, needs a \
             fixed length to flatten them into one (give the length)"
                .into(),
        ));
    }
    let mut flat = Vec::with_capacity(outs.len());
    for (out, id) in graph.output.iter().zip(outs) {
        flat.push(if shapes[id].len() == 2 {
            g.add(format!("{}_flat", out.name), Layer::Flatten, &[id])?
        } else {
            id
        });
    }
    g.add("outputs", Layer::Concat, &flat)?;
    g.heads = graph.output.iter().map(|o| o.name.clone()).collect();
    Ok(g)
}

/// A constant operand of `dims` as one value per channel of a tensor of per-item shape
/// `item` (`[C]` or `[C, L]`), broadcast as ONNX does: a scalar, or `C` values along axis 1.
/// Anything else (values along the length, or a constant that adds axes) is refused.
fn per_channel(dims: &[i64], k: Vec<f32>, item: &[usize]) -> Result<Vec<f32>, String> {
    let channels = item.first().copied().unwrap_or(1);
    let rank = item.len() + 1;
    let refuse = || {
        format!(
            "a constant of shape {dims:?} with a tensor of shape [batch, {}]: the engine takes \
             constants that are one value, or one per channel",
            item.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    if dims.len() > rank {
        return Err(refuse());
    }
    if k.len() == 1 {
        return Ok(vec![k[0]; channels]);
    }
    let mut full = vec![1; rank - dims.len()];
    full.extend(dims.iter().map(|&d| d as usize));
    match full[..] {
        [1, c] | [1, c, 1] if c == channels && k.len() == c => Ok(k),
        _ => Err(refuse()),
    }
}

/// ONNX's `auto_pad` split of `total` padding: the odd one on the right for SAME_UPPER, on
/// the left for SAME_LOWER.
fn same_pads(auto_pad: &str, total: usize) -> (usize, usize) {
    let (small, large) = (total / 2, total - total / 2);
    if auto_pad == "SAME_UPPER" {
        (small, large)
    } else {
        (large, small)
    }
}

/// The positions a window of `kernel` taps `dilation` apart covers, if it is at least one and
/// fits a `usize`.
fn span(kernel: usize, dilation: usize) -> Option<usize> {
    kernel.checked_sub(1)?.checked_mul(dilation)?.checked_add(1)
}

/// The nominal length at which a graph of any length is shape-checked during import.
const ANY_LENGTH_PROBE: usize = 1 << 20;

/// Slice ends at or past this mean "to the end" (exporters write i64::MAX or i32::MAX).
const TO_THE_END: i64 = i32::MAX as i64;

/// Whether value `v` still has a length that follows the input's (rank 3), so that a slice
/// of it depends on the sequence length.
fn src_is_input_length(shapes: &[Vec<usize>], v: usize) -> bool {
    shapes[v].len() == 2
}

/// Folds one node of integer shape arithmetic over `lists` (its operands, in order).
fn fold_shape(op: &str, lists: &[Vec<Dim>], axis: i64) -> Result<Vec<Dim>, String> {
    let known = |d: &Dim| match d {
        Dim::Known(v) => Ok(*v),
        d => Err(format!(
            "{op} of the {d} size is not supported in shape arithmetic"
        )),
    };
    match (op, lists) {
        ("Unsqueeze" | "Squeeze" | "Identity" | "Cast" | "Reshape", [data, ..]) => Ok(data.clone()),
        ("Concat", _) if axis == 0 || axis == -1 => Ok(lists.concat()),
        ("Gather", [data, idx]) if axis == 0 => idx
            .iter()
            .map(|i| {
                let i = known(i)?;
                let at = if i < 0 { i + data.len() as i64 } else { i };
                usize::try_from(at)
                    .ok()
                    .and_then(|at| data.get(at).copied())
                    .ok_or_else(|| format!("index {i} is outside a shape of {}", data.len()))
            })
            .collect(),
        ("Slice", [data, starts, ends, rest @ ..]) => {
            if let Some(axes) = rest.first()
                && axes
                    .iter()
                    .any(|a| !matches!(a, Dim::Known(0) | Dim::Known(-1)))
            {
                return Err("a slice of a shape along another axis than 0".into());
            }
            if let Some(steps) = rest.get(1)
                && steps.iter().any(|s| *s != Dim::Known(1))
            {
                return Err("a strided slice of a shape".into());
            }
            let (Some(s), Some(e)) = (starts.first(), ends.first()) else {
                return Err("a slice without starts and ends".into());
            };
            let r = data.len() as i64;
            let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
            let (s, e) = (clamp(known(s)?), clamp(known(e)?));
            Ok(data[s..e.max(s)].to_vec())
        }
        ("Mul" | "Add" | "Sub" | "Div", [a, b]) => {
            let n = a.len().max(b.len());
            let at = |v: &[Dim], i: usize| if v.len() == 1 { v[0] } else { v[i] };
            if !(a.len() == n || a.len() == 1) || !(b.len() == n || b.len() == 1) {
                return Err(format!(
                    "{op} of shapes of {} and {} values",
                    a.len(),
                    b.len()
                ));
            }
            (0..n)
                .map(|i| match (op, at(a, i), at(b, i)) {
                    ("Mul", Dim::Known(1), d) | ("Mul", d, Dim::Known(1)) => Ok(d),
                    (_, x, y) => {
                        let (x, y) = (known(&x)?, known(&y)?);
                        match op {
                            "Mul" => x.checked_mul(y),
                            "Add" => x.checked_add(y),
                            "Sub" => x.checked_sub(y),
                            _ => x.checked_div(y),
                        }
                        .map(Dim::Known)
                        .ok_or_else(|| format!("{op} of {x} and {y} overflows in shape arithmetic"))
                    }
                })
                .collect()
        }
        _ => Err(format!("{op} in shape arithmetic is not supported")),
    }
}

/// The engine's recurrent layer for an ONNX `LSTM`/`GRU` node whose input is laid out as
/// `input` over an engine value of per-item shape `item`. Everything the engine does not
/// implement (other activations, peepholes, sequence lengths, initial states that are not
/// zero, the last-state outputs in use) is refused by name.
#[allow(clippy::too_many_arguments)]
fn recurrent(
    n: &pb::NodeProto,
    a: &HashMap<&str, &pb::AttributeProto>,
    item: &[usize],
    any_length: bool,
    input: View,
    konst: impl Fn(&str) -> Result<(Vec<i64>, Vec<f32>), Error>,
    is_zero: impl Fn(&str) -> bool,
    uses: impl Fn(&str) -> usize,
) -> Result<Rnn, String> {
    let lstm = n.op_type == "LSTM";
    let cell = if lstm { Cell::Lstm } else { Cell::Gru };
    let int = |k: &str, d: i64| a.get(k).map_or(d, |a| a.i);
    let [c, _] = *item else {
        return Err(format!("the input is not a sequence: [batch, {item:?}]"));
    };
    let layout = int("layout", 0);
    let perm: &[i64] = match layout {
        0 => &[2, 0, 1],
        1 => &[0, 2, 1],
        v => return Err(format!("layout {v} is not an ONNX value")),
    };
    let want = View::engine(item, any_length).transpose(perm)?;
    if input != want {
        return Err(format!(
            "the input is laid out as {input}; layout {layout} takes {want}"
        ));
    }
    let hidden = usize::try_from(int("hidden_size", 0))
        .ok()
        .filter(|&h| h > 0 && h <= 1 << 24)
        .ok_or("hidden_size must be a positive count (at most 2^24)")?;
    let direction = match a
        .get("direction")
        .map(|a| String::from_utf8_lossy(&a.s).to_string())
    {
        None => Direction::Forward,
        Some(d) => match d.as_str() {
            "forward" => Direction::Forward,
            "reverse" => Direction::Reverse,
            "bidirectional" => Direction::Bidirectional,
            other => return Err(format!("direction '{other}' is not an ONNX value")),
        },
    };
    let dirs = direction.count();
    if let Some(acts) = a.get("activations") {
        let given: Vec<String> = acts
            .strings
            .iter()
            .map(|s| String::from_utf8_lossy(s).to_lowercase())
            .collect();
        let one: &[&str] = if lstm {
            &["sigmoid", "tanh", "tanh"]
        } else {
            &["sigmoid", "tanh"]
        };
        if given != one.repeat(dirs) {
            return Err(format!(
                "activations {given:?}: the engine implements the defaults ({})",
                one.join(", ")
            ));
        }
    }
    if int("input_forget", 0) != 0 {
        return Err("input_forget 1 (coupled input and forget gates) is not supported".into());
    }
    if !lstm && int("linear_before_reset", 0) != 1 {
        return Err(
            "linear_before_reset 0 is not supported; the engine implements the GRU of PyTorch and Keras (reset_after), linear_before_reset 1"
                .into(),
        );
    }
    let operand = |i: usize| n.input.get(i).filter(|s| !s.is_empty());
    let weight = |i: usize, what: &str| {
        let t = operand(i).ok_or_else(|| format!("the {what} are missing"))?;
        konst(t).map(|t| t.1).map_err(|e| e.to_string())
    };
    let gh = cell.gates() * hidden;
    let w = weight(1, "input weights")?;
    let r = weight(2, "recurrent weights")?;
    // Sizes from attributes are checked against the weights before anything is allocated.
    let want = dirs
        .checked_mul(gh)
        .and_then(|v| v.checked_mul(c.max(hidden)));
    if want.is_none() || w.len() != dirs * gh * c || r.len() != dirs * gh * hidden {
        return Err(format!(
            "the weights hold {} and {} values; {dirs} direction(s) of {hidden} units over {c} inputs need {} and {}",
            w.len(),
            r.len(),
            dirs.saturating_mul(gh).saturating_mul(c),
            dirs.saturating_mul(gh).saturating_mul(hidden)
        ));
    }
    let b = match operand(3) {
        Some(_) => weight(3, "biases")?,
        None => vec![0.0; dirs * 2 * gh],
    };
    if operand(4).is_some() {
        return Err("sequence_lens (sequences of different lengths) is not supported".into());
    }
    for (i, what) in [(5, "initial_h"), (6, "initial_c"), (7, "P (peepholes)")] {
        if let Some(t) = operand(i)
            && !is_zero(t)
        {
            return Err(format!("{what} '{t}' must be zeros"));
        }
    }
    for (i, out) in n.output.iter().enumerate().skip(1) {
        if !out.is_empty() && uses(out) > 0 {
            return Err(format!(
                "output {} ('{out}', the last state) is read by other nodes; the engine returns the sequence Y only",
                i + 1
            ));
        }
    }
    let rnn = Rnn {
        cell,
        direction,
        input_size: c,
        hidden,
        weight_ih: Param::new(&[dirs, gh, c], w),
        weight_hh: Param::new(&[dirs, gh, hidden], r),
        bias: Param::new(&[dirs, 2 * gh], b),
    };
    rnn.check_weights().map_err(|e| e.to_string())?;
    Ok(rnn)
}
