//! Turning a [`DatasetView`] into the contiguous arrays the solvers work on.

use mlship_core::{DatasetView, Task};
use ndarray::{Array1, ArrayView2, CowArray, Ix2};

use crate::error::{Result, TrainError};

/// Rows handed to a solver: a row-major feature matrix, the target and the sample weights.
#[derive(Debug, Clone)]
pub struct Rows<'a> {
    /// Features, row-major (`n × p`), every value finite.
    pub x: CowArray<'a, f64, Ix2>,
    /// Targets: values for regression, class indices for classification.
    pub y: Array1<f64>,
    /// Sample weights (all ones when the dataset has none).
    pub w: Array1<f64>,
    /// Whether the dataset carried sample weights.
    pub weighted: bool,
}

/// Refuses NaN and infinities, naming the feature and the row.
#[allow(
    clippy::needless_pass_by_value,
    reason = "ndarray views are passed by value, as in core's `Model`"
)]
pub fn check_finite(x: ArrayView2<'_, f64>, names: &[mlship_core::FeatureInfo]) -> Result<()> {
    // Fast path: a branch-free scan of the contiguous values; the slow walk below only runs to
    // name the culprit.
    if x.as_slice()
        .is_some_and(|s| s.iter().fold(true, |ok, v| ok & v.is_finite()))
    {
        return Ok(());
    }
    for (row, r) in x.outer_iter().enumerate() {
        if let Some((j, &v)) = r.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            let feature = names
                .get(j)
                .map_or_else(|| format!("column {j}"), |f| f.name.clone());
            return Err(TrainError::NonFinite {
                feature,
                row,
                value: v,
            });
        }
    }
    Ok(())
}

/// Copies the view's rows into contiguous arrays, checking the features are finite and a
/// target is present.
pub fn collect(data: DatasetView<'_>) -> Result<Rows<'_>> {
    let n = data.n_rows();
    if n == 0 {
        return Err(TrainError::data("no rows to fit on"));
    }
    if data.n_features() == 0 {
        return Err(TrainError::data("no features to fit on"));
    }
    let x: CowArray<'_, f64, Ix2> = match data.x() {
        std::borrow::Cow::Borrowed(a) if a.is_standard_layout() => CowArray::from(a.view()),
        other => CowArray::from(other.into_owned().as_standard_layout().into_owned()),
    };
    check_finite(x.view(), data.features())?;
    let y = data.y().ok_or_else(|| {
        TrainError::data("the dataset has no target\nhint: choose a target column to train on")
    })?;
    let w: Array1<f64> = (0..n).map(|i| data.weight(i)).collect();
    if w.sum() <= 0.0 {
        return Err(TrainError::data(
            "the sample weights sum to zero; at least one row needs a positive weight",
        ));
    }
    Ok(Rows {
        x,
        y,
        w,
        weighted: data.has_weights(),
    })
}

/// Refuses a classification task for a regression estimator.
pub fn require_regression(task: &Task, estimator: &str) -> Result<()> {
    if task.is_classification() {
        Err(TrainError::data(format!(
            "{estimator} fits a regression target, but the task is {} classification\nhint: use kind = \"logistic\" for classes",
            task.name()
        )))
    } else {
        Ok(())
    }
}
