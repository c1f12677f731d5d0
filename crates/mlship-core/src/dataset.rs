//! The numeric design matrix estimators learn from.
//!
//! A [`Dataset`] owns the matrix, the optional target, sample weights and groups, and describes
//! each feature. A [`DatasetView`] borrows a dataset and a set of row indices, so that
//! cross-validation folds and bootstrap samples never copy the matrix.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::task::Task;

/// How an estimator should treat a feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FeatureKind {
    /// An ordered real value.
    Numeric,
    /// Category codes `0..n_levels` stored as `f64` (missing = `NaN`), for estimators with
    /// native categorical support.
    Categorical {
        /// Number of levels.
        n_levels: u32,
    },
}

/// A feature's name and kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureInfo {
    /// The transformed feature's name (such as `island=Dream` or `log_income`).
    pub name: String,
    /// Its kind.
    pub kind: FeatureKind,
}

impl FeatureInfo {
    /// A numeric feature.
    pub fn numeric(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            kind: FeatureKind::Numeric,
        }
    }
}

/// A numeric design matrix with its target, weights, groups and feature descriptions.
///
/// Missing values in `x` are `NaN` (estimators without native missing-value support reject
/// them). For classification, `y` holds class indices into `task.classes()`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    x: Array2<f64>,
    y: Option<Array1<f64>>,
    weights: Option<Array1<f64>>,
    groups: Option<Vec<u64>>,
    features: Vec<FeatureInfo>,
    task: Task,
}

impl Dataset {
    /// A dataset from a matrix and feature descriptions, with no target.
    pub fn new(x: Array2<f64>, features: Vec<FeatureInfo>, task: Task) -> Result<Self> {
        if features.len() != x.ncols() {
            return Err(Error::invalid_data(format!(
                "{} feature descriptions for a matrix of {} columns",
                features.len(),
                x.ncols()
            )));
        }
        Ok(Self {
            x,
            y: None,
            weights: None,
            groups: None,
            features,
            task,
        })
    }

    /// Sets the target. Its length must match the rows; values must be finite, and class indices
    /// (integers in range) for classification.
    pub fn with_target(mut self, y: Array1<f64>) -> Result<Self> {
        self.check_len("target", y.len())?;
        let n_classes = self.task.n_classes();
        for (row, &v) in y.iter().enumerate() {
            if !v.is_finite() {
                return Err(Error::invalid_data(format!(
                    "target row {row}: {v} is not a finite number\nhint: drop rows with a missing target before training"
                )));
            }
            if n_classes > 0 && (v < 0.0 || v.fract() != 0.0 || v as usize >= n_classes) {
                return Err(Error::invalid_data(format!(
                    "target row {row}: {v} is not a class index in 0..{n_classes}"
                )));
            }
        }
        self.y = Some(y);
        Ok(self)
    }

    /// Sets sample weights: finite and non-negative, one per row.
    pub fn with_weights(mut self, w: Array1<f64>) -> Result<Self> {
        self.check_len("weights", w.len())?;
        if let Some((row, v)) = w
            .iter()
            .enumerate()
            .find(|(_, v)| !v.is_finite() || **v < 0.0)
        {
            return Err(Error::invalid_data(format!(
                "sample weight row {row}: {v} is not a finite non-negative number"
            )));
        }
        self.weights = Some(w);
        Ok(self)
    }

    /// Sets group ids (for group-aware splits), one per row.
    pub fn with_groups(mut self, groups: Vec<u64>) -> Result<Self> {
        self.check_len("groups", groups.len())?;
        self.groups = Some(groups);
        Ok(self)
    }

    fn check_len(&self, what: &str, len: usize) -> Result<()> {
        if len == self.x.nrows() {
            Ok(())
        } else {
            Err(Error::invalid_data(format!(
                "{what} has {len} rows but the feature matrix has {}",
                self.x.nrows()
            )))
        }
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.x.nrows()
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.x.ncols()
    }

    /// The feature matrix.
    pub fn x(&self) -> ArrayView2<'_, f64> {
        self.x.view()
    }

    /// The target, if any.
    pub fn y(&self) -> Option<ArrayView1<'_, f64>> {
        self.y.as_ref().map(|y| y.view())
    }

    /// The sample weights, if any.
    pub fn weights(&self) -> Option<ArrayView1<'_, f64>> {
        self.weights.as_ref().map(|w| w.view())
    }

    /// The group ids, if any.
    pub fn groups(&self) -> Option<&[u64]> {
        self.groups.as_deref()
    }

    /// The feature descriptions.
    pub fn features(&self) -> &[FeatureInfo] {
        &self.features
    }

    /// The task.
    pub fn task(&self) -> &Task {
        &self.task
    }

    /// A view of every row.
    pub fn view(&self) -> DatasetView<'_> {
        DatasetView {
            data: self,
            rows: None,
        }
    }

    /// A view of the rows at `rows` (indices may repeat, as in a bootstrap sample).
    pub fn rows<'a>(&'a self, rows: &'a [usize]) -> Result<DatasetView<'a>> {
        if let Some(&bad) = rows.iter().find(|&&r| r >= self.n_rows()) {
            return Err(Error::invalid_data(format!(
                "row {bad} is out of range for a dataset of {} rows",
                self.n_rows()
            )));
        }
        Ok(DatasetView {
            data: self,
            rows: Some(rows),
        })
    }
}

/// A borrowed subset of a dataset's rows.
#[derive(Debug, Clone, Copy)]
pub struct DatasetView<'a> {
    data: &'a Dataset,
    rows: Option<&'a [usize]>,
}

impl<'a> DatasetView<'a> {
    /// The whole dataset behind the view.
    pub fn dataset(&self) -> &'a Dataset {
        self.data
    }

    /// The row indices into the dataset, or `None` for all rows in order.
    pub fn row_indices(&self) -> Option<&'a [usize]> {
        self.rows
    }

    /// Number of rows in the view.
    pub fn n_rows(&self) -> usize {
        self.rows.map_or(self.data.n_rows(), <[usize]>::len)
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.data.n_features()
    }

    /// The index in the dataset of the view's `i`-th row.
    #[inline]
    pub fn source_row(&self, i: usize) -> usize {
        self.rows.map_or(i, |r| r[i])
    }

    /// The view's `i`-th row of features.
    #[inline]
    pub fn row(&self, i: usize) -> ArrayView1<'a, f64> {
        self.data.x.row(self.source_row(i))
    }

    /// Feature `j` of the view's `i`-th row.
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data.x[[self.source_row(i), j]]
    }

    /// The target of the view's `i`-th row, if the dataset has a target.
    #[inline]
    pub fn target(&self, i: usize) -> Option<f64> {
        self.data.y.as_ref().map(|y| y[self.source_row(i)])
    }

    /// The weight of the view's `i`-th row (1 without weights).
    #[inline]
    pub fn weight(&self, i: usize) -> f64 {
        self.data
            .weights
            .as_ref()
            .map_or(1.0, |w| w[self.source_row(i)])
    }

    /// The group of the view's `i`-th row, if the dataset has groups.
    pub fn group(&self, i: usize) -> Option<u64> {
        self.data.groups.as_ref().map(|g| g[self.source_row(i)])
    }

    /// Whether the dataset has sample weights.
    pub fn has_weights(&self) -> bool {
        self.data.weights.is_some()
    }

    /// The feature descriptions.
    pub fn features(&self) -> &'a [FeatureInfo] {
        &self.data.features
    }

    /// The task.
    pub fn task(&self) -> &'a Task {
        &self.data.task
    }

    /// The view's feature matrix, borrowed when the view covers every row, copied otherwise.
    pub fn x(&self) -> std::borrow::Cow<'a, Array2<f64>> {
        match self.rows {
            None => std::borrow::Cow::Borrowed(&self.data.x),
            Some(rows) => std::borrow::Cow::Owned(self.data.x.select(Axis(0), rows)),
        }
    }

    /// The view's targets, copied into a vector; `None` without a target.
    pub fn y(&self) -> Option<Array1<f64>> {
        let y = self.data.y.as_ref()?;
        Some(match self.rows {
            None => y.clone(),
            Some(rows) => rows.iter().map(|&r| y[r]).collect(),
        })
    }

    /// A sub-view: the rows at `positions` within this view, mapped to dataset rows into
    /// `buffer`, which the returned view borrows.
    pub fn subset<'b>(
        &self,
        positions: &[usize],
        buffer: &'b mut Vec<usize>,
    ) -> Result<DatasetView<'b>>
    where
        'a: 'b,
    {
        buffer.clear();
        for &p in positions {
            if p >= self.n_rows() {
                return Err(Error::invalid_data(format!(
                    "row {p} is out of range for a view of {} rows",
                    self.n_rows()
                )));
            }
            buffer.push(self.source_row(p));
        }
        Ok(DatasetView {
            data: self.data,
            rows: Some(buffer),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn data() -> Dataset {
        Dataset::new(
            array![[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]],
            vec![FeatureInfo::numeric("a"), FeatureInfo::numeric("b")],
            Task::classification(["0", "1"]).unwrap(),
        )
        .unwrap()
        .with_target(array![0.0, 1.0, 1.0])
        .unwrap()
        .with_weights(array![1.0, 2.0, 0.5])
        .unwrap()
    }

    #[test]
    fn views_borrow_rows_by_index() {
        let d = data();
        let idx = [2, 0, 2];
        let v = d.rows(&idx).unwrap();
        assert_eq!(v.n_rows(), 3);
        assert_eq!(v.get(0, 1), 30.0);
        assert_eq!(v.target(1), Some(0.0));
        assert_eq!(v.weight(0), 0.5);
        assert_eq!(v.x().nrows(), 3);
        assert!(matches!(d.view().x(), std::borrow::Cow::Borrowed(_)));
        let mut buf = Vec::new();
        let sub = v.subset(&[1], &mut buf).unwrap();
        assert_eq!(sub.row(0).to_vec(), vec![1.0, 10.0]);
        assert!(d.rows(&[3]).is_err());
    }

    #[test]
    fn target_and_weight_checks_name_the_row() {
        let base = || {
            Dataset::new(
                array![[1.0], [2.0]],
                vec![FeatureInfo::numeric("a")],
                Task::classification(["a", "b"]).unwrap(),
            )
            .unwrap()
        };
        let e = base()
            .with_target(array![0.0, 2.0])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("target row 1: 2 is not a class index in 0..2"),
            "{e}"
        );
        let e = base()
            .with_target(array![0.0, f64::NAN])
            .unwrap_err()
            .to_string();
        assert!(e.contains("target row 1: NaN"), "{e}");
        let e = base()
            .with_weights(array![1.0, -1.0])
            .unwrap_err()
            .to_string();
        assert!(e.contains("sample weight row 1"), "{e}");
        let e = base().with_groups(vec![1]).unwrap_err().to_string();
        assert!(
            e.contains("groups has 1 rows but the feature matrix has 2"),
            "{e}"
        );
    }
}
