//! Numerical optimisers shared by the estimators.

pub mod lbfgs;

pub use lbfgs::{LbfgsOptions, LbfgsResult, Objective, minimize};

/// A dot product with eight independent accumulators, so the compiler can vectorise it.
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 8];
    let (ca, ra) = a.as_chunks::<8>();
    let (cb, rb) = b.as_chunks::<8>();
    for (x, y) in ca.iter().zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// `y += a · x`.
#[inline]
pub fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &mut y[..n]);
    let (cx, rx) = x.as_chunks::<8>();
    let (cy, ry) = y.as_chunks_mut::<8>();
    for (xs, ys) in cx.iter().zip(cy) {
        for k in 0..8 {
            ys[k] += a * xs[k];
        }
    }
    for (yi, xi) in ry.iter_mut().zip(rx) {
        *yi += a * xi;
    }
}

/// `x · v` for a matrix `x` (`n × p`): one contiguous dot product per row when `x` is
/// row-major.
#[allow(
    clippy::needless_pass_by_value,
    reason = "ndarray views are passed by value, as in core's `Model`"
)]
pub fn mat_vec(x: ndarray::ArrayView2<'_, f64>, v: &[f64]) -> ndarray::Array1<f64> {
    let p = x.ncols();
    match x.as_slice() {
        Some(s) if p > 0 && v.len() == p => s.chunks_exact(p).map(|row| dot(row, v)).collect(),
        _ => x.dot(&ndarray::ArrayView1::from(v)),
    }
}

/// `xᵀ · r` for a matrix `x` (`n × p`), accumulated row by row (`Σ rᵢ xᵢ`) in row order.
#[allow(
    clippy::needless_pass_by_value,
    reason = "ndarray views are passed by value, as in core's `Model`"
)]
pub fn mat_t_vec(x: ndarray::ArrayView2<'_, f64>, r: &[f64]) -> ndarray::Array1<f64> {
    let p = x.ncols();
    let mut out = vec![0.0; p];
    match x.as_slice() {
        Some(s) if p > 0 => {
            for (row, &ri) in s.chunks_exact(p).zip(r) {
                if ri != 0.0 {
                    axpy(ri, row, &mut out);
                }
            }
        }
        _ => {
            for (row, &ri) in x.rows().into_iter().zip(r) {
                for (o, v) in out.iter_mut().zip(row) {
                    *o += ri * v;
                }
            }
        }
    }
    ndarray::Array1::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_match_naive_sums() {
        let mut rng = mlship_core::rng::Rng::new(1);
        for &(n, p) in &[(1, 1), (7, 3), (33, 30), (50, 17)] {
            let x = ndarray::Array2::from_shape_fn((n, p), |_| rng.normal());
            let v: Vec<f64> = (0..p).map(|_| rng.normal()).collect();
            let r: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
            let z = mat_vec(x.view(), &v);
            let g = mat_t_vec(x.view(), &r);
            for i in 0..n {
                let want: f64 = (0..p).map(|j| x[[i, j]] * v[j]).sum();
                assert!((z[i] - want).abs() < 1e-12 * want.abs().max(1.0));
            }
            for j in 0..p {
                let want: f64 = (0..n).map(|i| x[[i, j]] * r[i]).sum();
                assert!((g[j] - want).abs() < 1e-12 * want.abs().max(1.0));
            }
            // Non-contiguous input takes the general path.
            let zt = mat_vec(x.t().t(), &v);
            assert_eq!(z, zt);
        }
    }
}
