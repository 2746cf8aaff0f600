// The engine's non-GEMM layers, one invocation per output value (they are memory-bound; the
// GEMM kernel in conv1d.wgsl carries the arithmetic). All take the same 16-word parameter
// block (`OpParams` in graph.rs mirrors it field for field); each entry point documents the
// words it reads. Values are [batch, channels, length]
// row-major (dense layers' [batch, features] is length 1).

struct Params {
  n: u32,        // output values
  channels: u32,
  len_in: u32,
  len_out: u32,
  kernel: u32,
  stride: u32,
  op: u32,
  c_total: u32,  // copy, slice_back: channels of the output
  c_offset: u32, // copy, slice_back: first output channel
  left: u32,     // copy, slice_back: input position of output position 0
  alpha: f32,    // ELU
  dilation: u32, // pool
  pad_left: u32, // pool
  pad_right: u32, // pool
  count_pad: u32, // pool: an average counts the padding
  _p4: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> z: array<f32>;  // second input, or per-channel affine [scale..., shift...]
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

fn index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * 256u;
}

// op: 0 ReLU, 1 ELU(alpha), 2 Softplus, 3 Exp, 4 Sigmoid, 5 per-channel affine (batch norm
// in evaluation mode: z = [scale; shift]), 6 Tanh, 7 LeakyReLU(alpha >= 0), 8 GELU, 9 GELU
// (tanh approximation).
@compute @workgroup_size(256)
fn unary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= p.n) {
    return;
  }
  let v = x[i];
  if (p.op == 5u) {
    let c = (i / p.len_in) % p.channels;
    y[i] = v * z[c] + z[p.channels + c];
  } else {
    y[i] = activate(p.op, v);
  }
}

// The element-wise activation `op` (every code but 5) of v.
fn activate(op: u32, v: f32) -> f32 {
  var r = v;
  switch op {
    case 0u: { r = max(v, 0.0); }
    case 1u: { r = select(p.alpha * (exp(v) - 1.0), v, v > 0.0); }
    case 2u: { r = max(v, 0.0) + log(1.0 + exp(-abs(v))); }
    case 3u: { r = exp(v); }
    case 4u: { r = 1.0 / (1.0 + exp(-v)); }
    // From exp(-2|v|), which never overflows (WGSL's tanh may be (e^2v - 1) / (e^2v + 1),
    // NaN for large v on some backends).
    case 6u: {
      let e = exp(-2.0 * abs(v));
      r = sign(v) * (1.0 - e) / (1.0 + e);
    }
    case 7u: { r = select(p.alpha * v, v, v > 0.0); }
    case 8u: { r = v * 0.5 * (1.0 + erf(v * 0.70710678)); }
    // 0.5 v (1 + tanh(u)) = v * sigmoid(2u), which stays finite for large |u|.
    case 9u: { r = v / (1.0 + exp(-2.0 * 0.7978845608 * (v + 0.044715 * v * v * v))); }
    default: {}
  }
  return r;
}

// erf (WGSL has none): Abramowitz & Stegun 7.1.26, absolute error below 1.5e-7.
fn erf(v: f32) -> f32 {
  let a = abs(v);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(v) * (1.0 - poly * exp(-a * a));
}

// op: 0 max, 1 average, 2 sum; windows of `kernel` taps `dilation` apart every `stride`, over the
// input padded by pad_left/pad_right, which never wins a max and counts in an average only
// with count_pad; len_out (ceil mode included) comes from the host.
@compute @workgroup_size(256)
fn pool(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= p.n) {
    return;
  }
  let row = i / p.len_out;
  let t = i % p.len_out;
  let start = i32(t * p.stride) - i32(p.pad_left);
  let dil = max(p.dilation, 1u);
  // -inf for a window wholly in the padding. Built from a uniform: a constant -inf is an
  // error in Tint (Chromium's WGSL compiler), which Naga accepts.
  var m = bitcast<f32>(0xff800000u | (p.n & 0u));
  var found = false;
  var s = 0.0;
  var inside = 0u;
  var padded = 0u;
  for (var k = 0u; k < p.kernel; k++) {
    let q = start + i32(k * dil);
    if (q < i32(p.len_in + p.pad_right)) {
      padded += 1u;
    }
    if (q >= 0 && q < i32(p.len_in)) {
      let v = x[row * p.len_in + u32(q)];
      if (!found || v > m || v != v) {
        m = v;
        found = true;
      }
      s += v;
      inside += 1u;
    }
  }
  let count = select(inside, padded, p.count_pad == 1u);
  y[i] = select(select(m, s / f32(max(count, 1u)), p.op == 1u), s, p.op == 2u);
}

@compute @workgroup_size(256)
fn add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= p.n) {
    return;
  }
  y[i] = x[i] + z[i];
}

// Softmax over channels (op 0: one invocation per item and position, n = batch * len_in) or
// over the length (op 1: one invocation per item and channel, n = batch * channels).
@compute @workgroup_size(256)
fn softmax(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= p.n) {
    return;
  }
  var base = i * p.len_in;
  var step = 1u;
  var k = p.len_in;
  if (p.op == 0u) {
    base = (i / p.len_in) * p.channels * p.len_in + i % p.len_in;
    step = p.len_in;
    k = p.channels;
  }
  var m = x[base];
  for (var j = 1u; j < k; j++) {
    m = max(m, x[base + j * step]);
  }
  var s = 0.0;
  for (var j = 0u; j < k; j++) {
    s += exp(x[base + j * step] - m);
  }
  for (var j = 0u; j < k; j++) {
    y[base + j * step] = exp(x[base + j * step] - m) / s;
  }
}

// y[b, c_offset + c, t] = x[b, c, left + t]: concatenation along channels, and crop.
// n = batch * channels * len_out (the input's share of the output).
@compute @workgroup_size(256)
fn copy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= p.n) {
    return;
  }
  let t = i % p.len_out;
  let c = (i / p.len_out) % p.channels;
  let b = i / (p.len_out * p.channels);
  y[(b * p.c_total + p.c_offset + c) * p.len_out + t] = x[(b * p.channels + c) * p.len_in + p.left + t];
}

// Backward of `copy` (concatenation and cropping): y[b, c, s] = x[b, c_offset + c, s - left]
// where 0 <= s - left < len_out, else 0 (the positions a crop dropped). y is the input's
// gradient (n = batch * channels * len_in values), x the output's (c_total channels of
// len_out positions).
@compute @workgroup_size(256)
fn slice_back(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= p.n) {
    return;
  }
  let s = i % p.len_in;
  let c = (i / p.len_in) % p.channels;
  let b = i / (p.len_in * p.channels);
  var v = 0.0;
  if (s >= p.left && s - p.left < p.len_out) {
    v = x[(b * p.c_total + p.c_offset + c) * p.len_out + s - p.left];
  }
  y[i] = v;
}

// Backward of `unary`: x = the output's gradient, z = the forward output (or [scale; shift]
// for op 5), y = the input's gradient. Derivatives are written in terms of the output, which
// the forward pass kept.
@compute @workgroup_size(256)
fn unary_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= p.n) {
    return;
  }
  let g = x[i];
  if (p.op == 5u) {
    let c = (i / p.len_in) % p.channels;
    y[i] = g * z[c];
  } else {
    y[i] = g * slope(p.op, z[i]);
  }
}

// The derivative of activation `op` (not 5, nor GELU's 8 and 9) at the input whose output
// is `out`.
fn slope(op: u32, out: f32) -> f32 {
  var r = 1.0;
  switch op {
    case 0u: { r = select(0.0, 1.0, out > 0.0); }
    case 1u: { r = select(out + p.alpha, 1.0, out > 0.0); }
    // softplus' = sigmoid(v) = 1 - exp(-softplus(v))
    case 2u: { r = 1.0 - exp(-out); }
    case 3u: { r = out; }
    case 4u: { r = out * (1.0 - out); }
    case 6u: { r = 1.0 - out * out; }
    // alpha >= 0: the output is positive exactly where the input is.
    case 7u: { r = select(p.alpha, 1.0, out > 0.0); }
    default: {}
  }
  return r;
}

// DeepLIFT's Rescale rule for activation `op` over n (input, reference) pairs: x = the
// output's multipliers (n values), z = the forward input of the paired batch (inputs, then
// their references n values on), y = the input's multipliers: (f(a) - f(r)) / (a - r), or
// the derivative at a where |a - r| < 1e-6 (as nn::deeplift and tangermeme's `_nonlinear`).
@compute @workgroup_size(256)
fn rescale_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= p.n) {
    return;
  }
  let g = x[i];
  let a = z[i];
  let r = z[i + p.n];
  let fa = activate(p.op, a);
  let d = a - r;
  if (abs(d) >= 1e-6) {
    y[i] = g * (fa - activate(p.op, r)) / d;
  } else {
    y[i] = g * slope(p.op, fa);
  }
}

// Backward of `pool`, gathered per input position (no atomics): x = the output's gradient,
// z = the forward input, y = the input's gradient. Max pooling routes each window's gradient
// to its first maximum (NaN wins), as the CPU engine does.
@compute @workgroup_size(256)
fn pool_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= p.n) {
    return;
  }
  let row = i / p.len_in;
  let s = i % p.len_in;
  let span = windows_over(s);
  let first = span.x;
  let last = span.y;
  var r = 0.0;
  for (var t = first; t <= last && t < p.len_out; t++) {
    let g = x[row * p.len_out + t];
    if (p.op == 1u) {
      r += g / f32(p.kernel);
    } else if (p.op == 2u) {
      r += g;
    } else {
      if (t * p.stride + window_argmax(row * p.len_in + t * p.stride) == s) {
        r += g;
      }
    }
  }
  y[i] = r;
}

// The plain windows t that read input position s (t*stride <= s < t*stride + kernel, and
// t < len_out), as (first, last); none when first > last.
fn windows_over(s: u32) -> vec2<u32> {
  var first = 0u;
  if (s + 1u > p.kernel) {
    first = (s + 1u - p.kernel + p.stride - 1u) / p.stride;
  }
  return vec2<u32>(first, min(s / p.stride, p.len_out - 1u));
}

// The first maximum (NaN wins) of the plain window of z starting at `base`, as the CPU
// engine picks it.
fn window_argmax(base: u32) -> u32 {
  var arg = 0u;
  var m = z[base];
  for (var k = 1u; k < p.kernel; k++) {
    let v = z[base + k];
    if (v > m || v != v) {
      m = v;
      arg = k;
    }
  }
  return arg;
}

// DeepLIFT's max-pool rule (nn::deeplift's `max_pool_multipliers`, tangermeme's `_maxpool`)
// over n input values of (input, reference) pairs, gathered per input position like
// `pool_backward`: x = the output's multipliers, z = the forward input of the paired batch
// (references n values on), y = the input's multipliers. Each window's output difference
// splits into max(y, r) - r for the input's winner and y - max(y, r) for the reference's;
// a position's multiplier is what it received over its own input difference, or its
// gradient where that difference is zero.
@compute @workgroup_size(256)
fn pool_deeplift(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= p.n) {
    return;
  }
  let row = i / p.len_in;
  let s = i % p.len_in;
  let span = windows_over(s);
  let first = span.x;
  let last = span.y;
  var received = 0.0;
  var gradient = 0.0;
  for (var t = first; t <= last && t < p.len_out; t++) {
    let g = x[row * p.len_out + t];
    let base = row * p.len_in + t * p.stride;
    let ax = window_argmax(base);
    let ar = window_argmax(base + p.n);
    let yi = z[base + ax];
    let yr = z[base + p.n + ar];
    let cross = max(yi, yr);
    if (t * p.stride + ax == s) {
      received += g * (cross - yr);
      gradient += g;
    }
    if (t * p.stride + ar == s) {
      received += g * (yi - cross);
    }
  }
  let delta = z[i] - z[i + p.n];
  y[i] = select(received / delta, gradient, delta == 0.0);
}
