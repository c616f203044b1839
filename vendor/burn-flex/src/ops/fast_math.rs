//! Vectorized, multi-threaded `exp`, sigmoid and tanh for f32 slices (d2l-rs patch).
//!
//! The generic unary path calls libm's `expf` and `tanhf` one element at a time: branchy scalar
//! functions that LLVM cannot vectorize, on one thread. Sigmoid and tanh activations (LeNet, the
//! LSTM gates) spend most of their time there. This module computes `exp` with the classic range reduction
//! `exp(x) = 2^n * exp(r)`, `|r| <= ln2/2`, and a degree-6 polynomial for `exp(r)` (about 1 ulp,
//! as Cephes' `expf`), written without branches so that LLVM vectorizes the loop; it is compiled
//! twice, for the baseline and for AVX2+FMA, chosen at run time. Large slices are split over
//! rayon's threads.

/// Slices shorter than this run on the calling thread: below it, waking other threads costs
/// more than the work.
#[cfg(feature = "rayon")]
const PARALLEL_MIN: usize = 1 << 15;

/// `exp(x)` without branches (NaN in, NaN out; overflow to +inf, underflow to 0).
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = core::f32::consts::LOG2_E;
    // ln 2 split in a part with few mantissa bits (exact products with n) and the rest.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5 * 2^23 rounds to the nearest integer, without `round`.
    const ROUND: f32 = 12_582_912.0;
    let xc = x.clamp(-87.336_55, 88.722_83);
    let shifted = xc * LOG2E + ROUND;
    let n = shifted - ROUND;
    let r = (xc - n * LN2_HI) - n * LN2_LO;
    // Cephes expf's minimax polynomial for (exp(r) - 1 - r) / r^2.
    let p = 1.987_569_1e-4_f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 5.000_000_1e-1;
    let er = (p * r * r + r) + 1.0;
    // 2^n by building the exponent bits directly; n is in [-126, 128] after the clamp. n as an
    // integer is in the low mantissa bits of `shifted` (`n as i32` would not vectorize: Rust's
    // saturating cast is a scalar branch per element).
    let n_i = (shifted.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    let scaled = if n_i > 127 {
        er * 2.0 * f32::from_bits(((n_i - 1 + 127) as u32) << 23)
    } else {
        er * f32::from_bits(((n_i + 127) as u32) << 23)
    };
    // Below the clamp the true value is subnormal or 0: flush it to 0.
    let result = if x > 88.722_83 {
        f32::INFINITY
    } else if x < -87.336_55 {
        0.0
    } else {
        scaled
    };
    if x.is_nan() { x } else { result }
}

/// `1 / (1 + exp(-x))`.
#[inline(always)]
fn sigmoid_f32(x: f32) -> f32 {
    1.0 / (1.0 + exp_f32(-x))
}

/// `tanh(x)`, as Cephes' `tanhf`: an odd polynomial near 0 (where `1 - 2 / (e^2x + 1)` would
/// lose digits), that formula elsewhere; both computed, one selected, so the loop vectorizes.
#[inline(always)]
fn tanh_f32(x: f32) -> f32 {
    let a = x.abs();
    let z = x * x;
    let p = -5.704_988_7e-3_f32;
    let p = p * z + 2.063_908_9e-2;
    let p = p * z - 5.373_971_6e-2;
    let p = p * z + 1.333_144_2e-1;
    let p = p * z - 3.333_328_2e-1;
    let small = p * z * x + x;
    let large = (1.0 - 2.0 / (exp_f32(a + a) + 1.0)).copysign(x);
    let result = if a < 0.625 { small } else { large };
    if x.is_nan() { x } else { result }
}

macro_rules! map_kernel {
    ($name:ident, $f:ident) => {
        /// Writes `f(src[i])` into `dst[i]`; one copy per instruction set, picked at run time.
        fn $name(src: &[f32], dst: &mut [f32]) {
            #[inline(always)]
            fn body(src: &[f32], dst: &mut [f32]) {
                for (d, &s) in dst.iter_mut().zip(src) {
                    *d = $f(s);
                }
            }
            #[cfg(all(feature = "std", any(target_arch = "x86", target_arch = "x86_64")))]
            {
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2(src: &[f32], dst: &mut [f32]) {
                    body(src, dst)
                }
                if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU has the features this copy was compiled for.
                    return unsafe { avx2(src, dst) };
                }
            }
            body(src, dst)
        }
    };
}

map_kernel!(exp_kernel, exp_f32);
map_kernel!(sigmoid_kernel, sigmoid_f32);
map_kernel!(tanh_kernel, tanh_f32);

/// The length of the chunks a slice of `len` elements is split into, one per thread, though
/// not below a quarter of `PARALLEL_MIN`.
#[cfg(feature = "rayon")]
fn chunk_len(len: usize) -> usize {
    len.div_ceil(rayon::current_num_threads()).max(PARALLEL_MIN / 4)
}

/// Applies `kernel` to `src` into `dst` (same length), on several threads if large.
fn map_parallel(kernel: fn(&[f32], &mut [f32]), src: &[f32], dst: &mut [f32]) {
    debug_assert_eq!(src.len(), dst.len());
    #[cfg(feature = "rayon")]
    if src.len() >= PARALLEL_MIN {
        use rayon::prelude::*;
        let chunk = chunk_len(src.len());
        dst.par_chunks_mut(chunk)
            .zip(src.par_chunks(chunk))
            .for_each(|(d, s)| kernel(s, d));
        return;
    }
    kernel(src, dst)
}

/// Applies `kernel` in place, on several threads if large.
fn map_in_place(kernel: fn(&[f32], &mut [f32]), data: &mut [f32]) {
    // The kernels take an input and an output slice, which may not alias: each block goes
    // through a 4 KiB stack buffer first (an L1 copy, cheap next to the math).
    const BLOCK: usize = 1024;
    let run = |data: &mut [f32]| {
        let mut buf = [0.0f32; BLOCK];
        for block in data.chunks_mut(BLOCK) {
            let src = &mut buf[..block.len()];
            src.copy_from_slice(block);
            kernel(src, block);
        }
    };
    #[cfg(feature = "rayon")]
    if data.len() >= PARALLEL_MIN {
        use rayon::prelude::*;
        let chunk = chunk_len(data.len());
        data.par_chunks_mut(chunk).for_each(run);
        return;
    }
    run(data)
}

/// `exp` of every element of `src`, into `dst`.
pub(crate) fn exp_into(src: &[f32], dst: &mut [f32]) {
    map_parallel(exp_kernel, src, dst)
}

/// `exp` of every element, in place.
pub(crate) fn exp_in_place(data: &mut [f32]) {
    map_in_place(exp_kernel, data)
}

/// Sigmoid of every element of `src`, into `dst`.
pub(crate) fn sigmoid_into(src: &[f32], dst: &mut [f32]) {
    map_parallel(sigmoid_kernel, src, dst)
}

/// Sigmoid of every element, in place.
pub(crate) fn sigmoid_in_place(data: &mut [f32]) {
    map_in_place(sigmoid_kernel, data)
}

/// tanh of every element of `src`, into `dst`.
pub(crate) fn tanh_into(src: &[f32], dst: &mut [f32]) {
    map_parallel(tanh_kernel, src, dst)
}

/// tanh of every element, in place.
pub(crate) fn tanh_in_place(data: &mut [f32]) {
    map_in_place(tanh_kernel, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f32, b: f32) -> u32 {
        (a.to_bits() as i32).abs_diff(b.to_bits() as i32)
    }

    #[test]
    fn exp_is_within_two_ulps_of_libm_over_its_range() {
        let mut worst = 0;
        let mut x = -87.0f32;
        while x < 88.5 {
            let mut y = [0.0];
            exp_into(&[x], &mut y);
            worst = worst.max(ulps(y[0], x.exp()));
            x += 0.000_37;
        }
        assert!(worst <= 2, "worst error {worst} ulps");
    }

    #[test]
    fn tanh_is_within_three_ulps_of_libm() {
        let mut worst = (0, 0.0);
        let mut x = -12.0f32;
        while x < 12.0 {
            let mut y = [0.0];
            tanh_into(&[x], &mut y);
            let err = ulps(y[0], x.tanh());
            if err > worst.0 {
                worst = (err, x);
            }
            x += 0.000_71;
        }
        assert!(worst.0 <= 3, "worst error {} ulps at {}", worst.0, worst.1);
        let xs = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1e-30, -0.0, 50.0];
        let mut t = [0.0; 6];
        tanh_into(&xs, &mut t);
        assert!(t[0].is_nan());
        assert_eq!(&t[1..], &[1.0, -1.0, 1e-30, -0.0, 1.0]);
    }

    #[test]
    fn exp_and_sigmoid_edges() {
        let xs = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 89.0, -104.0, 0.0, -0.0];
        let mut e = [0.0; 7];
        exp_into(&xs, &mut e);
        assert!(e[0].is_nan());
        assert_eq!(&e[1..], &[f32::INFINITY, 0.0, f32::INFINITY, 0.0, 1.0, 1.0]);
        let mut s = [0.0; 7];
        sigmoid_into(&xs, &mut s);
        assert!(s[0].is_nan());
        assert_eq!(&s[1..5], &[1.0, 0.0, 1.0, 0.0]);
        assert_eq!(s[5], 0.5);
    }

    #[test]
    fn sigmoid_matches_the_scalar_formula_in_place_and_on_threads() {
        let xs: Vec<f32> = (0..100_003).map(|i| (i as f32 - 50_000.0) * 3e-4).collect();
        let mut out = vec![0.0; xs.len()];
        sigmoid_into(&xs, &mut out);
        let mut inplace = xs.clone();
        sigmoid_in_place(&mut inplace);
        assert_eq!(out, inplace);
        for (&x, &y) in xs.iter().zip(&out) {
            let want = 1.0 / (1.0 + (-x as f64).exp());
            assert!(((y as f64) - want).abs() <= 2.5e-7 * want, "sigmoid({x}) = {y}, want {want}");
        }
    }
}
