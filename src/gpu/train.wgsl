// Training kernels: per-channel reductions (bias gradients, batch norm's batch statistics and
// parameter gradients), batch norm's training forward and backward, dropout masks, the global
// gradient norm, and the SGD and Adam updates. The forward and input-gradient kernels of the
// other layers are ops.wgsl's and conv1d.wgsl's. Every entry point binds the same 16-word
// parameter block (`TrainParams` in train.rs, 20 words) and five read-write buffers a..e; each documents
// which it reads and writes. Values are [batch, channels, length] row-major.

struct Params {
  n: u32,        // values (element-wise kernels) or parameter length
  channels: u32,
  len: u32,      // positions per channel of one item
  batch: u32,
  lr: f32,
  momentum: f32, // SGD; batch norm: the running statistics' momentum
  decay: f32,    // weight decay
  beta1: f32,
  beta2: f32,
  eps: f32,      // Adam; batch norm: added to the variance
  step: u32,     // optimiser steps taken, this one included
  decoupled: u32,
  clip: f32,     // largest global gradient norm (0: no clipping)
  norms: u32,    // partial sums of squares in `e` (one per parameter)
  index: u32,    // grad_sumsq: which partial sum this dispatch writes
  c1: f32,       // Adam's bias corrections 1 - beta^step, computed on the host as the CPU
  c2: f32,       // does (in f32, pow would differ where 1 - beta2^step is small)
  _p1: u32,
  _p2: u32,
  _p3: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read_write> d: array<f32>;
@group(0) @binding(5) var<storage, read_write> e: array<f32>;

const WG: u32 = 256u;
var<workgroup> partial: array<f32, 256>;
var<workgroup> partial2: array<f32, 256>;

fn index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

// Offset of the k-th value of channel `ch` over the batch: k = item * len + position.
fn at(ch: u32, k: u32) -> u32 {
  return ((k / p.len) * p.channels + ch) * p.len + k % p.len;
}

// Tree sum of both workgroup arrays; the totals end in element 0.
fn reduce(lid: u32) {
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (lid < s) {
      partial[lid] += partial[lid + s];
      partial2[lid] += partial2[lid + s];
    }
  }
  workgroupBarrier();
}

// One workgroup per channel: e[ch] = sum of a over the channel's batch x len values (a
// convolution's or dense layer's bias gradient from its output gradient).
@compute @workgroup_size(256)
fn bias_grad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let ch = wg.x;
  var s = 0.0;
  for (var k = lid.x; k < p.batch * p.len; k += WG) {
    s += a[at(ch, k)];
  }
  partial[lid.x] = s;
  partial2[lid.x] = 0.0;
  reduce(lid.x);
  if (lid.x == 0u) {
    e[ch] = partial[0];
  }
}

// Batch norm's batch statistics, one workgroup per channel: a = the input; d[ch] = mean,
// d[channels + ch] = 1 / sqrt(biased variance + eps); the running mean b and running
// variance c (unbiased) move by `momentum` towards them (PyTorch's convention). Two passes
// (mean, then squared deviations) keep f32 accurate.
@compute @workgroup_size(256)
fn bn_stats(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let ch = wg.x;
  let count = p.batch * p.len;
  var s = 0.0;
  for (var k = lid.x; k < count; k += WG) {
    s += a[at(ch, k)];
  }
  partial[lid.x] = s;
  partial2[lid.x] = 0.0;
  reduce(lid.x);
  let mean = partial[0] / f32(count);
  workgroupBarrier();
  var q = 0.0;
  for (var k = lid.x; k < count; k += WG) {
    let dev = a[at(ch, k)] - mean;
    q += dev * dev;
  }
  partial[lid.x] = q;
  reduce(lid.x);
  if (lid.x == 0u) {
    let n = f32(count);
    let biased = partial[0] / n;
    d[ch] = mean;
    d[p.channels + ch] = 1.0 / sqrt(biased + p.eps);
    let unbiased = select(biased, biased * n / (n - 1.0), count > 1u);
    b[ch] = (1.0 - p.momentum) * b[ch] + p.momentum * mean;
    c[ch] = (1.0 - p.momentum) * c[ch] + p.momentum * unbiased;
  }
}

// Batch norm's training forward: a = the input, b = the statistics of bn_stats, c = gamma,
// d = beta, e = the output.
@compute @workgroup_size(256)
fn bn_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= p.n) {
    return;
  }
  let ch = (i / p.len) % p.channels;
  e[i] = (a[i] - b[ch]) * b[p.channels + ch] * c[ch] + d[ch];
}

// Batch norm's parameter gradients, one workgroup per channel: a = the output's gradient,
// b = the forward input, c = the statistics (mean, inverse std; this writes sum(dy) and
// sum(dy * xhat) after them, which bn_backward reads), d = gamma's gradient, e = beta's.
@compute @workgroup_size(256)
fn bn_param_grad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let ch = wg.x;
  let mean = c[ch];
  let inv = c[p.channels + ch];
  var s = 0.0;
  var sx = 0.0;
  for (var k = lid.x; k < p.batch * p.len; k += WG) {
    let i = at(ch, k);
    s += a[i];
    sx += a[i] * (b[i] - mean) * inv;
  }
  partial[lid.x] = s;
  partial2[lid.x] = sx;
  reduce(lid.x);
  if (lid.x == 0u) {
    c[2u * p.channels + ch] = partial[0];
    c[3u * p.channels + ch] = partial2[0];
    d[ch] = partial2[0];
    e[ch] = partial[0];
  }
}

// Batch norm's input gradient through the batch statistics: a = the output's gradient, b =
// the forward input, c = the statistics with bn_param_grad's sums, d = gamma, e = the input's
// gradient: gamma * inv / N * (N dy - sum(dy) - xhat sum(dy xhat)).
@compute @workgroup_size(256)
fn bn_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= p.n) {
    return;
  }
  let C = p.channels;
  let ch = (i / p.len) % C;
  let n = f32(p.batch * p.len);
  let inv = c[C + ch];
  let xhat = (b[i] - c[ch]) * inv;
  e[i] = d[ch] * inv / n * (n * a[i] - c[2u * C + ch] - xhat * c[3u * C + ch]);
}

// e[i] = sum over z < channels of a[z * n + i]: the weight gradient from backward_weight's
// partial sums, one per chunk of positions (n weights each).
@compute @workgroup_size(256)
fn sum_layers(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= p.n) {
    return;
  }
  var s = 0.0;
  for (var z = 0u; z < p.channels; z++) {
    s += a[z * p.n + i];
  }
  e[i] = s;
}

// e = a * b element-wise: dropout forward (b = the scaled keep mask) and backward alike.
@compute @workgroup_size(256)
fn multiply(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= p.n) {
    return;
  }
  e[i] = a[i] * b[i];
}

// One workgroup: e[index] = the sum of squares of the gradient a (n values), one term of the
// global norm that clipping divides by.
@compute @workgroup_size(256)
fn grad_sumsq(@builtin(local_invocation_id) lid: vec3<u32>) {
  var s = 0.0;
  for (var k = lid.x; k < p.n; k += WG) {
    s += a[k] * a[k];
  }
  partial[lid.x] = s;
  partial2[lid.x] = 0.0;
  reduce(lid.x);
  if (lid.x == 0u) {
    e[p.index] = partial[0];
  }
}

// The gradient of value k after clipping by the global norm (as train::clip_grad_norm).
fn clipped(k: u32) -> f32 {
  var g = b[k];
  if (p.clip > 0.0) {
    var sq = 0.0;
    for (var j = 0u; j < p.norms; j++) {
      sq += e[j];
    }
    let norm = sqrt(sq);
    if (norm > p.clip) {
      g *= p.clip / (norm + 1e-6);
    }
  }
  return g;
}

// SGD with momentum and L2 decay (as train::OptimState::step): a = the weights, b = their
// gradient, c = the momentum buffer, e = the partial norms when clipping.
@compute @workgroup_size(256)
fn sgd(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= p.n) {
    return;
  }
  let g = clipped(i) + p.decay * a[i];
  var m = g;
  if (p.step > 1u) {
    m = p.momentum * c[i] + g;
  }
  c[i] = m;
  a[i] -= p.lr * select(g, m, p.momentum > 0.0);
}

// Adam, or AdamW when decoupled (as train::OptimState::step): a = the weights, b = their
// gradient, c and d = the first and second moments, e = the partial norms when clipping.
@compute @workgroup_size(256)
fn adam(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= p.n) {
    return;
  }
  var g = clipped(i);
  var w = a[i];
  if (p.decoupled == 1u) {
    w -= p.lr * p.decay * w;
  } else {
    g += p.decay * w;
  }
  let m = p.beta1 * c[i] + (1.0 - p.beta1) * g;
  let v = p.beta2 * d[i] + (1.0 - p.beta2) * g * g;
  c[i] = m;
  d[i] = v;
  a[i] = w - p.lr * (m / p.c1) / (sqrt(v / p.c2) + p.eps);
}
