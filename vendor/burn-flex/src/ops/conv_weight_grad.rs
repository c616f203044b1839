//! The weight gradient of a 2D convolution as im2col + GEMM per image (d2l-rs patch).
//!
//! burn's default `conv2d_weight_backward` swaps the batch and channel axes of the input and of
//! the output gradient (two layout copies) and runs them through the forward convolution with
//! the gradient as a huge kernel, which Flex's forward path turns into NHWC copies and im2col
//! columns as long as the minibatch times the output plane. Here, for each image `n` and group:
//!
//!     dW[co, (ci, kh, kw)] += sum over (oh, ow) of grad[n, co, oh, ow] * col_n[(ci, kh, kw), (oh, ow)]
//!
//! with `col_n` the input's im2col columns (zero where a window reaches into the padding): one
//! GEMM of `[c_out, P] x [P, c_in * kh * kw]` per image, where `P` is the output plane. Images
//! are split over rayon's threads, each summing into its own partial gradient.

use alloc::vec;
use alloc::vec::Vec;
use burn_backend::DType;
use burn_backend::ops::ConvOptions;
use burn_std::{Bytes, Shape, bf16, f16};
use num_traits::Float;

use crate::{FlexTensor, Layout};

/// Shapes and options of one weight-gradient computation.
#[derive(Clone, Copy)]
struct Dims {
    batch: usize,
    c_in: usize,
    in_h: usize,
    in_w: usize,
    c_out: usize,
    out_h: usize,
    out_w: usize,
    kernel_h: usize,
    kernel_w: usize,
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
    groups: usize,
}

impl Dims {
    /// Input channels per group.
    fn c_in_g(&self) -> usize {
        self.c_in / self.groups
    }
    /// Output channels per group.
    fn c_out_g(&self) -> usize {
        self.c_out / self.groups
    }
    /// One row of the weight gradient: the taps of one output channel.
    fn taps(&self) -> usize {
        self.c_in_g() * self.kernel_h * self.kernel_w
    }
    /// The output plane.
    fn plane(&self) -> usize {
        self.out_h * self.out_w
    }
}

/// The gradient of a 2D convolution's loss with respect to its weight, shaped like `weight`.
pub fn conv2d_weight_backward(
    x: FlexTensor,
    weight: FlexTensor,
    output_grad: FlexTensor,
    options: &ConvOptions<2>,
) -> FlexTensor {
    let x = x.to_contiguous();
    let grad = output_grad.to_contiguous();
    let (xs, ws, gs) = (x.layout().shape(), weight.layout().shape(), grad.layout().shape());
    let dims = Dims {
        batch: xs[0],
        c_in: xs[1],
        in_h: xs[2],
        in_w: xs[3],
        c_out: ws[0],
        out_h: gs[2],
        out_w: gs[3],
        kernel_h: ws[2],
        kernel_w: ws[3],
        stride: options.stride,
        padding: options.padding_begin(),
        dilation: options.dilation,
        groups: options.groups,
    };
    assert_eq!(ws[1], dims.c_in_g(), "conv2d_weight_backward: weight {ws:?} does not fit input {xs:?} in {} groups", dims.groups);
    assert_eq!(gs[1], dims.c_out, "conv2d_weight_backward: output gradient {gs:?} does not fit weight {ws:?}");
    let dtype = x.dtype();
    let out = match dtype {
        DType::F32 => Bytes::from_elems(weight_grad(x.storage::<f32>(), grad.storage::<f32>(), dims)),
        DType::F64 => Bytes::from_elems(weight_grad(x.storage::<f64>(), grad.storage::<f64>(), dims)),
        // Half precision: summed in f32, rounded once at the end.
        DType::F16 => {
            let widen = |s: &[f16]| s.iter().map(|v| v.to_f32()).collect::<Vec<_>>();
            let dw = weight_grad(&widen(x.storage()), &widen(grad.storage()), dims);
            Bytes::from_elems(dw.into_iter().map(f16::from_f32).collect::<Vec<_>>())
        }
        DType::BF16 => {
            let widen = |s: &[bf16]| s.iter().map(|v| v.to_f32()).collect::<Vec<_>>();
            let dw = weight_grad(&widen(x.storage()), &widen(grad.storage()), dims);
            Bytes::from_elems(dw.into_iter().map(bf16::from_f32).collect::<Vec<_>>())
        }
        other => panic!("conv2d_weight_backward: unsupported dtype {other:?}"),
    };
    FlexTensor::new(out, Layout::contiguous(Shape::from(ws.to_vec())), dtype)
}

/// `dW` as `[c_out, c_in / groups * kernel_h * kernel_w]`, row-major.
fn weight_grad<T: Float + Send + Sync + 'static>(x: &[T], grad: &[T], d: Dims) -> Vec<T> {
    let len = d.c_out * d.taps();
    // Each worker sums the images of its share into its own gradient; the shares are added last.
    let images = |range: core::ops::Range<usize>| {
        let mut dw = vec![T::zero(); len];
        let mut col = vec![T::zero(); d.taps() * d.plane()];
        for n in range {
            for g in 0..d.groups {
                im2col(x, n, g, d, &mut col);
                accumulate(&mut dw, grad, &col, n, g, d);
            }
        }
        dw
    };
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        let workers = rayon::current_num_threads().min(d.batch).max(1);
        if workers > 1 {
            let share = d.batch.div_ceil(workers);
            return (0..workers)
                .into_par_iter()
                .map(|w| images(w * share..((w + 1) * share).min(d.batch)))
                .reduce_with(|mut a, b| {
                    a.iter_mut().zip(b).for_each(|(a, b)| *a = *a + b);
                    a
                })
                .unwrap_or_else(|| vec![T::zero(); len]);
        }
    }
    images(0..d.batch)
}

/// Fills `col` (`[taps, plane]`, row-major) with image `n`'s input under the windows, for the
/// input channels of group `g`; zero where a window reaches into the padding.
fn im2col<T: Float + Send + Sync + 'static>(x: &[T], n: usize, g: usize, d: Dims, col: &mut [T]) {
    let [sh, sw] = d.stride;
    let [ph, pw] = d.padding;
    let [dh, dw] = d.dilation;
    let in_plane = d.in_h * d.in_w;
    let mut rows = col.chunks_exact_mut(d.plane());
    for ci in 0..d.c_in_g() {
        let channel = &x[(n * d.c_in + g * d.c_in_g() + ci) * in_plane..][..in_plane];
        for kh in 0..d.kernel_h {
            for kw in 0..d.kernel_w {
                let row = rows.next().expect("col holds taps * plane elements");
                // The output columns whose window tap (kh, kw) lands inside the input row.
                let offset = (kw * dw) as isize - pw as isize;
                let first = if offset >= 0 { 0 } else { (-offset) as usize }.div_ceil(sw).min(d.out_w);
                let end = if (d.in_w as isize) > offset {
                    ((d.in_w as isize - offset) as usize).div_ceil(sw).min(d.out_w)
                } else {
                    0
                }
                .max(first);
                for (oh, out_row) in row.chunks_exact_mut(d.out_w).enumerate() {
                    let ih = (oh * sh + kh * dh) as isize - ph as isize;
                    if ih < 0 || ih >= d.in_h as isize {
                        out_row.fill(T::zero());
                        continue;
                    }
                    let in_row = &channel[ih as usize * d.in_w..][..d.in_w];
                    out_row[..first].fill(T::zero());
                    out_row[end..].fill(T::zero());
                    if first == end {
                        // The tap reads only padding here (a kernel wider than the padded row).
                        continue;
                    }
                    let start = (first * sw) as isize + offset;
                    if sw == 1 {
                        out_row[first..end].copy_from_slice(&in_row[start as usize..][..end - first]);
                    } else {
                        for (o, i) in out_row[first..end].iter_mut().zip(in_row[start as usize..].iter().step_by(sw)) {
                            *o = *i;
                        }
                    }
                }
            }
        }
    }
}

/// `dw[group g's rows] += grad[n, group g's channels] (c_out_g x plane) * col^T (plane x taps)`.
fn accumulate<T: Float + Send + Sync + 'static>(dw: &mut [T], grad: &[T], col: &[T], n: usize, g: usize, d: Dims) {
    let (m, k, taps) = (d.c_out_g(), d.plane(), d.taps());
    let dst = &mut dw[g * m * taps..][..m * taps];
    let lhs = &grad[(n * d.c_out + g * m) * k..][..m * k];
    // SAFETY: `dst` is m x taps (row stride taps), `lhs` m x k (row stride k), and `col`, read as
    // its transpose, k x taps (column stride k): all in bounds of the slices above.
    unsafe {
        gemm::gemm(
            m,
            taps,
            k,
            dst.as_mut_ptr(),
            1,
            taps as isize,
            true,
            lhs.as_ptr(),
            1,
            k as isize,
            col.as_ptr(),
            k as isize,
            1,
            T::one(),
            T::one(),
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn_backend::TensorData;

    /// The definition, summed in f64: dW[co, ci, kh, kw] = sum over n, oh, ow of
    /// grad[n, co, oh, ow] * x[n, g * c_in_g + ci, oh * sh + kh * dh - ph, ow * sw + kw * dw - pw].
    fn naive(x: &[f32], grad: &[f32], d: Dims) -> Vec<f32> {
        let mut dw = vec![0.0f64; d.c_out * d.taps()];
        for n in 0..d.batch {
            for co in 0..d.c_out {
                let g = co / d.c_out_g();
                for ci in 0..d.c_in_g() {
                    for kh in 0..d.kernel_h {
                        for kw in 0..d.kernel_w {
                            let mut sum = 0.0;
                            for oh in 0..d.out_h {
                                for ow in 0..d.out_w {
                                    let ih = (oh * d.stride[0] + kh * d.dilation[0]) as isize - d.padding[0] as isize;
                                    let iw = (ow * d.stride[1] + kw * d.dilation[1]) as isize - d.padding[1] as isize;
                                    if ih < 0 || iw < 0 || ih >= d.in_h as isize || iw >= d.in_w as isize {
                                        continue;
                                    }
                                    let xv = x[((n * d.c_in + g * d.c_in_g() + ci) * d.in_h + ih as usize) * d.in_w + iw as usize];
                                    sum += grad[((n * d.c_out + co) * d.out_h + oh) * d.out_w + ow] as f64 * xv as f64;
                                }
                            }
                            dw[((co * d.c_in_g() + ci) * d.kernel_h + kh) * d.kernel_w + kw] += sum;
                        }
                    }
                }
            }
        }
        dw.into_iter().map(|v| v as f32).collect()
    }

    #[test]
    fn weight_gradient_matches_the_definition() {
        // (batch, c_in, [height, width], c_out, kernel, stride, padding, dilation, groups)
        let cases = [
            (3, 1, [9, 10], 2, 5, 1, 2, 1, 1), // LeNet's first layer, smaller
            (5, 3, [7, 8], 4, 3, 2, 1, 1, 1),  // strided, padded
            (2, 4, [8, 9], 6, 3, 1, 2, 2, 2),  // dilated, two groups
            (4, 2, [6, 7], 3, 2, 3, 0, 1, 1),  // stride larger than the kernel: columns skipped
            (2, 3, [1, 1], 2, 5, 1, 2, 1, 1),  // GoogLeNet's last 5x5 on a 1x1 plane: taps all padding
        ];
        for (batch, c_in, [h, w], c_out, k, s, p, dil, groups) in cases {
            let out = |size: usize| (size + 2 * p - dil * (k - 1) - 1) / s + 1;
            let d = Dims {
                batch, c_in, in_h: h, in_w: w, c_out, out_h: out(h), out_w: out(w),
                kernel_h: k, kernel_w: k, stride: [s, s], padding: [p, p], dilation: [dil, dil], groups,
            };
            let values = |len: usize, seed: usize| (0..len).map(|i| (((i * 7919 + seed * 104_729) % 1000) as f32 - 500.0) / 250.0).collect::<Vec<_>>();
            let x = values(batch * c_in * d.in_h * d.in_w, 1);
            let grad = values(batch * c_out * d.out_h * d.out_w, 2);
            let weight = FlexTensor::from_data(TensorData::new(vec![0.0f32; c_out * d.taps()], vec![c_out, c_in / groups, k, k]));
            let got: Vec<f32> = conv2d_weight_backward(
                FlexTensor::from_data(TensorData::new(x.clone(), vec![batch, c_in, d.in_h, d.in_w])),
                weight,
                FlexTensor::from_data(TensorData::new(grad.clone(), vec![batch, c_out, d.out_h, d.out_w])),
                &ConvOptions::new([s, s], [p, p], [dil, dil], groups),
            )
            .into_data()
            .try_into_vec()
            .unwrap();
            let want = naive(&x, &grad, d);
            for (i, (a, b)) in got.iter().zip(&want).enumerate() {
                assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "case {:?}: dW[{i}] = {a}, want {b}", (batch, c_in, [h, w], c_out, k, s, p, dil, groups));
            }
        }
    }
}
