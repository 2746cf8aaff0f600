use std::collections::HashMap;

use prost::Message;
use tract_onnx::pb;

use super::Error;
use super::proto::{f32_values, i64_values};
use crate::nn::{BatchNorm1d, Conv1d, Graph, Layer, Linear, Param, Tensor};

fn attrs(n: &pb::NodeProto) -> HashMap<&str, &pb::AttributeProto> {
    n.attribute.iter().map(|a| (a.name.as_str(), a)).collect()
}

/// Reads an ONNX model made of the engine's op set into a [`Graph`]. `length` fixes the
/// sequence length when the model's input leaves it symbolic.
pub fn import(bytes: &[u8], length: Option<usize>) -> Result<Graph, Error> {
    let proto = pb::ModelProto::decode(bytes).map_err(|e| Error::Corrupt(e.to_string()))?;
    let graph = proto
        .graph
        .ok_or_else(|| Error::Corrupt("the file holds no graph".into()))?;
    let mut consts: HashMap<String, pb::TensorProto> = graph
        .initializer
        .iter()
        .map(|t| (t.name.clone(), t.clone()))
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
    let dims = super::super::model::proto_dims(input);
    let (c, l) = match dims.as_slice() {
        [_, Some(c), l] => (*c, length.or(*l)),
        _ => {
            return Err(Error::Graph(format!(
                "input '{}' must be [batch, channels, length] with fixed channels",
                input.name
            )));
        }
    };
    let l = l.ok_or_else(|| {
        Error::Graph(format!(
            "input '{}' has a symbolic length; give the sequence length to import it",
            input.name
        ))
    })?;
    let mut g = Graph::new(&[c, l]);
    // ONNX tensor name -> engine value id.
    let mut ids: HashMap<String, usize> = HashMap::from([(input.name.clone(), 0)]);

    for n in &graph.node {
        let a = attrs(n);
        let fail = |message: String| Error::Node {
            node: n.name.clone(),
            op: n.op_type.clone(),
            message,
        };
        let int = |k: &str, d: i64| a.get(k).map_or(d, |a| a.i);
        let ints = |k: &str| a.get(k).map(|a| a.ints.clone());
        let konst = |name: &str, consts: &HashMap<String, pb::TensorProto>| {
            consts
                .get(name)
                .ok_or_else(|| fail(format!("input '{name}' must be a constant (initializer)")))
                .and_then(|t| f32_values(t).map(|v| (t.dims.clone(), v)).map_err(&fail))
        };
        let value = |name: &str, ids: &HashMap<String, usize>| {
            ids.get(name)
                .copied()
                .ok_or_else(|| fail(format!("input '{name}' is not computed by an earlier node")))
        };
        let x = n.input.first().map(String::as_str).unwrap_or("");
        let name = if n.name.is_empty() {
            format!("{}_{}", n.op_type.to_lowercase(), g.nodes.len())
        } else {
            n.name.replace(['/', ':'], "_")
        };
        let layer = match n.op_type.as_str() {
            "Constant" => {
                if let Some(t) = a.get("value").and_then(|a| a.t.clone()) {
                    consts.insert(n.output[0].clone(), t);
                }
                continue;
            }
            "Identity" | "Dropout" => {
                let id = value(x, &ids)?;
                ids.insert(n.output[0].clone(), id);
                continue;
            }
            "Conv" => {
                if int("group", 1) != 1 {
                    return Err(fail("grouped convolution is not supported".into()));
                }
                let (wd, w) = konst(&n.input[1], &consts)?;
                let [co, ci, k] = wd[..] else {
                    return Err(fail(format!(
                        "weight must be [out, in, kernel], got {wd:?}"
                    )));
                };
                let (co, ci, k) = (co as usize, ci as usize, k as usize);
                let dil = ints("dilations")
                    .and_then(|v| v.first().copied())
                    .unwrap_or(1) as usize;
                let stride = ints("strides")
                    .and_then(|v| v.first().copied())
                    .unwrap_or(1) as usize;
                let auto = a
                    .get("auto_pad")
                    .map(|a| String::from_utf8_lossy(&a.s).to_string());
                let total = dil * (k - 1);
                let (pl, pr) = match auto.as_deref() {
                    Some("SAME_UPPER") => (total / 2, total - total / 2),
                    Some("SAME_LOWER") => (total - total / 2, total / 2),
                    _ => match ints("pads").as_deref() {
                        Some([l, r]) => (*l as usize, *r as usize),
                        _ => (0, 0),
                    },
                };
                let bias = match n.input.get(2).filter(|s| !s.is_empty()) {
                    Some(b) => Some(Param::new(&[co], konst(b, &consts)?.1)),
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
                    weight: Param::new(&[co, ci, k], w),
                    bias,
                })
            }
            "Gemm" | "MatMul" => {
                if int("transA", 0) != 0 {
                    return Err(fail("transA is not supported".into()));
                }
                let (wd, w) = konst(&n.input[1], &consts)?;
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
                Layer::Linear(Linear {
                    in_features: fi,
                    out_features: fo,
                    weight: Param::new(&[fo, fi], wv),
                    bias,
                })
            }
            "BatchNormalization" => {
                let get = |i: usize| konst(&n.input[i], &consts).map(|t| t.1);
                let (gamma, beta, mean, var) = (get(1)?, get(2)?, get(3)?, get(4)?);
                let ch = gamma.len();
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
            "Softmax" => {
                if !matches!(int("axis", -1), 1 | -1) {
                    return Err(fail("only softmax over axis 1 is supported".into()));
                }
                Layer::Softmax
            }
            "MaxPool" | "AveragePool" => {
                if ints("pads").is_some_and(|p| p.iter().any(|&v| v != 0))
                    || int("ceil_mode", 0) != 0
                {
                    return Err(fail("padded or ceil-mode pooling is not supported".into()));
                }
                let kernel = ints("kernel_shape")
                    .and_then(|v| v.first().copied())
                    .unwrap_or(1) as usize;
                let stride = ints("strides")
                    .and_then(|v| v.first().copied())
                    .unwrap_or(1) as usize;
                if n.op_type == "MaxPool" {
                    Layer::MaxPool1d { kernel, stride }
                } else {
                    Layer::AvgPool1d { kernel, stride }
                }
            }
            // The engine's global pools already drop the length axis; the Flatten/Squeeze
            // that usually follows becomes a no-op.
            "GlobalMaxPool" => Layer::GlobalMaxPool,
            "GlobalAveragePool" => Layer::GlobalAvgPool,
            "Flatten" | "Squeeze" => Layer::Flatten,
            "Reshape" => {
                let shape = consts
                    .get(&n.input[1])
                    .map(i64_values)
                    .transpose()
                    .map_err(&fail)?
                    .ok_or_else(|| fail("the target shape must be a constant".into()))?;
                if shape.len() != 2 {
                    return Err(fail(format!(
                        "only reshapes to [batch, features] are supported, got {shape:?}"
                    )));
                }
                Layer::Flatten
            }
            "Add" => {
                // x + constant after a bias-free Linear or Conv is that layer's bias.
                let (lhs, rhs) = (&n.input[0], &n.input[1]);
                let (v, k) = match (ids.get(lhs), ids.get(rhs)) {
                    (Some(_), Some(_)) => (None, None),
                    (Some(&v), None) => (Some(v), Some(rhs)),
                    (None, Some(&v)) => (Some(v), Some(lhs)),
                    (None, None) => return Err(fail("adds two constants".into())),
                };
                if let (Some(v), Some(k)) = (v, k) {
                    let (_, b) = konst(k, &consts)?;
                    let node = v
                        .checked_sub(1)
                        .and_then(|i| g.nodes.get_mut(i))
                        .ok_or_else(|| {
                            fail("a constant added to the input is not supported".into())
                        })?;
                    let slot = match &mut node.layer {
                        Layer::Linear(lin) if lin.bias.is_none() && b.len() == lin.out_features => {
                            &mut lin.bias
                        }
                        Layer::Conv1d(cv) if cv.bias.is_none() && b.len() == cv.out_channels => {
                            &mut cv.bias
                        }
                        _ => {
                            return Err(fail(
                                "only a bias after MatMul/Conv can be a constant addend".into(),
                            ));
                        }
                    };
                    *slot = Some(Param::new(&[b.len()], b));
                    ids.insert(n.output[0].clone(), v);
                    continue;
                }
                Layer::Add
            }
            "Concat" => {
                if !matches!(int("axis", 1), 1) {
                    return Err(fail(
                        "only concatenation along channels (axis 1) is supported".into(),
                    ));
                }
                Layer::Concat
            }
            "Slice" => {
                let get = |i: usize| {
                    n.input
                        .get(i)
                        .and_then(|s| consts.get(s))
                        .map(i64_values)
                        .transpose()
                        .map_err(&fail)
                };
                let (starts, ends, axes) = (get(1)?, get(2)?, get(3)?);
                if get(4)?.is_some_and(|s| s.iter().any(|&v| v != 1)) {
                    return Err(fail("strided slices are not supported".into()));
                }
                match (starts.as_deref(), ends.as_deref(), axes.as_deref()) {
                    (Some([s]), Some([e]), Some([2] | [-1])) => {
                        let src = value(x, &ids)?;
                        let len = value_length(&g, src).map_err(|e| fail(e.to_string()))?;
                        let start = (*s).clamp(0, len as i64) as usize;
                        let end = if *e < 0 {
                            len as i64 + e
                        } else {
                            (*e).min(len as i64)
                        } as usize;
                        Layer::Crop {
                            left: start,
                            right: len.saturating_sub(end),
                        }
                    }
                    _ => {
                        return Err(fail(
                            "only slices of the length axis (2) are supported".into(),
                        ));
                    }
                }
            }
            _ => {
                return Err(Error::UnsupportedOp {
                    op: n.op_type.clone(),
                    node: n.name.clone(),
                });
            }
        };
        let srcs: Vec<usize> = n
            .input
            .iter()
            .take(layer.arity().unwrap_or(n.input.len()))
            .map(|s| value(s, &ids))
            .collect::<Result<_, _>>()?;
        let id = g.add(name, layer, &srcs)?;
        ids.insert(n.output[0].clone(), id);
    }
    let out = graph
        .output
        .first()
        .ok_or_else(|| Error::Graph("the model declares no output".into()))?;
    if ids.get(&out.name) != Some(&g.nodes.len()) {
        return Err(Error::Graph(format!(
            "output '{}' must be computed by the last node",
            out.name
        )));
    }
    Ok(g)
}

/// The length axis of value `v`, found by running the graph so far on one zero sequence.
fn value_length(g: &Graph, v: usize) -> Result<usize, crate::nn::Error> {
    let mut shape = vec![1];
    shape.extend(&g.input_shape);
    if v == 0 {
        return Ok(g.input_shape[1]);
    }
    let mut sub = g.clone();
    sub.nodes.truncate(v);
    let y = sub.predict(&Tensor::zeros(&shape))?;
    Ok(*y.shape.get(2).unwrap_or(&0))
}
