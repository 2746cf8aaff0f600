//! The GPU backend: a wgpu device and the engine's layers as WGSL compute shaders (`.wgsl`
//! files beside the Rust that dispatches them). Natively wgpu drives Vulkan, Metal or DX12
//! (Mesa's lavapipe in CI); the same shaders are meant for WebGPU in browsers.
//!
//! Status: device acquisition with capabilities, and Conv1d forward (tiled GEMM with im2col
//! in the tile loads, bias and ReLU fused) checked against the CPU engine. The other layers,
//! backward passes and the `Model` integration are still to come (issue 4).
//!
//! All GPU work is async; native callers block with [`block_on`] at the edge.

mod conv1d;
mod graph;

use serde::Serialize;

pub use conv1d::{Activation, GpuConv1d};
pub use graph::GpuGraph;

/// Errors from the GPU backend.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no GPU adapter: {0}")]
    NoAdapter(String),
    #[error("the GPU device could not be created: {0}")]
    Device(String),
    #[error("GPU: {0}")]
    Run(String),
    #[error(transparent)]
    Nn(#[from] crate::nn::Error),
}

/// What the adapter is and can do.
#[derive(Clone, Debug, Serialize)]
pub struct Capabilities {
    pub adapter: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
    pub max_storage_buffer_binding_size: u64,
    pub max_compute_workgroup_storage_size: u32,
    pub max_compute_invocations_per_workgroup: u32,
    pub shader_f16: bool,
    pub subgroups: bool,
}

/// A GPU device and queue.
pub struct Gpu {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    capabilities: Capabilities,
}

impl Gpu {
    /// The first adapter wgpu offers (high performance preferred), with WebGPU's default
    /// limits so that whatever runs here also runs in a browser. `WGPU_BACKEND` selects a
    /// backend (e.g. `vulkan`).
    pub async fn new() -> Result<Gpu, Error> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .map_err(|e| Error::NoAdapter(e.to_string()))?;
        let info = adapter.get_info();
        let features = adapter.features();
        let limits = wgpu::Limits::default();
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("seqlens"),
                required_limits: limits.clone(),
                ..Default::default()
            })
            .await
            .map_err(|e| Error::Device(e.to_string()))?;
        let capabilities = Capabilities {
            adapter: info.name.clone(),
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
            driver: format!("{} {}", info.driver, info.driver_info)
                .trim()
                .to_string(),
            max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size,
            max_compute_workgroup_storage_size: limits.max_compute_workgroup_storage_size,
            max_compute_invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
            shader_f16: features.contains(wgpu::Features::SHADER_F16),
            subgroups: features.contains(wgpu::Features::SUBGROUP),
        };
        Ok(Gpu {
            device,
            queue,
            capabilities,
        })
    }

    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// Copies a storage buffer back to the host.
    pub(crate) async fn read(&self, src: &wgpu::Buffer, len: usize) -> Result<Vec<f32>, Error> {
        let bytes = (len * 4) as u64;
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut enc = self.device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(src, 0, &staging, 0, bytes);
        self.queue.submit([enc.finish()]);
        let (tx, rx) = futures_channel();
        staging.map_async(wgpu::MapMode::Read, .., move |r| tx.send(r));
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Run(e.to_string()))?;
        rx.recv()
            .await
            .map_err(|e| Error::Run(format!("reading results back: {e}")))?;
        let view = staging
            .get_mapped_range(..)
            .map_err(|e| Error::Run(e.to_string()))?;
        let out = bytemuck::cast_slice::<u8, f32>(&view).to_vec();
        drop(view);
        staging.unmap();
        Ok(out)
    }
}

/// An uninitialised storage buffer of `len` f32 values that can be read back.
pub(crate) fn storage_buffer(gpu: &Gpu, len: usize) -> wgpu::Buffer {
    gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("activations"),
        size: (len.max(1) * 4) as u64,
        usage: wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_SRC
            | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

pub(crate) fn entry(binding: u32, buffer: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding,
        resource: buffer.as_entire_binding(),
    }
}

/// A one-shot channel for a map callback: natively `poll` has already run the callback when
/// `recv` is awaited.
fn futures_channel() -> (OneShotTx, OneShotRx) {
    let slot = std::sync::Arc::new(std::sync::Mutex::new(None));
    (OneShotTx(slot.clone()), OneShotRx(slot))
}

struct OneShotTx(std::sync::Arc<std::sync::Mutex<Option<Result<(), wgpu::BufferAsyncError>>>>);
struct OneShotRx(std::sync::Arc<std::sync::Mutex<Option<Result<(), wgpu::BufferAsyncError>>>>);

impl OneShotTx {
    fn send(self, r: Result<(), wgpu::BufferAsyncError>) {
        if let Ok(mut s) = self.0.lock() {
            *s = Some(r);
        }
    }
}

impl OneShotRx {
    async fn recv(self) -> Result<(), String> {
        match self.0.lock().map(|mut s| s.take()) {
            Ok(Some(r)) => r.map_err(|e| e.to_string()),
            _ => Err("the map callback did not run".into()),
        }
    }
}

/// Runs a GPU future to completion on the current thread (native only).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    pollster::block_on(f)
}
