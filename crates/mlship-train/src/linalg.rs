//! Dense linear algebra through faer: Cholesky solves and minimum-norm least squares.

use faer::linalg::solvers::Solve;
use faer::{Mat, Side};
use ndarray::{Array1, ArrayView1, ArrayView2};

/// Solves `a x = b` for a symmetric positive definite `a` by Cholesky; `None` when `a` is not
/// numerically positive definite.
#[allow(
    clippy::needless_pass_by_value,
    reason = "ndarray views are passed by value, as in core's `Model`"
)]
pub fn cholesky_solve(a: ArrayView2<'_, f64>, b: ArrayView1<'_, f64>) -> Option<Array1<f64>> {
    let p = a.nrows();
    let m = Mat::<f64>::from_fn(p, p, |i, j| a[[i, j]]);
    let llt = m.llt(Side::Lower).ok()?;
    let rhs = Mat::<f64>::from_fn(p, 1, |i, _| b[i]);
    let sol = llt.solve(&rhs);
    let out: Array1<f64> = (0..p).map(|i| sol[(i, 0)]).collect();
    out.iter().all(|v| v.is_finite()).then_some(out)
}

/// The minimum-norm least-squares solution of `x β ≈ y` through a thin SVD, treating singular
/// values below `max(n, p) · ε · σ_max` as zero (NumPy's `lstsq` cut-off). Returns `β` and the
/// numerical rank; `None` if the SVD fails to converge.
#[allow(
    clippy::needless_pass_by_value,
    reason = "ndarray views are passed by value, as in core's `Model`"
)]
pub fn lstsq_min_norm(
    x: ArrayView2<'_, f64>,
    y: ArrayView1<'_, f64>,
) -> Option<(Array1<f64>, usize)> {
    let (n, p) = x.dim();
    let m = Mat::<f64>::from_fn(n, p, |i, j| x[[i, j]]);
    let svd = m.thin_svd().ok()?;
    let (u, v) = (svd.U(), svd.V());
    let s: Vec<f64> = svd.S().column_vector().iter().copied().collect();
    let smax = s.first().copied().unwrap_or(0.0);
    let cut = smax * f64::EPSILON * n.max(p) as f64;
    let mut beta = Array1::<f64>::zeros(p);
    let mut rank = 0;
    for (k, &sk) in s.iter().enumerate() {
        if sk <= cut || sk == 0.0 {
            continue;
        }
        rank += 1;
        let mut uty = 0.0;
        for i in 0..n {
            uty += u[(i, k)] * y[i];
        }
        let c = uty / sk;
        for j in 0..p {
            beta[j] += c * v[(j, k)];
        }
    }
    Some((beta, rank))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn cholesky_and_min_norm() {
        let a = array![[4.0, 2.0], [2.0, 3.0]];
        let x = cholesky_solve(a.view(), array![2.0, 1.0].view()).unwrap();
        assert!((4.0 * x[0] + 2.0 * x[1] - 2.0).abs() < 1e-12);
        assert!((2.0 * x[0] + 3.0 * x[1] - 1.0).abs() < 1e-12);
        assert!(
            cholesky_solve(
                array![[1.0, 1.0], [1.0, 1.0]].view(),
                array![1.0, 1.0].view()
            )
            .is_none()
        );
        // Two identical columns: the minimum-norm solution splits the weight evenly.
        let x = array![[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]];
        let (b, rank) = lstsq_min_norm(x.view(), array![2.0, 4.0, 6.0].view()).unwrap();
        assert_eq!(rank, 1);
        assert!(
            (b[0] - 1.0).abs() < 1e-12 && (b[1] - 1.0).abs() < 1e-12,
            "{b}"
        );
    }
}
