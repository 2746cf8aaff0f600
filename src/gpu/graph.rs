//! A whole engine graph on the GPU for inference: weights uploaded once, batch norm folded
//! into the convolution before it, ReLU fused into the convolution's store, activations kept
//! on the GPU from layer to layer, one readback per batch slice.

use wgpu::util::DeviceExt;

use super::conv1d::{Activation, GpuConv1d};
use super::{Error, Gpu, entry, storage_buffer};
use crate::nn::{Conv1d, Graph, Layer, Multipliers, Pool1d, Reduce, Tensor};

/// Largest `batch x length` one convolution dispatch covers (65,535 tiles of 64).
const MAX_POSITIONS: usize = 65535 * 64;

enum Op {
    /// Convolution, or a dense layer as a width-1 convolution over `[batch, features, 1]`.
    Conv(Box<GpuConv1d>),
    /// Element-wise op code of ops.wgsl `unary`; `affine` holds batch norm's scale and shift.
    Unary {
        code: u32,
        alpha: f32,
        affine: Option<wgpu::Buffer>,
    },
    /// Local pooling, or global pooling (`global`: the kernel is the input's length). The
    /// output length (ceil mode included) comes from the graph's shapes.
    Pool {
        reduce: Reduce,
        window: Pool1d,
        global: bool,
    },
    Add,
    /// Softmax over channels, or over the length of each channel.
    Softmax {
        over_length: bool,
    },
    /// Concatenation along channels.
    Concat,
    Crop {
        left: usize,
    },
    /// Flatten and dropout: the same buffer under another shape.
    Alias,
}

struct Node {
    op: Op,
    inputs: Vec<usize>,
}

pub(super) struct Pipelines {
    pub(super) unary: wgpu::ComputePipeline,
    pub(super) pool: wgpu::ComputePipeline,
    pub(super) add: wgpu::ComputePipeline,
    pub(super) softmax: wgpu::ComputePipeline,
    pub(super) copy: wgpu::ComputePipeline,
    pub(super) unary_backward: wgpu::ComputePipeline,
    pub(super) pool_backward: wgpu::ComputePipeline,
    pub(super) rescale_backward: wgpu::ComputePipeline,
    pub(super) pool_deeplift: wgpu::ComputePipeline,
    pub(super) slice_back: wgpu::ComputePipeline,
}

impl Pipelines {
    /// Compiles ops.wgsl's entry points.
    pub(super) fn new(gpu: &Gpu) -> Pipelines {
        let module = gpu
            .device
            .create_shader_module(wgpu::include_wgsl!("ops.wgsl"));
        // One explicit layout for every entry point: automatic layouts would drop the bindings
        // an entry point does not read, and each op binds all four.
        let layout = explicit_layout(gpu, "ops", &[true, true, false]);
        let pipe = |entry: &str| pipeline(gpu, &layout, &module, entry);
        Pipelines {
            unary: pipe("unary"),
            pool: pipe("pool"),
            add: pipe("add"),
            softmax: pipe("softmax"),
            copy: pipe("copy"),
            unary_backward: pipe("unary_backward"),
            pool_backward: pipe("pool_backward"),
            rescale_backward: pipe("rescale_backward"),
            pool_deeplift: pipe("pool_deeplift"),
            slice_back: pipe("slice_back"),
        }
    }
}

/// What the backward pass carries from the output to the input.
#[derive(Clone, Copy)]
enum Backward<'a> {
    /// The ordinary gradient.
    Gradient,
    /// DeepLIFT's multipliers for (input, reference) pairs: the forward pass ran on the
    /// inputs followed by their references, and `pre` holds the pre-activations of the
    /// convolutions with a fused ReLU (their Rescale rule reads them).
    DeepLift { pre: &'a [Option<wgpu::Buffer>] },
}

/// An engine graph resident on the GPU.
pub struct GpuGraph {
    nodes: Vec<Node>,
    /// The engine graph's layers without their weights: shapes are inferred from it for each
    /// input (a graph of any length has different shapes per call).
    geometry: Graph,
    /// For each GPU value, the engine value whose shape it has.
    nn_of: Vec<usize>,
    pipelines: Pipelines,
    dummy: wgpu::Buffer,
    /// Why input gradients cannot run on the GPU for this graph, if they cannot.
    no_gradient: Option<String>,
}

impl GpuGraph {
    /// Uploads `graph` (evaluation mode) and compiles its kernels.
    pub async fn new(gpu: &Gpu, graph: &Graph) -> Result<GpuGraph, Error> {
        super::scoped(gpu, || Self::build(gpu, graph)).await?
    }

    fn build(gpu: &Gpu, graph: &Graph) -> Result<GpuGraph, Error> {
        if let Some(why) = forward_blocker(graph) {
            return Err(Error::Run(why));
        }
        let mut consumers = vec![0usize; graph.nodes.len() + 1];
        for n in &graph.nodes {
            for &i in &n.inputs {
                consumers[i] += 1;
            }
        }
        // nn value id -> GPU value id.
        let mut map = vec![0usize; graph.nodes.len() + 1];
        let mut nn_of = vec![0usize];
        let mut nodes: Vec<Node> = Vec::new();
        // A convolution waiting for a following batch norm or ReLU to fuse: (its GPU input,
        // the layer, its activation); `pending_value` is the nn value it now stands for.
        let mut pending: Option<(usize, Conv1d, Activation)> = None;
        let kernels = super::conv1d::Kernels::new(gpu);
        let flush = |pending: &mut Option<(usize, Conv1d, Activation)>,
                     nodes: &mut Vec<Node>,
                     nn_of: &mut Vec<usize>,
                     value: usize|
         -> Result<usize, Error> {
            let (input, conv, act) = pending.take().expect("a pending convolution");
            nodes.push(Node {
                op: Op::Conv(Box::new(GpuConv1d::upload(gpu, &conv, act, &kernels)?)),
                inputs: vec![input],
            });
            nn_of.push(value);
            Ok(nn_of.len() - 1)
        };
        let mut pending_value = 0usize;
        // The trailing `None` flushes a convolution still pending after the last node.
        let steps = graph.nodes.iter().map(Some).chain(std::iter::once(None));
        for (i, node) in steps.enumerate() {
            let v = i + 1;
            let only = |u: usize| consumers[u] == 1;
            // Fuse into the pending convolution when this node is its only consumer.
            if let Some(node) = node
                && let Some((_, conv, act)) = &mut pending
                && node.inputs == [pending_value]
                && only(pending_value)
            {
                match &node.layer {
                    Layer::BatchNorm1d(bn) if *act == Activation::None => {
                        let (scale, shift) = bn.folded();
                        let k = conv.in_channels * conv.kernel;
                        for (o, s) in scale.iter().enumerate() {
                            conv.weight.value[o * k..(o + 1) * k]
                                .iter_mut()
                                .for_each(|w| *w *= s);
                        }
                        // Every pending convolution carries a bias (zeros if it had none).
                        if let Some(bias) = &mut conv.bias {
                            for (o, b) in bias.value.iter_mut().enumerate() {
                                *b = *b * scale[o] + shift[o];
                            }
                        }
                        pending_value = v;
                        continue;
                    }
                    Layer::Relu if *act == Activation::None => {
                        *act = Activation::Relu;
                        pending_value = v;
                        continue;
                    }
                    Layer::Dropout { .. } => {
                        pending_value = v;
                        continue;
                    }
                    _ => {}
                }
            }
            if pending.is_some() {
                map[pending_value] = flush(&mut pending, &mut nodes, &mut nn_of, pending_value)?;
            }
            let Some(node) = node else { break };
            let inputs: Vec<usize> = node.inputs.iter().map(|&u| map[u]).collect();
            let op = match &node.layer {
                Layer::Conv1d(c) => {
                    pending = Some((inputs[0], with_bias(c.clone()), Activation::None));
                    pending_value = v;
                    continue;
                }
                Layer::Linear(l) => {
                    pending = Some((inputs[0], with_bias(as_conv(l)), Activation::None));
                    pending_value = v;
                    continue;
                }
                Layer::BatchNorm1d(bn) => {
                    let (scale, shift) = bn.folded();
                    affine(gpu, &scale, &shift)
                }
                Layer::Affine { scale, shift } => affine(gpu, scale, shift),
                Layer::Relu
                | Layer::Elu { .. }
                | Layer::Softplus
                | Layer::Exp
                | Layer::Sigmoid
                | Layer::Tanh
                | Layer::LeakyRelu { .. }
                | Layer::Gelu { .. } => {
                    let (code, alpha) = activation_code(&node.layer).expect("an activation");
                    unary(code, alpha)
                }
                Layer::Softmax => Op::Softmax { over_length: false },
                Layer::SoftmaxLength => Op::Softmax { over_length: true },
                Layer::MaxPool1d(_)
                | Layer::AvgPool1d(_)
                | Layer::GlobalMaxPool
                | Layer::GlobalAvgPool
                | Layer::GlobalSumPool => {
                    let (reduce, window, global) = pooling(&node.layer).expect("a pooling layer");
                    Op::Pool {
                        reduce,
                        window,
                        global,
                    }
                }
                Layer::Dropout { .. } | Layer::Flatten => Op::Alias,
                Layer::Add => Op::Add,
                Layer::Concat => Op::Concat,
                Layer::Crop { left, .. } => Op::Crop { left: *left },
                Layer::Rnn(_) | Layer::ReduceChannels { .. } => {
                    unreachable!("refused by forward_blocker")
                }
            };
            map[v] = nn_of.len();
            nodes.push(Node { op, inputs });
            nn_of.push(v);
        }
        let no_gradient = gradient_blocker(graph);
        Ok(GpuGraph {
            nodes,
            geometry: graph.geometry(),
            nn_of,
            pipelines: Pipelines::new(gpu),
            dummy: storage_buffer(gpu, 1),
            no_gradient,
        })
    }

    /// The per-item shape of every GPU value for inputs of per-item shape `item`.
    fn shapes(&self, item: &[usize]) -> Result<Vec<Vec<usize>>, Error> {
        if !self.geometry.accepts(item) {
            return Err(crate::nn::Error::Shape(format!(
                "the model takes [batch, {:?}]{}, got [batch, {item:?}]",
                self.geometry.input_shape,
                if self.geometry.any_length {
                    " (any length)"
                } else {
                    ""
                }
            ))
            .into());
        }
        let nn = self.geometry.shapes(item)?;
        Ok(self.nn_of.iter().map(|&v| nn[v].clone()).collect())
    }

    /// Evaluation-mode output for `x` (`[batch, ...input_shape]`).
    pub async fn predict(&self, gpu: &Gpu, x: &Tensor) -> Result<Tensor, Error> {
        let shapes = self.shapes(&x.shape[1..])?;
        let out_shape = shapes.last().expect("a graph has nodes").clone();
        let k = per(&out_shape);
        let mut out = Vec::with_capacity(x.batch() * k);
        for (first, b) in self.slices(gpu, x.batch(), 1, &shapes)? {
            let item = per(&shapes[0]);
            let xs = &x.data[first * item..(first + b) * item];
            let last = super::scoped(gpu, || {
                let mut enc = gpu.device.create_command_encoder(&Default::default());
                let mut values = self.encode_forward(gpu, &mut enc, xs, b, &shapes, None);
                gpu.queue.submit([enc.finish()]);
                values.pop().expect("input at least")
            })
            .await?;
            out.extend(gpu.read(&last, b * k).await?);
        }
        let mut shape = vec![x.batch()];
        shape.extend(out_shape);
        Ok(Tensor::new(&shape, out)?)
    }

    /// Values per item of the output for inputs of per-item shape `item`.
    pub fn output_len(&self, item: &[usize]) -> Result<usize, Error> {
        Ok(per(self.shapes(item)?.last().expect("a graph has nodes")))
    }

    /// Why [`GpuGraph::input_gradient`] cannot run for this graph, if it cannot.
    pub fn gradient_unsupported(&self) -> Option<&str> {
        self.no_gradient.as_deref()
    }

    /// The gradient of `sum_j weights[j] * output[j]` with respect to each input item
    /// (evaluation mode; `weights` has one value per output value of an item): the same
    /// quantity as the CPU engine's backward pass, `[batch, ...input_shape]`.
    pub async fn input_gradient(
        &self,
        gpu: &Gpu,
        x: &Tensor,
        weights: &[f32],
    ) -> Result<Tensor, Error> {
        if let Some(why) = &self.no_gradient {
            return Err(Error::Run(why.clone()));
        }
        let (shapes, _) = self.target_shapes(x, weights)?;
        let item = per(&shapes[0]);
        let mut out = Vec::with_capacity(x.len());
        for (first, b) in self.slices(gpu, x.batch(), 1, &shapes)? {
            let xs = &x.data[first * item..(first + b) * item];
            let dx = super::scoped(gpu, || {
                let mut enc = gpu.device.create_command_encoder(&Default::default());
                let values = self.encode_forward(gpu, &mut enc, xs, b, &shapes, None);
                let dx = self.encode_backward(
                    gpu,
                    &mut enc,
                    &values,
                    weights,
                    b,
                    &shapes,
                    Backward::Gradient,
                );
                gpu.queue.submit([enc.finish()]);
                dx
            })
            .await?;
            out.extend(gpu.read(&dx, b * item).await?);
        }
        Ok(Tensor::new(&x.shape, out)?)
    }

    /// The shape of every value for `x`, and the outputs per item, which `weights` (a
    /// target's weight per output) must match.
    fn target_shapes(
        &self,
        x: &Tensor,
        weights: &[f32],
    ) -> Result<(Vec<Vec<usize>>, usize), Error> {
        let shapes = self.shapes(&x.shape[1..])?;
        let k = per(shapes.last().expect("a graph has nodes"));
        if weights.len() != k {
            return Err(crate::nn::Error::Shape(format!(
                "{} target weights for {k} outputs per item",
                weights.len()
            ))
            .into());
        }
        Ok((shapes, k))
    }

    /// DeepLIFT multipliers of `sum_j weights[j] * output[j]` for each pair of an input and
    /// its reference (item `i` of `refs` is item `i`'s reference), by the rules of the CPU
    /// engine's [`Graph::deeplift`]: the Rescale rule for activations (pre-activations kept
    /// for a convolution's fused ReLU), the max-pool rule, linear layers' gradients. Covers
    /// the graphs input gradients cover ([`GpuGraph::gradient_unsupported`]).
    pub async fn deeplift(
        &self,
        gpu: &Gpu,
        x: &Tensor,
        refs: &Tensor,
        weights: &[f32],
    ) -> Result<Multipliers, Error> {
        if let Some(why) = &self.no_gradient {
            return Err(Error::Run(why.clone()));
        }
        if x.shape != refs.shape {
            return Err(crate::nn::Error::Shape(format!(
                "DeepLIFT needs one reference per input: inputs {:?}, references {:?}",
                x.shape, refs.shape
            ))
            .into());
        }
        let (shapes, k) = self.target_shapes(x, weights)?;
        let item = per(&shapes[0]);
        let target = |row: &[f32]| -> f32 { row.iter().zip(weights).map(|(v, w)| v * w).sum() };
        let mut multipliers = Vec::with_capacity(x.len());
        let mut input_values = Vec::with_capacity(x.batch());
        let mut reference_values = Vec::with_capacity(x.batch());
        for (first, b) in self.slices(gpu, x.batch(), 2, &shapes)? {
            let span = first * item..(first + b) * item;
            let pairs = [&x.data[span.clone()], &refs.data[span]].concat();
            let (m, y) = super::scoped(gpu, || {
                let mut enc = gpu.device.create_command_encoder(&Default::default());
                let mut pre = vec![None; shapes.len()];
                let values =
                    self.encode_forward(gpu, &mut enc, &pairs, 2 * b, &shapes, Some(&mut pre));
                let m = self.encode_backward(
                    gpu,
                    &mut enc,
                    &values,
                    weights,
                    b,
                    &shapes,
                    Backward::DeepLift { pre: &pre },
                );
                gpu.queue.submit([enc.finish()]);
                (m, values.last().expect("input at least").clone())
            })
            .await?;
            multipliers.extend(gpu.read(&m, b * item).await?);
            let y = gpu.read(&y, 2 * b * k).await?;
            let (yx, yr) = y.split_at(b * k);
            input_values.extend(yx.chunks(k).map(target));
            reference_values.extend(yr.chunks(k).map(target));
        }
        Ok(Multipliers {
            multipliers: Tensor::new(&x.shape, multipliers)?,
            input_values,
            reference_values,
        })
    }

    /// Cuts a batch of `n` items, each run as `copies` items (DeepLIFT runs an input and its
    /// reference), into slices (first item, count) whose largest layer fits one storage
    /// binding and one dispatch.
    fn slices(
        &self,
        gpu: &Gpu,
        n: usize,
        copies: usize,
        shapes: &[Vec<usize>],
    ) -> Result<Vec<(usize, usize)>, Error> {
        let biggest = copies * shapes.iter().map(|s| per(s)).max().unwrap_or(1);
        let longest = copies
            * shapes
                .iter()
                .map(|s| s.last().copied().unwrap_or(1))
                .max()
                .unwrap_or(1);
        let limit = gpu.capabilities().max_storage_buffer_binding_size as usize / 4;
        if biggest > limit {
            return Err(Error::Run(format!(
                "one sequence needs {biggest} values in a layer; the GPU binds at most {limit}"
            )));
        }
        let slice = (limit / biggest).min(MAX_POSITIONS / longest).max(1);
        Ok((0..n)
            .step_by(slice)
            .map(|first| (first, slice.min(n - first)))
            .collect())
    }

    /// Records the backward pass of `b` items from the output (seeded with `weights` per
    /// item) to the input, given the forward pass's `values`; returns the buffer of the
    /// input's gradient, or with `Backward::DeepLift` its multipliers.
    #[allow(clippy::too_many_arguments)]
    fn encode_backward(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        values: &[wgpu::Buffer],
        weights: &[f32],
        b: usize,
        shapes: &[Vec<usize>],
        rule: Backward,
    ) -> wgpu::Buffer {
        let seed: Vec<f32> = (0..b).flat_map(|_| weights.iter().copied()).collect();
        let mut grads: Vec<Option<wgpu::Buffer>> = vec![None; values.len()];
        grads[values.len() - 1] = Some(gpu.device.create_buffer_init(
            &wgpu::util::BufferInitDescriptor {
                label: Some("output gradient"),
                contents: bytemuck::cast_slice(&seed),
                usage: wgpu::BufferUsages::STORAGE,
            },
        ));
        for (i, node) in self.nodes.iter().enumerate().rev() {
            let v = i + 1;
            // A value the output does not depend on has no gradient to pass on.
            let Some(g) = grads[v].take() else { continue };
            let u = node.inputs[0];
            let (ch, len_in) = channels_and_length(&shapes[u]);
            let n_in = b * per(&shapes[u]);
            let mut params = OpParams {
                n: n_in as u32,
                channels: ch as u32,
                len_in: len_in as u32,
                ..Default::default()
            };
            let (pipeline, z) = match &node.op {
                Op::Alias => {
                    give(gpu, enc, &self.pipelines, &mut grads, u, g, n_in);
                    continue;
                }
                // Linear in their inputs: the gradient passes as it is, for DeepLIFT too (its
                // linear rule).
                Op::Add => {
                    for &w in &node.inputs {
                        give(gpu, enc, &self.pipelines, &mut grads, w, g.clone(), n_in);
                    }
                    continue;
                }
                Op::Concat | Op::Crop { .. } => {
                    let inputs: Vec<_> = node.inputs.iter().map(|&w| (w, &shapes[w][..])).collect();
                    let left = match node.op {
                        Op::Crop { left } => left,
                        _ => 0,
                    };
                    let p = &self.pipelines;
                    let out = &shapes[v];
                    encode_slice_back(gpu, enc, p, &g, out, &inputs, left, b, &mut grads, |_| true);
                    continue;
                }
                Op::Conv(conv) => {
                    let g = if conv.activation() == Activation::Relu {
                        let n_out = b * per(&shapes[v]);
                        let masked = storage_buffer(gpu, n_out);
                        let p = OpParams {
                            n: n_out as u32,
                            ..Default::default()
                        };
                        let (pipe, z) = match rule {
                            Backward::Gradient => (&self.pipelines.unary_backward, &values[v]),
                            Backward::DeepLift { pre } => (
                                &self.pipelines.rescale_backward,
                                pre[v].as_ref().expect("kept by the DeepLIFT forward pass"),
                            ),
                        };
                        dispatch(gpu, enc, pipe, &p, &g, z, &masked, n_out);
                        masked
                    } else {
                        g
                    };
                    let dx = storage_buffer(gpu, n_in);
                    conv.encode_backward(gpu, enc, &g, &dx, b, len_in);
                    give(gpu, enc, &self.pipelines, &mut grads, u, dx, n_in);
                    continue;
                }
                Op::Unary {
                    code,
                    alpha,
                    affine,
                } => {
                    params.op = *code;
                    params.alpha = *alpha;
                    match (affine, rule) {
                        (Some(affine), _) => (&self.pipelines.unary_backward, affine),
                        (None, Backward::Gradient) => (&self.pipelines.unary_backward, &values[v]),
                        (None, Backward::DeepLift { .. }) => {
                            (&self.pipelines.rescale_backward, &values[u])
                        }
                    }
                }
                Op::Pool {
                    reduce,
                    window,
                    global,
                } => {
                    params.len_out = channels_and_length(&shapes[v]).1 as u32;
                    params.kernel = if *global { len_in } else { window.kernel } as u32;
                    params.stride = window.stride as u32;
                    params.op = pool_op(*reduce);
                    match (reduce, rule) {
                        (Reduce::Max, Backward::DeepLift { .. }) => {
                            (&self.pipelines.pool_deeplift, &values[u])
                        }
                        _ => (&self.pipelines.pool_backward, &values[u]),
                    }
                }
                Op::Softmax { .. } => {
                    unreachable!("GpuGraph::new rejects softmax for gradients")
                }
            };
            let dx = storage_buffer(gpu, n_in);
            dispatch(gpu, enc, pipeline, &params, &g, z, &dx, n_in);
            give(gpu, enc, &self.pipelines, &mut grads, u, dx, n_in);
        }
        // An output that does not depend on the input: zeros (wgpu zero-fills new buffers).
        grads[0]
            .take()
            .unwrap_or_else(|| storage_buffer(gpu, b * per(&shapes[0])))
    }

    /// Uploads `x` and records every layer into `enc`; returns the buffers that will hold
    /// each value (the input first, the output last). With `pre`, a convolution with a fused
    /// ReLU also keeps its pre-activation there, at its value's index.
    fn encode_forward(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        x: &[f32],
        b: usize,
        shapes: &[Vec<usize>],
        mut pre: Option<&mut Vec<Option<wgpu::Buffer>>>,
    ) -> Vec<wgpu::Buffer> {
        let d = &gpu.device;
        let mut values: Vec<wgpu::Buffer> = Vec::with_capacity(shapes.len());
        values.push(d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("input"),
            contents: bytemuck::cast_slice(x),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        }));
        for (i, node) in self.nodes.iter().enumerate() {
            let v = i + 1;
            let out_shape = &shapes[v];
            let n_out = b * out_shape.iter().product::<usize>();
            let in_shape = &shapes[node.inputs[0]];
            let (ch, len_in) = channels_and_length(in_shape);
            let len_out = if out_shape.len() == 2 {
                out_shape[1]
            } else {
                1
            };
            let x0 = &values[node.inputs[0]];
            let y = match &node.op {
                Op::Alias => {
                    // Flatten/dropout: reuse the input's buffer under the new shape.
                    values.push(values[node.inputs[0]].clone());
                    continue;
                }
                _ => storage_buffer(gpu, n_out),
            };
            let mut params = OpParams::default();
            let (pipeline, z, count) = match &node.op {
                Op::Conv(conv) => {
                    match pre.as_deref_mut() {
                        Some(pre) if conv.activation() == Activation::Relu => {
                            let z = storage_buffer(gpu, n_out);
                            conv.encode_as(gpu, enc, x0, &z, b, len_in, Activation::None);
                            let relu = OpParams {
                                n: n_out as u32,
                                ..Default::default()
                            };
                            let pipe = &self.pipelines.unary;
                            dispatch(gpu, enc, pipe, &relu, &z, &self.dummy, &y, n_out);
                            pre[v] = Some(z);
                        }
                        _ => conv.encode(gpu, enc, x0, &y, b, len_in),
                    }
                    values.push(y);
                    continue;
                }
                Op::Unary {
                    code,
                    alpha,
                    affine,
                } => {
                    params.op = *code;
                    params.alpha = *alpha;
                    (
                        &self.pipelines.unary,
                        affine.as_ref().unwrap_or(&self.dummy),
                        n_out,
                    )
                }
                Op::Pool {
                    reduce,
                    window,
                    global,
                } => {
                    params.kernel = if *global { len_in } else { window.kernel } as u32;
                    params.stride = window.stride as u32;
                    params.op = pool_op(*reduce);
                    params.dilation = window.dilation as u32;
                    params.pad_left = window.pad_left as u32;
                    params.pad_right = window.pad_right as u32;
                    params.count_pad = window.count_pad as u32;
                    (&self.pipelines.pool, &self.dummy, n_out)
                }
                Op::Add => (&self.pipelines.add, &values[node.inputs[1]], n_out),
                Op::Softmax { over_length } => {
                    params.op = *over_length as u32;
                    // One invocation per row: a position's channels, or a channel's positions.
                    let rows = if *over_length { b * ch } else { b * len_in };
                    (&self.pipelines.softmax, &self.dummy, rows)
                }
                Op::Crop { left } => {
                    params.c_total = ch as u32;
                    params.left = *left as u32;
                    (&self.pipelines.copy, &self.dummy, n_out)
                }
                Op::Concat => {
                    let inputs: Vec<_> = node
                        .inputs
                        .iter()
                        .map(|&u| (&values[u], &shapes[u][..]))
                        .collect();
                    let copy = &self.pipelines.copy;
                    encode_concat(gpu, enc, copy, &self.dummy, &inputs, out_shape[0], &y, b);
                    values.push(y);
                    continue;
                }
                Op::Alias => unreachable!("handled above"),
            };
            params.n = count as u32;
            params.channels = ch as u32;
            params.len_in = len_in as u32;
            params.len_out = len_out as u32;
            dispatch(gpu, enc, pipeline, &params, x0, z, &y, count);
            values.push(y);
        }
        values
    }
}

/// A pipeline layout of a uniform at binding 0 and then one storage buffer per flag
/// (read-only or not), for entry points that share one parameter block and binding list.
pub(super) fn explicit_layout(gpu: &Gpu, label: &str, read_only: &[bool]) -> wgpu::PipelineLayout {
    let buffer = |binding: u32, ty: wgpu::BufferBindingType| wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty,
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    };
    let mut entries = vec![buffer(0, wgpu::BufferBindingType::Uniform)];
    entries.extend(read_only.iter().enumerate().map(|(i, &read_only)| {
        buffer(i as u32 + 1, wgpu::BufferBindingType::Storage { read_only })
    }));
    let bind_layout = gpu
        .device
        .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(label),
            entries: &entries,
        });
    gpu.device
        .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(label),
            bind_group_layouts: &[Some(&bind_layout)],
            immediate_size: 0,
        })
}

/// The pipeline of `module`'s entry point `entry` under `layout`.
pub(super) fn pipeline(
    gpu: &Gpu,
    layout: &wgpu::PipelineLayout,
    module: &wgpu::ShaderModule,
    entry: &str,
) -> wgpu::ComputePipeline {
    gpu.device
        .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(entry),
            layout: Some(layout),
            module,
            entry_point: Some(entry),
            compilation_options: Default::default(),
            cache: None,
        })
}

/// Adds `g` (`n` values) to value `u`'s gradient in `grads`: a value read by several layers
/// (a residual body, a model's several heads) sums what each passes back.
pub(super) fn give(
    gpu: &Gpu,
    enc: &mut wgpu::CommandEncoder,
    ops: &Pipelines,
    grads: &mut [Option<wgpu::Buffer>],
    u: usize,
    g: wgpu::Buffer,
    n: usize,
) {
    grads[u] = Some(match grads[u].take() {
        None => g,
        Some(before) => {
            let sum = storage_buffer(gpu, n);
            let p = OpParams {
                n: n as u32,
                ..Default::default()
            };
            dispatch(gpu, enc, &ops.add, &p, &before, &g, &sum, n);
            sum
        }
    });
}

/// Records the backward pass of a concatenation along channels (`left` 0) or a crop (one
/// input, its first `left` positions dropped): each input's share of the output gradient
/// `g` (per-item shape `out`, `b` items) is added to its gradient, for the inputs `wanted`.
#[allow(clippy::too_many_arguments)]
pub(super) fn encode_slice_back(
    gpu: &Gpu,
    enc: &mut wgpu::CommandEncoder,
    ops: &Pipelines,
    g: &wgpu::Buffer,
    out: &[usize],
    inputs: &[(usize, &[usize])],
    left: usize,
    b: usize,
    grads: &mut [Option<wgpu::Buffer>],
    wanted: impl Fn(usize) -> bool,
) {
    let (total, len_out) = channels_and_length(out);
    let dummy = storage_buffer(gpu, 1);
    let mut offset = 0;
    for &(u, shape) in inputs {
        let (c, l) = channels_and_length(shape);
        let n = b * per(shape);
        let p = OpParams {
            n: n as u32,
            channels: c as u32,
            len_in: l as u32,
            len_out: len_out as u32,
            c_total: total as u32,
            c_offset: offset as u32,
            left: left as u32,
            ..Default::default()
        };
        offset += c;
        if wanted(u) {
            let part = storage_buffer(gpu, n);
            dispatch(gpu, enc, &ops.slice_back, &p, g, &dummy, &part, n);
            give(gpu, enc, ops, grads, u, part, n);
        }
    }
}

/// Records the concatenation along channels of `inputs` (buffers of `b` items, with their
/// per-item shapes) into `y`, which has `total` channels: one copy per input into its range.
#[allow(clippy::too_many_arguments)]
pub(super) fn encode_concat(
    gpu: &Gpu,
    enc: &mut wgpu::CommandEncoder,
    copy: &wgpu::ComputePipeline,
    dummy: &wgpu::Buffer,
    inputs: &[(&wgpu::Buffer, &[usize])],
    total: usize,
    y: &wgpu::Buffer,
    b: usize,
) {
    let mut offset = 0;
    for (x, shape) in inputs {
        let (c, l) = channels_and_length(shape);
        let p = OpParams {
            n: (b * c * l) as u32,
            channels: c as u32,
            len_in: l as u32,
            len_out: l as u32,
            c_total: total as u32,
            c_offset: offset as u32,
            ..Default::default()
        };
        dispatch(gpu, enc, copy, &p, x, dummy, y, b * c * l);
        offset += c;
    }
}

/// A pooling layer's reduction and window, and whether it is global (its window is the
/// input's length, taken from the shapes).
pub(super) fn pooling(layer: &Layer) -> Option<(Reduce, Pool1d, bool)> {
    let whole = Pool1d::new(1, 1);
    Some(match layer {
        Layer::MaxPool1d(w) => (Reduce::Max, *w, false),
        Layer::AvgPool1d(w) => (Reduce::Mean, *w, false),
        Layer::GlobalMaxPool => (Reduce::Max, whole, true),
        Layer::GlobalAvgPool => (Reduce::Mean, whole, true),
        Layer::GlobalSumPool => (Reduce::Sum, whole, true),
        _ => return None,
    })
}

/// The pool kernels' `op` word.
pub(super) fn pool_op(reduce: Reduce) -> u32 {
    match reduce {
        Reduce::Max => 0,
        Reduce::Mean => 1,
        Reduce::Sum => 2,
    }
}

pub(super) fn per(shape: &[usize]) -> usize {
    shape.iter().product::<usize>().max(1)
}

/// A value's channels and length: `[c, l]`, `[c]` (length 1), else one channel.
pub(super) fn channels_and_length(shape: &[usize]) -> (usize, usize) {
    match shape[..] {
        [c, l] => (c, l),
        [c] => (c, 1),
        _ => (1, shape.iter().product()),
    }
}

/// A dense layer as the width-1 convolution over `[batch, features, 1]` that the GPU runs.
pub(super) fn as_conv(l: &crate::nn::Linear) -> Conv1d {
    Conv1d {
        in_channels: l.in_features,
        out_channels: l.out_features,
        kernel: 1,
        stride: 1,
        dilation: 1,
        pad_left: 0,
        pad_right: 0,
        groups: 1,
        weight: l.weight.clone(),
        bias: l.bias.clone(),
    }
}

/// The layer with a bias of zeros if it had none, so a following batch norm can fold into it.
fn with_bias(mut conv: Conv1d) -> Conv1d {
    if conv.bias.is_none() {
        conv.bias = Some(crate::nn::Param::new(
            &[conv.out_channels],
            vec![0.0; conv.out_channels],
        ));
    }
    conv
}

/// Why `graph` cannot run on the GPU, naming the first node without a GPU kernel.
pub fn forward_blocker(graph: &Graph) -> Option<String> {
    graph.nodes.iter().find_map(|n| match &n.layer {
        Layer::ReduceChannels { op } => Some(format!(
            "node '{}' ({} over channels) has no GPU kernel yet",
            n.name,
            op.onnx_op()
        )),
        Layer::Conv1d(c) if c.groups != 1 => Some(format!(
            "node '{}' (grouped convolution, {} groups) has no GPU kernel yet",
            n.name, c.groups
        )),
        Layer::Rnn(r) => Some(format!(
            "node '{}' ({}) has no GPU kernel yet",
            n.name,
            r.cell.name()
        )),
        _ => None,
    })
}

/// Why input gradients cannot run on the GPU for `graph`, if they cannot. The backward
/// kernels cover convolutions, dense layers, activations (not GELU), batch norm, plain
/// pooling, residual adds, concatenation and cropping.
pub fn gradient_blocker(graph: &Graph) -> Option<String> {
    if let Some(why) = forward_blocker(graph) {
        return Some(why);
    }
    graph
        .nodes
        .iter()
        .find_map(|n| match n.layer {
            Layer::Softmax | Layer::SoftmaxLength => Some("softmax"),
            // Its backward kernel would need the forward input, which the GPU does not keep.
            Layer::Gelu { .. } => Some("GELU"),
            Layer::MaxPool1d(w) | Layer::AvgPool1d(w) if !w.is_plain() => {
                Some("padded, dilated or ceil-mode pooling")
            }
            _ => None,
        })
        .map(|op| format!("input gradients on the GPU do not cover {op} yet"))
}

/// `x * scale[c] + shift[c]` per channel (batch norm in evaluation mode, constant arithmetic).
fn affine(gpu: &Gpu, scale: &[f32], shift: &[f32]) -> Op {
    let packed: Vec<f32> = scale.iter().chain(shift).copied().collect();
    Op::Unary {
        code: 5,
        alpha: 0.0,
        affine: Some(
            gpu.device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("per-channel affine"),
                    contents: bytemuck::cast_slice(&packed),
                    usage: wgpu::BufferUsages::STORAGE,
                }),
        ),
    }
}

/// ops.wgsl's `unary` code and alpha of an element-wise activation layer.
pub(super) fn activation_code(layer: &Layer) -> Option<(u32, f32)> {
    match layer {
        Layer::Relu => Some((0, 0.0)),
        Layer::Elu { alpha } => Some((1, *alpha)),
        Layer::Softplus => Some((2, 0.0)),
        Layer::Exp => Some((3, 0.0)),
        Layer::Sigmoid => Some((4, 0.0)),
        Layer::Tanh => Some((6, 0.0)),
        Layer::LeakyRelu { alpha } => Some((7, *alpha)),
        Layer::Gelu { tanh } => Some((if *tanh { 9 } else { 8 }, 0.0)),
        _ => None,
    }
}

fn unary(code: u32, alpha: f32) -> Op {
    Op::Unary {
        code,
        alpha,
        affine: None,
    }
}

/// The parameter block of every entry point in ops.wgsl: must match `Params` there, field
/// for field (sixteen 4-byte words, a uniform buffer's layout). Each entry point reads only
/// the fields it documents; the others stay zero.
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(super) struct OpParams {
    /// Output values (one invocation each).
    pub(super) n: u32,
    pub(super) channels: u32,
    pub(super) len_in: u32,
    pub(super) len_out: u32,
    pub(super) kernel: u32,
    pub(super) stride: u32,
    /// Which operation of the entry point (see ops.wgsl).
    pub(super) op: u32,
    /// Copy: the output's channels.
    pub(super) c_total: u32,
    /// Copy: the first output channel.
    pub(super) c_offset: u32,
    /// Copy: the input position of output position 0.
    pub(super) left: u32,
    /// ELU and LeakyReLU.
    pub(super) alpha: f32,
    /// Pooling.
    pub(super) dilation: u32,
    pub(super) pad_left: u32,
    pub(super) pad_right: u32,
    /// Pooling: whether an average counts the padding.
    pub(super) count_pad: u32,
    pub(super) _pad: u32,
}

const _: () = assert!(std::mem::size_of::<OpParams>() == 64);

#[allow(clippy::too_many_arguments)]
pub(super) fn dispatch(
    gpu: &Gpu,
    enc: &mut wgpu::CommandEncoder,
    pipeline: &wgpu::ComputePipeline,
    params: &OpParams,
    x: &wgpu::Buffer,
    z: &wgpu::Buffer,
    y: &wgpu::Buffer,
    count: usize,
) {
    let params = bytemuck::bytes_of(params);
    dispatch_groups(gpu, enc, pipeline, params, &[x, z, y], grid(count));
}

/// The workgroups of 256 invocations that cover `count`, folded into a second dimension past
/// WebGPU's 65,535 per dimension (the kernels' `index` unfolds them).
pub(super) fn grid(count: usize) -> [u32; 2] {
    let groups = count.div_ceil(256).max(1);
    if groups > 65535 {
        [65535, groups.div_ceil(65535) as u32]
    } else {
        [groups as u32, 1]
    }
}

/// One pass of `pipeline` over a `grid` of workgroups, with `params` as the uniform at
/// binding 0 and `buffers` at bindings 1, 2, ...
pub(super) fn dispatch_groups(
    gpu: &Gpu,
    enc: &mut wgpu::CommandEncoder,
    pipeline: &wgpu::ComputePipeline,
    params: &[u8],
    buffers: &[&wgpu::Buffer],
    grid: [u32; 2],
) {
    let d = &gpu.device;
    let uniform = d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("params"),
        contents: params,
        usage: wgpu::BufferUsages::UNIFORM,
    });
    let mut entries = vec![entry(0, &uniform)];
    entries.extend(
        buffers
            .iter()
            .enumerate()
            .map(|(i, b)| entry(i as u32 + 1, b)),
    );
    let bind = d.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &entries,
    });
    let mut pass = enc.begin_compute_pass(&Default::default());
    pass.set_pipeline(pipeline);
    pass.set_bind_group(0, &bind, &[]);
    pass.dispatch_workgroups(grid[0], grid[1], 1);
}
