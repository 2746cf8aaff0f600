//! Numeric kernels: GEMM through the `gemm` crate, im2col/col2im for Conv1d, batch-parallel
//! loops. The batch is split over rayon's threads in fixed contiguous chunks and partial
//! weight gradients are summed in chunk order, so results are bit-identical for a given
//! thread count. rayon's pool is native threads, Web Workers in the threaded wasm build, and
//! the calling thread alone in the plain wasm build (rayon's fallback where threads cannot
//! start), so one code path serves every build.

use rayon::prelude::*;

/// A read-only matrix view with arbitrary strides, so transposes cost nothing.
#[derive(Clone, Copy)]
pub(crate) struct Mat<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    rs: isize,
    cs: isize,
}

impl<'a> Mat<'a> {
    /// A row-major `rows x cols` matrix.
    pub fn new(data: &'a [f32], rows: usize, cols: usize) -> Self {
        debug_assert!(data.len() >= rows * cols);
        Mat {
            data,
            rows,
            cols,
            rs: cols as isize,
            cs: 1,
        }
    }

    /// The transpose, as a view.
    pub fn t(self) -> Self {
        Mat {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }
}

/// `out[m x n] = (out if accumulate) + a[m x k] * b[k x n]`, with `out` row-major, on the
/// calling thread (callers parallelise over batch items or tiles).
pub(crate) fn matmul(out: &mut [f32], a: Mat, b: Mat, accumulate: bool) {
    // SAFETY: `out` is exclusively borrowed, so its one block is this call's alone.
    unsafe { Blocks::new(out).matmul(0, b.cols, a, b, accumulate) }
}

/// Output columns per task of [`matmul_column_blocks`].
const COLUMN_BLOCK: usize = 32;

/// [`matmul`] in blocks of [`COLUMN_BLOCK`] output columns, over every thread natively. For
/// a dense layer (`b` the transposed weight matrix) each block reads only its own rows of the
/// weights, once: on DeepSEA's 50,880 × 925 layer the gemm crate's single call over the
/// whole transposed matrix ran 3× (one sequence) to 10× (four) slower on one thread, and the
/// threads share the memory traffic that bounds a short batch.
pub(crate) fn matmul_column_blocks(out: &mut [f32], a: Mat, b: Mat, accumulate: bool) {
    let n = b.cols;
    // One block, or an empty inner dimension (b may hold no values to slice columns from).
    if n <= COLUMN_BLOCK || a.cols == 0 {
        return matmul(out, a, b, accumulate);
    }
    let dst = Blocks::new(out);
    let block = |j: usize| {
        let (j0, j1) = (j * COLUMN_BLOCK, ((j + 1) * COLUMN_BLOCK).min(n));
        let cols = Mat {
            data: &b.data[j0 * b.cs as usize..],
            cols: j1 - j0,
            ..b
        };
        // SAFETY: blocks of distinct columns are disjoint. `cols` starts at b's column j0
        // with b's strides (non-negative, as every `Mat` has), inside b's checked slice.
        unsafe { dst.matmul(j0, n, a, cols, accumulate) }
    };
    let blocks = n.div_ceil(COLUMN_BLOCK);
    match parallel(blocks) {
        true => (0..blocks).into_par_iter().for_each(block),
        false => (0..blocks).for_each(block),
    }
}

/// An output buffer that parallel tasks write in place, each its own block of it, instead
/// of returning a buffer per task to be copied in (which, for a convolution over a long
/// batch, allocated and copied the whole output a second time).
#[derive(Clone, Copy)]
pub(crate) struct Blocks<'a> {
    ptr: *mut f32,
    len: usize,
    _buf: std::marker::PhantomData<&'a mut [f32]>,
}

// SAFETY: `Blocks` hands out access only through its unsafe methods, whose callers promise
// that concurrent tasks touch disjoint values.
unsafe impl Send for Blocks<'_> {}
unsafe impl Sync for Blocks<'_> {}

impl<'a> Blocks<'a> {
    pub fn new(buf: &'a mut [f32]) -> Self {
        Blocks {
            ptr: buf.as_mut_ptr(),
            len: buf.len(),
            _buf: std::marker::PhantomData,
        }
    }

    /// `block = (block if accumulate) + a * b`, where the block is `a.rows x b.cols` values
    /// from `at` with row stride `rs`.
    ///
    /// # Safety
    /// No other task reads or writes the block's values during the call.
    pub unsafe fn matmul(self, at: usize, rs: usize, a: Mat, b: Mat, accumulate: bool) {
        let (m, k, n) = (a.rows, a.cols, b.cols);
        assert_eq!(k, b.rows, "matmul inner dimensions");
        if m == 0 || n == 0 {
            return;
        }
        assert!(
            n <= rs && at + (m - 1) * rs + n <= self.len,
            "matmul output block"
        );
        if k == 0 {
            if !accumulate {
                for i in 0..m {
                    // SAFETY: row i of the block, checked above; the caller's exclusivity.
                    unsafe { self.row(at + i * rs, n) }.fill(0.0);
                }
            }
            return;
        }
        if cfg!(target_arch = "wasm32") && m <= DOT_ROWS && a.cs == 1 && b.rs == 1 {
            // SAFETY: the block is inside the buffer (checked above); the caller's exclusivity.
            return unsafe { self.dot_rows(at, rs, a, b, accumulate) };
        }
        // SAFETY: the block lies inside the buffer (checked above) and is the caller's alone.
        unsafe { gemm_raw(self.ptr.add(at), rs, a, b, accumulate) }
    }

    /// [`Blocks::matmul`] by one dot product per output value, for `a`'s rows and `b`'s
    /// columns contiguous (`a.cs == b.rs == 1`; see [`DOT_ROWS`]). Each column of `b` is read
    /// once for all rows of `a`, while it is in cache.
    ///
    /// # Safety
    /// As [`Blocks::matmul`]'s, whose checks the caller has made.
    unsafe fn dot_rows(self, at: usize, rs: usize, a: Mat, b: Mat, accumulate: bool) {
        assert!(
            a.cs == 1 && b.rs == 1,
            "dot products need contiguous rows and columns"
        );
        let k = a.cols;
        // SAFETY: row i < a.rows of the block; the caller's checks and exclusivity.
        let mut rows: Vec<&mut [f32]> = (0..a.rows)
            .map(|i| unsafe { self.row(at + i * rs, b.cols) })
            .collect();
        for j in 0..b.cols {
            let w = &b.data[j * b.cs as usize..][..k];
            for (i, row) in rows.iter_mut().enumerate() {
                let d = dot(&a.data[i * a.rs as usize..][..k], w);
                row[j] = if accumulate { row[j] + d } else { d };
            }
        }
    }

    /// The `len` values from `at`.
    ///
    /// # Safety
    /// No other task reads or writes them while the slice lives.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn row(&self, at: usize, len: usize) -> &'a mut [f32] {
        assert!(at + len <= self.len, "row inside the buffer");
        // SAFETY: inside the buffer, which outlives 'a; the caller's exclusivity.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(at), len) }
    }
}

/// In wasm, products with at most this many rows, whose rows of `a` and columns of `b` both
/// lie contiguous in memory (a dense layer over a short batch: `b` is the transposed weight
/// matrix), run as one dot product per output value: a single pass over the weights, which
/// the gemm crate's simd128 path, packing them first, makes slower (44% of DeepSEA's time at
/// batch 1 in V8; the dot products take DeepSEA from 13.2 to 16.0 sequences/s there).
/// Natively gemm's AVX-512 kernels beat these baseline-SIMD dot products (DeepSEA batch 1,
/// one thread: 9.8 s against 13.5 s for 400 sequences), so they keep the product.
const DOT_ROWS: usize = 4;

/// `a · b` over eight partial sums, which the compiler keeps in SIMD registers (two f32x4 in
/// wasm): a single running sum cannot be vectorised, as float addition does not reassociate.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let (ca, ra) = a.as_chunks::<8>();
    let (cb, rb) = b.as_chunks::<8>();
    let mut acc = [0.0f32; 8];
    for (x, y) in ca.iter().zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// `gemm` on raw parts: `out` row-major with row stride `out_rs`.
///
/// # Safety
/// `out` must be valid for writes at every `i * out_rs + j` (`i < a.rows`, `j < b.cols`),
/// unaliased by `a` and `b`, and each view's strides must stay inside its slice.
unsafe fn gemm_raw(out: *mut f32, out_rs: usize, a: Mat, b: Mat, accumulate: bool) {
    // SAFETY: the caller's contract.
    unsafe {
        gemm::gemm(
            a.rows,
            b.cols,
            a.cols,
            out,
            1,
            out_rs as isize,
            accumulate,
            a.data.as_ptr(),
            a.cs,
            a.rs,
            b.data.as_ptr(),
            b.cs,
            b.rs,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// Geometry of a 1-D convolution or pooling window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window1d {
    pub kernel: usize,
    pub stride: usize,
    pub dilation: usize,
    pub pad_left: usize,
    pub pad_right: usize,
}

impl Window1d {
    /// Output length for input length `l`, or `None` if the window does not fit.
    pub fn out_len(&self, l: usize) -> Option<usize> {
        let span = self.dilation * (self.kernel - 1) + 1;
        let padded = l + self.pad_left + self.pad_right;
        (padded >= span && self.stride > 0).then(|| (padded - span) / self.stride + 1)
    }

    /// Input position of tap `k` for output `t`, if inside the unpadded input: the definition
    /// the slice-based kernels are tested against.
    #[cfg(test)]
    pub fn src(&self, t: usize, k: usize, l: usize) -> Option<usize> {
        let p = (t * self.stride + k * self.dilation) as isize - self.pad_left as isize;
        (p >= 0 && (p as usize) < l).then_some(p as usize)
    }
}

/// Output positions `t` whose tap `k` reads inside the input, and the first input position:
/// `lo..hi` maps to input `first + (t - lo) * stride`.
#[inline]
fn valid_span(w: Window1d, k: usize, l: usize, lout: usize) -> (usize, usize, usize) {
    let off = (k * w.dilation) as isize - w.pad_left as isize;
    let s = w.stride as isize;
    // smallest t with t*s + off >= 0, and smallest t with t*s + off >= l
    let lo = if off >= 0 {
        0
    } else {
        ((-off + s - 1) / s) as usize
    };
    let hi = if (l as isize) <= off {
        0
    } else {
        ((l as isize - off + s - 1) / s) as usize
    };
    let (lo, hi) = (lo.min(lout), hi.min(lout).max(lo.min(lout)));
    (lo, hi, (lo as isize * s + off).max(0) as usize)
}

/// `cols[(c * K + k) * lout + t] = x[c, src(t, k)]` (0 in the padding). Rows are filled by
/// slice copies when the stride is 1, which is the common case and the hot loop of training.
pub(crate) fn im2col(x: &[f32], c: usize, l: usize, w: Window1d, lout: usize, cols: &mut [f32]) {
    im2col_range(x, c, l, w, lout, 0..lout, cols)
}

/// [`im2col`] for the output positions `ts` only: `cols` is `[c * K, ts.len()]`.
pub(crate) fn im2col_range(
    x: &[f32],
    c: usize,
    l: usize,
    w: Window1d,
    lout: usize,
    ts: std::ops::Range<usize>,
    cols: &mut [f32],
) {
    let width = ts.len();
    for ci in 0..c {
        let xc = &x[ci * l..(ci + 1) * l];
        for k in 0..w.kernel {
            let row = &mut cols[(ci * w.kernel + k) * width..(ci * w.kernel + k + 1) * width];
            let (lo, hi, first) = valid_span(w, k, l, lout);
            // the valid outputs of this tap inside ts, relative to ts.start
            let a = lo.clamp(ts.start, ts.end);
            let b = hi.clamp(a, ts.end);
            if a == b {
                row.fill(0.0);
                continue;
            }
            let first = first + (a - lo) * w.stride;
            let (a, b) = (a - ts.start, b - ts.start);
            row[..a].fill(0.0);
            row[b..].fill(0.0);
            if w.stride == 1 {
                row[a..b].copy_from_slice(&xc[first..first + (b - a)]);
            } else {
                for (j, v) in row[a..b].iter_mut().enumerate() {
                    *v = xc[first + j * w.stride];
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: adds `cols` back into `dx`.
pub(crate) fn col2im(cols: &[f32], c: usize, l: usize, w: Window1d, lout: usize, dx: &mut [f32]) {
    for ci in 0..c {
        let dxc = &mut dx[ci * l..(ci + 1) * l];
        for k in 0..w.kernel {
            let row = &cols[(ci * w.kernel + k) * lout..(ci * w.kernel + k + 1) * lout];
            let (lo, hi, first) = valid_span(w, k, l, lout);
            // A tap that reads only padding (a kernel longer than the input) has no span,
            // and its `first` may lie past the input.
            if hi <= lo {
                continue;
            }
            if w.stride == 1 {
                for (d, v) in dxc[first..first + (hi - lo)].iter_mut().zip(&row[lo..hi]) {
                    *d += v;
                }
            } else {
                for (j, v) in row[lo..hi].iter().enumerate() {
                    dxc[first + j * w.stride] += v;
                }
            }
        }
    }
}

/// Runs `f(first_item, items_out)` over contiguous chunks of `out` (one chunk per thread
/// of rayon's pool). `per_item` values belong to each item.
pub(crate) fn for_batch<F>(out: &mut [f32], per_item: usize, f: F)
where
    F: Fn(usize, &mut [f32]) + Sync + Send,
{
    let n = out.len().checked_div(per_item).unwrap_or(0);
    let chunk = n.div_ceil(threads()).max(1);
    let size = chunk * per_item.max(1);
    match parallel(n.div_ceil(chunk)) {
        true => out
            .par_chunks_mut(size)
            .enumerate()
            .for_each(|(i, o)| f(i * chunk, o)),
        false => (out.chunks_mut(size).enumerate()).for_each(|(i, o)| f(i * chunk, o)),
    }
}

/// Maps contiguous batch chunks to partial results with `f(range)`, then returns them in
/// chunk order, so reductions over them are deterministic.
pub(crate) fn map_batch<T, F>(n: usize, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(std::ops::Range<usize>) -> T + Sync + Send,
{
    let chunk = n.div_ceil(threads()).max(1);
    let ranges: Vec<_> = (0..n)
        .step_by(chunk)
        .map(|s| s..(s + chunk).min(n))
        .collect();
    match parallel(ranges.len()) {
        true => ranges.into_par_iter().map(f).collect(),
        false => ranges.into_iter().map(f).collect(),
    }
}

/// `f(scratch, i)` for `i` in `0..n`, in parallel (each thread reuses one scratch made by
/// `init`). Results come back in index order.
pub(crate) fn par_map<S, T, I, F>(n: usize, init: I, f: F) -> Vec<T>
where
    T: Send,
    I: Fn() -> S + Sync + Send,
    F: Fn(&mut S, usize) -> T + Sync + Send,
{
    if !parallel(n) {
        let mut scratch = init();
        return (0..n).map(|i| f(&mut scratch, i)).collect();
    }
    (0..n).into_par_iter().map_init(init, f).collect()
}

/// Whether `tasks` tasks go to rayon's pool: not one task alone, nor with one thread. A
/// region entered from outside the pool wakes a pool thread and then the caller; natively
/// that costs microseconds, but in the threaded wasm build (Web Workers woken through
/// Atomics.wait/notify) it cost 15 % of DeepSEA's time at batch 1 on a one-worker pool,
/// where most layers are one task.
pub(crate) fn parallel(tasks: usize) -> bool {
    tasks > 1 && threads() > 1
}

/// The threads a parallel kernel splits its work over: rayon's pool (one thread in the
/// plain wasm build).
pub(crate) fn threads() -> usize {
    rayon::current_num_threads()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matmul_matches_hand_product_and_transposes() {
        // [[1,2,3],[4,5,6]] x [[1,0],[0,1],[1,1]] = [[4,5],[10,11]]
        let a = [1., 2., 3., 4., 5., 6.];
        let b = [1., 0., 0., 1., 1., 1.];
        let mut out = [0.0; 4];
        matmul(&mut out, Mat::new(&a, 2, 3), Mat::new(&b, 3, 2), false);
        assert_eq!(out, [4., 5., 10., 11.]);
        matmul(&mut out, Mat::new(&a, 2, 3), Mat::new(&b, 3, 2), true);
        assert_eq!(out, [8., 10., 20., 22.]);
        // a^T a = [[17,22,27],[22,29,36],[27,36,45]]
        let mut out = [0.0; 9];
        let m = Mat::new(&a, 2, 3);
        matmul(&mut out, m.t(), m, false);
        assert_eq!(out, [17., 22., 27., 22., 29., 36., 27., 36., 45.]);
    }

    /// The dot-product path (wasm's, for short batches) computes the product by its
    /// definition: a dense layer's transposed weights, inner sizes around the 8-wide chunks,
    /// accumulation, and an output block inside a wider buffer.
    #[test]
    fn dot_rows_match_the_product_by_definition() {
        for (m, k, n) in [(1, 70, 5), (4, 33, 3), (2, 8, 4), (3, 7, 2)] {
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 7) % 13) as f32 - 6.0).collect();
            let w: Vec<f32> = (0..n * k).map(|i| ((i * 5) % 11) as f32 - 5.0).collect();
            let want =
                |i: usize, j: usize| (0..k).map(|p| a[i * k + p] * w[j * k + p]).sum::<f32>();
            for accumulate in [false, true] {
                // Row stride n + 2, from offset 1: the values around the block stay 1.
                let rs = n + 2;
                let mut out = vec![1.0f32; 1 + m * rs];
                let (a_m, b_m) = (Mat::new(&a, m, k), Mat::new(&w, n, k).t());
                // SAFETY: the block fits in `out`, which no one else touches.
                unsafe { Blocks::new(&mut out).dot_rows(1, rs, a_m, b_m, accumulate) };
                for i in 0..m {
                    for j in 0..rs {
                        let got = out[1 + i * rs + j];
                        let expect = match j < n {
                            true => want(i, j) + if accumulate { 1.0 } else { 0.0 },
                            false => 1.0,
                        };
                        assert!((got - expect).abs() < 1e-3, "{m}x{k}x{n} ({i},{j}): {got}");
                    }
                }
                assert_eq!(out[0], 1.0);
            }
        }
    }

    /// Column blocks compute the product by its definition, for a dense layer's transposed
    /// weights, a width that is not a multiple of the block, and accumulation.
    #[test]
    fn column_blocks_match_the_product_by_definition() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        for (m, k, n) in [(1, 70, 100), (5, 33, 65), (3, 8, 31), (2, 0, 40)] {
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 7) % 13) as f32 - 6.0).collect();
            // b = w^T, with w [n x k] row-major, as a dense layer reads its weights.
            let w: Vec<f32> = (0..n * k).map(|i| ((i * 5) % 11) as f32 - 5.0).collect();
            let b = Mat::new(&w, n, k).t();
            let want =
                |i: usize, j: usize| (0..k).map(|p| a[i * k + p] * w[j * k + p]).sum::<f32>();
            for accumulate in [false, true] {
                let mut out = vec![1.0f32; m * n];
                pool.install(|| matmul_column_blocks(&mut out, Mat::new(&a, m, k), b, accumulate));
                for i in 0..m {
                    for j in 0..n {
                        let base = if accumulate { 1.0 } else { 0.0 };
                        assert_eq!(out[i * n + j], base + want(i, j), "{m}x{k}x{n} ({i}, {j})");
                    }
                }
            }
        }
    }

    #[test]
    fn im2col_matches_its_definition() {
        for (k, stride, dil, pl, pr) in [
            (3, 1, 1, 1, 1),
            (5, 2, 1, 0, 3),
            (3, 3, 2, 4, 0),
            (1, 1, 1, 0, 0),
            (4, 1, 3, 5, 5),
        ] {
            let w = Window1d {
                kernel: k,
                stride,
                dilation: dil,
                pad_left: pl,
                pad_right: pr,
            };
            let (c, l) = (2, 9);
            let Some(lout) = w.out_len(l) else { continue };
            let x: Vec<f32> = (0..c * l).map(|i| i as f32 + 1.0).collect();
            let mut cols = vec![f32::NAN; c * k * lout];
            im2col(&x, c, l, w, lout, &mut cols);
            for ci in 0..c {
                for kk in 0..k {
                    for t in 0..lout {
                        let want = w.src(t, kk, l).map_or(0.0, |p| x[ci * l + p]);
                        assert_eq!(
                            cols[(ci * k + kk) * lout + t],
                            want,
                            "{w:?} c{ci} k{kk} t{t}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn im2col_range_is_a_column_block_of_im2col() {
        let w = Window1d {
            kernel: 3,
            stride: 2,
            dilation: 2,
            pad_left: 3,
            pad_right: 2,
        };
        let (c, l) = (2, 11);
        let lout = w.out_len(l).unwrap();
        let x: Vec<f32> = (0..c * l).map(|i| i as f32 + 1.0).collect();
        let mut full = vec![0.0; c * 3 * lout];
        im2col(&x, c, l, w, lout, &mut full);
        for (a, b) in [(0, lout), (1, 4), (2, 3), (lout - 1, lout)] {
            let mut part = vec![f32::NAN; c * 3 * (b - a)];
            im2col_range(&x, c, l, w, lout, a..b, &mut part);
            for row in 0..c * 3 {
                assert_eq!(
                    part[row * (b - a)..(row + 1) * (b - a)],
                    full[row * lout + a..row * lout + b]
                );
            }
        }
    }

    #[test]
    fn im2col_and_col2im_are_adjoint() {
        let w = Window1d {
            kernel: 3,
            stride: 2,
            dilation: 2,
            pad_left: 2,
            pad_right: 1,
        };
        let (c, l) = (2, 7);
        let lout = w.out_len(l).unwrap();
        let x: Vec<f32> = (0..c * l).map(|i| i as f32 * 0.5 - 1.0).collect();
        let y: Vec<f32> = (0..c * 3 * lout).map(|i| (i % 5) as f32 - 2.0).collect();
        let mut cols = vec![0.0; c * 3 * lout];
        im2col(&x, c, l, w, lout, &mut cols);
        let mut back = vec![0.0; c * l];
        col2im(&y, c, l, w, lout, &mut back);
        // <im2col(x), y> == <x, col2im(y)>
        let lhs: f32 = cols.iter().zip(&y).map(|(a, b)| a * b).sum();
        let rhs: f32 = x.iter().zip(&back).map(|(a, b)| a * b).sum();
        assert!((lhs - rhs).abs() < 1e-4, "{lhs} vs {rhs}");
    }
}
