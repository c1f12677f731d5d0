//! What a model predicts.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The learning task, with class labels in scikit-learn's `classes_` order (sorted: numerically
/// when every label is a number, otherwise lexicographically).
///
/// Targets inside a [`crate::Dataset`] hold a class's index into `classes` as an `f64`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Task {
    /// Predict a real number.
    Regression,
    /// Two classes; `classes[1]` is the positive class.
    Binary {
        /// The two class labels, sorted.
        classes: Vec<String>,
    },
    /// Three or more classes.
    Multiclass {
        /// The class labels, sorted.
        classes: Vec<String>,
    },
}

impl Task {
    /// A classification task from the labels seen in a target column, deduplicated and sorted as
    /// scikit-learn sorts them. Fewer than two distinct labels is an error.
    pub fn classification<S: AsRef<str>>(labels: impl IntoIterator<Item = S>) -> Result<Self> {
        let classes = sorted_labels(labels);
        match classes.len() {
            0 | 1 => Err(Error::invalid_data(format!(
                "a classification target needs at least two classes, found {}{}\n\
                 hint: check the target column, or choose a regression task",
                classes.len(),
                classes
                    .first()
                    .map(|c| format!(" ({c:?})"))
                    .unwrap_or_default()
            ))),
            2 => Ok(Self::Binary { classes }),
            _ => Ok(Self::Multiclass { classes }),
        }
    }

    /// The class labels, empty for regression.
    pub fn classes(&self) -> &[String] {
        match self {
            Self::Regression => &[],
            Self::Binary { classes } | Self::Multiclass { classes } => classes,
        }
    }

    /// Number of classes; 0 for regression.
    pub fn n_classes(&self) -> usize {
        self.classes().len()
    }

    /// Whether this is a classification task.
    pub fn is_classification(&self) -> bool {
        !matches!(self, Self::Regression)
    }

    /// The index of `label` among the classes.
    pub fn class_index(&self, label: &str) -> Option<usize> {
        self.classes().iter().position(|c| c == label)
    }

    /// A short name: `regression`, `binary` or `multiclass`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Regression => "regression",
            Self::Binary { .. } => "binary",
            Self::Multiclass { .. } => "multiclass",
        }
    }
}

/// Deduplicates and sorts labels the way scikit-learn orders `classes_`: numerically when all
/// labels parse as numbers, otherwise as strings.
pub fn sorted_labels<S: AsRef<str>>(labels: impl IntoIterator<Item = S>) -> Vec<String> {
    let mut set: Vec<String> = labels.into_iter().map(|s| s.as_ref().to_owned()).collect();
    set.sort_unstable();
    set.dedup();
    let numeric: Option<Vec<f64>> = set.iter().map(|s| s.trim().parse::<f64>().ok()).collect();
    if let Some(values) = numeric {
        let mut pairs: Vec<(f64, String)> = values.into_iter().zip(set).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        pairs.into_iter().map(|(_, s)| s).collect()
    } else {
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_labels_sort_numerically() {
        let t = Task::classification(["10", "2", "1", "2"]).unwrap();
        assert_eq!(
            t,
            Task::Multiclass {
                classes: vec!["1".into(), "2".into(), "10".into()]
            }
        );
    }

    #[test]
    fn string_labels_sort_lexicographically_and_two_make_binary() {
        let t = Task::classification(["yes", "no", "yes"]).unwrap();
        assert_eq!(t.classes(), ["no", "yes"]);
        assert_eq!(t.name(), "binary");
        assert_eq!(t.class_index("yes"), Some(1));
    }

    #[test]
    fn one_class_is_an_error_naming_it() {
        let e = Task::classification(["a", "a"]).unwrap_err().to_string();
        assert!(e.contains("at least two classes, found 1 (\"a\")"), "{e}");
    }

    #[test]
    fn serde_shape_is_tagged() {
        let json = serde_json::to_string(&Task::Binary {
            classes: vec!["0".into(), "1".into()],
        })
        .unwrap();
        assert_eq!(json, r#"{"kind":"binary","classes":["0","1"]}"#);
        assert_eq!(
            serde_json::to_string(&Task::Regression).unwrap(),
            r#"{"kind":"regression"}"#
        );
    }
}
