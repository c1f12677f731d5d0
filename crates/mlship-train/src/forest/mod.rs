//! Random forests and extremely randomised trees (scikit-learn's `RandomForest*` and
//! `ExtraTrees*`).
//!
//! Each tree is grown on a bootstrap sample (drawn counts become sample weights, as in
//! scikit-learn) or on every row, with `max_features` candidate features per split. Trees are
//! fitted in parallel with rayon; tree `t` draws from `Rng::derive(seed, t)` and the trees are
//! collected in index order, so a forest is bit-identical whatever the thread count. A
//! classifier's probability is the mean of its trees' leaf class fractions.

use mlship_core::DatasetView;
use mlship_core::rng::Rng;
use mlship_core::traits::{Estimator, FitContext, Model, Progress};
use mlship_core::tree::{Aggregation, Link, TreeEnsemble};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};
use crate::params::at_least;
use crate::report::FitReport;
use crate::tree::cart::{GrowConfig, Grown, grow};
use crate::tree::{ClassWeight, Criterion, FeatureRule, MaxFeatures, TreeData, TreeModel, argmax};

/// How many rows each bootstrap sample draws (scikit-learn's `max_samples`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MaxSamples {
    /// This many rows.
    Count(usize),
    /// This fraction of the rows, in `(0, 1]`.
    Fraction(f64),
}

macro_rules! forest_params {
    ($(#[$doc:meta])* $name:ident, $bootstrap:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            /// Number of trees (at least 1).
            pub n_estimators: usize,
            /// The impurity; `None` picks `gini` for classification, `squared_error` for
            /// regression.
            pub criterion: Option<Criterion>,
            /// The deepest a leaf may be; `None` for no limit.
            pub max_depth: Option<usize>,
            /// The fewest rows a node needs to be split.
            pub min_samples_split: usize,
            /// The fewest rows each child must keep.
            pub min_samples_leaf: usize,
            /// The smallest weighted impurity decrease a split must bring.
            pub min_impurity_decrease: f64,
            /// Features tried per split; `None` is `sqrt` for classification and every
            /// feature for regression, as in scikit-learn.
            pub max_features: Option<MaxFeatures>,
            /// Grow each tree best-first up to this many leaves.
            pub max_leaf_nodes: Option<usize>,
            /// Draw a bootstrap sample per tree.
            pub bootstrap: bool,
            /// Rows per bootstrap sample; `None` draws as many as there are rows.
            pub max_samples: Option<MaxSamples>,
            /// Compute the out-of-bag score (accuracy or R²; needs `bootstrap`).
            pub oob_score: bool,
            /// Class weights for classification.
            pub class_weight: Option<ClassWeight>,
            /// Seed, XOR-ed with the fit context's seed.
            pub seed: u64,
        }

        impl Default for $name {
            fn default() -> Self {
                Self {
                    n_estimators: 100,
                    criterion: None,
                    max_depth: None,
                    min_samples_split: 2,
                    min_samples_leaf: 1,
                    min_impurity_decrease: 0.0,
                    max_features: None,
                    max_leaf_nodes: None,
                    bootstrap: $bootstrap,
                    max_samples: None,
                    oob_score: false,
                    class_weight: None,
                    seed: 0,
                }
            }
        }

        impl $name {
            /// The validated estimator.
            pub fn validate(&self) -> Result<Forest> {
                validate_forest(
                    ForestSettings {
                        n_estimators: self.n_estimators,
                        bootstrap: self.bootstrap,
                        max_samples: self.max_samples,
                        oob_score: self.oob_score,
                        class_weight: self.class_weight.clone(),
                        seed: self.seed,
                        extra: stringify!($name) == "ExtraTreesParams",
                    },
                    GrowConfig {
                        criterion: self.criterion,
                        max_depth: self.max_depth,
                        min_samples_split: self.min_samples_split,
                        min_samples_leaf: self.min_samples_leaf,
                        min_impurity_decrease: self.min_impurity_decrease,
                        max_features: self
                            .max_features
                            .unwrap_or(MaxFeatures::Rule(FeatureRule::All)),
                        max_leaf_nodes: self.max_leaf_nodes,
                        random_splits: stringify!($name) == "ExtraTreesParams",
                    },
                    self.max_features.is_none(),
                )
            }
        }
    };
}

forest_params!(
    /// Parameters of a random forest (scikit-learn's defaults: 100 trees, bootstrap).
    RandomForestParams,
    true
);

forest_params!(
    /// Parameters of extremely randomised trees: one random threshold per candidate feature,
    /// no bootstrap by default (scikit-learn's defaults).
    ExtraTreesParams,
    false
);

#[derive(Debug, Clone)]
struct ForestSettings {
    n_estimators: usize,
    bootstrap: bool,
    max_samples: Option<MaxSamples>,
    oob_score: bool,
    class_weight: Option<ClassWeight>,
    seed: u64,
    extra: bool,
}

fn validate_forest(s: ForestSettings, g: GrowConfig, default_features: bool) -> Result<Forest> {
    at_least("n_estimators", s.n_estimators, 1)?;
    g.validate()?;
    match s.max_samples {
        Some(MaxSamples::Count(0)) => {
            return Err(TrainError::invalid(
                "max_samples",
                0,
                "an integer >= 1 or a fraction in (0, 1]",
            ));
        }
        Some(MaxSamples::Fraction(f)) if !(f > 0.0 && f <= 1.0) => {
            return Err(TrainError::invalid(
                "max_samples",
                f,
                "an integer >= 1 or a fraction in (0, 1]",
            ));
        }
        Some(_) if !s.bootstrap => {
            return Err(TrainError::invalid(
                "max_samples",
                "set",
                "no value without bootstrap = true",
            ));
        }
        _ => {}
    }
    if s.oob_score && !s.bootstrap {
        return Err(TrainError::invalid(
            "oob_score",
            true,
            "false without bootstrap = true (every row is in every tree)",
        ));
    }
    Ok(Forest {
        settings: s,
        grow: g,
        default_features,
    })
}

/// A validated random forest or extra-trees estimator.
#[derive(Debug, Clone)]
pub struct Forest {
    settings: ForestSettings,
    grow: GrowConfig,
    default_features: bool,
}

impl Forest {
    /// Fits the forest (in a pool of `ctx.threads` threads when more than one); the report
    /// counts trees.
    pub fn fit_report(
        &self,
        data: DatasetView<'_>,
        ctx: &FitContext<'_>,
    ) -> Result<(TreeModel, FitReport)> {
        crate::tree::in_pool(ctx, || self.fit_in_pool(data, ctx))
    }

    fn fit_in_pool(
        &self,
        data: DatasetView<'_>,
        ctx: &FitContext<'_>,
    ) -> Result<(TreeModel, FitReport)> {
        ctx.check_deadline("growing a forest")?;
        let mut d = TreeData::from_view(data)?;
        d.apply_class_weight(self.settings.class_weight.as_ref())?;
        let mut cfg = self.grow.clone();
        if self.default_features && d.n_classes > 0 {
            cfg.max_features = MaxFeatures::Rule(FeatureRule::Sqrt);
        }
        let seed = self.settings.seed ^ ctx.seed;
        let n_draw = match self.settings.max_samples {
            None => d.n,
            Some(MaxSamples::Count(c)) => c.min(d.n),
            Some(MaxSamples::Fraction(f)) => ((f * d.n as f64).round() as usize).max(1),
        };
        let total = self.settings.n_estimators;
        let done = std::sync::atomic::AtomicU64::new(0);
        let grown: Vec<Result<Grown>> = (0..total)
            .into_par_iter()
            .map(|t| {
                ctx.check_deadline("growing a forest")?;
                let mut rng = Rng::derive(seed, t as u64);
                let w: Vec<f64> = if self.settings.bootstrap {
                    bootstrap_counts(&mut rng, d.n, n_draw)
                        .iter()
                        .zip(&d.w)
                        .map(|(c, w)| c * w)
                        .collect()
                } else {
                    d.w.clone()
                };
                let g = grow(&cfg, &d, &w, &mut rng)?;
                let k = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                ctx.report(&Progress {
                    stage: "trees".into(),
                    done: k,
                    total: Some(total as u64),
                    loss: None,
                });
                Ok(g)
            })
            .collect();
        let mut trees = Vec::with_capacity(total);
        let mut gain = vec![0.0; d.p];
        let mut splits = vec![0.0; d.p];
        for r in grown {
            let g = r?;
            // scikit-learn averages the trees' normalised importances.
            let gn = crate::tree::normalise(&g.gain);
            gain.iter_mut()
                .zip(&gn)
                .for_each(|(a, b)| *a += b / total as f64);
            splits.iter_mut().zip(&g.splits).for_each(|(a, b)| *a += b);
            trees.push(g.tree);
        }
        let k = d.n_classes.max(1);
        let e = TreeEnsemble::new(
            trees,
            d.p as u32,
            k as u32,
            vec![0.0; k],
            Aggregation::Mean,
            Link::Identity,
        )?;
        let oob = if self.settings.oob_score {
            Some(oob_score(&e, &d, seed, n_draw)?)
        } else {
            None
        };
        let mut report = FitReport::new(if self.settings.extra {
            "extra_trees"
        } else {
            "random_forest"
        });
        report.iterations = total;
        if let Some(s) = oob {
            report.objective = Some(s);
        }
        Ok((
            TreeModel::new(data.task().clone(), e, gain, splits, oob)?,
            report,
        ))
    }
}

/// How many times each of `n` rows is drawn in `n_draw` draws with replacement.
fn bootstrap_counts(rng: &mut Rng, n: usize, n_draw: usize) -> Vec<f64> {
    let mut counts = vec![0.0; n];
    for _ in 0..n_draw {
        counts[rng.index(n)] += 1.0;
    }
    counts
}

/// Accuracy or R² of each row's prediction by the trees that did not see it. Each tree's
/// bootstrap is drawn again from its seed rather than kept through the fit.
fn oob_score(e: &TreeEnsemble, d: &TreeData, seed: u64, n_draw: usize) -> Result<f64> {
    let k = e.n_outputs();
    let mut sums = vec![0.0; d.n * k];
    let mut counts = vec![0usize; d.n];
    let mut x = vec![0.0; d.p];
    for (t, tree) in e.trees().iter().enumerate() {
        let in_bag = bootstrap_counts(&mut Rng::derive(seed, t as u64), d.n, n_draw);
        for i in 0..d.n {
            if in_bag[i] > 0.0 || d.w[i] <= 0.0 {
                continue;
            }
            for (j, v) in x.iter_mut().enumerate() {
                *v = d.cols[j * d.n + i];
            }
            let leaf = mlship_core::tree::leaf_for(tree, &x);
            for c in 0..k {
                sums[i * k + c] += tree.leaf_values[leaf * k + c];
            }
            counts[i] += 1;
        }
    }
    let rows: Vec<usize> = (0..d.n).filter(|&i| counts[i] > 0).collect();
    if rows.is_empty() {
        return Err(TrainError::data(
            "no row was left out of every bootstrap sample, so there is no out-of-bag score\nhint: use more trees or a smaller max_samples",
        ));
    }
    if d.n_classes > 0 {
        let right = rows
            .iter()
            .filter(|&&i| argmax(sums[i * k..(i + 1) * k].iter().copied()) as f64 == d.y[i])
            .count();
        Ok(right as f64 / rows.len() as f64)
    } else {
        let mean = rows.iter().map(|&i| d.y[i]).sum::<f64>() / rows.len() as f64;
        let ss_tot: f64 = rows.iter().map(|&i| (d.y[i] - mean).powi(2)).sum();
        let ss_res: f64 = rows
            .iter()
            .map(|&i| (d.y[i] - sums[i] / counts[i] as f64).powi(2))
            .sum();
        Ok(if ss_tot > 0.0 {
            1.0 - ss_res / ss_tot
        } else {
            0.0
        })
    }
}

impl Estimator for Forest {
    fn name(&self) -> &'static str {
        if self.settings.extra {
            "extra_trees"
        } else {
            "random_forest"
        }
    }

    fn fit(
        &self,
        data: DatasetView<'_>,
        ctx: &FitContext<'_>,
    ) -> mlship_core::Result<Box<dyn Model>> {
        Ok(Box::new(self.fit_report(data, ctx)?.0))
    }
}
