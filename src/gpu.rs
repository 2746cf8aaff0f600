//! The GPU backend: a wgpu device and the engine's layers as WGSL compute shaders (`.wgsl`
//! files beside the Rust that dispatches them). Natively wgpu drives Vulkan, Metal or DX12
//! (Mesa's lavapipe in CI); in the browser the same shaders run on WebGPU.
//!
//! All GPU work is async, because a browser cannot block on a readback; native callers block
//! with `blocking::block_on` at the edge. wgpu's validation errors are captured in error scopes and
//! returned as [`Error::Run`], never as panics.

mod conv1d;
mod graph;
mod train;

use serde::Serialize;

pub use conv1d::{Activation, Clock, GpuConv1d};
pub use graph::{GpuGraph, forward_blocker, gradient_blocker};
pub use train::{GpuTrainer, train_blocker};

/// Errors from the GPU backend.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No adapter could be found (why, as the browser or driver says).
    #[error("no GPU adapter: {0}")]
    NoAdapter(String),
    /// The adapter's device could not be created.
    #[error("the GPU device could not be created: {0}")]
    Device(String),
    /// A kernel, buffer or readback failed.
    #[error("GPU: {0}")]
    Run(String),
    /// The graph cannot run on the engine at all.
    #[error(transparent)]
    Nn(#[from] crate::nn::Error),
}

/// What the adapter is and can do.
#[derive(Clone, Debug, Serialize)]
pub struct Capabilities {
    /// The adapter's name.
    pub adapter: String,
    /// The graphics API under wgpu (Vulkan, Metal, DX12, WebGPU).
    pub backend: String,
    /// Discrete, integrated, virtual or CPU.
    pub device_type: String,
    /// The driver's name and version.
    pub driver: String,
    /// The largest storage buffer one binding can hold, in bytes.
    pub max_storage_buffer_binding_size: u64,
    /// Workgroup memory, in bytes.
    pub max_compute_workgroup_storage_size: u32,
    /// Invocations one workgroup may have.
    pub max_compute_invocations_per_workgroup: u32,
    /// Half-precision arithmetic in shaders.
    pub shader_f16: bool,
    /// Subgroup operations.
    pub subgroups: bool,
    /// A CPU implementation of the API (lavapipe, SwiftShader): correct, but slower than
    /// the CPU engine.
    pub software: bool,
    /// Timestamp queries: kernel times on the device's clock.
    pub timestamps: bool,
}

impl Capabilities {
    /// The adapter's name, or its backend when the platform hides the name (browsers may).
    pub fn display_name(&self) -> String {
        if self.adapter.is_empty() {
            format!("{} adapter", self.backend)
        } else {
            self.adapter.clone()
        }
    }
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
        // Without WebGPU (Node, older browsers, Chromium without a usable adapter) wgpu would
        // still build a WebGPU instance; ask first so the error says why.
        #[cfg(target_arch = "wasm32")]
        if !wgpu::util::is_browser_webgpu_supported().await {
            return Err(Error::NoAdapter(
                "WebGPU is not available here (no navigator.gpu, or it offers no adapter)".into(),
            ));
        }
        let instance = wgpu::Instance::new(instance_descriptor());
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
        // Timestamp queries time kernels on the device clock (benchmarks) where offered.
        let wanted = features & wgpu::Features::TIMESTAMP_QUERY;
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("seqlens"),
                required_limits: limits.clone(),
                required_features: wanted,
                ..Default::default()
            })
            .await
            .map_err(|e| Error::Device(e.to_string()))?;
        // Errors outside an error scope (there should be none) are logged, not panicked on.
        device.on_uncaptured_error(std::sync::Arc::new(|e| {
            eprintln!("seqlens: uncaptured GPU error: {e}");
        }));
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
            software: info.device_type == wgpu::DeviceType::Cpu,
            timestamps: wanted.contains(wgpu::Features::TIMESTAMP_QUERY),
        };
        Ok(Gpu {
            device,
            queue,
            capabilities,
        })
    }

    /// What the adapter is and can do.
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
        let (tx, rx) = futures_channel::oneshot::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |r| {
            // The receiver is gone only if the caller stopped waiting.
            let _ = tx.send(r);
        });
        // Natively the callback runs inside `poll`; in the browser `poll` is a no-op and the
        // callback runs when the GPU's promise resolves, waking the await below.
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Run(e.to_string()))?;
        rx.await
            .map_err(|_| Error::Run("the GPU dropped a readback".into()))?
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

/// Runs `work` inside validation and out-of-memory error scopes and returns the first error
/// either caught, so a bad dispatch is an `Err` rather than wgpu's default panic.
pub(crate) async fn scoped<T>(gpu: &Gpu, work: impl FnOnce() -> T) -> Result<T, Error> {
    let oom = gpu.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let validation = gpu.device.push_error_scope(wgpu::ErrorFilter::Validation);
    let out = work();
    let v = validation.pop().await;
    let o = oom.pop().await;
    match v.or(o) {
        Some(e) => Err(Error::Run(e.to_string())),
        None => Ok(out),
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn instance_descriptor() -> wgpu::InstanceDescriptor {
    // `WGPU_BACKEND=vulkan` etc. picks a backend (CI pins lavapipe's Vulkan).
    wgpu::InstanceDescriptor::new_without_display_handle_from_env()
}

#[cfg(target_arch = "wasm32")]
fn instance_descriptor() -> wgpu::InstanceDescriptor {
    let mut d = wgpu::InstanceDescriptor::new_without_display_handle();
    d.backends = wgpu::Backends::BROWSER_WEBGPU;
    d
}
