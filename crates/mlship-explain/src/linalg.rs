//! The small dense solve the surrogate fits need (KernelSHAP, LIME): a few dozen unknowns at
//! most, so Gaussian elimination with partial pivoting is enough.

/// Solves `a · X = b` in place for `X` (`a` is `n × n`, `b` is `n × k`, both row-major); `b`
/// receives the solution. Returns `false` when `a` is singular to working precision.
pub fn solve(a: &mut [f64], n: usize, b: &mut [f64], k: usize) -> bool {
    let scale = a
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&i, &j| a[i * n + col].abs().total_cmp(&a[j * n + col].abs()))
            .unwrap_or(col);
        if a[pivot * n + col].abs() <= scale * 1e-13 {
            return false;
        }
        if pivot != col {
            for j in 0..n {
                a.swap(col * n + j, pivot * n + j);
            }
            for j in 0..k {
                b.swap(col * k + j, pivot * k + j);
            }
        }
        let d = a[col * n + col];
        for row in col + 1..n {
            let f = a[row * n + col] / d;
            if f == 0.0 {
                continue;
            }
            for j in col..n {
                a[row * n + j] -= f * a[col * n + j];
            }
            for j in 0..k {
                b[row * k + j] -= f * b[col * k + j];
            }
        }
    }
    for col in (0..n).rev() {
        let d = a[col * n + col];
        for j in 0..k {
            let mut s = b[col * k + j];
            for i in col + 1..n {
                s -= a[col * n + i] * b[i * k + j];
            }
            b[col * k + j] = s / d;
        }
    }
    true
}

/// Weighted least squares with an optional ridge penalty `alpha` on all coefficients:
/// minimises `Σ w_i (y_i − x_i·β)² + alpha |β|²` for `k` right-hand sides at once. `x` is
/// `rows × n`, `y` is `rows × k`. Returns `β` (`n × k`), or `None` when the system is singular.
pub fn weighted_least_squares(
    x: &[f64],
    y: &[f64],
    w: &[f64],
    n: usize,
    k: usize,
    alpha: f64,
) -> Option<Vec<f64>> {
    let rows = w.len();
    let mut a = vec![0.0; n * n];
    let mut b = vec![0.0; n * k];
    for r in 0..rows {
        let xr = &x[r * n..(r + 1) * n];
        let wr = w[r];
        if wr == 0.0 {
            continue;
        }
        for i in 0..n {
            let wi = wr * xr[i];
            if wi == 0.0 {
                continue;
            }
            for j in 0..n {
                a[i * n + j] += wi * xr[j];
            }
            for j in 0..k {
                b[i * k + j] += wi * y[r * k + j];
            }
        }
    }
    for i in 0..n {
        a[i * n + i] += alpha;
    }
    solve(&mut a, n, &mut b, k).then_some(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_and_detects_singular_systems() {
        let mut a = vec![0.0, 2.0, 1.0, 1.0];
        let mut b = vec![4.0, 3.0];
        assert!(solve(&mut a, 2, &mut b, 1));
        assert_eq!(b, vec![1.0, 2.0]);
        let mut a = vec![1.0, 2.0, 2.0, 4.0];
        let mut b = vec![1.0, 2.0];
        assert!(!solve(&mut a, 2, &mut b, 1));
    }

    #[test]
    fn weighted_fit_recovers_a_plane() {
        let x = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 1.0];
        let y: Vec<f64> = x.chunks(2).map(|r| 3.0 * r[0] - r[1]).collect();
        let beta = weighted_least_squares(&x, &y, &[1.0, 2.0, 0.5, 1.0], 2, 1, 0.0).unwrap();
        assert!((beta[0] - 3.0).abs() < 1e-12 && (beta[1] + 1.0).abs() < 1e-12);
    }
}
