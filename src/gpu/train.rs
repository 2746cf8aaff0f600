//! Training on the GPU: the engine graph's weights, gradients and optimiser moments stay
//! resident from step to step. A step is one forward pass in training mode (batch norm by
//! batch statistics, dropout by masks drawn on the host from the CPU engine's random stream),
//! one readback of the output for the loss, and one backward pass that writes every weight's
//! gradient and ends in the optimiser update. The weights come back to the `nn::Graph` only
//! when asked ([`GpuTrainer::download`]: before validation and checkpoints).
//!
//! The loss and its gradient are computed on the host by the caller: the output is read back
//! each step anyway (the step's loss is logged), it is small (`batch x outputs`), and every
//! loss and multi-output objective then has one implementation.
//!
//! Unlike inference ([`super::GpuGraph`]) nothing is folded or fused: batch norm's statistics
//! change every step, and the backward pass needs each layer's own input.

use wgpu::util::DeviceExt;

use super::conv1d::{Activation, GpuConv1d, Kernels};
use super::graph::{
    OpParams, Pipelines, activation_code, as_conv, channels_and_length, dispatch, dispatch_groups,
    encode_concat, encode_slice_back, explicit_layout, give, grid, per, pipeline, pool_op, pooling,
};
use super::{Error, Gpu, storage_buffer};
use crate::nn::{Graph, Layer, Param, Pool1d, Reduce, Rng, Tensor, dropout_mask};
use crate::train::{OptimState, Optimizer};

/// Largest `batch x length` one convolution dispatch covers (65,535 tiles of 64).
const MAX_POSITIONS: usize = 65535 * 64;

/// One node of the graph, in training form.
enum Op {
    /// A convolution, or a dense layer as a width-1 convolution; `weight` and `bias` index
    /// [`GpuTrainer::params`].
    Conv {
        conv: Box<GpuConv1d>,
        weight: usize,
        bias: Option<usize>,
    },
    /// Batch norm by batch statistics, moving the running ones.
    Norm {
        channels: usize,
        eps: f32,
        momentum: f32,
        gamma: usize,
        beta: usize,
        running_mean: wgpu::Buffer,
        running_var: wgpu::Buffer,
    },
    /// An element-wise activation (ops.wgsl `unary` code).
    Unary {
        code: u32,
        alpha: f32,
    },
    Pool {
        reduce: Reduce,
        window: Pool1d,
        global: bool,
    },
    Dropout {
        p: f32,
    },
    /// Flatten, and dropout with p = 0: the same buffer under another shape.
    Alias,
    /// Residual addition of two values of one shape.
    Add,
    /// Concatenation along channels (a multi-output model's outputs, flattened, are joined
    /// by one).
    Concat,
    Crop {
        left: usize,
    },
}

/// A parameter on the GPU with its gradient and optimiser moments.
struct Slot {
    value: wgpu::Buffer,
    grad: wgpu::Buffer,
    m: wgpu::Buffer,
    v: wgpu::Buffer,
    len: usize,
    frozen: bool,
}

/// train.wgsl's entry points.
struct TrainKernels {
    bias_grad: wgpu::ComputePipeline,
    bn_stats: wgpu::ComputePipeline,
    bn_forward: wgpu::ComputePipeline,
    bn_param_grad: wgpu::ComputePipeline,
    bn_backward: wgpu::ComputePipeline,
    multiply: wgpu::ComputePipeline,
    sum_layers: wgpu::ComputePipeline,
    grad_sumsq: wgpu::ComputePipeline,
    sgd: wgpu::ComputePipeline,
    adam: wgpu::ComputePipeline,
}

/// An engine graph being trained on the GPU.
pub struct GpuTrainer {
    /// One per engine node: GPU value `v` is engine value `v`.
    nodes: Vec<(Op, Vec<usize>)>,
    /// The parameters in `Graph::params_mut` order (the optimiser state's order).
    params: Vec<Slot>,
    geometry: Graph,
    ops: Pipelines,
    kernels: TrainKernels,
    /// One partial sum of squares per parameter, for gradient clipping.
    norms: wgpu::Buffer,
    dummy: wgpu::Buffer,
    /// Optimiser steps taken (the CPU's `OptimState::step`).
    step: u64,
}

/// train.wgsl's parameter block: must match `Params` there field for field (20 words).
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct TrainParams {
    n: u32,
    channels: u32,
    len: u32,
    batch: u32,
    lr: f32,
    momentum: f32,
    decay: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    step: u32,
    decoupled: u32,
    clip: f32,
    norms: u32,
    index: u32,
    c1: f32,
    c2: f32,
    _pad: [u32; 3],
}

const _: () = assert!(std::mem::size_of::<TrainParams>() == 80);

/// What a training forward pass leaves for the backward pass.
struct Forward {
    /// Every value, the input first.
    values: Vec<wgpu::Buffer>,
    /// Per node: batch norm's statistics, or dropout's mask.
    kept: Vec<Option<wgpu::Buffer>>,
}

impl GpuTrainer {
    /// Uploads `graph`'s weights and `state`'s moments (when it has them) and compiles the
    /// kernels; refuses graphs with layers the GPU cannot train ([`train_blocker`]).
    pub async fn new(gpu: &Gpu, graph: &Graph, state: &OptimState) -> Result<GpuTrainer, Error> {
        if let Some(why) = train_blocker(graph) {
            return Err(Error::Run(why));
        }
        super::scoped(gpu, || Self::build(gpu, graph, state)).await?
    }

    fn build(gpu: &Gpu, graph: &Graph, state: &OptimState) -> Result<GpuTrainer, Error> {
        let kernels = Kernels::for_training(gpu);
        let moments = state.m.len() == graph.params().len();
        let mut params: Vec<Slot> = Vec::new();
        let mut slot = |value: Option<wgpu::Buffer>, p: &Param| -> usize {
            let i = params.len();
            let zeros = vec![0.0; p.len()];
            let (m, v) = if moments {
                (&state.m[i][..], &state.v[i][..])
            } else {
                (&zeros[..], &zeros[..])
            };
            params.push(Slot {
                value: value.unwrap_or_else(|| upload(gpu, "parameter", &p.value)),
                grad: storage_buffer(gpu, p.len()),
                m: upload(gpu, "first moment", m),
                v: upload(gpu, "second moment", v),
                len: p.len(),
                frozen: p.frozen,
            });
            i
        };
        let mut nodes = Vec::with_capacity(graph.nodes.len());
        for node in &graph.nodes {
            let op = match &node.layer {
                Layer::Conv1d(_) | Layer::Linear(_) => {
                    let c = match &node.layer {
                        Layer::Conv1d(c) => c.clone(),
                        Layer::Linear(l) => as_conv(l),
                        _ => unreachable!("matched above"),
                    };
                    let conv = GpuConv1d::upload(gpu, &c, Activation::None, &kernels)?;
                    let Some((w, b)) = conv.buffers() else {
                        return Err(Error::Run(format!(
                            "node '{}' has more weights than one GPU binding holds; training \
                             it on the GPU is not supported",
                            node.name
                        )));
                    };
                    let (w, b) = (w.clone(), b.clone());
                    let weight = slot(Some(w), &c.weight);
                    let bias = c.bias.as_ref().map(|p| slot(Some(b), p));
                    Op::Conv {
                        conv: Box::new(conv),
                        weight,
                        bias,
                    }
                }
                Layer::BatchNorm1d(bn) => Op::Norm {
                    channels: bn.channels,
                    eps: bn.eps,
                    momentum: bn.momentum,
                    gamma: slot(None, &bn.gamma),
                    beta: slot(None, &bn.beta),
                    running_mean: upload(gpu, "running mean", &bn.running_mean),
                    running_var: upload(gpu, "running variance", &bn.running_var),
                },
                layer if pooling(layer).is_some() => {
                    let (reduce, window, global) = pooling(layer).expect("a pooling layer");
                    Op::Pool {
                        reduce,
                        window,
                        global,
                    }
                }
                Layer::Dropout { p } if *p > 0.0 => Op::Dropout { p: *p },
                Layer::Dropout { .. } | Layer::Flatten => Op::Alias,
                Layer::Add => Op::Add,
                Layer::Concat => Op::Concat,
                Layer::Crop { left, .. } => Op::Crop { left: *left },
                layer => {
                    let (code, alpha) = activation_code(layer).expect("refused by train_blocker");
                    Op::Unary { code, alpha }
                }
            };
            nodes.push((op, node.inputs.clone()));
        }
        let module = gpu
            .device
            .create_shader_module(wgpu::include_wgsl!("train.wgsl"));
        let layout = explicit_layout(gpu, "train", &[false; 5]);
        let pipe = |entry: &str| pipeline(gpu, &layout, &module, entry);
        Ok(GpuTrainer {
            nodes,
            norms: storage_buffer(gpu, params.len()),
            params,
            geometry: graph.geometry(),
            ops: Pipelines::new(gpu),
            kernels: TrainKernels {
                bias_grad: pipe("bias_grad"),
                bn_stats: pipe("bn_stats"),
                bn_forward: pipe("bn_forward"),
                bn_param_grad: pipe("bn_param_grad"),
                bn_backward: pipe("bn_backward"),
                multiply: pipe("multiply"),
                sum_layers: pipe("sum_layers"),
                grad_sumsq: pipe("grad_sumsq"),
                sgd: pipe("sgd"),
                adam: pipe("adam"),
            },
            dummy: storage_buffer(gpu, 1),
            step: state.step,
        })
    }

    /// One training step on the batch `x`: the forward pass (drawing dropout masks from
    /// `rng` as the CPU engine's training forward does), then `loss` on the read-back output,
    /// which returns what the caller keeps and the output's gradient; then the backward pass
    /// and the update of every unfrozen parameter by `opt` at rate `lr`, the gradients first
    /// clipped to the global norm `clip` if given. Returns what `loss` kept.
    #[allow(clippy::too_many_arguments)]
    pub async fn step<T>(
        &mut self,
        gpu: &Gpu,
        x: &Tensor,
        rng: &mut Rng,
        loss: impl FnOnce(Tensor) -> Result<(T, Tensor), crate::Error>,
        opt: &Optimizer,
        lr: f32,
        clip: Option<f32>,
    ) -> Result<T, crate::Error> {
        let shapes = self.shapes(gpu, x)?;
        let b = x.batch();
        let (forward, out) = super::scoped(gpu, || {
            let mut enc = gpu.device.create_command_encoder(&Default::default());
            let f = self.encode_forward(gpu, &mut enc, x, rng, &shapes);
            gpu.queue.submit([enc.finish()]);
            let out = f.values.last().expect("input at least").clone();
            (f, out)
        })
        .await?;
        let out_shape = shapes.last().expect("a graph has nodes");
        let mut shape = vec![b];
        shape.extend(out_shape);
        let y = Tensor::new(&shape, gpu.read(&out, b * per(out_shape)).await?)?;
        let (kept, dy) = loss(y)?;
        if dy.shape != shape {
            return Err(crate::nn::Error::Shape(format!(
                "the loss's gradient has shape {:?} for an output of shape {shape:?}",
                dy.shape
            ))
            .into());
        }
        self.step += 1;
        super::scoped(gpu, || {
            let mut enc = gpu.device.create_command_encoder(&Default::default());
            self.encode_backward(gpu, &mut enc, &forward, &dy.data, b, &shapes);
            self.encode_update(gpu, &mut enc, opt, lr, clip);
            gpu.queue.submit([enc.finish()]);
        })
        .await?;
        Ok(kept)
    }

    /// Copies the weights, batch norm's running statistics and the optimiser's moments and
    /// step count back into `graph` and `state`.
    pub async fn download(
        &self,
        gpu: &Gpu,
        graph: &mut Graph,
        state: &mut OptimState,
    ) -> Result<(), Error> {
        let mut values = Vec::with_capacity(self.params.len());
        state.m.clear();
        state.v.clear();
        for s in &self.params {
            values.push(gpu.read(&s.value, s.len).await?);
            state.m.push(gpu.read(&s.m, s.len).await?);
            state.v.push(gpu.read(&s.v, s.len).await?);
        }
        state.step = self.step;
        for (p, v) in graph.params_mut().into_iter().zip(values) {
            p.value = v;
        }
        for ((op, _), node) in self.nodes.iter().zip(&mut graph.nodes) {
            if let (
                Op::Norm {
                    channels,
                    running_mean,
                    running_var,
                    ..
                },
                Layer::BatchNorm1d(bn),
            ) = (op, &mut node.layer)
            {
                bn.running_mean = gpu.read(running_mean, *channels).await?;
                bn.running_var = gpu.read(running_var, *channels).await?;
            }
        }
        Ok(())
    }

    /// Every value's per-item shape for `x`, after checking that the batch fits one binding
    /// per value and one dispatch per convolution.
    fn shapes(&self, gpu: &Gpu, x: &Tensor) -> Result<Vec<Vec<usize>>, Error> {
        let item = &x.shape[1..];
        if !self.geometry.accepts(item) {
            return Err(crate::nn::Error::Shape(format!(
                "the model takes [batch, {:?}], got [batch, {item:?}]",
                self.geometry.input_shape
            ))
            .into());
        }
        let shapes = self.geometry.shapes(item)?;
        let b = x.batch();
        let biggest = b * shapes.iter().map(|s| per(s)).max().unwrap_or(1);
        let longest = b * shapes
            .iter()
            .map(|s| s.last().copied().unwrap_or(1))
            .max()
            .unwrap_or(1);
        let limit = gpu.capabilities().max_storage_buffer_binding_size as usize / 4;
        if biggest > limit || longest > MAX_POSITIONS {
            return Err(Error::Run(format!(
                "a batch of {b} needs {biggest} values in one layer; a GPU binding holds at \
                 most {limit}: train with a smaller batch size"
            )));
        }
        Ok(shapes)
    }

    fn encode_forward(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        x: &Tensor,
        rng: &mut Rng,
        shapes: &[Vec<usize>],
    ) -> Forward {
        let b = x.batch();
        let mut values = vec![
            gpu.device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("input"),
                    contents: bytemuck::cast_slice(&x.data),
                    usage: wgpu::BufferUsages::STORAGE,
                }),
        ];
        let mut kept = Vec::with_capacity(self.nodes.len());
        for (i, (op, inputs)) in self.nodes.iter().enumerate() {
            let (v, u) = (i + 1, inputs[0]);
            let n_out = b * per(&shapes[v]);
            let (ch, len_in) = channels_and_length(&shapes[u]);
            let x0 = &values[u];
            let y = storage_buffer(gpu, n_out);
            let mut keep = None;
            match op {
                Op::Alias => {
                    values.push(x0.clone());
                    kept.push(None);
                    continue;
                }
                Op::Conv { conv, .. } => conv.encode(gpu, enc, x0, &y, b, len_in),
                Op::Norm {
                    channels,
                    eps,
                    momentum,
                    gamma,
                    beta,
                    running_mean,
                    running_var,
                } => {
                    let stats = storage_buffer(gpu, 4 * channels);
                    let p = TrainParams {
                        n: n_out as u32,
                        channels: *channels as u32,
                        len: len_in as u32,
                        batch: b as u32,
                        eps: *eps,
                        momentum: *momentum,
                        ..Default::default()
                    };
                    let k = &self.kernels;
                    let groups = [*channels as u32, 1];
                    let stat_bufs = [x0, running_mean, running_var, &stats, &self.dummy];
                    self.run(gpu, enc, &k.bn_stats, &p, &stat_bufs, groups);
                    let (g, be) = (&self.params[*gamma].value, &self.params[*beta].value);
                    self.each(gpu, enc, &k.bn_forward, &p, [x0, &stats, g, be, &y]);
                    keep = Some(stats);
                }
                Op::Unary { code, alpha } => {
                    let p = OpParams {
                        n: n_out as u32,
                        channels: ch as u32,
                        len_in: len_in as u32,
                        op: *code,
                        alpha: *alpha,
                        ..Default::default()
                    };
                    dispatch(gpu, enc, &self.ops.unary, &p, x0, &self.dummy, &y, n_out);
                }
                Op::Pool {
                    reduce,
                    window,
                    global,
                } => {
                    let p =
                        self.pool_params(*reduce, window, *global, n_out, ch, len_in, shapes, v);
                    dispatch(gpu, enc, &self.ops.pool, &p, x0, &self.dummy, &y, n_out);
                }
                Op::Add => {
                    let p = OpParams {
                        n: n_out as u32,
                        ..Default::default()
                    };
                    let z = &values[inputs[1]];
                    dispatch(gpu, enc, &self.ops.add, &p, x0, z, &y, n_out);
                }
                Op::Concat => {
                    let parts: Vec<_> = inputs
                        .iter()
                        .map(|&u| (&values[u], &shapes[u][..]))
                        .collect();
                    let total = channels_and_length(&shapes[v]).0;
                    encode_concat(gpu, enc, &self.ops.copy, &self.dummy, &parts, total, &y, b);
                }
                Op::Crop { left } => {
                    let p = OpParams {
                        n: n_out as u32,
                        channels: ch as u32,
                        len_in: len_in as u32,
                        len_out: channels_and_length(&shapes[v]).1 as u32,
                        c_total: ch as u32,
                        left: *left as u32,
                        ..Default::default()
                    };
                    dispatch(gpu, enc, &self.ops.copy, &p, x0, &self.dummy, &y, n_out);
                }
                Op::Dropout { p } => {
                    let mask = dropout_mask(*p, n_out, rng);
                    let mask = gpu
                        .device
                        .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                            label: Some("dropout mask"),
                            contents: bytemuck::cast_slice(&mask),
                            usage: wgpu::BufferUsages::STORAGE,
                        });
                    let p = TrainParams {
                        n: n_out as u32,
                        ..Default::default()
                    };
                    let d = &self.dummy;
                    self.each(gpu, enc, &self.kernels.multiply, &p, [x0, &mask, d, d, &y]);
                    keep = Some(mask);
                }
            }
            values.push(y);
            kept.push(keep);
        }
        Forward { values, kept }
    }

    /// Records the backward pass from the output's gradient `dy` (b items), writing every
    /// parameter's gradient.
    fn encode_backward(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        f: &Forward,
        dy: &[f32],
        b: usize,
        shapes: &[Vec<usize>],
    ) {
        let mut grads: Vec<Option<wgpu::Buffer>> = vec![None; f.values.len()];
        grads[f.values.len() - 1] = Some(gpu.device.create_buffer_init(
            &wgpu::util::BufferInitDescriptor {
                label: Some("output gradient"),
                contents: bytemuck::cast_slice(dy),
                usage: wgpu::BufferUsages::STORAGE,
            },
        ));
        let k = &self.kernels;
        for (i, (op, inputs)) in self.nodes.iter().enumerate().rev() {
            let (v, u) = (i + 1, inputs[0]);
            let Some(g) = grads[v].take() else { continue };
            let (ch, len_in) = channels_and_length(&shapes[u]);
            let n_in = b * per(&shapes[u]);
            let n_out = b * per(&shapes[v]);
            // The input's gradient is not needed, only the weights' (value 0 is the input);
            // the ops that pass the gradient on as it is write no buffer of their own.
            let wanted = u > 0;
            let passes_on = matches!(op, Op::Alias | Op::Add | Op::Concat | Op::Crop { .. });
            let dx = (wanted && !passes_on).then(|| storage_buffer(gpu, n_in));
            match op {
                Op::Alias => {
                    if wanted {
                        give(gpu, enc, &self.ops, &mut grads, u, g, n_in);
                    }
                    continue;
                }
                Op::Add => {
                    for &w in inputs.iter().filter(|&&w| w > 0) {
                        give(gpu, enc, &self.ops, &mut grads, w, g.clone(), n_in);
                    }
                    continue;
                }
                Op::Concat | Op::Crop { .. } => {
                    let parts: Vec<_> = inputs.iter().map(|&w| (w, &shapes[w][..])).collect();
                    let left = match op {
                        Op::Crop { left } => *left,
                        _ => 0,
                    };
                    let (ops, out) = (&self.ops, &shapes[v]);
                    encode_slice_back(gpu, enc, ops, &g, out, &parts, left, b, &mut grads, |w| {
                        w > 0
                    });
                    continue;
                }
                Op::Conv { conv, weight, bias } => {
                    let x0 = &f.values[u];
                    let dw = &self.params[*weight];
                    let layers = conv.weight_grad_layers(gpu, b, len_in);
                    let partial = storage_buffer(gpu, layers * dw.len);
                    conv.encode_weight_grad(gpu, enc, x0, &g, &partial, b, len_in, layers);
                    let p = TrainParams {
                        n: dw.len as u32,
                        channels: layers as u32,
                        ..Default::default()
                    };
                    let d = &self.dummy;
                    self.each(gpu, enc, &k.sum_layers, &p, [&partial, d, d, d, &dw.grad]);
                    if let Some(bias) = bias {
                        let (co, len_out) = channels_and_length(&shapes[v]);
                        let p = TrainParams {
                            channels: co as u32,
                            len: len_out as u32,
                            batch: b as u32,
                            ..Default::default()
                        };
                        let d = &self.dummy;
                        let db = &self.params[*bias].grad;
                        self.run(
                            gpu,
                            enc,
                            &k.bias_grad,
                            &p,
                            &[&g, d, d, d, db],
                            [co as u32, 1],
                        );
                    }
                    if let Some(dx) = &dx {
                        conv.encode_backward(gpu, enc, &g, dx, b, len_in);
                    }
                }
                Op::Norm {
                    channels,
                    gamma,
                    beta,
                    ..
                } => {
                    let stats = f.kept[i].as_ref().expect("kept by the forward pass");
                    let p = TrainParams {
                        n: n_in as u32,
                        channels: *channels as u32,
                        len: len_in as u32,
                        batch: b as u32,
                        ..Default::default()
                    };
                    let (dg, db) = (&self.params[*gamma].grad, &self.params[*beta].grad);
                    let x0 = &f.values[u];
                    let groups = [*channels as u32, 1];
                    self.run(
                        gpu,
                        enc,
                        &k.bn_param_grad,
                        &p,
                        &[&g, x0, stats, dg, db],
                        groups,
                    );
                    if let Some(dx) = &dx {
                        let gm = &self.params[*gamma].value;
                        self.each(gpu, enc, &k.bn_backward, &p, [&g, x0, stats, gm, dx]);
                    }
                }
                Op::Unary { code, alpha } => {
                    // Weightless: nothing to do where no input gradient is wanted.
                    let Some(dx) = &dx else { continue };
                    let p = OpParams {
                        n: n_out as u32,
                        op: *code,
                        alpha: *alpha,
                        ..Default::default()
                    };
                    let out = &f.values[v];
                    dispatch(gpu, enc, &self.ops.unary_backward, &p, &g, out, dx, n_out);
                }
                Op::Pool {
                    reduce,
                    window,
                    global,
                } => {
                    let Some(dx) = &dx else { continue };
                    let p = self.pool_params(*reduce, window, *global, n_in, ch, len_in, shapes, v);
                    let x0 = &f.values[u];
                    dispatch(gpu, enc, &self.ops.pool_backward, &p, &g, x0, dx, n_in);
                }
                Op::Dropout { .. } => {
                    let Some(dx) = &dx else { continue };
                    let mask = f.kept[i].as_ref().expect("kept by the forward pass");
                    let p = TrainParams {
                        n: n_in as u32,
                        ..Default::default()
                    };
                    let d = &self.dummy;
                    self.each(gpu, enc, &k.multiply, &p, [&g, mask, d, d, dx]);
                }
            }
            if let Some(dx) = dx {
                give(gpu, enc, &self.ops, &mut grads, u, dx, n_in);
            }
        }
    }

    /// Records the optimiser's update of every unfrozen parameter, after the partial sums of
    /// squares that clipping needs.
    fn encode_update(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        opt: &Optimizer,
        lr: f32,
        clip: Option<f32>,
    ) {
        let k = &self.kernels;
        let d = &self.dummy;
        if clip.is_some() {
            for (i, s) in self.params.iter().enumerate() {
                let p = TrainParams {
                    n: s.len as u32,
                    index: i as u32,
                    ..Default::default()
                };
                self.run(
                    gpu,
                    enc,
                    &k.grad_sumsq,
                    &p,
                    &[&s.grad, d, d, d, &self.norms],
                    [1, 1],
                );
            }
        }
        let t = self.step as i32;
        let mut p = TrainParams {
            lr,
            step: self.step as u32,
            clip: clip.unwrap_or(0.0),
            norms: self.params.len() as u32,
            ..Default::default()
        };
        let pipeline = match *opt {
            Optimizer::Sgd {
                momentum,
                weight_decay,
                ..
            } => {
                p.momentum = momentum;
                p.decay = weight_decay;
                &k.sgd
            }
            Optimizer::Adam {
                beta1,
                beta2,
                eps,
                weight_decay,
                decoupled,
                ..
            } => {
                p.beta1 = beta1;
                p.beta2 = beta2;
                p.eps = eps;
                p.decay = weight_decay;
                p.decoupled = decoupled as u32;
                p.c1 = 1.0 - beta1.powi(t);
                p.c2 = 1.0 - beta2.powi(t);
                &k.adam
            }
        };
        for s in self.params.iter().filter(|s| !s.frozen) {
            p.n = s.len as u32;
            self.each(
                gpu,
                enc,
                pipeline,
                &p,
                [&s.value, &s.grad, &s.m, &s.v, &self.norms],
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn pool_params(
        &self,
        reduce: Reduce,
        window: &Pool1d,
        global: bool,
        n: usize,
        ch: usize,
        len_in: usize,
        shapes: &[Vec<usize>],
        v: usize,
    ) -> OpParams {
        OpParams {
            n: n as u32,
            channels: ch as u32,
            len_in: len_in as u32,
            len_out: channels_and_length(&shapes[v]).1 as u32,
            kernel: if global { len_in } else { window.kernel } as u32,
            stride: window.stride as u32,
            op: pool_op(reduce),
            dilation: window.dilation as u32,
            pad_left: window.pad_left as u32,
            pad_right: window.pad_right as u32,
            count_pad: window.count_pad as u32,
            ..Default::default()
        }
    }

    /// A train.wgsl kernel over a grid of workgroups.
    fn run(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        pipeline: &wgpu::ComputePipeline,
        p: &TrainParams,
        buffers: &[&wgpu::Buffer; 5],
        grid: [u32; 2],
    ) {
        dispatch_groups(gpu, enc, pipeline, bytemuck::bytes_of(p), buffers, grid);
    }

    /// A train.wgsl kernel with one invocation per value (`p.n` of them).
    fn each(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        pipeline: &wgpu::ComputePipeline,
        p: &TrainParams,
        buffers: [&wgpu::Buffer; 5],
    ) {
        self.run(gpu, enc, pipeline, p, &buffers, grid(p.n as usize));
    }
}

/// A storage buffer holding `data` that kernels update in place and that can be read back.
fn upload(gpu: &Gpu, label: &str, data: &[f32]) -> wgpu::Buffer {
    gpu.device
        .create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::cast_slice(data),
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
        })
}

/// Why `graph` cannot be trained on the GPU, naming what is missing. The training kernels
/// cover convolutions, dense layers, batch norm, element-wise activations (not GELU), plain
/// pooling, dropout, flattening, residual adds, concatenation and cropping: BPNet's two-output
/// graph as well as the chains of DeepBind, Basset and DeepSEA.
pub fn train_blocker(graph: &Graph) -> Option<String> {
    if let Some(why) = super::forward_blocker(graph) {
        return Some(format!("{why}; train with --backend cpu"));
    }
    graph
        .nodes
        .iter()
        .find_map(|n| {
            let what = match &n.layer {
                Layer::Softmax | Layer::SoftmaxLength => "softmax",
                Layer::Gelu { .. } => "GELU",
                Layer::Affine { .. } => "fixed per-channel affine layers",
                Layer::MaxPool1d(w) | Layer::AvgPool1d(w) if !w.is_plain() => {
                    "padded, dilated or ceil-mode pooling"
                }
                _ => return None,
            };
            Some(format!("node '{}' ({what})", n.name))
        })
        .map(|what| {
            format!("training on the GPU does not cover {what} yet; train with --backend cpu")
        })
}
