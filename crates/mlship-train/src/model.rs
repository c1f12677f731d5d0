//! Every fitted model of the crate, as one enum that serialises to bytes.
//!
//! Variants are only ever appended: the postcard encoding names a variant by its index.

use mlship_core::traits::Model;
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};
use crate::linear::LinearModel;
use crate::logistic::LogisticModel;
use crate::tree::TreeModel;

/// The version written in front of every encoded model.
pub const FORMAT_VERSION: u32 = 1;
/// The oldest version [`FittedModel::from_bytes`] reads.
pub const OLDEST_VERSION: u32 = 1;
/// The largest encoding accepted (256 MiB).
pub const MAX_BYTES: usize = 256 << 20;

/// A fitted model of any kind this crate trains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FittedModel {
    /// Least squares, ridge, lasso or elastic net.
    Linear(LinearModel),
    /// Logistic regression.
    Logistic(LogisticModel),
    /// A decision tree.
    DecisionTree(TreeModel),
    /// A random forest.
    RandomForest(TreeModel),
    /// Extremely randomised trees.
    ExtraTrees(TreeModel),
    /// Histogram gradient boosting.
    Gbdt(TreeModel),
}

#[derive(Serialize)]
struct Stored<'a> {
    version: u32,
    model: &'a FittedModel,
}

#[derive(Deserialize)]
struct Loaded {
    version: u32,
    model: FittedModel,
}

impl FittedModel {
    /// A short name of the model family.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Linear(_) => "linear",
            Self::Logistic(_) => "logistic",
            Self::DecisionTree(_) => "decision_tree",
            Self::RandomForest(_) => "random_forest",
            Self::ExtraTrees(_) => "extra_trees",
            Self::Gbdt(_) => "gbdt",
        }
    }

    /// The model through core's trait.
    pub fn as_model(&self) -> &dyn Model {
        match self {
            Self::Linear(m) => m,
            Self::Logistic(m) => m,
            Self::DecisionTree(m) | Self::RandomForest(m) | Self::ExtraTrees(m) | Self::Gbdt(m) => {
                m
            }
        }
    }

    /// The model, boxed for core's trait.
    pub fn into_model(self) -> Box<dyn Model> {
        match self {
            Self::Linear(m) => Box::new(m),
            Self::Logistic(m) => Box::new(m),
            Self::DecisionTree(m) | Self::RandomForest(m) | Self::ExtraTrees(m) | Self::Gbdt(m) => {
                Box::new(m)
            }
        }
    }

    /// The fitted numeric state in postcard, after a format version.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        postcard::to_stdvec(&Stored {
            version: FORMAT_VERSION,
            model: self,
        })
        .map_err(|e| TrainError::Corrupt(format!("encoding failed: {e}")))
    }

    /// Reads what [`to_bytes`](Self::to_bytes) wrote, validating shapes and finiteness: the
    /// bytes are untrusted.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_BYTES {
            return Err(TrainError::Corrupt(format!(
                "{} bytes is more than the {MAX_BYTES} a model may take",
                bytes.len()
            )));
        }
        let (version, _) = postcard::take_from_bytes::<u32>(bytes)
            .map_err(|e| TrainError::Corrupt(format!("no format version: {e}")))?;
        if !(OLDEST_VERSION..=FORMAT_VERSION).contains(&version) {
            return Err(TrainError::Corrupt(format!(
                "format version {version} is not supported (this build reads {OLDEST_VERSION} to {FORMAT_VERSION})\nhint: upgrade mlship to read newer models"
            )));
        }
        let (loaded, rest): (Loaded, _) = postcard::take_from_bytes(bytes).map_err(|e| {
            tree_refusal(bytes)
                .unwrap_or_else(|| TrainError::Corrupt(format!("decoding failed: {e}")))
        })?;
        if !rest.is_empty() {
            return Err(TrainError::Corrupt(format!(
                "{} trailing bytes",
                rest.len()
            )));
        }
        debug_assert_eq!(loaded.version, version);
        Ok(match loaded.model {
            Self::Linear(m) => Self::Linear(m.validated()?),
            m @ Self::Logistic(_) => m,
            // Tree models are validated while decoding (core's ensemble and `TreeModel::new`).
            Self::DecisionTree(m) => Self::DecisionTree(m),
            Self::RandomForest(m) => Self::RandomForest(m),
            Self::ExtraTrees(m) => Self::ExtraTrees(m),
            Self::Gbdt(m) => Self::Gbdt(m),
        })
    }
}

/// The variant tags of the tree models (`DecisionTree` … `Gbdt`) in the encoding.
const TREE_VARIANTS: std::ops::RangeInclusive<u32> = 2..=5;

/// The validation message of a refused tree model, which the binary decoder does not keep.
fn tree_refusal(bytes: &[u8]) -> Option<TrainError> {
    let (_, rest) = postcard::take_from_bytes::<u32>(bytes).ok()?;
    let (variant, rest) = postcard::take_from_bytes::<u32>(rest).ok()?;
    if TREE_VARIANTS.contains(&variant) {
        crate::tree::diagnose(rest)
    } else {
        None
    }
}

impl From<LinearModel> for FittedModel {
    fn from(m: LinearModel) -> Self {
        Self::Linear(m)
    }
}

impl From<LogisticModel> for FittedModel {
    fn from(m: LogisticModel) -> Self {
        Self::Logistic(m)
    }
}
