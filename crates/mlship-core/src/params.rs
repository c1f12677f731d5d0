//! Hyperparameter values, parameter sets and search spaces.
//!
//! Cross-validation and search hand a [`ParamSet`] to a fit-and-score closure (DESIGN.md,
//! "Evaluation without leakage"); the train crate turns it into a model specification. The
//! search-space types mirror scikit-learn's `param_grid` ([`ParamGrid`], as in `GridSearchCV`) and
//! `param_distributions` ([`SearchSpace`] of [`Distribution`]s, as in `RandomizedSearchCV` with
//! `scipy.stats.uniform`, `loguniform` and `randint`, or lists for a uniform choice).
//!
//! In an experiment file (TOML or JSON) a search space reads
//! `{ C = { kind = "log_uniform", low = 1e-3, high = 1e3 }, penalty = { kind = "choice", values = ["l1", "l2"] } }`
//! and a grid reads `{ C = [0.1, 1.0, 10.0], penalty = ["l1", "l2"] }`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::rng::Rng;

/// One hyperparameter value: a bool, an integer, a float or a string (serde untagged, so JSON
/// `true`, `3`, `0.5` and `"l2"` read as the matching variant).
///
/// Mirrors the plain Python values scikit-learn's `get_params()` returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// A flag, e.g. `fit_intercept = true`.
    Bool(bool),
    /// A whole number, e.g. `max_depth = 6`.
    Int(i64),
    /// A real number, e.g. `C = 0.5`.
    Float(f64),
    /// A name, e.g. `penalty = "l2"`.
    String(String),
}

impl ParamValue {
    /// The value as a float: floats as they are, integers converted; `None` for bools and strings.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Float(v) => Some(*v),
            Self::Int(v) => Some(*v as f64),
            Self::Bool(_) | Self::String(_) => None,
        }
    }

    /// The value as an integer; `None` unless it is an integer.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Self::Int(v) => Some(*v),
            _ => None,
        }
    }

    /// The value as a bool; `None` unless it is a bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(v) => Some(*v),
            _ => None,
        }
    }

    /// The value as a string; `None` unless it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(v) => Some(v),
            _ => None,
        }
    }
}

impl fmt::Display for ParamValue {
    /// Bools and integers as written, floats in Rust's shortest round-trip form (`0.5`, `1.0`,
    /// `1e-5`), strings without quotes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bool(v) => write!(f, "{v}"),
            Self::Int(v) => write!(f, "{v}"),
            Self::Float(v) => write!(f, "{v:?}"),
            Self::String(v) => write!(f, "{v}"),
        }
    }
}

impl From<bool> for ParamValue {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}

impl From<i64> for ParamValue {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<f64> for ParamValue {
    fn from(v: f64) -> Self {
        Self::Float(v)
    }
}

impl From<&str> for ParamValue {
    fn from(v: &str) -> Self {
        Self::String(v.to_owned())
    }
}

impl From<String> for ParamValue {
    fn from(v: String) -> Self {
        Self::String(v)
    }
}

/// A set of named hyperparameter values, in name order: one search candidate.
///
/// Mirrors one entry of scikit-learn's `cv_results_["params"]` (a dict of parameter names to
/// values). Serialised as a plain JSON object; displayed as `C=0.5, penalty=l2`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ParamSet(pub BTreeMap<String, ParamValue>);

impl ParamSet {
    /// An empty set (every parameter at its default).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value`, replacing any earlier value.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<ParamValue>) {
        self.0.insert(name.into(), value.into());
    }

    /// The builder form of [`insert`](Self::insert).
    pub fn with(mut self, name: impl Into<String>, value: impl Into<ParamValue>) -> Self {
        self.insert(name, value);
        self
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.0.get(name)
    }

    /// The number of parameters set.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no parameter is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The parameters in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &ParamValue)> {
        self.0.iter()
    }
}

impl fmt::Display for ParamSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, value)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name}={value}")?;
        }
        Ok(())
    }
}

impl FromIterator<(String, ParamValue)> for ParamSet {
    fn from_iter<I: IntoIterator<Item = (String, ParamValue)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

/// Where a random search draws one parameter from.
///
/// Serialised tagged by `kind`: `{ kind = "log_uniform", low = 1e-3, high = 1e3 }`. Mirrors the
/// values of scikit-learn's `param_distributions`: a list (uniform choice),
/// `scipy.stats.uniform`, `scipy.stats.loguniform` and `scipy.stats.randint` (whose upper bound
/// is exclusive; `int_uniform`'s `high` is inclusive).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Distribution {
    /// One of `values`, each equally likely (a list in scikit-learn).
    Choice {
        /// The values to choose from; at least one.
        values: Vec<ParamValue>,
    },
    /// A float uniform on `[low, high)` (`scipy.stats.uniform(low, high - low)`).
    Uniform {
        /// Lower bound, finite.
        low: f64,
        /// Upper bound, finite and above `low`.
        high: f64,
    },
    /// A float whose logarithm is uniform on `[ln low, ln high)` (`scipy.stats.loguniform`).
    LogUniform {
        /// Lower bound, finite and positive.
        low: f64,
        /// Upper bound, finite and above `low`.
        high: f64,
    },
    /// An integer uniform on `low..=high` (`scipy.stats.randint(low, high + 1)`).
    IntUniform {
        /// Smallest value.
        low: i64,
        /// Largest value, at least `low`.
        high: i64,
    },
}

impl Distribution {
    /// The `kind` as spelled in a file.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Choice { .. } => "choice",
            Self::Uniform { .. } => "uniform",
            Self::LogUniform { .. } => "log_uniform",
            Self::IntUniform { .. } => "int_uniform",
        }
    }

    /// Checks the bounds: `invalid log_uniform low = 0: expected a positive number`.
    pub fn validate(&self) -> Result<()> {
        let kind = self.kind();
        match self {
            Self::Choice { values } => {
                if values.is_empty() {
                    return Err(Error::invalid_param(
                        "choice values",
                        "[]",
                        "at least one value",
                    ));
                }
            }
            Self::Uniform { low, high } | Self::LogUniform { low, high } => {
                if !low.is_finite() {
                    return Err(Error::invalid_param(
                        format!("{kind} low"),
                        low,
                        "a finite number",
                    ));
                }
                if matches!(self, Self::LogUniform { .. }) && *low <= 0.0 {
                    return Err(Error::invalid_param(
                        format!("{kind} low"),
                        low,
                        "a positive number",
                    ));
                }
                if !high.is_finite() || high <= low {
                    return Err(Error::invalid_param(
                        format!("{kind} high"),
                        high,
                        format!("a finite number above low = {low}"),
                    ));
                }
            }
            Self::IntUniform { low, high } => {
                if high < low {
                    return Err(Error::invalid_param(
                        format!("{kind} high"),
                        high,
                        format!("at least low = {low}"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Draws one value: a [`ParamValue::Float`] for `uniform` and `log_uniform`, a
    /// [`ParamValue::Int`] for `int_uniform`, one of the values for `choice`. Same generator
    /// state, same value. Fails (rather than panicking) on a distribution that
    /// [`validate`](Self::validate) refuses.
    pub fn sample(&self, rng: &mut Rng) -> Result<ParamValue> {
        self.validate()?;
        Ok(match self {
            Self::Choice { values } => {
                let i = rng.index(values.len());
                values.get(i).cloned().unwrap_or(ParamValue::Bool(false))
            }
            Self::Uniform { low, high } => {
                ParamValue::Float(rng.uniform_in(*low, *high).clamp(*low, *high))
            }
            Self::LogUniform { low, high } => {
                let v = rng.uniform_in(low.ln(), high.ln()).exp();
                ParamValue::Float(v.clamp(*low, *high))
            }
            Self::IntUniform { low, high } => {
                // The span fits in u64 unless it is the whole i64 range (2^64 values).
                let span = (i128::from(*high) - i128::from(*low) + 1) as u128;
                let offset = if span > u128::from(u64::MAX) {
                    rng.next_u64()
                } else {
                    rng.below(span as u64)
                };
                ParamValue::Int(((i128::from(*low) + i128::from(offset)) as i64).clamp(*low, *high))
            }
        })
    }

    /// Whether this is a `choice` (a grid axis).
    pub fn is_choice(&self) -> bool {
        matches!(self, Self::Choice { .. })
    }
}

/// The parameter distributions of a random search, in name order (scikit-learn's
/// `param_distributions` of `RandomizedSearchCV` / `ParameterSampler`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SearchSpace(pub BTreeMap<String, Distribution>);

impl SearchSpace {
    /// An empty space.
    pub fn new() -> Self {
        Self::default()
    }

    /// The builder form: adds parameter `name` drawn from `dist`.
    pub fn with(mut self, name: impl Into<String>, dist: Distribution) -> Self {
        self.0.insert(name.into(), dist);
        self
    }

    /// Checks every distribution; the error names the parameter:
    /// `invalid log_uniform low of C = 0: expected a positive number`.
    pub fn validate(&self) -> Result<()> {
        for (name, dist) in &self.0 {
            dist.validate().map_err(|e| match e {
                Error::InvalidParam {
                    param,
                    value,
                    expected,
                } => Error::InvalidParam {
                    param: format!("{param} of {name}"),
                    value,
                    expected,
                },
                other => other,
            })?;
        }
        Ok(())
    }

    /// The grid this space spans when every distribution is a `choice`, else `None`
    /// (scikit-learn's `ParameterSampler` test "all distributions are lists").
    pub fn as_grid(&self) -> Option<ParamGrid> {
        let mut grid = BTreeMap::new();
        for (name, dist) in &self.0 {
            match dist {
                Distribution::Choice { values } => {
                    grid.insert(name.clone(), values.clone());
                }
                _ => return None,
            }
        }
        Some(ParamGrid(grid))
    }

    /// Draws one value per parameter, in name order, from `rng` (one step of scikit-learn's
    /// `ParameterSampler`, which also walks the parameters in sorted order).
    pub fn sample(&self, rng: &mut Rng) -> Result<ParamSet> {
        let mut set = ParamSet::new();
        for (name, dist) in &self.0 {
            set.0.insert(name.clone(), dist.sample(rng)?);
        }
        Ok(set)
    }
}

impl From<ParamGrid> for SearchSpace {
    /// Each grid axis becomes a uniform `choice`.
    fn from(grid: ParamGrid) -> Self {
        Self(
            grid.0
                .into_iter()
                .map(|(name, values)| (name, Distribution::Choice { values }))
                .collect(),
        )
    }
}

/// A parameter grid: each name with the list of values to try (scikit-learn's `param_grid` of
/// `GridSearchCV` / `ParameterGrid`, one dict). Serialised as `{ "C": [0.1, 1.0], "penalty": ["l2"] }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ParamGrid(pub BTreeMap<String, Vec<ParamValue>>);

impl ParamGrid {
    /// An empty grid (one candidate: every parameter at its default, as scikit-learn's
    /// `ParameterGrid({})`).
    pub fn new() -> Self {
        Self::default()
    }

    /// The builder form: adds the axis `name` with `values`.
    pub fn with<V: Into<ParamValue>>(
        mut self,
        name: impl Into<String>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        self.0
            .insert(name.into(), values.into_iter().map(Into::into).collect());
        self
    }

    /// Checks that every axis has at least one value: `invalid C = []: expected at least one value`.
    pub fn validate(&self) -> Result<()> {
        for (name, values) in &self.0 {
            if values.is_empty() {
                return Err(Error::invalid_param(
                    name.clone(),
                    "[]",
                    "at least one value",
                ));
            }
        }
        Ok(())
    }

    /// The number of candidates (the product of the axis lengths; `len(ParameterGrid(...))`),
    /// or `None` when it overflows `u64`.
    pub fn size(&self) -> Option<u64> {
        self.0
            .values()
            .try_fold(1u64, |acc, v| acc.checked_mul(v.len() as u64))
    }

    /// Candidate `index` in scikit-learn's `ParameterGrid` order (names sorted, the last name
    /// varying fastest), or `None` past the end.
    pub fn get(&self, index: u64) -> Option<ParamSet> {
        if index >= self.size()? {
            return None;
        }
        let mut rest = index;
        let mut set = ParamSet::new();
        for (name, values) in self.0.iter().rev() {
            let n = values.len() as u64;
            let value = values.get((rest % n) as usize)?;
            set.0.insert(name.clone(), value.clone());
            rest /= n;
        }
        Some(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn param_values_read_untagged_and_display() {
        let set: ParamSet = serde_json::from_str(
            r#"{"penalty": "l2", "C": 0.5, "max_iter": 100, "fit_intercept": true}"#,
        )
        .unwrap();
        assert_eq!(set.get("C"), Some(&ParamValue::Float(0.5)));
        assert_eq!(set.get("max_iter"), Some(&ParamValue::Int(100)));
        assert_eq!(set.get("fit_intercept"), Some(&ParamValue::Bool(true)));
        assert_eq!(set.get("penalty"), Some(&ParamValue::from("l2")));
        assert_eq!(
            set.to_string(),
            "C=0.5, fit_intercept=true, max_iter=100, penalty=l2"
        );
        let json = serde_json::to_string(&set).unwrap();
        assert_eq!(
            json,
            r#"{"C":0.5,"fit_intercept":true,"max_iter":100,"penalty":"l2"}"#
        );
        assert_eq!(serde_json::from_str::<ParamSet>(&json).unwrap(), set);
        assert_eq!(ParamValue::Float(1.0).to_string(), "1.0");
        assert_eq!(ParamValue::Int(1).as_f64(), Some(1.0));
    }

    #[test]
    fn distributions_round_trip_through_json() {
        let space = SearchSpace::new()
            .with(
                "C",
                Distribution::LogUniform {
                    low: 1e-3,
                    high: 1e3,
                },
            )
            .with(
                "alpha",
                Distribution::Uniform {
                    low: 0.0,
                    high: 1.0,
                },
            )
            .with("depth", Distribution::IntUniform { low: 2, high: 8 })
            .with(
                "penalty",
                Distribution::Choice {
                    values: vec!["l1".into(), "l2".into()],
                },
            );
        let json = serde_json::to_string(&space).unwrap();
        assert_eq!(
            json,
            r#"{"C":{"kind":"log_uniform","low":0.001,"high":1000.0},"alpha":{"kind":"uniform","low":0.0,"high":1.0},"depth":{"kind":"int_uniform","low":2,"high":8},"penalty":{"kind":"choice","values":["l1","l2"]}}"#
        );
        assert_eq!(serde_json::from_str::<SearchSpace>(&json).unwrap(), space);

        let grid = ParamGrid::new().with("C", [0.1, 1.0]).with("k", [1i64, 2]);
        let json = serde_json::to_string(&grid).unwrap();
        assert_eq!(json, r#"{"C":[0.1,1.0],"k":[1,2]}"#);
        assert_eq!(serde_json::from_str::<ParamGrid>(&json).unwrap(), grid);
    }

    #[test]
    fn unknown_fields_and_kinds_are_refused() {
        let e =
            serde_json::from_str::<Distribution>(r#"{"kind":"uniform","low":0,"high":1,"hgih":2}"#)
                .unwrap_err();
        assert!(e.to_string().contains("unknown field `hgih`"), "{e}");
        let e = serde_json::from_str::<Distribution>(r#"{"kind":"normal","loc":0}"#).unwrap_err();
        assert!(e.to_string().contains("unknown variant `normal`"), "{e}");
    }

    #[test]
    fn validation_names_parameter_and_value() {
        let d = Distribution::LogUniform {
            low: 0.0,
            high: 1.0,
        };
        assert_eq!(
            d.validate().unwrap_err().to_string(),
            "invalid log_uniform low = 0: expected a positive number"
        );
        let space = SearchSpace::new().with("C", d);
        assert_eq!(
            space.validate().unwrap_err().to_string(),
            "invalid log_uniform low of C = 0: expected a positive number"
        );
        assert_eq!(
            Distribution::Uniform {
                low: 2.0,
                high: 1.0
            }
            .validate()
            .unwrap_err()
            .to_string(),
            "invalid uniform high = 1: expected a finite number above low = 2"
        );
        assert_eq!(
            Distribution::IntUniform { low: 3, high: 2 }
                .validate()
                .unwrap_err()
                .to_string(),
            "invalid int_uniform high = 2: expected at least low = 3"
        );
        assert_eq!(
            Distribution::Choice { values: vec![] }
                .validate()
                .unwrap_err()
                .to_string(),
            "invalid choice values = []: expected at least one value"
        );
        assert!(
            Distribution::Choice { values: vec![] }
                .sample(&mut Rng::new(0))
                .is_err()
        );
        assert_eq!(
            ParamGrid::new()
                .with::<f64>("C", [])
                .validate()
                .unwrap_err()
                .to_string(),
            "invalid C = []: expected at least one value"
        );
    }

    #[test]
    fn samples_stay_in_range_and_repeat_with_the_seed() {
        let space = SearchSpace::new()
            .with(
                "C",
                Distribution::LogUniform {
                    low: 1e-3,
                    high: 1e3,
                },
            )
            .with(
                "a",
                Distribution::Uniform {
                    low: -1.0,
                    high: 1.0,
                },
            )
            .with("d", Distribution::IntUniform { low: 2, high: 4 })
            .with(
                "p",
                Distribution::Choice {
                    values: vec!["l1".into(), "l2".into()],
                },
            );
        let draw = |seed| {
            let mut rng = Rng::new(seed);
            (0..500)
                .map(|_| space.sample(&mut rng).unwrap())
                .collect::<Vec<_>>()
        };
        let a = draw(7);
        assert_eq!(a, draw(7));
        assert_ne!(a, draw(8));
        let mut depths = [0usize; 3];
        let (mut below_one, mut above_one) = (0, 0);
        for set in &a {
            let c = set.get("C").and_then(ParamValue::as_f64).unwrap();
            assert!((1e-3..=1e3).contains(&c), "{c}");
            if c < 1.0 {
                below_one += 1;
            } else {
                above_one += 1;
            }
            let x = set.get("a").and_then(ParamValue::as_f64).unwrap();
            assert!((-1.0..1.0).contains(&x), "{x}");
            let d = set.get("d").and_then(ParamValue::as_i64).unwrap();
            depths[(d - 2) as usize] += 1;
            let p = set.get("p").and_then(ParamValue::as_str).unwrap();
            assert!(p == "l1" || p == "l2");
        }
        // Log-uniform on [1e-3, 1e3]: half the mass on each side of 1.
        assert!(
            below_one > 200 && above_one > 200,
            "{below_one} {above_one}"
        );
        assert!(depths.iter().all(|&n| n > 100), "{depths:?}");
        let full = Distribution::IntUniform {
            low: i64::MIN,
            high: i64::MAX,
        };
        assert!(matches!(
            full.sample(&mut Rng::new(1)),
            Ok(ParamValue::Int(_))
        ));
    }

    #[test]
    fn grid_indexes_in_parameter_grid_order() {
        let grid = ParamGrid::new()
            .with("b", [1i64, 2, 3])
            .with("a", ["x", "y"]);
        assert_eq!(grid.size(), Some(6));
        let all: Vec<String> = (0..6).map(|i| grid.get(i).unwrap().to_string()).collect();
        assert_eq!(
            all,
            [
                "a=x, b=1", "a=x, b=2", "a=x, b=3", "a=y, b=1", "a=y, b=2", "a=y, b=3"
            ]
        );
        assert_eq!(grid.get(6), None);
        assert_eq!(ParamGrid::new().size(), Some(1));
        assert_eq!(ParamGrid::new().get(0), Some(ParamSet::new()));
        let space = SearchSpace::from(grid.clone());
        assert_eq!(space.as_grid(), Some(grid));
    }
}
