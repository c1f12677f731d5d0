//! Multiple-testing correction of per-column p-values, as statsmodels'
//! `stats.multitest.multipletests` defines `'bonferroni'` and `'fdr_bh'`.

use crate::error::{MonitorError, Result};

fn check_pvalues(p_values: &[f64]) -> Result<()> {
    if let Some((index, &value)) = p_values
        .iter()
        .enumerate()
        .find(|(_, p)| !(0.0..=1.0).contains(*p))
    {
        return Err(MonitorError::Invalid {
            param: format!("p_values[{index}]"),
            value: value.to_string(),
            expected: "a p-value in [0, 1]".into(),
        });
    }
    Ok(())
}

/// Bonferroni-adjusted p-values `min(m·p, 1)` (statsmodels' `multipletests(p, method='bonferroni')`
/// second output). Compare them with the unadjusted threshold.
pub fn bonferroni(p_values: &[f64]) -> Result<Vec<f64>> {
    check_pvalues(p_values)?;
    let m = p_values.len() as f64;
    Ok(p_values.iter().map(|p| (p * m).min(1.0)).collect())
}

/// Benjamini–Hochberg adjusted p-values (statsmodels' `multipletests(p, method='fdr_bh')` second
/// output): with p sorted ascending, `p_(i)·m/i`, made monotone by a running minimum from the
/// largest down, capped at 1, returned in the input order.
pub fn benjamini_hochberg(p_values: &[f64]) -> Result<Vec<f64>> {
    check_pvalues(p_values)?;
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut adjusted = vec![0.0; m];
    let mut running = f64::INFINITY;
    for (rank, &i) in order.iter().enumerate().rev() {
        let raw = p_values[i] / ((rank + 1) as f64 / m as f64);
        running = running.min(raw);
        adjusted[i] = running.min(1.0);
    }
    Ok(adjusted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_values_outside_unit_interval() {
        let err = bonferroni(&[0.1, 1.5]).expect_err("1.5 is not a p-value");
        assert_eq!(
            err.to_string(),
            "invalid p_values[1] = 1.5: expected a p-value in [0, 1]"
        );
        assert!(benjamini_hochberg(&[f64::NAN]).is_err());
        assert!(bonferroni(&[]).expect("empty is fine").is_empty());
    }
}
