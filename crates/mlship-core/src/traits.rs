//! The traits through which the lifecycle crates meet.
//!
//! - [`Estimator`] fits a [`Model`] on a [`DatasetView`] under a [`FitContext`].
//! - [`Model`] predicts from a numeric matrix; object-safe and fallible, because serving input
//!   is untrusted.
//! - [`RawPredictor`] predicts from raw input ([`RawBatch`]): the facade builds one from a
//!   bundle (pipeline + model), and serve, monitor and explain use it without knowing either.
//! - [`RawExplainer`] attributes predictions to raw columns.

use std::fmt;
use std::time::Instant;

use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::batch::RawBatch;
use crate::dataset::DatasetView;
use crate::error::{Error, Result};
use crate::schema::Schema;
use crate::task::Task;
use crate::tree::TreeEnsemble;

/// Progress of a long fit, reported through [`FitContext::progress`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// What is being done (`"boosting"`, `"trees"`, `"epochs"`).
    pub stage: String,
    /// Units done so far.
    pub done: u64,
    /// Units in all, when known.
    pub total: Option<u64>,
    /// The latest training or validation loss, when there is one.
    pub loss: Option<f64>,
}

/// A progress callback; called from any thread.
pub type ProgressFn<'a> = &'a (dyn Fn(&Progress) + Sync);

/// Everything a fit needs besides the data and the parameters.
#[derive(Clone, Copy)]
pub struct FitContext<'a> {
    /// Validation rows for early stopping and monitoring, if any.
    pub eval_set: Option<DatasetView<'a>>,
    /// The seed of every random choice the fit makes.
    pub seed: u64,
    /// Threads the fit may use (at least 1). Results do not depend on it.
    pub threads: usize,
    /// Where to report progress.
    pub progress: Option<ProgressFn<'a>>,
    /// When to stop; a fit past its deadline returns [`Error::Stopped`] or, where the estimator
    /// documents it, the best model so far.
    pub deadline: Option<Instant>,
}

impl fmt::Debug for FitContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FitContext")
            .field("eval_rows", &self.eval_set.map(|v| v.n_rows()))
            .field("seed", &self.seed)
            .field("threads", &self.threads)
            .field("progress", &self.progress.is_some())
            .field("deadline", &self.deadline)
            .finish()
    }
}

impl Default for FitContext<'_> {
    fn default() -> Self {
        Self {
            eval_set: None,
            seed: 0,
            threads: 1,
            progress: None,
            deadline: None,
        }
    }
}

impl FitContext<'_> {
    /// A context with the given seed and defaults otherwise.
    pub fn seeded(seed: u64) -> Self {
        Self {
            seed,
            ..Self::default()
        }
    }

    /// Reports progress if a callback is set.
    pub fn report(&self, progress: &Progress) {
        if let Some(f) = self.progress {
            f(progress);
        }
    }

    /// An error if the deadline has passed; call between units of work.
    pub fn check_deadline(&self, what: &str) -> Result<()> {
        match self.deadline {
            Some(d) if Instant::now() >= d => Err(Error::Stopped(format!(
                "the time budget ran out while {what}"
            ))),
            _ => Ok(()),
        }
    }
}

/// Something that learns a [`Model`] from data. Parameters live in the implementing type,
/// already validated.
pub trait Estimator: Send + Sync + fmt::Debug {
    /// A short name of the estimator (`"logistic"`, `"random_forest"`).
    fn name(&self) -> &str;

    /// Fits a model on `data`.
    fn fit(&self, data: DatasetView<'_>, ctx: &FitContext<'_>) -> Result<Box<dyn Model>>;
}

/// A fitted model over the numeric design matrix.
pub trait Model: Send + Sync + fmt::Debug {
    /// The task the model was fitted for.
    fn task(&self) -> &Task;

    /// The number of features the model expects.
    fn n_features(&self) -> usize;

    /// Predictions, one per row: the value for regression, the class index for classification.
    fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>>;

    /// Class probabilities, one row per input row and one column per class in
    /// `task().classes()` order. Regression models return [`Error::Unsupported`].
    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        let _ = x;
        Err(Error::Unsupported(format!(
            "a {} model gives no class probabilities",
            self.task().name()
        )))
    }

    /// The read-only tree view, for tree models.
    fn tree_ensemble(&self) -> Option<&TreeEnsemble> {
        None
    }

    /// Checks that `x` has the right number of columns; call at the top of `predict`.
    fn check_input(&self, x: ArrayView2<'_, f64>) -> Result<()> {
        if x.ncols() == self.n_features() {
            Ok(())
        } else {
            Err(Error::invalid_data(format!(
                "the model expects {} features, got {}",
                self.n_features(),
                x.ncols()
            )))
        }
    }
}

/// Predictions for a batch of raw rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Predictions {
    /// One value per row: the prediction for regression, the class index for classification.
    pub values: Vec<f64>,
    /// For classification, the predicted class labels.
    pub labels: Option<Vec<String>>,
    /// For classification, one probability per class per row (`rows × classes`, row-major).
    pub probabilities: Option<Array2<f64>>,
}

/// Predicts from raw input: the pipeline's row path followed by a model.
pub trait RawPredictor: Send + Sync + fmt::Debug {
    /// The raw columns accepted.
    fn schema(&self) -> &Schema;

    /// The task, with class labels.
    fn task(&self) -> &Task;

    /// Predictions for `batch`, which must satisfy [`RawPredictor::schema`]; violations are
    /// reported as [`Error::Schema`], naming the column and row.
    fn predict(&self, batch: &RawBatch) -> Result<Predictions>;
}

/// Feature attributions for a batch of raw rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The method that produced them (`"tree_shap"`, `"kernel_shap"`, …).
    pub method: String,
    /// The raw columns (or groups of them, such as `debt+income`) attributed to.
    pub features: Vec<String>,
    /// The model output explained (`"value"`, or a class label).
    pub outputs: Vec<String>,
    /// The expected output over the background data, per output.
    pub base_values: Vec<f64>,
    /// Attributions, `[row][output][feature]`, flattened row-major; with the base values they
    /// add up to the model output in the explained space.
    pub values: Vec<f64>,
    /// Number of rows explained.
    pub n_rows: usize,
}

/// Explains predictions on raw input.
pub trait RawExplainer: Send + Sync + fmt::Debug {
    /// The method's name.
    fn method(&self) -> &str;

    /// Attributions for every row of `batch`.
    fn explain(&self, batch: &RawBatch) -> Result<Explanation>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{Dataset, FeatureInfo};
    use ndarray::array;

    /// Predicts the mean of the training target: the smallest real model, to check the traits
    /// are object-safe and usable.
    #[derive(Debug)]
    struct MeanModel {
        task: Task,
        mean: f64,
    }

    impl Model for MeanModel {
        fn task(&self) -> &Task {
            &self.task
        }
        fn n_features(&self) -> usize {
            1
        }
        fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
            self.check_input(x)?;
            Ok(Array1::from_elem(x.nrows(), self.mean))
        }
    }

    #[derive(Debug)]
    struct MeanEstimator;

    impl Estimator for MeanEstimator {
        fn name(&self) -> &'static str {
            "mean"
        }
        fn fit(&self, data: DatasetView<'_>, ctx: &FitContext<'_>) -> Result<Box<dyn Model>> {
            ctx.check_deadline("averaging")?;
            let n = data.n_rows();
            let (mut s, mut w) = (0.0, 0.0);
            for i in 0..n {
                s += data.weight(i) * data.target(i).unwrap_or(0.0);
                w += data.weight(i);
            }
            ctx.report(&Progress {
                stage: "mean".into(),
                done: 1,
                total: Some(1),
                loss: None,
            });
            Ok(Box::new(MeanModel {
                task: data.task().clone(),
                mean: s / w,
            }))
        }
    }

    #[test]
    fn traits_are_object_safe_and_fallible() {
        let d = Dataset::new(
            array![[1.0], [2.0], [3.0]],
            vec![FeatureInfo::numeric("a")],
            Task::Regression,
        )
        .unwrap()
        .with_target(array![1.0, 2.0, 6.0])
        .unwrap();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let progress = |_: &Progress| {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        };
        let est: Box<dyn Estimator> = Box::new(MeanEstimator);
        let ctx = FitContext {
            progress: Some(&progress),
            ..FitContext::seeded(1)
        };
        let idx = [0, 1];
        let model = est.fit(d.rows(&idx).unwrap(), &ctx).unwrap();
        assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 1);
        assert_eq!(model.predict(array![[9.0]].view()).unwrap()[0], 1.5);
        let e = model
            .predict(array![[1.0, 2.0]].view())
            .unwrap_err()
            .to_string();
        assert!(e.contains("expects 1 features, got 2"), "{e}");
        let e = model
            .predict_proba(array![[1.0]].view())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("regression model gives no class probabilities"),
            "{e}"
        );
        let late = FitContext {
            deadline: Some(Instant::now()),
            ..FitContext::default()
        };
        assert!(matches!(est.fit(d.view(), &late), Err(Error::Stopped(_))));
    }
}
