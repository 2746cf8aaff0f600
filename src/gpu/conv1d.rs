//! Conv1d forward on the GPU (`conv1d.wgsl`): weights are uploaded once per layer; each call
//! uploads the input, dispatches one tiled-GEMM pass per batch slice and reads the result back.

use wgpu::util::DeviceExt;

use super::{Error, Gpu};
use crate::nn::{Conv1d, Tensor};

/// An activation fused into the kernel's store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// The output as computed.
    None,
    /// max(0, x).
    Relu,
}

/// Must match `Params` in conv1d.wgsl.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    out_channels: u32,
    in_channels: u32,
    kernel: u32,
    stride: u32,
    dilation: u32,
    pad_left: u32,
    len_in: u32,
    len_out: u32,
    batch: u32,
    activation: u32,
    has_bias: u32,
    out_offset: u32,
    out_total: u32,
    accumulate: u32,
    /// Weight gradients: positions per workgroup layer.
    chunk: u32,
    _pad: u32,
}

/// Output tile of one workgroup (see conv1d.wgsl).
const TILE: usize = 64;
/// WebGPU's default limit on workgroups per dispatch dimension.
const MAX_GROUPS: usize = 65535;

/// A Conv1d layer resident on the GPU.
pub struct GpuConv1d {
    conv: Shape,
    activation: Activation,
    /// Output-channel groups, each with weights that fit one storage binding (one group
    /// unless the layer is larger than WebGPU's 128 MiB binding limit, like DeepSEA's first
    /// dense layer).
    parts: Vec<Part>,
    kernels: Kernels,
}

/// The compiled conv1d.wgsl entry points. Parameters travel in a uniform, so every layer of
/// a graph shares one set (compiling per layer cost seconds on software adapters).
#[derive(Clone)]
pub(crate) struct Kernels {
    forward: wgpu::ComputePipeline,
    backward_data: wgpu::ComputePipeline,
    /// Compiled for training only (software adapters take seconds per entry point).
    backward_weight: Option<wgpu::ComputePipeline>,
}

impl Kernels {
    pub(crate) fn new(gpu: &Gpu) -> Kernels {
        Self::compile_all(gpu, false)
    }

    /// The kernels with the weight gradient's, for training.
    pub(crate) fn for_training(gpu: &Gpu) -> Kernels {
        Self::compile_all(gpu, true)
    }

    fn compile_all(gpu: &Gpu, training: bool) -> Kernels {
        let module = gpu
            .device
            .create_shader_module(wgpu::include_wgsl!("conv1d.wgsl"));
        Kernels {
            forward: compile(gpu, &module, "main"),
            backward_data: compile(gpu, &module, "backward_data"),
            backward_weight: training.then(|| compile(gpu, &module, "backward_weight")),
        }
    }
}

/// Output channels `offset..offset + count` of a layer, with their weights and biases.
struct Part {
    offset: usize,
    count: usize,
    weight: wgpu::Buffer,
    bias: wgpu::Buffer,
}

/// Which clock timed a benchmark dispatch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// Timestamp queries on the device.
    Timestamps,
    /// The host's clock from submit to completion.
    Wall,
}

/// The layer's geometry: all the kernel needs once the weights are on the GPU.
#[derive(Clone, Copy, Debug)]
struct Shape {
    in_channels: usize,
    out_channels: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    pad_left: usize,
    pad_right: usize,
    has_bias: bool,
}

impl GpuConv1d {
    /// Uploads the layer's weights and compiles the kernels.
    pub async fn new(gpu: &Gpu, conv: &Conv1d, activation: Activation) -> Result<GpuConv1d, Error> {
        super::scoped(gpu, || {
            Self::upload(gpu, conv, activation, &Kernels::new(gpu))
        })
        .await?
    }

    /// Uploads the layer's weights to run with `kernels`, without an error scope (for
    /// callers that hold one).
    pub(crate) fn upload(
        gpu: &Gpu,
        conv: &Conv1d,
        activation: Activation,
        kernels: &Kernels,
    ) -> Result<GpuConv1d, Error> {
        let d = &gpu.device;
        let storage = |label: &str, data: &[f32]| {
            d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytemuck::cast_slice(data),
                // Training updates the weights in place and reads them back.
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_SRC
                    | wgpu::BufferUsages::COPY_DST,
            })
        };
        let per_channel = conv.in_channels * conv.kernel;
        let limit = gpu.capabilities().max_storage_buffer_binding_size as usize / 4;
        let group = (limit / per_channel.max(1)).min(MAX_GROUPS * TILE);
        if group == 0 {
            return Err(Error::Run(format!(
                "one output channel of a {}-channel, width-{} convolution has {per_channel} \
                 weights; a GPU binding holds at most {limit}",
                conv.in_channels, conv.kernel
            )));
        }
        let parts = (0..conv.out_channels)
            .step_by(group)
            .map(|offset| {
                let count = group.min(conv.out_channels - offset);
                let w = &conv.weight.value[offset * per_channel..(offset + count) * per_channel];
                // A binding cannot be empty: a bias-less layer binds one unused zero.
                let b = conv
                    .bias
                    .as_ref()
                    .map_or(&[0.0][..], |b| &b.value[offset..offset + count]);
                Part {
                    offset,
                    count,
                    weight: storage("conv1d weight", w),
                    bias: storage("conv1d bias", b),
                }
            })
            .collect();
        Ok(GpuConv1d {
            conv: Shape {
                in_channels: conv.in_channels,
                out_channels: conv.out_channels,
                kernel: conv.kernel,
                stride: conv.stride,
                dilation: conv.dilation,
                pad_left: conv.pad_left,
                pad_right: conv.pad_right,
                has_bias: conv.bias.is_some(),
            },
            activation,
            parts,
            kernels: kernels.clone(),
        })
    }

    pub(crate) fn activation(&self) -> Activation {
        self.activation
    }

    /// `act(conv(x))` for `x` `[batch, in_channels, length]`, equal to the CPU engine's
    /// `Conv1d::forward` (plus the activation) up to float rounding.
    pub async fn forward(&self, gpu: &Gpu, x: &Tensor) -> Result<Tensor, Error> {
        let c = &self.conv;
        let (n, ci, l) = x.ncl("Conv1d")?;
        if ci != c.in_channels {
            return Err(crate::nn::Error::Shape(format!(
                "Conv1d expects {} input channels, got {ci}",
                c.in_channels
            ))
            .into());
        }
        let span = c.dilation * (c.kernel - 1) + 1;
        let padded = l + c.pad_left + c.pad_right;
        if padded < span {
            return Err(crate::nn::Error::Shape(format!(
                "Conv1d kernel {} (dilation {}) does not fit length {l}",
                c.kernel, c.dilation
            ))
            .into());
        }
        let lout = (padded - span) / c.stride + 1;
        let co = c.out_channels;
        // Batch slices: each input and output binding stays within the device's storage
        // binding limit and each dispatch within the workgroup-count limit.
        let limit = gpu.capabilities().max_storage_buffer_binding_size as usize / 4;
        let per_item = (ci * l).max(co * lout);
        let mut slice = (limit / per_item.max(1)).max(1).min(n.max(1));
        while slice > 1 && (slice * lout).div_ceil(TILE) > MAX_GROUPS {
            slice /= 2;
        }
        if per_item > limit || (slice * lout).div_ceil(TILE) > MAX_GROUPS {
            return Err(Error::Run(format!(
                "one sequence ({per_item} values) exceeds the GPU's buffer or dispatch limits"
            )));
        }
        let d = &gpu.device;
        let mut out = Vec::with_capacity(n * co * lout);
        let mut first = 0;
        while first < n {
            let b = slice.min(n - first);
            let xs = &x.data[first * ci * l..(first + b) * ci * l];
            let input = d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("conv1d input"),
                contents: bytemuck::cast_slice(xs),
                usage: wgpu::BufferUsages::STORAGE,
            });
            let output = super::storage_buffer(gpu, b * co * lout);
            super::scoped(gpu, || {
                let mut enc = d.create_command_encoder(&Default::default());
                self.encode(gpu, &mut enc, &input, &output, b, l);
                gpu.queue.submit([enc.finish()]);
            })
            .await?;
            out.extend(gpu.read(&output, b * co * lout).await?);
            first += b;
        }
        Ok(Tensor::new(&[n, co, lout], out)?)
    }

    /// Device time of one dispatch over `batch` resident inputs of length `len`: `repeats`
    /// dispatches recorded into one submission, timed by timestamp queries around them where
    /// the device has them ([`Clock::Timestamps`]), else by the wall clock from submit to
    /// completion; upload and readback are excluded either way. For benchmarks
    /// (benches/gpu.rs); native only, where the wall clock is `std::time`.
    #[cfg(not(target_arch = "wasm32"))]
    pub async fn time_dispatch(
        &self,
        gpu: &Gpu,
        batch: usize,
        len: usize,
        repeats: usize,
    ) -> Result<(std::time::Duration, Clock), Error> {
        let repeats = repeats.max(1);
        let input = super::storage_buffer(gpu, batch * self.conv.in_channels * len);
        let output = super::storage_buffer(gpu, batch * self.conv.out_channels * self.out_len(len));
        let d = &gpu.device;
        let stamps = gpu.capabilities().timestamps.then(|| {
            let set = d.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("conv1d timing"),
                ty: wgpu::QueryType::Timestamp,
                count: 2,
            });
            let resolved = d.create_buffer(&wgpu::BufferDescriptor {
                label: Some("conv1d timestamps"),
                size: 16,
                usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            });
            (set, resolved)
        });
        // An empty pass that writes timestamp `index` at its start (0) or end (1).
        let stamp = |enc: &mut wgpu::CommandEncoder, index: u32| {
            if let Some((set, _)) = &stamps {
                enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("timestamp"),
                    timestamp_writes: Some(wgpu::ComputePassTimestampWrites {
                        query_set: set,
                        beginning_of_pass_write_index: (index == 0).then_some(0),
                        end_of_pass_write_index: (index == 1).then_some(1),
                    }),
                });
            }
        };
        let record = |n: usize| {
            let mut enc = d.create_command_encoder(&Default::default());
            stamp(&mut enc, 0);
            for _ in 0..n {
                self.encode(gpu, &mut enc, &input, &output, batch, len);
            }
            stamp(&mut enc, 1);
            if let Some((set, resolved)) = &stamps {
                enc.resolve_query_set(set, 0..2, resolved, 0);
            }
            enc.finish()
        };
        // Warm-up: pipeline creation and first-use costs stay out of the measurement.
        let warm = record(1);
        super::scoped(gpu, || gpu.queue.submit([warm])).await?;
        gpu.read(&output, 1).await?;
        let commands = record(repeats);
        let start = std::time::Instant::now();
        super::scoped(gpu, || gpu.queue.submit([commands])).await?;
        gpu.read(&output, 1).await?;
        let wall = start.elapsed() / repeats as u32;
        let Some((_, resolved)) = &stamps else {
            return Ok((wall, Clock::Wall));
        };
        let words = gpu.read(resolved, 4).await?;
        let tick = |i: usize| {
            u64::from(words[2 * i].to_bits()) | (u64::from(words[2 * i + 1].to_bits()) << 32)
        };
        let ns =
            tick(1).saturating_sub(tick(0)) as f64 * f64::from(gpu.queue.get_timestamp_period());
        Ok((
            std::time::Duration::from_secs_f64(ns / 1e9 / repeats as f64),
            Clock::Timestamps,
        ))
    }

    /// Output length for input length `l` (the caller has checked that the kernel fits).
    pub(crate) fn out_len(&self, l: usize) -> usize {
        let c = &self.conv;
        (l + c.pad_left + c.pad_right - c.dilation * (c.kernel - 1) - 1) / c.stride + 1
    }

    /// Records the convolution of `batch` items of length `len_in` from `input` into
    /// `output` (`[batch, out_channels, out_len]`), through the fused activation.
    pub(crate) fn encode(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        input: &wgpu::Buffer,
        output: &wgpu::Buffer,
        batch: usize,
        len_in: usize,
    ) {
        self.encode_as(gpu, enc, input, output, batch, len_in, self.activation);
    }

    /// [`GpuConv1d::encode`] with `activation` in place of the fused one (DeepLIFT keeps the
    /// pre-activations, which its Rescale rule reads).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn encode_as(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        input: &wgpu::Buffer,
        output: &wgpu::Buffer,
        batch: usize,
        len_in: usize,
        activation: Activation,
    ) {
        let lout = self.out_len(len_in);
        for part in &self.parts {
            let mut params = self.params(part, batch, len_in, false);
            params.activation = (activation == Activation::Relu) as u32;
            let groups = [
                (batch * lout).div_ceil(TILE) as u32,
                part.count.div_ceil(TILE) as u32,
                1,
            ];
            let buffers = [input, &part.weight, &part.bias, output];
            record(
                gpu,
                enc,
                &self.kernels.forward,
                &params,
                &[1, 2, 3, 4],
                &buffers,
                groups,
            );
        }
    }

    /// Records the gradient with respect to the input: `dy` `[batch, out_channels, out_len]`
    /// (already through the fused activation's derivative) into `dx` `[batch, in_channels,
    /// len_in]`. Channel groups after the first add into `dx`.
    pub(crate) fn encode_backward(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        dy: &wgpu::Buffer,
        dx: &wgpu::Buffer,
        batch: usize,
        len_in: usize,
    ) {
        let pipeline = &self.kernels.backward_data;
        for (i, part) in self.parts.iter().enumerate() {
            let params = self.params(part, batch, len_in, i > 0);
            let groups = [
                (batch * len_in).div_ceil(TILE) as u32,
                self.conv.in_channels.div_ceil(TILE) as u32,
                1,
            ];
            // The bias is not read, so the automatic layout has no binding 3.
            record(
                gpu,
                enc,
                pipeline,
                &params,
                &[1, 2, 4],
                &[dy, &part.weight, dx],
                groups,
            );
        }
    }

    /// The weight and bias buffers of a layer whose weights fit one binding (training
    /// refuses larger layers before uploading them); the bias buffer of a layer without one
    /// holds one unused zero.
    pub(crate) fn buffers(&self) -> Option<(&wgpu::Buffer, &wgpu::Buffer)> {
        match &self.parts[..] {
            [part] => Some((&part.weight, &part.bias)),
            _ => None,
        }
    }

    /// How many position chunks [`GpuConv1d::encode_weight_grad`] splits `batch` items of
    /// length `len_in` into: enough workgroups to fill a large GPU (about 1,024), chunks of
    /// at least 256 positions, and partial sums that fit one binding.
    pub(crate) fn weight_grad_layers(&self, gpu: &Gpu, batch: usize, len_in: usize) -> usize {
        let c = &self.conv;
        let tiles = (c.in_channels * c.kernel).div_ceil(TILE) * c.out_channels.div_ceil(TILE);
        let positions = batch * self.out_len(len_in);
        let weights = c.out_channels * c.in_channels * c.kernel;
        let limit = gpu.capabilities().max_storage_buffer_binding_size as usize / 4;
        1024usize
            .div_ceil(tiles)
            .min(positions.div_ceil(256))
            .min(limit / weights.max(1))
            .clamp(1, MAX_GROUPS)
    }

    /// Records the gradient with respect to the weights of a one-part layer (see
    /// [`GpuConv1d::buffers`]): `x` the forward input `[batch, in_channels, len_in]`, `dy`
    /// the output's gradient, into `partial` `[layers, out_channels, in_channels x kernel]`,
    /// one partial sum per chunk of positions (`layers` from
    /// [`GpuConv1d::weight_grad_layers`]); their sum is the gradient. Needs
    /// [`Kernels::for_training`].
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn encode_weight_grad(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        x: &wgpu::Buffer,
        dy: &wgpu::Buffer,
        partial: &wgpu::Buffer,
        batch: usize,
        len_in: usize,
        layers: usize,
    ) {
        let pipeline = self
            .kernels
            .backward_weight
            .as_ref()
            .expect("training kernels compiled");
        let part = &self.parts[0];
        let mut params = self.params(part, batch, len_in, false);
        params.chunk = (batch * self.out_len(len_in)).div_ceil(layers) as u32;
        let groups = [
            (self.conv.in_channels * self.conv.kernel).div_ceil(TILE) as u32,
            part.count.div_ceil(TILE) as u32,
            layers as u32,
        ];
        record(
            gpu,
            enc,
            pipeline,
            &params,
            &[1, 2, 4],
            &[x, dy, partial],
            groups,
        );
    }

    fn params(&self, part: &Part, batch: usize, len_in: usize, accumulate: bool) -> Params {
        let c = &self.conv;
        Params {
            out_channels: part.count as u32,
            in_channels: c.in_channels as u32,
            kernel: c.kernel as u32,
            stride: c.stride as u32,
            dilation: c.dilation as u32,
            pad_left: c.pad_left as u32,
            len_in: len_in as u32,
            len_out: self.out_len(len_in) as u32,
            batch: batch as u32,
            activation: (self.activation == Activation::Relu) as u32,
            has_bias: c.has_bias as u32,
            out_offset: part.offset as u32,
            out_total: c.out_channels as u32,
            accumulate: accumulate as u32,
            chunk: 0,
            _pad: 0,
        }
    }
}

fn compile(gpu: &Gpu, module: &wgpu::ShaderModule, entry: &str) -> wgpu::ComputePipeline {
    gpu.device
        .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(entry),
            layout: None,
            module,
            entry_point: Some(entry),
            compilation_options: Default::default(),
            cache: None,
        })
}

/// One dispatch of `pipeline` with `params` at binding 0 and `buffers` at `bindings`.
fn record(
    gpu: &Gpu,
    enc: &mut wgpu::CommandEncoder,
    pipeline: &wgpu::ComputePipeline,
    params: &Params,
    bindings: &[u32],
    buffers: &[&wgpu::Buffer],
    groups: [u32; 3],
) {
    let d = &gpu.device;
    let uniform = d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("conv1d params"),
        contents: bytemuck::bytes_of(params),
        usage: wgpu::BufferUsages::UNIFORM,
    });
    let mut entries = vec![super::entry(0, &uniform)];
    entries.extend(
        bindings
            .iter()
            .zip(buffers)
            .map(|(&b, buf)| super::entry(b, buf)),
    );
    let bind = d.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("conv1d"),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &entries,
    });
    let mut pass = enc.begin_compute_pass(&Default::default());
    pass.set_pipeline(pipeline);
    pass.set_bind_group(0, &bind, &[]);
    pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
}
