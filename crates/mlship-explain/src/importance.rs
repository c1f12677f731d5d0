//! Permutation importance on raw columns, through the whole predictor (pipeline + model).
//!
//! For each column (or group of columns permuted together) and each repeat, the rows of the
//! column are shuffled, the predictor scores the shuffled data, and the importance is the
//! baseline score minus the shuffled score (scores are "greater is better", as in
//! scikit-learn; pass a negated loss). Mean and standard deviation (population, as
//! scikit-learn's `importances_std`) are reported per column.
//!
//! Every (column, repeat) pair draws its permutation from its own generator derived from the
//! seed, and the work runs in parallel over those pairs, so results do not depend on the thread
//! count.

use mlship_core::RawBatch;
use mlship_core::rng::Rng;
use mlship_core::traits::{Predictions, RawPredictor};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{ExplainError, Result};
use crate::raw;

/// A score of predictions on the explained rows, greater is better.
pub type ScoreFn<'a> = &'a (dyn Fn(&Predictions) -> Result<f64> + Sync);

/// Permutation importance parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImportanceParams {
    /// Shuffles per column.
    pub n_repeats: usize,
    /// Seed of the shuffles.
    pub seed: u64,
    /// Columns permuted together, each reported as one entry named `a+b`; columns in no group
    /// are reported alone. `None`: every column alone.
    pub groups: Option<Vec<Vec<String>>>,
}

impl Default for ImportanceParams {
    fn default() -> Self {
        Self {
            n_repeats: 5,
            seed: 0,
            groups: None,
        }
    }
}

/// The importance of one column or group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Importance {
    /// The column, or the group's columns joined by `+`.
    pub name: String,
    /// The columns permuted together.
    pub columns: Vec<String>,
    /// Mean drop in score over the repeats.
    pub mean: f64,
    /// Population standard deviation of the drop.
    pub std: f64,
    /// The drop of each repeat.
    pub drops: Vec<f64>,
}

/// Permutation importances, in the order of the data's columns (groups at their first column).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportanceReport {
    /// The score of the unshuffled data.
    pub baseline: f64,
    /// One entry per column or group.
    pub importances: Vec<Importance>,
}

impl ImportanceReport {
    /// The entries sorted by decreasing mean importance (ties by name).
    pub fn ranked(&self) -> Vec<&Importance> {
        let mut v: Vec<&Importance> = self.importances.iter().collect();
        v.sort_by(|a, b| b.mean.total_cmp(&a.mean).then_with(|| a.name.cmp(&b.name)));
        v
    }
}

/// The players of `data`: the groups given, then every other column alone, ordered by their
/// first column.
pub fn column_groups(data: &RawBatch, groups: Option<&[Vec<String>]>) -> Result<Vec<Vec<usize>>> {
    let mut owner: Vec<Option<usize>> = vec![None; data.n_columns()];
    let mut out: Vec<Vec<usize>> = Vec::new();
    for g in groups.unwrap_or(&[]) {
        if g.is_empty() {
            return Err(ExplainError::invalid(
                "groups",
                "[]",
                "at least one column per group",
            ));
        }
        let mut idx = Vec::with_capacity(g.len());
        for name in g {
            let i = raw::column_index(data, name)?;
            if owner[i].is_some() {
                return Err(ExplainError::invalid(
                    "groups",
                    format!("{name:?} in two groups"),
                    "disjoint groups",
                ));
            }
            owner[i] = Some(out.len());
            idx.push(i);
        }
        idx.sort_unstable();
        out.push(idx);
    }
    for (i, o) in owner.iter().enumerate() {
        if o.is_none() {
            out.push(vec![i]);
        }
    }
    out.sort_by_key(|g| g[0]);
    Ok(out)
}

/// Permutation importance of `data`'s columns for `predictor` under `score`.
pub fn permutation_importance(
    predictor: &dyn RawPredictor,
    data: &RawBatch,
    score: ScoreFn<'_>,
    params: &ImportanceParams,
) -> Result<ImportanceReport> {
    let n = data.n_rows();
    let seed = params.seed;
    permutation_importance_with(
        predictor,
        data,
        score,
        params.groups.as_deref(),
        params.n_repeats,
        &|group, repeat| Rng::derive(seed, ((group as u64) << 32) | repeat as u64).permutation(n),
    )
}

/// Permutation importance with the permutation of each (group, repeat) pair given by
/// `permutation` (a permutation of `0..rows`); [`permutation_importance`] draws them from a
/// seed. Given another library's permutations, the results can be compared number for number.
pub fn permutation_importance_with(
    predictor: &dyn RawPredictor,
    data: &RawBatch,
    score: ScoreFn<'_>,
    groups: Option<&[Vec<String>]>,
    n_repeats: usize,
    permutation: &(dyn Fn(usize, usize) -> Vec<usize> + Sync),
) -> Result<ImportanceReport> {
    if n_repeats == 0 {
        return Err(ExplainError::invalid("n_repeats", 0, "at least 1"));
    }
    if data.n_rows() < 2 {
        return Err(ExplainError::Data(format!(
            "permutation importance needs at least 2 rows, got {}",
            data.n_rows()
        )));
    }
    let players = column_groups(data, groups)?;
    let baseline = score(&predictor.predict(data)?)?;
    let tasks: Vec<(usize, usize)> = (0..players.len())
        .flat_map(|g| (0..n_repeats).map(move |r| (g, r)))
        .collect();
    let drops: Vec<Result<f64>> = tasks
        .par_iter()
        .map(|&(g, r)| {
            let perm = permutation(g, r);
            check_permutation(&perm, data.n_rows())?;
            let mut shuffled = data.clone();
            for &c in &players[g] {
                let col = raw::take_column(&data.columns()[c], &perm);
                shuffled.replace_column(c, col)?;
            }
            Ok(baseline - score(&predictor.predict(&shuffled)?)?)
        })
        .collect();
    let drops: Vec<f64> = drops.into_iter().collect::<Result<_>>()?;
    let names: Vec<&str> = data.names().collect();
    let importances = players
        .iter()
        .enumerate()
        .map(|(g, cols)| {
            let d = drops[g * n_repeats..(g + 1) * n_repeats].to_vec();
            let mean = d.iter().sum::<f64>() / n_repeats as f64;
            let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n_repeats as f64;
            let columns: Vec<String> = cols.iter().map(|&c| names[c].to_owned()).collect();
            Importance {
                name: columns.join("+"),
                columns,
                mean,
                std: var.sqrt(),
                drops: d,
            }
        })
        .collect();
    Ok(ImportanceReport {
        baseline,
        importances,
    })
}

fn check_permutation(perm: &[usize], n: usize) -> Result<()> {
    let mut seen = vec![false; n];
    if perm.len() != n
        || !perm
            .iter()
            .all(|&i| i < n && !std::mem::replace(&mut seen[i], true))
    {
        return Err(ExplainError::Data(format!(
            "a permutation of {} indices is not a permutation of 0..{n}",
            perm.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{Toy, toy_batch};

    fn neg_mse(truth: Vec<f64>) -> impl Fn(&Predictions) -> Result<f64> + Sync {
        move |p| {
            Ok(-p
                .values
                .iter()
                .zip(&truth)
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f64>()
                / truth.len() as f64)
        }
    }

    #[test]
    fn important_columns_rank_first_and_results_are_deterministic() {
        let toy = Toy::regressor();
        let data = toy_batch(300, 3);
        let truth = toy.predict(&data).unwrap().values;
        let score = neg_mse(truth);
        let params = ImportanceParams {
            n_repeats: 4,
            seed: 7,
            groups: None,
        };
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| permutation_importance(&toy, &data, &score, &params).unwrap())
        };
        let report = run(1);
        assert_eq!(report, run(3));
        assert_eq!(report.baseline, 0.0);
        let ranked: Vec<&str> = report.ranked().iter().map(|i| i.name.as_str()).collect();
        // a (weight 2, sd 1) and b (weight 1, sd 2) matter more than c (levels 0, 1.5, 0.5a).
        assert_eq!(ranked[2], "c");
        for imp in &report.importances {
            assert_eq!(imp.drops.len(), 4);
            assert!(imp.mean > 0.0 && imp.std >= 0.0);
        }
        let other = permutation_importance(
            &toy,
            &data,
            &score,
            &ImportanceParams {
                seed: 8,
                ..params.clone()
            },
        )
        .unwrap();
        assert_ne!(other, report);
    }

    #[test]
    fn groups_are_permuted_together() {
        let toy = Toy::regressor();
        let data = toy_batch(50, 4);
        let score = neg_mse(toy.predict(&data).unwrap().values);
        let params = ImportanceParams {
            n_repeats: 2,
            seed: 1,
            groups: Some(vec![vec!["c".into(), "a".into()]]),
        };
        let report = permutation_importance(&toy, &data, &score, &params).unwrap();
        let names: Vec<&str> = report.importances.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["a+c", "b"]);
        // With the identity "permutation" nothing changes.
        let same =
            permutation_importance_with(&toy, &data, &score, None, 2, &|_, _| (0..50).collect())
                .unwrap();
        assert!(
            same.importances
                .iter()
                .all(|i| i.mean == 0.0 && i.std == 0.0)
        );
        let e = permutation_importance_with(&toy, &data, &score, None, 1, &|_, _| vec![0; 50])
            .unwrap_err();
        assert!(e.to_string().contains("not a permutation"), "{e}");
        let bad = ImportanceParams {
            groups: Some(vec![vec!["income".into()]]),
            ..params
        };
        let e = permutation_importance(&toy, &data, &score, &bad)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown column \"income\"") && e.contains("a, b, c"),
            "{e}"
        );
    }
}
