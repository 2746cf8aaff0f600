// Conv1d forward as a tiled GEMM with im2col folded into the tile loads, bias and activation
// fused into the store: Y[b, co, t] = act(bias[co] + sum_k W[co, k] * X_col[k, (b, t)]),
// k = (ci, j) over in_channels x kernel, X_col[(ci, j), (b, t)] = x[b, ci, t*stride + j*dilation
// - pad_left] (zero outside the input). One workgroup computes a 64 x 64 tile of
// (out channel, batch*position) with 16 x 16 invocations of 4 x 4 outputs each; the K loop
// stages 16-deep slices of W and X_col in workgroup memory (8 KiB, within WebGPU's 16 KiB).

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
  // 0: none, 1: ReLU.
  activation: u32,
  has_bias: u32,
  // This dispatch computes output channels [out_offset, out_offset + out_channels) of
  // out_total: layers whose weights exceed one binding are split by output channel.
  out_offset: u32,
  out_total: u32,
  // backward_data: add into the output instead of overwriting it (channel groups after the
  // first).
  accumulate: u32,
  // backward_weight: positions (batch x len_out) each workgroup layer z sums over.
  chunk: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

const TM: u32 = 64u;
const TN: u32 = 64u;
const TK: u32 = 16u;

var<workgroup> a_tile: array<f32, 1024>; // [TK][TM]
var<workgroup> b_tile: array<f32, 1024>; // [TK][TN]

fn x_col(k: u32, n: u32) -> f32 {
  let kdim = p.in_channels * p.kernel;
  if (k >= kdim || n >= p.batch * p.len_out) {
    return 0.0;
  }
  let b = n / p.len_out;
  let t = n % p.len_out;
  let c = k / p.kernel;
  let j = k % p.kernel;
  let pos = i32(t * p.stride + j * p.dilation) - i32(p.pad_left);
  if (pos < 0 || pos >= i32(p.len_in)) {
    return 0.0;
  }
  return x[(b * p.in_channels + c) * p.len_in + u32(pos)];
}

// acc += this invocation's 4 x 4 block of a_tile^T * b_tile (both staged by the caller).
fn multiply_tiles(lid: vec3<u32>, acc: ptr<function, array<f32, 16>>) {
  for (var kk = 0u; kk < TK; kk++) {
    var a: array<f32, 4>;
    var bv: array<f32, 4>;
    for (var i = 0u; i < 4u; i++) {
      a[i] = a_tile[kk * TM + lid.y * 4u + i];
      bv[i] = b_tile[kk * TN + lid.x * 4u + i];
    }
    for (var i = 0u; i < 4u; i++) {
      for (var j = 0u; j < 4u; j++) {
        (*acc)[i * 4u + j] = fma(a[i], bv[j], (*acc)[i * 4u + j]);
      }
    }
  }
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let m0 = wg.y * TM;
  let n0 = wg.x * TN;
  let tid = lid.y * 16u + lid.x;
  let kdim = p.in_channels * p.kernel;
  let n_total = p.batch * p.len_out;
  var acc: array<f32, 16>;
  for (var i = 0u; i < 16u; i++) {
    acc[i] = 0.0;
  }
  for (var k0 = 0u; k0 < kdim; k0 += TK) {
    for (var r = 0u; r < 4u; r++) {
      let idx = tid + r * 256u;
      let kk = idx / TM;
      let mm = idx % TM;
      var v = 0.0;
      if (m0 + mm < p.out_channels && k0 + kk < kdim) {
        v = w[(m0 + mm) * kdim + k0 + kk];
      }
      a_tile[kk * TM + mm] = v;
      let kb = idx / TN;
      let nn = idx % TN;
      b_tile[kb * TN + nn] = x_col(k0 + kb, n0 + nn);
    }
    workgroupBarrier();
    multiply_tiles(lid, &acc);
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + lid.y * 4u + i;
    if (m >= p.out_channels) {
      continue;
    }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + lid.x * 4u + j;
      if (n >= n_total) {
        continue;
      }
      var v = acc[i * 4u + j];
      if (p.has_bias == 1u) {
        v += bias[m];
      }
      if (p.activation == 1u) {
        v = max(v, 0.0);
      }
      let b = n / p.len_out;
      let t = n % p.len_out;
      y[(b * p.out_total + p.out_offset + m) * p.len_out + t] = v;
    }
  }
}

// The gradient with respect to the input, as the same tiled GEMM with the roles swapped:
// dX[b, ci, s] = sum_k W[co, ci, j] * dY_col[k, (b, s)], k = (co, j) over this dispatch's
// output channels x kernel, dY_col[(co, j), (b, s)] = dY[b, out_offset + co, t] where
// s = t*stride + j*dilation - pad_left (zero where no whole t in range exists). `x` holds dY,
// `y` receives dX ([batch, in_channels, len_in]).
fn dy_col(k: u32, n: u32) -> f32 {
  if (k >= p.out_channels * p.kernel || n >= p.batch * p.len_in) {
    return 0.0;
  }
  let b = n / p.len_in;
  let s = n % p.len_in;
  let co = k / p.kernel;
  let j = k % p.kernel;
  let num = i32(s + p.pad_left) - i32(j * p.dilation);
  if (num < 0 || u32(num) % p.stride != 0u) {
    return 0.0;
  }
  let t = u32(num) / p.stride;
  if (t >= p.len_out) {
    return 0.0;
  }
  return x[(b * p.out_total + p.out_offset + co) * p.len_out + t];
}

@compute @workgroup_size(16, 16)
fn backward_data(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let m0 = wg.y * TM;
  let n0 = wg.x * TN;
  let tid = lid.y * 16u + lid.x;
  let kdim = p.out_channels * p.kernel;
  let n_total = p.batch * p.len_in;
  var acc: array<f32, 16>;
  for (var i = 0u; i < 16u; i++) {
    acc[i] = 0.0;
  }
  for (var k0 = 0u; k0 < kdim; k0 += TK) {
    for (var r = 0u; r < 4u; r++) {
      let idx = tid + r * 256u;
      let kk = idx / TM;
      let mm = idx % TM;
      var v = 0.0;
      if (m0 + mm < p.in_channels && k0 + kk < kdim) {
        let co = (k0 + kk) / p.kernel;
        let j = (k0 + kk) % p.kernel;
        v = w[(co * p.in_channels + m0 + mm) * p.kernel + j];
      }
      a_tile[kk * TM + mm] = v;
      let kb = idx / TN;
      let nn = idx % TN;
      b_tile[kb * TN + nn] = dy_col(k0 + kb, n0 + nn);
    }
    workgroupBarrier();
    multiply_tiles(lid, &acc);
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + lid.y * 4u + i;
    if (m >= p.in_channels) {
      continue;
    }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + lid.x * 4u + j;
      if (n >= n_total) {
        continue;
      }
      let b = n / p.len_in;
      let s = n % p.len_in;
      let o = (b * p.in_channels + m) * p.len_in + s;
      if (p.accumulate == 1u) {
        y[o] += acc[i * 4u + j];
      } else {
        y[o] = acc[i * 4u + j];
      }
    }
  }
}

// The gradient with respect to the weights, as the same tiled GEMM over the batch's
// positions: dW[co, k] = sum_n dY[co, n] * X_col[k, n], n = (b, t) over batch x len_out,
// k = (ci, j). The positions are split into chunks of `chunk`, one per workgroup layer z, so
// that a layer with few weights still fills the device; layer z writes its partial sums to
// y[z, co, k] (train.wgsl's `sum_layers` adds them). `x` holds the forward input, `w` the
// output's gradient dY (this dispatch's channels of out_total, as backward_data reads it).
@compute @workgroup_size(16, 16)
fn backward_weight(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let m0 = wg.y * TM;
  let n0 = wg.x * TN;
  let tid = lid.y * 16u + lid.x;
  let kdim = p.in_channels * p.kernel;
  let first = wg.z * p.chunk;
  let end = min(first + p.chunk, p.batch * p.len_out);
  var acc: array<f32, 16>;
  for (var i = 0u; i < 16u; i++) {
    acc[i] = 0.0;
  }
  for (var k0 = first; k0 < end; k0 += TK) {
    for (var r = 0u; r < 4u; r++) {
      let idx = tid + r * 256u;
      let kk = idx / TM;
      let mm = idx % TM;
      let q = k0 + kk;
      var v = 0.0;
      if (m0 + mm < p.out_channels && q < end) {
        let b = q / p.len_out;
        let t = q % p.len_out;
        v = w[(b * p.out_total + p.out_offset + m0 + mm) * p.len_out + t];
      }
      a_tile[kk * TM + mm] = v;
      let kb = idx / TN;
      let nn = idx % TN;
      var xv = 0.0;
      if (k0 + kb < end) {
        xv = x_col(n0 + nn, k0 + kb);
      }
      b_tile[kb * TN + nn] = xv;
    }
    workgroupBarrier();
    multiply_tiles(lid, &acc);
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + lid.y * 4u + i;
    if (m >= p.out_channels) {
      continue;
    }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + lid.x * 4u + j;
      if (n >= kdim) {
        continue;
      }
      y[(wg.z * p.out_channels + m) * kdim + n] = acc[i * 4u + j];
    }
  }
}
