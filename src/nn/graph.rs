use serde::{Deserialize, Serialize};

use super::layer::{Cache, Layer, Mode};
use super::{Error, Param, Tensor};

/// One layer and where its inputs come from: value 0 is the graph input, value `i + 1` is the
/// output of node `i`. Nodes only read earlier values, so the list is already in
/// topological order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// The node's name (the ONNX node's, when imported).
    pub name: String,
    /// What it computes.
    pub layer: Layer,
    /// The nodes whose outputs it reads (index 0 is the graph input).
    pub inputs: Vec<usize>,
}

/// A model: a directed acyclic graph of layers with one input and one output (the last
/// node). A sequential stack plus `Add`/`Concat` nodes covers DeepSEA, Basset, DeepBind and
/// BPNet-style dilated residual networks.
///
/// A model with several outputs (BPNet's profile and counts) keeps the one-output form that
/// every pass here, attribution and the backends rely on: its last node concatenates the
/// outputs, each flattened per item, and `heads` names them. The ONNX importer builds that
/// form, and the exporter writes the heads back as the model's separate outputs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Graph {
    /// Shape of one input item, e.g. `[4, 1000]`.
    pub input_shape: Vec<usize>,
    /// The nodes, in topological order.
    pub nodes: Vec<Node>,
    /// The graph takes inputs of any length (a fully convolutional model); `input_shape`'s
    /// length is then only a nominal one.
    #[serde(default)]
    pub any_length: bool,
    /// The outputs' names when there are several: the last node is then a `Concat` with one
    /// input per name, the output itself or a `Flatten` of it. Empty for one output.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub heads: Vec<String>,
}

/// One of a multi-output graph's outputs: its name, its value and that value's per-item
/// shape, and the value the final `Concat` reads (the output, or its `Flatten`).
#[derive(Clone, Debug, PartialEq)]
pub struct Head {
    /// The output's name.
    pub name: String,
    /// The value holding it (before any flattening).
    pub value: usize,
    /// Its per-item shape.
    pub shape: Vec<usize>,
    /// The value the final `Concat` reads for it.
    pub joined: usize,
}

/// Folds an evaluation-mode batch norm over `layer`'s output channels into its weights and
/// bias; false if `layer` is not a convolution or dense layer of matching width.
fn fold_into(layer: &mut Layer, bn: &super::BatchNorm1d) -> bool {
    let (weight, bias, outputs) = match layer {
        Layer::Conv1d(c) => (&mut c.weight, &mut c.bias, c.out_channels),
        Layer::Linear(l) => (&mut l.weight, &mut l.bias, l.out_features),
        _ => return false,
    };
    if outputs != bn.channels {
        return false;
    }
    let (scale, shift) = bn.folded();
    let per = weight.value.len() / outputs;
    for (o, s) in scale.iter().enumerate() {
        weight.value[o * per..(o + 1) * per]
            .iter_mut()
            .for_each(|w| *w *= s);
    }
    let b = bias.get_or_insert_with(|| Param::new(&[outputs], vec![0.0; outputs]));
    for (o, v) in b.value.iter_mut().enumerate() {
        *v = *v * scale[o] + shift[o];
    }
    true
}

/// The output values per item, checked against the target's weights (one per value).
pub(super) fn target_width(out: &Tensor, weights: &[f32]) -> Result<usize, Error> {
    let k = out.per_item();
    if weights.len() != k {
        return Err(Error::Shape(format!(
            "{} target weights for {k} output values per sequence",
            weights.len()
        )));
    }
    Ok(k)
}

/// Everything a backward pass needs from a forward pass.
pub struct Tape {
    /// Value 0 is the input; value `i + 1` the output of node `i`.
    pub values: Vec<Tensor>,
    caches: Vec<Cache>,
}

impl Tape {
    /// The graph's output.
    pub fn output(&self) -> &Tensor {
        self.values.last().expect("a tape holds at least the input")
    }

    /// What node `i`'s forward pass kept for its backward pass.
    pub(super) fn cache(&self, i: usize) -> &Cache {
        &self.caches[i]
    }
}

impl Graph {
    /// An empty graph over inputs of `input_shape` (one item, without the batch).
    pub fn new(input_shape: &[usize]) -> Graph {
        Graph {
            input_shape: input_shape.to_vec(),
            nodes: Vec::new(),
            any_length: false,
            heads: Vec::new(),
        }
    }

    /// Appends a layer reading the given values; returns the value id of its output.
    pub fn add(
        &mut self,
        name: impl Into<String>,
        layer: Layer,
        inputs: &[usize],
    ) -> Result<usize, Error> {
        let id = self.nodes.len() + 1;
        let name = name.into();
        if inputs.is_empty() || inputs.iter().any(|&i| i >= id) {
            return Err(Error::Graph(format!(
                "node '{name}' reads {inputs:?}, but only values 0..{id} exist so far"
            )));
        }
        match layer.arity() {
            Some(n) if n != inputs.len() => {
                return Err(Error::Graph(format!(
                    "node '{name}' ({layer:?}) takes {n} inputs, got {}",
                    inputs.len()
                )));
            }
            None if inputs.len() < 2 => {
                return Err(Error::Graph(format!(
                    "node '{name}' needs at least two inputs"
                )));
            }
            _ => {}
        }
        self.nodes.push(Node {
            name,
            layer,
            inputs: inputs.to_vec(),
        });
        Ok(id)
    }

    /// Appends a layer reading the previous node's output (or the input).
    pub fn push(&mut self, name: impl Into<String>, layer: Layer) -> Result<usize, Error> {
        let prev = self.nodes.len();
        self.add(name, layer, &[prev])
    }

    /// Whether `item` (one input's shape, without the batch) is one this graph takes.
    pub fn accepts(&self, item: &[usize]) -> bool {
        match (self.any_length, item, &self.input_shape[..]) {
            (true, [c, _], [want, _]) => c == want,
            _ => item == &self.input_shape[..],
        }
    }

    /// The per-item shape of every value for inputs of per-item shape `item` (value 0 is the
    /// input), inferred without running the graph.
    pub fn shapes(&self, item: &[usize]) -> Result<Vec<Vec<usize>>, Error> {
        let mut shapes = vec![item.to_vec()];
        for node in &self.nodes {
            let ins: Vec<&[usize]> = node.inputs.iter().map(|&i| shapes[i].as_slice()).collect();
            let s = node.layer.out_shape(&ins).map_err(|e| e.at(&node.name))?;
            shapes.push(s);
        }
        Ok(shapes)
    }

    /// How many nodes read each value (value 0 is the input).
    fn readers(&self) -> Vec<usize> {
        let mut readers = vec![0usize; self.nodes.len() + 1];
        for n in &self.nodes {
            for &i in &n.inputs {
                readers[i] += 1;
            }
        }
        readers
    }

    /// The outputs of a multi-output graph for inputs of per-item shape `item`, in order;
    /// empty for a graph with one output. Fails if the last node is not the `Concat` of
    /// one value per head that `heads` promises.
    pub fn head_outputs(&self, item: &[usize]) -> Result<Vec<Head>, Error> {
        if self.heads.is_empty() {
            return Ok(Vec::new());
        }
        let broken = |why: String| {
            Error::Graph(format!(
                "the graph names {} outputs ({}), but {why}",
                self.heads.len(),
                self.heads.join(", ")
            ))
        };
        let last = match self.nodes.last() {
            Some(n) if matches!(n.layer, Layer::Concat) => n,
            _ => {
                return Err(broken(
                    "its last node is not the Concat that joins them".into(),
                ));
            }
        };
        if last.inputs.len() != self.heads.len() {
            return Err(broken(format!(
                "its last node joins {} values",
                last.inputs.len()
            )));
        }
        let shapes = self.shapes(item)?;
        let readers = self.readers();
        let mut heads = Vec::with_capacity(self.heads.len());
        for (name, &joined) in self.heads.iter().zip(&last.inputs) {
            // A Flatten that only the Concat reads is the join's, not part of the output.
            let value = match joined.checked_sub(1).map(|i| &self.nodes[i]) {
                Some(n) if matches!(n.layer, Layer::Flatten) && readers[joined] == 1 => n.inputs[0],
                _ => joined,
            };
            if shapes[joined].len() != 1 {
                return Err(broken(format!(
                    "output '{name}' joins with per-item shape {:?}, not flattened",
                    shapes[joined]
                )));
            }
            heads.push(Head {
                name: name.clone(),
                value,
                shape: shapes[value].clone(),
                joined,
            });
        }
        Ok(heads)
    }

    /// For a value laid out `[channels, positions]`, the input position that its position
    /// 0 is centred on (position `j` then on input position `j + offset`): each stride-1
    /// convolution moves it by its kernel's centre less its left padding (0 when padded
    /// `same`), each crop by the positions it drops at the start, and element-wise layers
    /// and channel-wise ones (batch norm, residual adds of aligned values, concatenation)
    /// keep it. `None` when no single offset holds: strides, pooling, recurrent layers, an
    /// even kernel's half-position centre, or inputs that disagree.
    pub fn position_offset(&self, value: usize) -> Option<usize> {
        let mut at: Vec<Option<i64>> = vec![Some(0)];
        for node in &self.nodes {
            let ins: Vec<Option<i64>> = node.inputs.iter().map(|&i| at[i]).collect();
            let first = ins[0];
            let same = ins.iter().all(|&o| o == first);
            let shift = match &node.layer {
                Layer::Conv1d(c)
                    if c.stride == 1
                        && (c.dilation * c.kernel.saturating_sub(1)).is_multiple_of(2) =>
                {
                    Some((c.dilation * c.kernel.saturating_sub(1) / 2) as i64 - c.pad_left as i64)
                }
                Layer::Crop { left, .. } => Some(*left as i64),
                Layer::Conv1d(_)
                | Layer::Rnn(_)
                | Layer::MaxPool1d(_)
                | Layer::AvgPool1d(_)
                | Layer::GlobalMaxPool
                | Layer::GlobalAvgPool
                | Layer::GlobalSumPool
                | Layer::Flatten
                | Layer::Linear(_) => None,
                _ => Some(0),
            };
            at.push(match (first, shift) {
                (Some(o), Some(s)) if same => Some(o + s),
                _ => None,
            });
        }
        at.get(value)
            .copied()
            .flatten()
            .and_then(|o| usize::try_from(o).ok())
    }

    /// Values per item of the output, for inputs of per-item shape `item`.
    pub fn output_len(&self, item: &[usize]) -> Result<usize, Error> {
        Ok(self.shapes(item)?.last().map_or(0, |s| s.iter().product()))
    }

    fn check_input(&self, x: &Tensor) -> Result<(), Error> {
        if x.shape.is_empty() || !self.accepts(&x.shape[1..]) {
            return Err(Error::Shape(format!(
                "the model takes [batch, {}], got {:?}",
                self.input_shape
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                x.shape
            )));
        }
        if self.nodes.is_empty() {
            return Err(Error::Graph("the graph has no layers".into()));
        }
        Ok(())
    }

    /// Runs the graph, keeping what [`Graph::backward`] needs. In training mode, batch-norm
    /// running statistics are updated.
    pub fn forward(&mut self, x: Tensor, mut mode: Mode) -> Result<Tape, Error> {
        self.check_input(&x)?;
        let mut values = Vec::with_capacity(self.nodes.len() + 1);
        let mut caches = Vec::with_capacity(self.nodes.len());
        values.push(x);
        for node in &mut self.nodes {
            let inputs: Vec<&Tensor> = node.inputs.iter().map(|&i| &values[i]).collect();
            let (y, cache) = node
                .layer
                .forward(&inputs, &mut mode)
                .map_err(|e| e.at(&node.name))?;
            if let (Layer::BatchNorm1d(bn), Cache::Bn(c), true) =
                (&mut node.layer, &cache, mode.is_train())
            {
                bn.update_running(c);
            }
            values.push(y);
            caches.push(cache);
        }
        Ok(Tape { values, caches })
    }

    /// Evaluation-mode output for `x`. Only the positions the output depends on are
    /// computed, and intermediate values are freed as soon as nothing else reads them.
    pub fn predict(&self, x: &Tensor) -> Result<Tensor, Error> {
        self.check_input(x)?;
        super::demand::predict(self, x)
    }

    /// For one reference input `x` (`[1, channels, length]`), the output over positions
    /// `out` and the output of each edited input over the edit's positions, computed by
    /// carrying each edit through only the positions it can change (see [`Edit`]). Equal to
    /// predicting every edited input in full, at a fraction of the work; for graphs that keep
    /// positions to their output (profile models).
    ///
    /// [`Edit`]: super::Edit
    pub fn predict_edits(
        &self,
        x: &Tensor,
        out: (usize, usize),
        edits: &[super::Edit],
    ) -> Result<(Tensor, Vec<Tensor>), Error> {
        self.check_input(x)?;
        super::demand::predict_edits(self, x, out, edits)
    }

    /// Evaluation-mode values of every node: value 0 is `x`, value `i + 1` the output of
    /// node `i`.
    pub fn values(&self, x: &Tensor) -> Result<Vec<Tensor>, Error> {
        self.check_input(x)?;
        let mut values: Vec<Tensor> = vec![x.clone()];
        for node in &self.nodes {
            let inputs: Vec<&Tensor> = node.inputs.iter().map(|&i| &values[i]).collect();
            let (y, _) = node
                .layer
                .forward(&inputs, &mut Mode::Eval)
                .map_err(|e| e.at(&node.name))?;
            values.push(y);
        }
        Ok(values)
    }

    /// Back-propagates `dy` (the loss gradient at the output) through the tape, accumulating
    /// parameter gradients; returns the gradient with respect to the input.
    pub fn backward(&mut self, tape: &Tape, dy: Tensor) -> Result<Tensor, Error> {
        self.backprop(tape, dy, true, true)
    }

    /// [`Graph::backward`] for training: the parameter gradients only. A convolution that
    /// reads the input skips the input's gradient, which nothing uses (a third of that
    /// layer's backward arithmetic).
    pub fn backward_params(&mut self, tape: &Tape, dy: Tensor) -> Result<(), Error> {
        self.backprop(tape, dy, true, false).map(drop)
    }

    /// [`Graph::backward`], accumulating the parameter gradients only when `params`, and
    /// the input's gradient only when `input` (else the returned one is incomplete).
    fn backprop(
        &mut self,
        tape: &Tape,
        dy: Tensor,
        params: bool,
        input: bool,
    ) -> Result<Tensor, Error> {
        let n = self.nodes.len();
        let mut grads: Vec<Option<Tensor>> = vec![None; n + 1];
        grads[n] = Some(dy);
        for i in (0..n).rev() {
            let Some(g) = grads[i + 1].take() else {
                continue;
            };
            let node = &mut self.nodes[i];
            if !input
                && params
                && node.inputs == [0]
                && let Layer::Conv1d(c) = &mut node.layer
            {
                c.accumulate_param_gradients(&tape.values[0], &g)
                    .map_err(|e| e.at(&node.name))?;
                continue;
            }
            let inputs: Vec<&Tensor> = node.inputs.iter().map(|&j| &tape.values[j]).collect();
            let dxs = node
                .layer
                .backward(&inputs, &tape.values[i + 1], &tape.caches[i], &g, params)
                .map_err(|e| e.at(&node.name))?;
            for (&j, dx) in node.inputs.iter().zip(dxs) {
                match &mut grads[j] {
                    Some(acc) => acc.data.iter_mut().zip(&dx.data).for_each(|(a, d)| *a += d),
                    slot => *slot = Some(dx),
                }
            }
        }
        Ok(grads[0]
            .take()
            .unwrap_or_else(|| tape.values[0].zeros_like()))
    }

    /// The gradient of `sum_j weights[j] * output[j]` with respect to each input item
    /// (evaluation mode; `weights` has one value per output value of an item). Items are
    /// independent in evaluation mode, so each row is that item's gradient. Parameter
    /// gradients are neither computed nor touched.
    pub fn weighted_input_gradient(
        &mut self,
        x: &Tensor,
        weights: &[f32],
    ) -> Result<Tensor, Error> {
        let tape = self.forward(x.clone(), Mode::Eval)?;
        let out = tape.output();
        let k = target_width(out, weights)?;
        let dy = Tensor::new(&out.shape, (0..out.len()).map(|i| weights[i % k]).collect())?;
        self.backprop(&tape, dy, false, true)
    }

    /// The graph's layers and wiring without their weights (parameters and batch-norm
    /// statistics emptied): enough to infer shapes, at no memory cost.
    pub fn geometry(&self) -> Graph {
        let mut g = Graph {
            input_shape: self.input_shape.clone(),
            nodes: Vec::with_capacity(self.nodes.len()),
            any_length: self.any_length,
            heads: self.heads.clone(),
        };
        for n in &self.nodes {
            let mut layer = match &n.layer {
                Layer::BatchNorm1d(b) => {
                    let mut b = b.clone();
                    b.running_mean = Vec::new();
                    b.running_var = Vec::new();
                    Layer::BatchNorm1d(b)
                }
                other => other.clone(),
            };
            for p in layer.params_mut() {
                *p = Param::new(&[0], Vec::new());
            }
            g.nodes.push(Node {
                name: n.name.clone(),
                layer,
                inputs: n.inputs.clone(),
            });
        }
        g
    }

    /// The same function for inference with every batch norm that follows a convolution or
    /// dense layer (its only reader) folded into that layer's weights and bias, as the GPU
    /// backend does: one pass over the activations fewer per batch norm.
    pub fn for_inference(&self) -> Graph {
        let readers = self.readers();
        let mut g = Graph {
            input_shape: self.input_shape.clone(),
            nodes: Vec::with_capacity(self.nodes.len()),
            any_length: self.any_length,
            heads: self.heads.clone(),
        };
        // old value id -> new value id
        let mut map = vec![0usize; self.nodes.len() + 1];
        for (i, n) in self.nodes.iter().enumerate() {
            let v = i + 1;
            let inputs: Vec<usize> = n.inputs.iter().map(|&u| map[u]).collect();
            if let (Layer::BatchNorm1d(bn), [u]) = (&n.layer, n.inputs.as_slice())
                && readers[*u] == 1
                && *u > 0
                && let Some(prev) = g.nodes.get_mut(map[*u] - 1)
                && fold_into(&mut prev.layer, bn)
            {
                map[v] = map[*u];
                continue;
            }
            g.nodes.push(Node {
                name: n.name.clone(),
                layer: n.layer.clone(),
                inputs,
            });
            map[v] = g.nodes.len();
        }
        g
    }

    /// All trainable parameters, node by node.
    pub fn params_mut(&mut self) -> Vec<&mut Param> {
        self.nodes
            .iter_mut()
            .flat_map(|n| n.layer.params_mut())
            .collect()
    }

    /// Every parameter, in node order.
    pub fn params(&self) -> Vec<&Param> {
        self.nodes.iter().flat_map(|n| n.layer.params()).collect()
    }

    /// Sets every gradient to zero.
    pub fn zero_grad(&mut self) {
        self.params_mut().into_iter().for_each(Param::zero_grad);
    }

    /// Number of trainable values.
    pub fn param_count(&self) -> usize {
        self.params().iter().map(|p| p.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::super::{BatchNorm1d, Conv1d, Padding, rng};
    use super::*;

    #[test]
    fn folding_batch_norms_keeps_the_function() {
        let mut g = Graph::new(&[4, 30]);
        let mut r = rng(9);
        let c = g
            .push(
                "c",
                Layer::Conv1d(Conv1d::new(4, 5, 3, 1, 2, Padding::Same, false, &mut r)),
            )
            .unwrap();
        let mut bn = BatchNorm1d::new(5);
        bn.running_mean = vec![0.1, -0.2, 0.3, 0.0, 0.5];
        bn.running_var = vec![0.5, 2.0, 1.5, 1.0, 0.25];
        bn.gamma.value = vec![1.5, 0.5, -1.0, 2.0, 1.0];
        let b = g.push("bn", Layer::BatchNorm1d(bn.clone())).unwrap();
        let relu = g.push("relu", Layer::Relu).unwrap();
        // a batch norm on a value read twice stays
        let bn2 = g.add("bn2", Layer::BatchNorm1d(bn), &[relu]).unwrap();
        g.add("sum", Layer::Add, &[bn2, relu]).unwrap();
        let _ = (c, b);
        let f = g.for_inference();
        assert_eq!(f.nodes.len(), g.nodes.len() - 1);
        let x = Tensor {
            shape: vec![2, 4, 30],
            data: (0..240).map(|i| ((i * 31) % 7) as f32 / 7.0).collect(),
        };
        let (a, b) = (g.predict(&x).unwrap(), f.predict(&x).unwrap());
        for (u, v) in a.data.iter().zip(&b.data) {
            assert!((u - v).abs() < 1e-5, "{u} vs {v}");
        }
    }
}
