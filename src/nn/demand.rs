//! Evaluation that computes only what the output depends on.
//!
//! A graph that crops its activations (SpliceAI's 5,000-base crop on each side, BPNet's
//! profile head) does not need every position of every layer: working back from the output,
//! each layer needs only the positions its consumers read, which shrink through every
//! convolution after the crop and grow before it. This module finds that range per value
//! (its *demand*), then runs the graph forward over those ranges only, and frees each value
//! after its last consumer. The result equals [`Graph::values`]' last value: positions are
//! computed from the same inputs, and the zero padding of a convolution applies exactly
//! where the full computation would pad (outside the value's full length).

use std::borrow::Cow;

use super::kernels::Window1d;
use super::layer::Mode;
use super::{Error, Graph, Layer, Tensor};

/// The positions `lo..hi` of a value that are computed, or `None` for a value without
/// positions (`[features]`) or one needed whole.
type Range = Option<(usize, usize)>;

/// A value as computed: `data` holds positions `off..off + data.shape[2]` of a rank-3 value,
/// or the whole value.
struct Held {
    off: usize,
    data: Tensor,
}

impl Held {
    /// Positions `a..b` of the value (`[n, c, b - a]`), copied only when the held range is
    /// wider.
    fn span(&self, a: usize, b: usize) -> Cow<'_, Tensor> {
        let t = &self.data;
        let (n, c, l) = (t.shape[0], t.shape[1], t.shape[2]);
        debug_assert!(
            a >= self.off && b <= self.off + l,
            "demand covers every read"
        );
        if a == self.off && b == self.off + l {
            return Cow::Borrowed(t);
        }
        let w = b - a;
        let mut out = Tensor::zeros(&[n, c, w]);
        for (row, dst) in out.data.chunks_mut(w).enumerate() {
            let src = row * l + (a - self.off);
            dst.copy_from_slice(&t.data[src..src + w]);
        }
        Cow::Owned(out)
    }

    fn whole(&self, full: &[usize]) -> Result<&Tensor, Error> {
        match self.data.shape.len() {
            3 if self.off != 0 || self.data.shape[2] != full[1] => Err(Error::Graph(
                "internal: a layer that reads every position got a partial value".into(),
            )),
            _ => Ok(&self.data),
        }
    }
}

/// How a layer's output positions map to the positions of its inputs.
enum Reads {
    /// Output `o` reads inputs `o * stride - pad + dilation * j` for `j < kernel`.
    Window {
        kernel: usize,
        stride: usize,
        dilation: usize,
        pad: usize,
    },
    /// Output `o` reads position `o + shift` of every input.
    Shift(usize),
    /// The layer reads every position of its inputs.
    All,
}

fn reads(layer: &Layer, positional: bool) -> Reads {
    if !positional {
        return Reads::All;
    }
    match layer {
        Layer::Conv1d(c) => Reads::Window {
            kernel: c.kernel,
            stride: c.stride,
            dilation: c.dilation,
            pad: c.pad_left,
        },
        Layer::MaxPool1d { kernel, stride } | Layer::AvgPool1d { kernel, stride } => {
            Reads::Window {
                kernel: *kernel,
                stride: *stride,
                dilation: 1,
                pad: 0,
            }
        }
        Layer::Crop { left, .. } => Reads::Shift(*left),
        Layer::BatchNorm1d(_)
        | Layer::Relu
        | Layer::Elu { .. }
        | Layer::Softplus
        | Layer::Exp
        | Layer::Sigmoid
        | Layer::Softmax
        | Layer::Dropout { .. }
        | Layer::Add
        | Layer::Concat => Reads::Shift(0),
        Layer::Linear(_) | Layer::Flatten | Layer::GlobalMaxPool | Layer::GlobalAvgPool => {
            Reads::All
        }
    }
}

/// The unclipped input positions `lo..hi` of a window over output positions `a..b`.
fn window_reads(
    kernel: usize,
    stride: usize,
    dilation: usize,
    pad: usize,
    a: usize,
    b: usize,
) -> (i64, i64) {
    let lo = (a * stride) as i64 - pad as i64;
    let hi = ((b - 1) * stride + dilation * (kernel - 1) + 1) as i64 - pad as i64;
    (lo, hi)
}

/// Per value, the positions its consumers read (`None`: whole).
fn demand(graph: &Graph, shapes: &[Vec<usize>]) -> Vec<Range> {
    let n = graph.nodes.len() + 1;
    let positional = |v: usize| shapes[v].len() == 2;
    let mut need: Vec<Option<(usize, usize)>> = vec![None; n];
    let mut whole = vec![false; n];
    whole[n - 1] = true;
    let add = |need: &mut Vec<Option<(usize, usize)>>, u: usize, a: i64, b: i64| {
        let len = shapes[u][1] as i64;
        let (a, b) = (a.clamp(0, len) as usize, b.clamp(0, len) as usize);
        if a < b {
            need[u] = Some(match need[u] {
                Some((x, y)) => (x.min(a), y.max(b)),
                None => (a, b),
            });
        }
    };
    for (i, node) in graph.nodes.iter().enumerate().rev() {
        let v = i + 1;
        let out = match (whole[v], need[v], positional(v)) {
            (true, _, true) => Some((0, shapes[v][1])),
            (false, Some(r), true) => Some(r),
            (_, _, false) => None,
            // Nothing reads this value: it still runs, over every position.
            (false, None, true) => Some((0, shapes[v][1])),
        };
        let ins_positional = node.inputs.iter().all(|&u| positional(u));
        match (reads(&node.layer, positional(v) && ins_positional), out) {
            (
                Reads::Window {
                    kernel,
                    stride,
                    dilation,
                    pad,
                },
                Some((a, b)),
            ) => {
                let (lo, hi) = window_reads(kernel, stride, dilation, pad, a, b);
                add(&mut need, node.inputs[0], lo, hi);
            }
            (Reads::Shift(s), Some((a, b))) => {
                for &u in &node.inputs {
                    add(&mut need, u, (a + s) as i64, (b + s) as i64);
                }
            }
            _ => {
                for &u in &node.inputs {
                    whole[u] = true;
                }
            }
        }
    }
    (0..n)
        .map(|v| match positional(v) {
            false => None,
            true if whole[v] || need[v].is_none() => Some((0, shapes[v][1])),
            true => need[v],
        })
        .collect()
}

/// The graph's evaluation-mode output for `x`, computing each value only over the positions
/// the output depends on (see the module docs).
pub(super) fn predict(graph: &Graph, x: &Tensor) -> Result<Tensor, Error> {
    let shapes = graph.shapes(&x.shape[1..])?;
    let ranges = demand(graph, &shapes);
    let n = graph.nodes.len() + 1;
    let mut last_use = vec![0usize; n];
    for (i, node) in graph.nodes.iter().enumerate() {
        for &u in &node.inputs {
            last_use[u] = i + 1;
        }
    }
    let mut held: Vec<Option<Held>> = Vec::with_capacity(n);
    held.push(Some(Held {
        off: 0,
        data: x.clone(),
    }));
    for (i, node) in graph.nodes.iter().enumerate() {
        let v = i + 1;
        let get = |u: usize| held[u].as_ref().expect("values live until their last use");
        let y = match ranges[v] {
            Some((a, b)) if node.inputs.iter().all(|&u| ranges[u].is_some()) => {
                let y = match reads(&node.layer, true) {
                    Reads::Window {
                        kernel,
                        stride,
                        dilation,
                        pad,
                    } => {
                        let u = node.inputs[0];
                        let len = shapes[u][1];
                        let (lo, hi) = window_reads(kernel, stride, dilation, pad, a, b);
                        let (ia, ib) = (
                            lo.clamp(0, len as i64) as usize,
                            hi.clamp(0, len as i64) as usize,
                        );
                        let xin = get(u).span(ia, ib);
                        match &node.layer {
                            Layer::Conv1d(c) => c.forward_window(
                                &xin,
                                Window1d {
                                    pad_left: (ia as i64 - lo) as usize,
                                    pad_right: (hi - ib as i64) as usize,
                                    ..c.window()
                                },
                            ),
                            layer => layer.forward(&[&xin], &mut Mode::Eval).map(|r| r.0),
                        }
                    }
                    Reads::Shift(s) => {
                        let xs: Vec<Cow<Tensor>> = node
                            .inputs
                            .iter()
                            .map(|&u| get(u).span(a + s, b + s))
                            .collect();
                        match &node.layer {
                            Layer::Crop { .. } => {
                                Ok(xs.into_iter().next().expect("one input").into_owned())
                            }
                            layer => {
                                let refs: Vec<&Tensor> = xs.iter().map(|t| t.as_ref()).collect();
                                layer.forward(&refs, &mut Mode::Eval).map(|r| r.0)
                            }
                        }
                    }
                    Reads::All => unreachable!("positional layers read windows or shifts"),
                }
                .map_err(|e| e.at(&node.name))?;
                if y.shape.get(2) != Some(&(b - a)) {
                    return Err(Error::Graph(format!(
                        "internal: node '{}' computed {:?} for positions {a}..{b}",
                        node.name, y.shape
                    )));
                }
                Held { off: a, data: y }
            }
            _ => {
                let xs = node
                    .inputs
                    .iter()
                    .map(|&u| get(u).whole(&shapes[u]))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| e.at(&node.name))?;
                let (y, _) = node
                    .layer
                    .forward(&xs, &mut Mode::Eval)
                    .map_err(|e| e.at(&node.name))?;
                Held { off: 0, data: y }
            }
        };
        held.push(Some(y));
        for &u in &node.inputs {
            if last_use[u] == v {
                held[u] = None;
            }
        }
    }
    Ok(held.pop().flatten().expect("the output is held").data)
}

#[cfg(test)]
mod tests {
    use super::super::{Conv1d, Padding, rng};
    use super::*;

    /// A SpliceAI-shaped graph: dilated "same" convolutions on a residual path, a skip path,
    /// a crop, a pointwise head and a softmax.
    fn cropped_graph(len: usize) -> Graph {
        let mut r = rng(3);
        let mut g = Graph::new(&[4, len]);
        let x0 = g
            .push(
                "in",
                Layer::Conv1d(Conv1d::new(4, 6, 1, 1, 1, Padding::Same, true, &mut r)),
            )
            .unwrap();
        let skip = g
            .push(
                "skip",
                Layer::Conv1d(Conv1d::new(6, 6, 1, 1, 1, Padding::Same, true, &mut r)),
            )
            .unwrap();
        let mut x = x0;
        for (k, d) in [(3, 1), (5, 2), (3, 4)] {
            let a = g.add("relu", Layer::Relu, &[x]).unwrap();
            let c = g
                .add(
                    "conv",
                    Layer::Conv1d(Conv1d::new(6, 6, k, 1, d, Padding::Same, true, &mut r)),
                    &[a],
                )
                .unwrap();
            x = g.add("add", Layer::Add, &[c, x]).unwrap();
        }
        let s = g.add("join", Layer::Add, &[skip, x]).unwrap();
        let c = g
            .add("crop", Layer::Crop { left: 7, right: 5 }, &[s])
            .unwrap();
        let p = g
            .add(
                "pool",
                Layer::MaxPool1d {
                    kernel: 2,
                    stride: 2,
                },
                &[c],
            )
            .unwrap();
        let h = g
            .add(
                "head",
                Layer::Conv1d(Conv1d::new(6, 3, 1, 1, 1, Padding::Valid, true, &mut r)),
                &[p],
            )
            .unwrap();
        g.add("softmax", Layer::Softmax, &[h]).unwrap();
        g
    }

    #[test]
    fn equals_the_full_evaluation() {
        for len in [40, 41, 64] {
            let g = cropped_graph(len);
            let x = Tensor {
                shape: vec![2, 4, len],
                data: (0..2 * 4 * len)
                    .map(|i| ((i * 7919) % 13) as f32 / 13.0)
                    .collect(),
            };
            let full = g.values(&x).unwrap().pop().unwrap();
            let trimmed = predict(&g, &x).unwrap();
            assert_eq!(full.shape, trimmed.shape);
            for (a, b) in full.data.iter().zip(&trimmed.data) {
                assert!((a - b).abs() < 1e-6, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn demand_shrinks_after_the_crop() {
        let g = cropped_graph(40);
        let shapes = g.shapes(&[4, 40]).unwrap();
        let need = demand(&g, &shapes);
        // the crop keeps 7..35 of its input; the last dilated conv (k 3, d 4) reads 4 more
        // on each side of that from its input
        let crop = g.nodes.iter().position(|n| n.name == "crop").unwrap() + 1;
        let input_of_crop = g.nodes[crop - 1].inputs[0];
        assert_eq!(need[input_of_crop], Some((7, 35)));
        assert_eq!(need[0], Some((0, 40)));
    }
}
