//! Model specifications: which estimator, with which parameters, as data.
//!
//! A [`ModelSpec`] reads from TOML or JSON text tagged by `kind`
//! (`{ kind = "logistic", C = 0.5, penalty = "l2" }`) or from a search's [`ParamSet`], and
//! builds the validated estimator. Variants are only ever appended.

use mlship_core::DatasetView;
use mlship_core::params::ParamSet;
use mlship_core::traits::{Estimator, FitContext};
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};
use crate::forest::{ExtraTreesParams, RandomForestParams};
use crate::gbdt::GbdtParams;
use crate::linear::enet::{ElasticNetParams, LassoParams};
use crate::linear::ols::LinearRegressionParams;
use crate::linear::ridge::RidgeParams;
use crate::logistic::LogisticParams;
use crate::model::FittedModel;
use crate::report::FitReport;
use crate::tree::DecisionTreeParams;

/// An estimator and its parameters, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelSpec {
    /// Ordinary least squares.
    LinearRegression(LinearRegressionParams),
    /// Ridge regression.
    Ridge(RidgeParams),
    /// The lasso.
    Lasso(LassoParams),
    /// The elastic net.
    ElasticNet(ElasticNetParams),
    /// Logistic regression.
    Logistic(LogisticParams),
    /// A CART decision tree.
    DecisionTree(DecisionTreeParams),
    /// A random forest.
    RandomForest(RandomForestParams),
    /// Extremely randomised trees.
    ExtraTrees(ExtraTreesParams),
    /// Histogram gradient boosting.
    Gbdt(GbdtParams),
}

/// A fitted model with its diagnostics.
#[derive(Debug, Clone)]
pub struct FitOutcome {
    /// The model.
    pub model: FittedModel,
    /// What the solver reports.
    pub report: FitReport,
}

impl ModelSpec {
    /// The `kind` as written in a file.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::LinearRegression(_) => "linear_regression",
            Self::Ridge(_) => "ridge",
            Self::Lasso(_) => "lasso",
            Self::ElasticNet(_) => "elastic_net",
            Self::Logistic(_) => "logistic",
            Self::DecisionTree(_) => "decision_tree",
            Self::RandomForest(_) => "random_forest",
            Self::ExtraTrees(_) => "extra_trees",
            Self::Gbdt(_) => "gbdt",
        }
    }

    /// Every `kind` this crate knows.
    pub const KINDS: &'static [&'static str] = &[
        "linear_regression",
        "ridge",
        "lasso",
        "elastic_net",
        "logistic",
        "decision_tree",
        "random_forest",
        "extra_trees",
        "gbdt",
    ];

    /// Reads a specification from JSON text.
    pub fn from_json(text: &str) -> Result<Self> {
        let spec: Self = serde_json::from_str(text).map_err(|e| TrainError::Spec(e.to_string()))?;
        spec.validate()?;
        Ok(spec)
    }

    /// Reads a specification from an already parsed value (a TOML or JSON table with `kind`),
    /// such as the facade's `toml::Value` converted through serde.
    pub fn from_value(value: serde_json::Value) -> Result<Self> {
        let spec: Self =
            serde_json::from_value(value).map_err(|e| TrainError::Spec(e.to_string()))?;
        spec.validate()?;
        Ok(spec)
    }

    /// A specification of `kind` with the parameters of `params` (the rest at their defaults),
    /// as a search hands a candidate over.
    pub fn from_params(kind: &str, params: &ParamSet) -> Result<Self> {
        let mut map = serde_json::Map::new();
        map.insert("kind".into(), serde_json::Value::String(kind.to_owned()));
        Self::merge(map, params)
    }

    /// This specification with the values of `params` replacing its own (a search candidate
    /// applied to a base specification).
    pub fn with_params(&self, params: &ParamSet) -> Result<Self> {
        let serde_json::Value::Object(map) =
            serde_json::to_value(self).map_err(|e| TrainError::Spec(e.to_string()))?
        else {
            return Err(TrainError::Spec("a specification is a table".into()));
        };
        Self::merge(map, params)
    }

    fn merge(
        mut map: serde_json::Map<String, serde_json::Value>,
        params: &ParamSet,
    ) -> Result<Self> {
        for (name, value) in params.iter() {
            if name == "kind" {
                return Err(TrainError::Spec(
                    "a parameter set cannot change `kind`".into(),
                ));
            }
            let v = serde_json::to_value(value).map_err(|e| TrainError::Spec(e.to_string()))?;
            map.insert(name.clone(), v);
        }
        Self::from_value(serde_json::Value::Object(map))
    }

    /// Checks every parameter.
    pub fn validate(&self) -> Result<()> {
        self.estimator().map(|_| ())
    }

    /// The validated estimator, for cross-validation and search.
    pub fn estimator(&self) -> Result<Box<dyn Estimator>> {
        Ok(match self {
            Self::LinearRegression(p) => Box::new(p.validate()?),
            Self::Ridge(p) => Box::new(p.validate()?),
            Self::Lasso(p) => Box::new(p.validate()?),
            Self::ElasticNet(p) => Box::new(p.validate()?),
            Self::Logistic(p) => Box::new(p.validate()?),
            Self::DecisionTree(p) => Box::new(p.validate()?),
            Self::RandomForest(p) => Box::new(p.validate()?),
            Self::ExtraTrees(p) => Box::new(p.validate()?),
            Self::Gbdt(p) => Box::new(p.validate()?),
        })
    }

    /// Fits the model and returns it with its diagnostics.
    pub fn fit(&self, data: DatasetView<'_>, ctx: &FitContext<'_>) -> Result<FitOutcome> {
        self.fit_warm(data, ctx, None)
    }

    /// Fits, continuing from `init` when given (warm start / partial fit on new rows): L-BFGS,
    /// Newton and SGD logistic fits, coordinate descent and ridge's `cg` start from its
    /// coefficients; closed-form fits (least squares, ridge by Cholesky) have no iterate to
    /// continue and refit from scratch on the rows given. `init` must be the same family
    /// (linear for the regressions, logistic for logistic) with the same features and classes.
    pub fn fit_warm(
        &self,
        data: DatasetView<'_>,
        ctx: &FitContext<'_>,
        init: Option<&FittedModel>,
    ) -> Result<FitOutcome> {
        let wrong = |m: &FittedModel| {
            TrainError::data(format!(
                "a {} model cannot warm-start a {} fit",
                m.kind(),
                self.kind()
            ))
        };
        let linear_init = match init {
            None => None,
            Some(FittedModel::Linear(m)) => Some(m),
            Some(_) if matches!(self, Self::Logistic(_) | Self::Gbdt(_)) => None,
            Some(m) => return Err(wrong(m)),
        };
        let (model, report) = match self {
            Self::LinearRegression(p) => {
                let (m, r) = p.validate()?.fit_report(data, ctx)?;
                (FittedModel::Linear(m), r)
            }
            Self::Ridge(p) => {
                let (m, r) = p.validate()?.fit_report(data, ctx, linear_init)?;
                (FittedModel::Linear(m), r)
            }
            Self::Lasso(p) => {
                let (m, r) = p.validate()?.fit_report(data, ctx, linear_init)?;
                (FittedModel::Linear(m), r)
            }
            Self::ElasticNet(p) => {
                let (m, r) = p.validate()?.fit_report(data, ctx, linear_init)?;
                (FittedModel::Linear(m), r)
            }
            Self::Logistic(p) => {
                let init = match init {
                    None => None,
                    Some(FittedModel::Logistic(m)) => Some(m),
                    Some(m) => return Err(wrong(m)),
                };
                let (m, r) = p.validate()?.fit_report(data, ctx, init)?;
                (FittedModel::Logistic(m), r)
            }
            Self::DecisionTree(p) => {
                if let Some(m) = init {
                    return Err(wrong(m));
                }
                let (m, r) = p.validate()?.fit_report(data, ctx)?;
                (FittedModel::DecisionTree(m), r)
            }
            Self::RandomForest(p) => {
                if let Some(m) = init {
                    return Err(wrong(m));
                }
                let (m, r) = p.validate()?.fit_report(data, ctx)?;
                (FittedModel::RandomForest(m), r)
            }
            Self::ExtraTrees(p) => {
                if let Some(m) = init {
                    return Err(wrong(m));
                }
                let (m, r) = p.validate()?.fit_report(data, ctx)?;
                (FittedModel::ExtraTrees(m), r)
            }
            Self::Gbdt(p) => {
                let init = match init {
                    None => None,
                    Some(FittedModel::Gbdt(m)) => Some(m),
                    Some(m) => return Err(wrong(m)),
                };
                let (m, r) = p.validate()?.fit_report(data, ctx, init)?;
                (FittedModel::Gbdt(m), r)
            }
        };
        Ok(FitOutcome { model, report })
    }
}
