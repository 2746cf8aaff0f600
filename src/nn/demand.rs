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

/// What of a value is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Need {
    /// Every position (or a value without positions, `[features]`).
    Whole,
    /// Positions `lo..hi` of a `[channels, length]` value.
    Span(usize, usize),
    /// Nothing reads it.
    Nothing,
}

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
    /// Every output (position) reads every position of its inputs.
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
        // A padded or ceil-mode pool's edge windows are not the plain windows that a
        // slice of its input gives: it is computed whole.
        Layer::MaxPool1d(w) | Layer::AvgPool1d(w) if !w.is_plain() => Reads::All,
        Layer::MaxPool1d(w) | Layer::AvgPool1d(w) => Reads::Window {
            kernel: w.kernel,
            stride: w.stride,
            dilation: 1,
            pad: 0,
        },
        Layer::Crop { left, .. } => Reads::Shift(*left),
        Layer::BatchNorm1d(_)
        | Layer::Relu
        | Layer::Elu { .. }
        | Layer::Softplus
        | Layer::Exp
        | Layer::Sigmoid
        | Layer::Tanh
        | Layer::LeakyRelu { .. }
        | Layer::Gelu { .. }
        | Layer::Affine { .. }
        | Layer::ReduceChannels { .. }
        | Layer::Softmax
        | Layer::Dropout { .. }
        | Layer::Add
        | Layer::Concat => Reads::Shift(0),
        Layer::Linear(_)
        | Layer::Flatten
        | Layer::GlobalMaxPool
        | Layer::GlobalAvgPool
        | Layer::GlobalSumPool
        | Layer::SoftmaxLength
        | Layer::Rnn(_) => Reads::All,
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

/// Per value, what its consumers read when the output is needed over `out` (positions of a
/// `[channels, length]` output; `None`: all of it).
fn demand(graph: &Graph, shapes: &[Vec<usize>], out: Option<(usize, usize)>) -> Vec<Need> {
    let n = graph.nodes.len() + 1;
    let positional = |v: usize| shapes[v].len() == 2;
    let mut need: Vec<Option<(usize, usize)>> = vec![None; n];
    let mut whole = vec![false; n];
    match out {
        Some(r) if positional(n - 1) => need[n - 1] = Some(r),
        _ => whole[n - 1] = true,
    }
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
            (false, None, _) => continue,
            (true, _, true) => Some((0, shapes[v][1])),
            (false, Some(r), true) => Some(r),
            (_, _, false) => None,
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
        .map(|v| match (whole[v], need[v], positional(v)) {
            (true, _, _) | (false, Some(_), false) => Need::Whole,
            (false, Some((a, b)), true) if a == 0 && b == shapes[v][1] => Need::Whole,
            (false, Some((a, b)), true) => Need::Span(a, b),
            (false, None, _) => Need::Nothing,
        })
        .collect()
}

/// A change to a reference input: `columns` (`[channels, len]`, row-major) replace its
/// positions `start..start + len`, and the edited output is wanted over positions `out`.
#[derive(Clone, Debug, PartialEq)]
pub struct Edit {
    /// The first input position replaced.
    pub start: usize,
    /// Positions replaced.
    pub len: usize,
    /// The replacement `[channels, len]`, row-major.
    pub columns: Vec<f32>,
    /// The output positions wanted, `(start, end)`.
    pub out: (usize, usize),
}

/// The graph's evaluation-mode output for `x`, computing each value only over the positions
/// the output depends on (see the module docs).
pub(super) fn predict(graph: &Graph, x: &Tensor) -> Result<Tensor, Error> {
    Ok(evaluate(graph, x, None, &[])?.0)
}

/// For one reference input `x` (`[1, channels, length]`), the output over positions `out`
/// and, for each edit, the output of the edited input over the edit's positions, computed
/// on top of the reference: each edit is carried through the graph only over the positions
/// it can change (its receptive-field cone, cut to what its output needs), reading the
/// reference's values everywhere else. The numbers equal predicting each edited input in
/// full; the work is a fraction of it when the cone is small against the input.
///
/// The graph must keep positions to its output (convolutions, pooling, element-wise, add,
/// concat, crop): a profile model.
pub(super) fn predict_edits(
    graph: &Graph,
    x: &Tensor,
    out: (usize, usize),
    edits: &[Edit],
) -> Result<(Tensor, Vec<Tensor>), Error> {
    if x.shape.first() != Some(&1) {
        return Err(Error::Shape(format!(
            "edits apply to one reference input [1, channels, length], got {:?}",
            x.shape
        )));
    }
    evaluate(graph, x, Some(out), edits)
}

/// Positions `a..b` of value `v` for one edit: the reference's, with the edit's segment of
/// that value laid over them.
fn gather(reference: &Held, segment: Option<&Held>, a: usize, b: usize) -> Tensor {
    let mut t = reference.span(a, b).into_owned();
    if let Some(seg) = segment {
        let (c, w) = (t.shape[1], b - a);
        let sw = seg.data.shape[2];
        let lo = seg.off.max(a);
        let hi = (seg.off + sw).min(b);
        for ch in 0..c {
            for p in lo..hi {
                t.data[ch * w + (p - a)] = seg.data.data[ch * sw + (p - seg.off)];
            }
        }
    }
    t
}

/// The positions of value `v` an edit can change, from its inputs' (`None`: none).
fn cone(layer: &Layer, inputs: &[Option<(usize, usize)>], len: usize) -> Option<(usize, usize)> {
    let clip = |a: i64, b: i64| {
        let (a, b) = (
            a.clamp(0, len as i64) as usize,
            b.clamp(0, len as i64) as usize,
        );
        (a < b).then_some((a, b))
    };
    match reads(layer, true) {
        Reads::Window {
            kernel,
            stride,
            dilation,
            pad,
        } => {
            let (a, b) = inputs[0]?;
            let (s, span) = (stride as i64, (dilation * (kernel - 1)) as i64);
            let lo = (a as i64 + pad as i64 - span).div_euclid(s)
                + i64::from((a as i64 + pad as i64 - span).rem_euclid(s) != 0);
            let hi = (b as i64 - 1 + pad as i64).div_euclid(s) + 1;
            clip(lo, hi)
        }
        Reads::Shift(sh) => {
            let (a, b) = inputs
                .iter()
                .flatten()
                .fold((usize::MAX, 0), |(x, y), &(a, b)| (x.min(a), y.max(b)));
            (a < b)
                .then_some(())
                .and_then(|_| clip(a as i64 - sh as i64, b as i64 - sh as i64))
        }
        // A change anywhere in the input changes every position (a recurrent layer).
        Reads::All => inputs.iter().any(Option::is_some).then_some((0, len)),
    }
}

/// The positions of a value to compute for a need (`None`: not positional, or not needed).
fn span_of(need: Need, shape: &[usize]) -> Option<(usize, usize)> {
    match (need, shape) {
        (Need::Span(a, b), _) => Some((a, b)),
        (Need::Whole, [_, l]) => Some((0, *l)),
        _ => None,
    }
}

/// Runs `node` over positions `a..b`, its inputs read through `input(u, from, to)`.
fn run_span<'a>(
    node: &super::Node,
    shapes: &[Vec<usize>],
    a: usize,
    b: usize,
    input: &dyn Fn(usize, usize, usize) -> Result<Cow<'a, Tensor>, Error>,
) -> Result<Tensor, Error> {
    let y = match reads(&node.layer, true) {
        Reads::Window {
            kernel,
            stride,
            dilation,
            pad,
        } => {
            let u = node.inputs[0];
            let len = shapes[u][1] as i64;
            let (lo, hi) = window_reads(kernel, stride, dilation, pad, a, b);
            let (ia, ib) = (lo.clamp(0, len) as usize, hi.clamp(0, len) as usize);
            let xin = input(u, ia, ib)?;
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
            let xs = node
                .inputs
                .iter()
                .map(|&u| input(u, a + s, b + s))
                .collect::<Result<Vec<_>, _>>()?;
            match &node.layer {
                Layer::Crop { .. } => Ok(xs.into_iter().next().expect("one input").into_owned()),
                layer => {
                    let refs: Vec<&Tensor> = xs.iter().map(|t| t.as_ref()).collect();
                    layer.forward(&refs, &mut Mode::Eval).map(|r| r.0)
                }
            }
        }
        // A recurrent layer: computed over whole inputs, then cut to `a..b`.
        Reads::All => {
            let xs = node
                .inputs
                .iter()
                .map(|&u| input(u, 0, shapes[u][1]))
                .collect::<Result<Vec<_>, _>>()?;
            let refs: Vec<&Tensor> = xs.iter().map(|t| t.as_ref()).collect();
            node.layer
                .forward(&refs, &mut Mode::Eval)
                .map(|r| Held { off: 0, data: r.0 }.span(a, b).into_owned())
        }
    }
    .map_err(|e| e.at(&node.name))?;
    if y.shape.get(2) != Some(&(b - a)) {
        return Err(Error::Graph(format!(
            "internal: node '{}' computed {:?} for positions {a}..{b}",
            node.name, y.shape
        )));
    }
    Ok(y)
}

fn evaluate(
    graph: &Graph,
    x: &Tensor,
    out: Option<(usize, usize)>,
    edits: &[Edit],
) -> Result<(Tensor, Vec<Tensor>), Error> {
    let shapes = graph.shapes(&x.shape[1..])?;
    let n = graph.nodes.len() + 1;
    let positional = |v: usize| shapes[v].len() == 2;
    let (c, len) = (shapes[0][0], shapes[0][1]);
    if !edits.is_empty() && !(0..n).all(positional) {
        return Err(Error::Graph(
            "edits need a graph that keeps positions throughout (a profile model)".into(),
        ));
    }
    let out_len = shapes[n - 1].get(1).copied().unwrap_or(0);
    for e in edits {
        if e.len == 0 || e.start + e.len > len || e.columns.len() != c * e.len {
            return Err(Error::Shape(format!(
                "an edit of {} positions at {} ({} values) does not fit an input of {c} x {len}",
                e.len,
                e.start,
                e.columns.len()
            )));
        }
        if e.out.0 >= e.out.1 || e.out.1 > out_len {
            return Err(Error::Shape(format!(
                "edit output positions {}..{} are not inside the output's {out_len}",
                e.out.0, e.out.1
            )));
        }
    }
    // The reference is needed over `out` and every edit's output positions.
    let hull = edits
        .iter()
        .map(|e| e.out)
        .chain(out)
        .reduce(|(a, b), (c, d)| (a.min(c), b.max(d)));
    let ranges = demand(
        graph,
        &shapes,
        hull.filter(|_| out.is_some() || !edits.is_empty()),
    );
    // Per edit: what it needs, and the positions it can change, per value.
    let mut plans: Vec<Vec<Option<(usize, usize)>>> = Vec::with_capacity(edits.len());
    for e in edits {
        let need = demand(graph, &shapes, Some(e.out));
        let mut cones = vec![None; n];
        cones[0] = Some((e.start, e.start + e.len));
        for (i, node) in graph.nodes.iter().enumerate() {
            let ins: Vec<_> = node.inputs.iter().map(|&u| cones[u]).collect();
            cones[i + 1] = cone(&node.layer, &ins, shapes[i + 1][1]);
        }
        plans.push(
            (0..n)
                .map(|v| {
                    let (ca, cb) = cones[v]?;
                    let (na, nb) = span_of(need[v], &shapes[v])?;
                    let (a, b) = (ca.max(na), cb.min(nb));
                    (a < b).then_some((a, b))
                })
                .collect(),
        );
    }
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
    // segments[e][v]: edit e's value v over its planned positions
    let mut segments: Vec<Vec<Option<Held>>> = edits
        .iter()
        .enumerate()
        .map(|(k, e)| {
            let mut segs: Vec<Option<Held>> = Vec::with_capacity(n);
            segs.push(plans[k][0].map(|(a, b)| {
                let mut t = x.clone();
                for ch in 0..c {
                    let row = &mut t.data[ch * len..(ch + 1) * len];
                    row[e.start..e.start + e.len]
                        .copy_from_slice(&e.columns[ch * e.len..(ch + 1) * e.len]);
                }
                Held {
                    off: a,
                    data: Held { off: 0, data: t }.span(a, b).into_owned(),
                }
            }));
            segs
        })
        .collect();
    for (i, node) in graph.nodes.iter().enumerate() {
        let v = i + 1;
        let inputs_positional = node.inputs.iter().all(|&u| positional(u));
        let y = match (ranges[v], span_of(ranges[v], &shapes[v])) {
            (Need::Nothing, _) => None,
            (_, Some((a, b))) if inputs_positional => {
                let get = |u: usize, from: usize, to: usize| {
                    Ok(held[u]
                        .as_ref()
                        .expect("values live until their last use")
                        .span(from, to))
                };
                Some(Held {
                    off: a,
                    data: run_span(node, &shapes, a, b, &get)?,
                })
            }
            _ => {
                let xs = node
                    .inputs
                    .iter()
                    .map(|&u| held[u].as_ref().expect("live").whole(&shapes[u]))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| e.at(&node.name))?;
                let (y, _) = node
                    .layer
                    .forward(&xs, &mut Mode::Eval)
                    .map_err(|e| e.at(&node.name))?;
                Some(Held { off: 0, data: y })
            }
        };
        for (k, segs) in segments.iter_mut().enumerate() {
            let seg = match plans[k][v] {
                Some((a, b)) => {
                    let get = |u: usize, from: usize, to: usize| {
                        let reference = held[u].as_ref().expect("live");
                        Ok(Cow::Owned(gather(reference, segs[u].as_ref(), from, to)))
                    };
                    Some(Held {
                        off: a,
                        data: run_span(node, &shapes, a, b, &get)?,
                    })
                }
                None => None,
            };
            segs.push(seg);
        }
        held.push(y);
        for &u in &node.inputs {
            if last_use[u] == v {
                held[u] = None;
                for segs in segments.iter_mut() {
                    segs[u] = None;
                }
            }
        }
    }
    let last = held
        .pop()
        .flatten()
        .ok_or_else(|| Error::Graph("the output was not computed".into()))?;
    let edited = edits
        .iter()
        .zip(&segments)
        .map(|(e, segs)| gather(&last, segs[n - 1].as_ref(), e.out.0, e.out.1))
        .collect();
    let reference = match (out, last.data.shape.len()) {
        (Some((a, b)), 3) => last.span(a, b).into_owned(),
        _ => last.data,
    };
    Ok((reference, edited))
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
            .add("pool", Layer::MaxPool1d(crate::nn::Pool1d::new(2, 2)), &[c])
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
    fn edits_equal_predicting_the_edited_input() {
        let len = 64;
        let g = cropped_graph(len);
        let shapes = g.shapes(&[4, len]).unwrap();
        let out_len = shapes.last().unwrap()[1];
        let mut x = Tensor::zeros(&[1, 4, len]);
        for p in 0..len {
            x.data[((p * 7) % 4) * len + p] = 1.0;
        }
        let edits: Vec<Edit> = [
            (3, 1, (0, out_len)),
            (30, 2, (2, 9)),
            (63, 1, (10, out_len)),
            (0, 1, (1, 2)),
        ]
        .iter()
        .map(|&(start, n, out)| Edit {
            start,
            len: n,
            columns: (0..4 * n)
                .map(|i| if i % 5 == 0 { 1.0 } else { 0.0 })
                .collect(),
            out,
        })
        .collect();
        let (reference, edited) = predict_edits(&g, &x, (0, out_len), &edits).unwrap();
        let full = g.values(&x).unwrap().pop().unwrap();
        assert_eq!(reference, full);
        for (e, got) in edits.iter().zip(&edited) {
            let mut xe = x.clone();
            for ch in 0..4 {
                for j in 0..e.len {
                    xe.data[ch * len + e.start + j] = e.columns[ch * e.len + j];
                }
            }
            let want = g.values(&xe).unwrap().pop().unwrap();
            let k = want.shape[1];
            assert_eq!(got.shape, vec![1, k, e.out.1 - e.out.0]);
            for ch in 0..k {
                for (j, p) in (e.out.0..e.out.1).enumerate() {
                    let (a, b) = (
                        got.data[ch * (e.out.1 - e.out.0) + j],
                        want.data[ch * out_len + p],
                    );
                    assert!((a - b).abs() < 1e-6, "edit at {}: {a} vs {b}", e.start);
                }
            }
        }
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
        let need = demand(&g, &shapes, None);
        // the crop keeps 7..35 of its input; the last dilated conv (k 3, d 4) reads 4 more
        // on each side of that from its input
        let crop = g.nodes.iter().position(|n| n.name == "crop").unwrap() + 1;
        let input_of_crop = g.nodes[crop - 1].inputs[0];
        assert_eq!(need[input_of_crop], Need::Span(7, 35));
        assert_eq!(need[0], Need::Whole);
        // a part of the output needs less
        let need = demand(&g, &shapes, Some((2, 5)));
        assert_eq!(need[input_of_crop], Need::Span(7 + 4, 7 + 10));
    }
}
