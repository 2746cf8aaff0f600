//! Fast saturation mutagenesis for convolutional engine graphs.
//!
//! A substitution at position `t` changes a convolution's output only inside its receptive
//! field, so each mutant is carried through the local layers (convolutions, pooling,
//! element-wise activations, batch norm, crop, residual add, concat) as a short *segment*:
//! the positions that can differ from the unmutated sequence, computed from the segment of
//! the layer below plus the unmutated activations around it. Only at the first layer that
//! mixes all positions (flatten, dense, global pooling) is the full activation rebuilt (the
//! unmutated one with the segment patched in), and the rest of the graph runs as usual.
//! This is the idea of fastISM (Nair et al. 2022) and Yuzu (Schreiber et al. 2022).
//!
//! Segments are computed on a superset of the changed positions with one width per layer, so
//! mutants at different positions batch into one GEMM; the extra positions come out equal to
//! the unmutated values, so the result is exact, not an approximation.

use std::ops::Range;

use super::ProfileTarget;
use super::ism::{Ism, substitutions};
use crate::nn::{Edit, Graph, Layer, Mode, Tensor};

/// How a layer maps input positions to output positions, if it is local.
enum Local {
    /// Output `o` reads inputs `o * stride - pad + dilation * j`, `j < kernel`.
    Window {
        kernel: i64,
        stride: i64,
        dilation: i64,
        pad: i64,
    },
    /// Output `o` reads input `o` only.
    Pointwise,
    /// Output `o` reads input `o + left`.
    Shift(i64),
    /// Output `o` reads input `o` of every input.
    Merge,
}

fn local(layer: &Layer) -> Option<Local> {
    Some(match layer {
        Layer::Conv1d(c) => Local::Window {
            kernel: c.kernel as i64,
            stride: c.stride as i64,
            dilation: c.dilation as i64,
            pad: c.pad_left as i64,
        },
        // A padded or ceil-mode pool's edge windows differ from a slice's: not local.
        Layer::MaxPool1d(w) | Layer::AvgPool1d(w) if !w.is_plain() => return None,
        Layer::MaxPool1d(w) | Layer::AvgPool1d(w) => Local::Window {
            kernel: w.kernel as i64,
            stride: w.stride as i64,
            dilation: 1,
            pad: 0,
        },
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
        | Layer::Dropout { .. } => Local::Pointwise,
        Layer::Crop { left, .. } => Local::Shift(*left as i64),
        Layer::Add | Layer::Concat => Local::Merge,
        // Every output position of a recurrent layer, or of a softmax over the length, reads
        // every input position.
        Layer::Linear(_)
        | Layer::Flatten
        | Layer::GlobalMaxPool
        | Layer::GlobalAvgPool
        | Layer::GlobalSumPool
        | Layer::SoftmaxLength
        | Layer::Rnn(_) => {
            return None;
        }
    })
}

/// A node's value for a batch of mutants.
enum State {
    /// Positions `lo[b] .. lo[b] + width` of item `b` are in `data` (`[batch, c, width]`);
    /// every other position equals the unmutated value.
    Segment {
        lo: Vec<i64>,
        data: Tensor,
    },
    Full(Tensor),
}

/// Per node (value id), the segment start for a mutation at each position, and one width
/// that covers every position's segment. `None` where the value is not segment-shaped.
struct Plan {
    lo: Vec<Option<Vec<i64>>>,
    width: Vec<usize>,
}

fn plan(graph: &Graph, reference: &[Tensor], len: usize) -> Plan {
    let n = graph.nodes.len() + 1;
    let mut lo: Vec<Option<Vec<i64>>> = vec![None; n];
    let mut hi: Vec<Option<Vec<i64>>> = vec![None; n];
    lo[0] = Some((0..len as i64).collect());
    hi[0] = Some((1..=len as i64).collect());
    for (i, node) in graph.nodes.iter().enumerate() {
        let v = i + 1;
        let three_d = reference[v].shape.len() == 3;
        let inputs_ok = node.inputs.iter().all(|&u| lo[u].is_some());
        let Some(kind) = local(&node.layer).filter(|_| three_d && inputs_ok) else {
            continue;
        };
        let first = node.inputs[0];
        let (l0, h0) = (lo[first].as_ref().unwrap(), hi[first].as_ref().unwrap());
        let (l, h): (Vec<i64>, Vec<i64>) = match kind {
            Local::Window {
                kernel,
                stride,
                dilation,
                pad,
            } => l0
                .iter()
                .zip(h0)
                .map(|(&a, &b)| {
                    (
                        (a + pad - dilation * (kernel - 1)).div_euclid(stride)
                            + i64::from(
                                (a + pad - dilation * (kernel - 1)).rem_euclid(stride) != 0,
                            ),
                        (b - 1 + pad).div_euclid(stride) + 1,
                    )
                })
                .unzip(),
            Local::Pointwise => (l0.clone(), h0.clone()),
            Local::Shift(left) => (
                l0.iter().map(|a| a - left).collect(),
                h0.iter().map(|b| b - left).collect(),
            ),
            Local::Merge => (0..len)
                .map(|t| {
                    let a = node.inputs.iter().map(|&u| lo[u].as_ref().unwrap()[t]);
                    let b = node.inputs.iter().map(|&u| hi[u].as_ref().unwrap()[t]);
                    (a.min().unwrap(), b.max().unwrap())
                })
                .unzip(),
        };
        lo[v] = Some(l);
        hi[v] = Some(h);
    }
    let width = (0..n)
        .map(|v| match (&lo[v], &hi[v]) {
            (Some(l), Some(h)) => l
                .iter()
                .zip(h)
                .map(|(a, b)| (b - a).max(1))
                .max()
                .unwrap_or(1) as usize,
            _ => 0,
        })
        .collect();
    Plan { lo, width }
}

/// Positions `lo[b] .. lo[b] + width` of each item: zero outside `0..len` (the padding a
/// convolution would add), else from the segment where it has them, else the unmutated value
/// (`reference`, `[1, c, len]`).
fn extract(reference: &Tensor, state: &State, lo: &[i64], width: usize) -> Tensor {
    let (c, len) = (reference.shape[1], reference.shape[2] as i64);
    let mut out = Tensor::zeros(&[lo.len(), c, width]);
    // Runs of positions, not single values: the part inside the sequence splits into at most
    // three runs (unmutated, segment, unmutated), each one slice copy per channel.
    let clip = |a: i64, b: i64| (a.max(0).min(len), b.max(0).min(len));
    for (b, &start) in lo.iter().enumerate() {
        let (from, to) = clip(start, start + width as i64);
        if from >= to {
            continue;
        }
        for ch in 0..c {
            let row = &mut out.data[(b * c + ch) * width..(b * c + ch + 1) * width];
            let at = |p: i64| (p - start) as usize;
            let reference_row = &reference.data[ch * len as usize..(ch + 1) * len as usize];
            match state {
                State::Segment { lo: slo, data } => {
                    let sw = data.shape[2];
                    let (s0, s1) = (slo[b].clamp(from, to), (slo[b] + sw as i64).clamp(from, to));
                    let seg = &data.data[(b * c + ch) * sw..(b * c + ch + 1) * sw];
                    row[at(from)..at(s0)]
                        .copy_from_slice(&reference_row[from as usize..s0 as usize]);
                    row[at(s0)..at(s1)]
                        .copy_from_slice(&seg[(s0 - slo[b]) as usize..(s1 - slo[b]) as usize]);
                    row[at(s1)..at(to)].copy_from_slice(&reference_row[s1 as usize..to as usize]);
                }
                State::Full(t) => {
                    let full =
                        &t.data[(b * c + ch) * len as usize..(b * c + ch + 1) * len as usize];
                    row[at(from)..at(to)].copy_from_slice(&full[from as usize..to as usize]);
                }
            }
        }
    }
    out
}

/// The whole value for every item: the unmutated value with each segment patched in.
fn materialize(reference: &Tensor, state: State, batch: usize) -> Tensor {
    match state {
        State::Full(t) => t,
        s @ State::Segment { .. } => extract(reference, &s, &vec![0; batch], reference.shape[2]),
    }
}

/// How many mutants go through the graph at once.
const BATCH: usize = 128;

fn check_input(x: &Tensor, c: usize, len: usize) -> Result<(), crate::Error> {
    if x.shape != [1, c, len] {
        return Err(crate::Error::Invalid(format!(
            "fast ISM takes one [1, {c}, {len}] input, got {:?}",
            x.shape
        )));
    }
    Ok(())
}

/// Saturation mutagenesis of positions `span` of one input `x` (`[1, channels, length]`,
/// one-hot, channel `i` = `symbols[i]`) through an engine graph, recomputing only what each
/// substitution can change. Gives the same result as [`ism`](super::ism) (up to float
/// rounding). `progress(done, total)` is called between batches; returning `false` cancels.
pub fn fast_ism(
    graph: &Graph,
    x: &Tensor,
    seq: &[u8],
    symbols: &[u8],
    span: Range<usize>,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Ism, crate::Error> {
    let c = symbols.len();
    let len = seq.len();
    check_input(x, c, len)?;
    let subs = substitutions(seq, symbols, &span)?;
    let reference = graph.values(x)?;
    let ref_out = reference.last().expect("a graph has nodes").data.clone();
    let k = ref_out.len();
    let plan = plan(graph, &reference, len);
    let mut delta = vec![0.0; span.len() * c * k];
    for (done, chunk) in subs.chunks(BATCH).enumerate() {
        let bsz = chunk.len();
        let mut states: Vec<Option<State>> = Vec::with_capacity(reference.len());
        let mut input = Tensor::zeros(&[bsz, c, 1]);
        for (b, &(_, ci)) in chunk.iter().enumerate() {
            input.data[b * c + ci] = 1.0;
        }
        states.push(Some(State::Segment {
            lo: chunk.iter().map(|&(t, _)| t as i64).collect(),
            data: input,
        }));
        for (i, node) in graph.nodes.iter().enumerate() {
            let v = i + 1;
            let segment_lo = plan.lo[v]
                .as_ref()
                .filter(|_| {
                    node.inputs
                        .iter()
                        .all(|&u| matches!(states[u], Some(State::Segment { .. })))
                })
                .map(|l| chunk.iter().map(|&(t, _)| l[t]).collect::<Vec<i64>>());
            let state = match segment_lo {
                Some(lo) => {
                    let width = plan.width[v];
                    let input = |u: usize, lo: &[i64], w: usize| {
                        extract(&reference[u], states[u].as_ref().unwrap(), lo, w)
                    };
                    let data = match local(&node.layer) {
                        Some(Local::Window {
                            kernel,
                            stride,
                            dilation,
                            pad,
                        }) => {
                            let in_lo: Vec<i64> = lo.iter().map(|a| a * stride - pad).collect();
                            let span = (width as i64 - 1) * stride + dilation * (kernel - 1) + 1;
                            let xin = input(node.inputs[0], &in_lo, span as usize);
                            match &node.layer {
                                Layer::Conv1d(conv) => conv.forward_unpadded(&xin),
                                layer => layer.forward(&[&xin], &mut Mode::Eval).map(|r| r.0),
                            }
                        }
                        Some(Local::Pointwise) | Some(Local::Shift(_)) => {
                            let u = node.inputs[0];
                            let in_lo: Vec<i64> = match local(&node.layer) {
                                Some(Local::Shift(left)) => lo.iter().map(|a| a + left).collect(),
                                _ => lo.clone(),
                            };
                            let xin = input(u, &in_lo, width);
                            if matches!(node.layer, Layer::Crop { .. }) {
                                Ok(xin)
                            } else {
                                node.layer.forward(&[&xin], &mut Mode::Eval).map(|r| r.0)
                            }
                        }
                        Some(Local::Merge) => {
                            let xs: Vec<Tensor> =
                                node.inputs.iter().map(|&u| input(u, &lo, width)).collect();
                            let refs: Vec<&Tensor> = xs.iter().collect();
                            node.layer.forward(&refs, &mut Mode::Eval).map(|r| r.0)
                        }
                        None => unreachable!("planned segments are local"),
                    }
                    .map_err(|e| e.at(&node.name))?;
                    State::Segment { lo, data }
                }
                None => {
                    for &u in &node.inputs {
                        let st = states[u].take().expect("value still live");
                        states[u] = Some(State::Full(materialize(&reference[u], st, bsz)));
                    }
                    let refs: Vec<&Tensor> = node
                        .inputs
                        .iter()
                        .map(|&u| match &states[u] {
                            Some(State::Full(t)) => t,
                            _ => unreachable!("materialized above"),
                        })
                        .collect();
                    let (y, _) = node
                        .layer
                        .forward(&refs, &mut Mode::Eval)
                        .map_err(|e| e.at(&node.name))?;
                    State::Full(y)
                }
            };
            states.push(Some(state));
        }
        let last = states.pop().flatten().expect("output state");
        let out = materialize(reference.last().unwrap(), last, bsz);
        for (b, &(t, ci)) in chunk.iter().enumerate() {
            let at = ((t - span.start) * c + ci) * k;
            for o in 0..k {
                delta[at + o] = out.data[b * k + o] - ref_out[o];
            }
        }
        if !progress((done * BATCH + bsz).min(subs.len()), subs.len()) {
            return Err(crate::Error::Invalid("cancelled".into()));
        }
    }
    Ok(Ism {
        reference: ref_out,
        delta,
        start: span.start,
        length: span.len(),
        channels: c,
        labels: k,
    })
}

/// Substitutions carried through the graph together by [`profile_ism`]: each keeps its
/// cone's values while the graph runs, so this bounds the memory.
const PROFILE_EDITS: usize = 16;

/// Saturation mutagenesis of positions `span` of one input `x` (as for [`fast_ism`]) for a
/// profile model's `target`: each substitution is carried only through the positions that
/// both depend on it and feed the target's outputs ([`Graph::predict_edits`]), and each
/// value of the graph is freed after its last use, so memory stays at a few values of the
/// graph plus `PROFILE_EDITS` cones however long the input (CI-SpliceAI's 10 kb context
/// included). Equal to predicting every mutant whole; the result has one label, the target.
pub fn profile_ism(
    graph: &Graph,
    x: &Tensor,
    seq: &[u8],
    symbols: &[u8],
    span: Range<usize>,
    target: &ProfileTarget,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Ism, crate::Error> {
    let c = symbols.len();
    check_input(x, c, seq.len())?;
    let subs = substitutions(seq, symbols, &span)?;
    let out = (target.out.start, target.out.end);
    let mut reference = None;
    let mut delta = vec![0.0; span.len() * c];
    for (k, chunk) in subs.chunks(PROFILE_EDITS).enumerate() {
        let edits: Vec<Edit> = chunk
            .iter()
            .map(|&(t, ci)| Edit {
                start: t,
                len: 1,
                columns: (0..c).map(|j| f32::from(u8::from(j == ci))).collect(),
                out,
            })
            .collect();
        let (r, edited) = graph.predict_edits(x, out, &edits)?;
        let r = *reference.get_or_insert(target.value(&r.data));
        for (&(t, ci), e) in chunk.iter().zip(&edited) {
            delta[(t - span.start) * c + ci] = target.value(&e.data) - r;
        }
        if !progress(k * PROFILE_EDITS + chunk.len(), subs.len()) {
            return Err(crate::Error::Invalid("cancelled".into()));
        }
    }
    let reference = match reference {
        Some(r) => r,
        None => target.value(&graph.predict_edits(x, out, &[])?.0.data),
    };
    Ok(Ism::of_target(reference, delta, span, c))
}
