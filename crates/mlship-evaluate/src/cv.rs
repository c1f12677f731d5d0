//! Cross-validation through a fit-and-score closure.
//!
//! [`cross_validate`] mirrors scikit-learn's `cross_validate`: a [`Splitter`] yields the folds,
//! and for each fold a closure refits on the training rows and scores on the validation rows.
//! The closure is where the facade refits the whole pipeline and model on each fold's raw rows,
//! so no statistic leaks from validation rows into training (DESIGN.md, "Evaluation without
//! leakage"); this crate knows neither the pipeline nor the estimators.
//!
//! Folds run in parallel on a local rayon pool of `threads` threads; results are collected in
//! fold order, so the output does not depend on the thread count. When folds fail, the failure
//! of the **lowest** fold index is reported, whatever the thread count (folds above a failed one
//! are skipped; folds below it still run).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use mlship_core::params::ParamSet;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::split::{Fold, Splitter};
use crate::{EvaluateError, Result};

/// The fit-and-score closure: parameters, training rows, validation rows → the fold's result.
///
/// Mirrors what scikit-learn's `_fit_and_score` does for one (candidate, fold) pair. The closure
/// measures its own fit and score times; errors are mlship-core's seam errors, so the facade can
/// pass on errors of any lifecycle crate.
pub type FitAndScore<'a> =
    dyn Fn(&ParamSet, &[usize], &[usize]) -> mlship_core::Result<FoldResult> + Sync + 'a;

/// The outcome of fitting on one fold's training rows and scoring its validation rows
/// (one column entry of scikit-learn's `cross_validate` output: `test_score`, `fit_time`,
/// `score_time`, and `test_<name>` for extra metrics).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FoldResult {
    /// The validation score the search ranks by; must be finite.
    pub score: f64,
    /// Seconds spent fitting (`fit_time`).
    pub fit_seconds: f64,
    /// Seconds spent scoring (`score_time`).
    pub score_seconds: f64,
    /// Further validation metrics by name, reported but not ranked by.
    pub metrics: BTreeMap<String, f64>,
}

impl FoldResult {
    /// A result with `score` and no timings or extra metrics.
    pub fn new(score: f64) -> Self {
        Self {
            score,
            ..Self::default()
        }
    }
}

/// The outcome of cross-validating one parameter set (scikit-learn's `cross_validate` output,
/// with the summary `GridSearchCV.cv_results_` keeps per candidate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvResult {
    /// The folds' results, in fold order.
    pub folds: Vec<FoldResult>,
    /// Mean of the fold scores (`mean_test_score`).
    pub mean: f64,
    /// Population standard deviation of the fold scores (`std_test_score`, NumPy's `ddof=0`).
    pub std: f64,
    /// Mean fit seconds over the folds (`mean_fit_time`).
    pub mean_fit_seconds: f64,
    /// Mean score seconds over the folds (`mean_score_time`).
    pub mean_score_seconds: f64,
}

impl CvResult {
    /// Summarises fold results (at least one), in fold order.
    pub fn from_folds(folds: Vec<FoldResult>) -> Result<Self> {
        if folds.is_empty() {
            return Err(EvaluateError::invalid_input(
                "cross-validation produced no folds",
            ));
        }
        let scores: Vec<f64> = folds.iter().map(|f| f.score).collect();
        let (mean, std) = mean_std(&scores);
        let fit: Vec<f64> = folds.iter().map(|f| f.fit_seconds).collect();
        let score_t: Vec<f64> = folds.iter().map(|f| f.score_seconds).collect();
        Ok(Self {
            mean,
            std,
            mean_fit_seconds: mean_std(&fit).0,
            mean_score_seconds: mean_std(&score_t).0,
            folds,
        })
    }

    /// The fold scores in fold order (`split<k>_test_score`).
    pub fn scores(&self) -> Vec<f64> {
        self.folds.iter().map(|f| f.score).collect()
    }
}

/// Mean and population standard deviation (two passes, summed in order); `(NaN, NaN)` when empty.
pub(crate) fn mean_std(xs: &[f64]) -> (f64, f64) {
    if xs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Cross-validates `params`: splits `n_rows` rows with `splitter` (passing `y` and `groups` to
/// the splitters that need them), runs `fit_and_score` on every fold in parallel on `threads`
/// threads, and summarises the results in fold order.
///
/// Mirrors scikit-learn's `cross_validate(estimator, X, y, groups=groups, cv=splitter,
/// n_jobs=threads, return_train_score=False)`. Errors: `threads = 0`; a fold whose closure fails
/// (the message names the fold index); a non-finite fold score (named likewise).
pub fn cross_validate(
    splitter: &dyn Splitter,
    n_rows: usize,
    y: Option<&[f64]>,
    groups: Option<&[u64]>,
    params: &ParamSet,
    fit_and_score: &FitAndScore<'_>,
    threads: usize,
) -> Result<CvResult> {
    let folds = splitter.split(n_rows, y, groups)?;
    let pool = build_pool(threads)?;
    let mut results = run_pairs(&pool, std::slice::from_ref(params), &folds, fit_and_score)?;
    let folds = results.pop().unwrap_or_default();
    CvResult::from_folds(folds)
}

/// A local rayon pool of `threads` threads (at least one).
pub(crate) fn build_pool(threads: usize) -> Result<rayon::ThreadPool> {
    if threads == 0 {
        return Err(EvaluateError::invalid_param("threads", 0, "at least 1"));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| {
            EvaluateError::Core(mlship_core::Error::Other(format!(
                "starting {threads} worker threads: {e}"
            )))
        })
}

/// Runs every (candidate, fold) pair on `pool`; returns per candidate the fold results in fold
/// order. On failure reports the lowest failing pair (candidate-major), whatever the scheduling.
pub(crate) fn run_pairs(
    pool: &rayon::ThreadPool,
    candidates: &[ParamSet],
    folds: &[Fold],
    fit_and_score: &FitAndScore<'_>,
) -> Result<Vec<Vec<FoldResult>>> {
    let n_folds = folds.len();
    if n_folds == 0 {
        return Err(EvaluateError::invalid_input(
            "the splitter produced no folds",
        ));
    }
    let n_pairs = candidates.len() * n_folds;
    let lowest_failed = AtomicUsize::new(usize::MAX);
    let outcomes: Vec<Option<Result<FoldResult>>> = pool.install(|| {
        (0..n_pairs)
            .into_par_iter()
            .map(|pair| {
                // Pairs above a failed one are skipped; those below still run, so the lowest
                // failure is found whatever the thread count.
                if pair > lowest_failed.load(Ordering::Acquire) {
                    return None;
                }
                let (c, k) = (pair / n_folds, pair % n_folds);
                let outcome = run_one(&candidates[c], &folds[k], k, fit_and_score);
                if outcome.is_err() {
                    lowest_failed.fetch_min(pair, Ordering::AcqRel);
                }
                Some(outcome)
            })
            .collect()
    });
    let mut out: Vec<Vec<FoldResult>> = Vec::with_capacity(candidates.len());
    for (pair, outcome) in outcomes.into_iter().enumerate() {
        let (c, k) = (pair / n_folds, pair % n_folds);
        match outcome {
            Some(Ok(result)) => {
                if k == 0 {
                    out.push(Vec::with_capacity(n_folds));
                }
                if let Some(row) = out.last_mut() {
                    row.push(result);
                }
            }
            Some(Err(e)) => {
                return Err(if candidates.len() > 1 {
                    with_context(e, &format!("candidate {c} ({})", candidates[c]))
                } else {
                    e
                });
            }
            None => break,
        }
    }
    Ok(out)
}

/// One fold: calls the closure and checks its score.
fn run_one(
    params: &ParamSet,
    fold: &Fold,
    k: usize,
    fit_and_score: &FitAndScore<'_>,
) -> Result<FoldResult> {
    let result = fit_and_score(params, &fold.train, &fold.valid).map_err(|e| fold_error(k, e))?;
    if !result.score.is_finite() {
        return Err(EvaluateError::invalid_input(format!(
            "fold {k} scored {}: expected a finite score\nhint: check the metric on this fold's \
             validation rows (a class missing from the fold, a constant target)",
            result.score
        )));
    }
    Ok(result)
}

/// A closure error of fold `k`, keeping its category where the message can carry the fold.
fn fold_error(k: usize, e: mlship_core::Error) -> EvaluateError {
    let e = match e {
        mlship_core::Error::Stopped(m) => mlship_core::Error::Stopped(format!("fold {k}: {m}")),
        other => mlship_core::Error::Other(format!("fold {k} failed: {other}")),
    };
    EvaluateError::Core(e)
}

/// Prefixes an error's message with `what` (e.g. the candidate), keeping its category.
pub(crate) fn with_context(e: EvaluateError, what: &str) -> EvaluateError {
    match e {
        EvaluateError::InvalidInput(m) => EvaluateError::InvalidInput(format!("{what}: {m}")),
        EvaluateError::Core(mlship_core::Error::Other(m)) => {
            EvaluateError::Core(mlship_core::Error::Other(format!("{what}: {m}")))
        }
        EvaluateError::Core(mlship_core::Error::Stopped(m)) => {
            EvaluateError::Core(mlship_core::Error::Stopped(format!("{what}: {m}")))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::split::KFold;

    fn kfold(n_splits: usize) -> KFold {
        KFold {
            n_splits,
            ..KFold::default()
        }
    }

    /// Scores a fold by the mean of its validation row indices, with fixed timings.
    #[allow(clippy::unnecessary_wraps, reason = "the fit-and-score signature")]
    fn mean_valid(
        _: &ParamSet,
        train: &[usize],
        valid: &[usize],
    ) -> mlship_core::Result<FoldResult> {
        assert!(train.iter().all(|r| !valid.contains(r)));
        let mut r = FoldResult::new(valid.iter().sum::<usize>() as f64 / valid.len() as f64);
        r.fit_seconds = 1.0;
        r.metrics.insert("n_valid".into(), valid.len() as f64);
        Ok(r)
    }

    #[test]
    fn folds_in_order_with_population_std() {
        let cv =
            cross_validate(&kfold(4), 8, None, None, &ParamSet::new(), &mean_valid, 2).unwrap();
        assert_eq!(cv.scores(), [0.5, 2.5, 4.5, 6.5]);
        assert_eq!(cv.mean, 3.5);
        // numpy.std([0.5, 2.5, 4.5, 6.5]) = sqrt(5)
        assert!((cv.std - 5f64.sqrt()).abs() < 1e-15);
        assert_eq!(cv.mean_fit_seconds, 1.0);
        assert_eq!(cv.folds[0].metrics["n_valid"], 2.0);
    }

    #[test]
    fn thread_count_does_not_change_the_result() {
        let run = |threads| {
            let cv = cross_validate(
                &kfold(5),
                23,
                None,
                None,
                &ParamSet::new(),
                &mean_valid,
                threads,
            )
            .unwrap();
            serde_json::to_string(&cv).unwrap()
        };
        assert_eq!(run(1), run(2));
        assert_eq!(run(1), run(3));
    }

    #[test]
    fn fold_errors_name_the_lowest_failing_fold() {
        let failing = |_: &ParamSet, _: &[usize], valid: &[usize]| {
            if valid[0] >= 4 {
                Err(mlship_core::Error::invalid_data("a class is missing"))
            } else {
                Ok(FoldResult::new(1.0))
            }
        };
        for threads in [1, 2, 4] {
            let e = cross_validate(
                &kfold(5),
                10,
                None,
                None,
                &ParamSet::new(),
                &failing,
                threads,
            )
            .unwrap_err();
            assert_eq!(e.to_string(), "fold 2 failed: a class is missing");
        }
    }

    #[test]
    fn non_finite_scores_are_refused() {
        let nan = |_: &ParamSet, _: &[usize], valid: &[usize]| {
            Ok(FoldResult::new(if valid[0] == 3 { f64::NAN } else { 0.0 }))
        };
        let e = cross_validate(&kfold(3), 9, None, None, &ParamSet::new(), &nan, 2).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("fold 1 scored NaN: expected a finite score"),
            "{e}"
        );
    }

    #[test]
    fn zero_threads_and_bad_splits_are_refused() {
        let e =
            cross_validate(&kfold(3), 9, None, None, &ParamSet::new(), &mean_valid, 0).unwrap_err();
        assert_eq!(e.to_string(), "invalid threads = 0: expected at least 1");
        let e =
            cross_validate(&kfold(5), 3, None, None, &ParamSet::new(), &mean_valid, 1).unwrap_err();
        assert!(e.to_string().contains("too few rows"), "{e}");
    }
}
