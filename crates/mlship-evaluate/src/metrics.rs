//! Classification and regression metrics with scikit-learn 1.9's definitions.
//!
//! Every function validates its inputs (lengths, finiteness, class indices, sample weights)
//! and names the offending argument and its first bad position. Class labels are indices
//! `0, 1, …` stored as `f64`; as in scikit-learn with `labels=None`, the classes a
//! classification metric considers are those present in `y_true` or `y_pred`.
//! Sample weights, where accepted, are `Option<&[f64]>`: non-negative, finite, not all zero.
//!
//! Where scikit-learn warns and returns a value (an undefined precision, a one-class ROC
//! AUC), these functions return the same value without a warning.

mod calibration;
mod check;
mod classification;
mod probabilistic;
mod ranking;
mod regression;

pub use calibration::{BinStrategy, CalibrationCurve, calibration_curve};
pub use classification::{
    Average, ClassificationReport, ConfusionMatrix, KappaWeights, Normalize, PerClassScores,
    ReportRow, ZeroDivision, accuracy_score, balanced_accuracy_score, classification_report,
    cohen_kappa_score, confusion_matrix, f1_score, fbeta_score, matthews_corrcoef,
    precision_recall_fscore_support, precision_score, recall_score,
};
pub use probabilistic::{brier_score_loss, log_loss};
pub use ranking::{
    ApAverage, AucAverage, MultiClass, PrecisionRecallCurve, RocCurve, average_precision_score,
    average_precision_score_multiclass, precision_recall_curve, roc_auc_score,
    roc_auc_score_multiclass, roc_curve, top_k_accuracy_score,
};
pub use regression::{
    explained_variance_score, max_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_poisson_deviance, mean_squared_error, mean_tweedie_deviance, median_absolute_error,
    r2_score, root_mean_squared_error,
};
