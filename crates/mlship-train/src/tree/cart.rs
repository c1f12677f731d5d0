//! CART decision trees (scikit-learn's `DecisionTreeClassifier` / `DecisionTreeRegressor`).
//!
//! Exact splits: at each node the candidate features' non-missing values are sorted and every
//! boundary between distinct values is tried (threshold at the midpoint, as scikit-learn).
//! Missing values (`NaN`) are native: for every candidate split the rows with a missing value
//! are tried on the left and on the right and the better side is kept as the node's default;
//! a split may also separate missing from present values. When a node saw no missing value,
//! missing values later follow the child with the larger training weight. Categorical features
//! are split as ordered codes. Growth is depth-first, or best-first (largest impurity decrease
//! first) when `max_leaf_nodes` is set.

use mlship_core::DatasetView;
use mlship_core::rng::Rng;
use mlship_core::traits::{Estimator, FitContext, Model};
use mlship_core::tree::{Aggregation, Link, Node, NodeKind, SplitRule, Tree, TreeEnsemble};
use serde::{Deserialize, Serialize};

use super::{ClassWeight, FeatureRule, MaxFeatures, TreeData, TreeModel};
use crate::error::{Result, TrainError};
use crate::params::{at_least, positive};
use crate::report::FitReport;

/// The impurity a split reduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    /// Gini impurity (classification).
    Gini,
    /// Shannon entropy in bits (classification; scikit-learn's `entropy` / `log_loss`).
    Entropy,
    /// Variance (regression).
    SquaredError,
    /// Mean absolute deviation from the median (regression; leaves predict the median).
    AbsoluteError,
}

impl Criterion {
    fn is_classification(self) -> bool {
        matches!(self, Self::Gini | Self::Entropy)
    }
}

/// Parameters of a decision tree (scikit-learn's defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecisionTreeParams {
    /// The impurity; `None` picks `gini` for classification and `squared_error` for regression.
    pub criterion: Option<Criterion>,
    /// The deepest a leaf may be (root = depth 0); `None` for no limit.
    pub max_depth: Option<usize>,
    /// The fewest rows a node needs to be split (at least 2).
    pub min_samples_split: usize,
    /// The fewest rows each child must keep (at least 1).
    pub min_samples_leaf: usize,
    /// A split must decrease the weighted impurity, `W_t/W · (I − W_l/W_t I_l − W_r/W_t I_r)`,
    /// by at least this much.
    pub min_impurity_decrease: f64,
    /// Features tried per split; `None` tries every feature.
    pub max_features: Option<MaxFeatures>,
    /// Grow best-first up to this many leaves (at least 2); `None` grows depth-first.
    pub max_leaf_nodes: Option<usize>,
    /// Class weights for classification.
    pub class_weight: Option<ClassWeight>,
    /// Seed of the feature order, XOR-ed with the fit context's seed.
    pub seed: u64,
}

impl Default for DecisionTreeParams {
    fn default() -> Self {
        Self {
            criterion: None,
            max_depth: None,
            min_samples_split: 2,
            min_samples_leaf: 1,
            min_impurity_decrease: 0.0,
            max_features: None,
            max_leaf_nodes: None,
            class_weight: None,
            seed: 0,
        }
    }
}

/// What the grower needs, validated.
#[derive(Debug, Clone)]
pub(crate) struct GrowConfig {
    pub criterion: Option<Criterion>,
    pub max_depth: Option<usize>,
    pub min_samples_split: usize,
    pub min_samples_leaf: usize,
    pub min_impurity_decrease: f64,
    pub max_features: MaxFeatures,
    pub max_leaf_nodes: Option<usize>,
    /// Extremely randomised trees: one random threshold per feature.
    pub random_splits: bool,
}

impl GrowConfig {
    /// Checks the shared tree parameters.
    pub fn validate(&self) -> Result<()> {
        at_least("min_samples_split", self.min_samples_split, 2)?;
        at_least("min_samples_leaf", self.min_samples_leaf, 1)?;
        positive("min_impurity_decrease", self.min_impurity_decrease, true)?;
        if let Some(d) = self.max_depth {
            at_least("max_depth", d, 1)?;
        }
        if let Some(m) = self.max_leaf_nodes {
            at_least("max_leaf_nodes", m, 2)?;
        }
        self.max_features.validate()
    }

    fn criterion_for(&self, n_classes: usize) -> Result<Criterion> {
        let c = self.criterion.unwrap_or(if n_classes > 0 {
            Criterion::Gini
        } else {
            Criterion::SquaredError
        });
        if c.is_classification() != (n_classes > 0) {
            return Err(TrainError::invalid(
                "criterion",
                format!("{c:?}").to_lowercase(),
                if n_classes > 0 {
                    "gini or entropy for classification"
                } else {
                    "squared_error or absolute_error for regression"
                },
            ));
        }
        Ok(c)
    }
}

impl DecisionTreeParams {
    /// The validated estimator.
    pub fn validate(&self) -> Result<DecisionTree> {
        let config = GrowConfig {
            criterion: self.criterion,
            max_depth: self.max_depth,
            min_samples_split: self.min_samples_split,
            min_samples_leaf: self.min_samples_leaf,
            min_impurity_decrease: self.min_impurity_decrease,
            max_features: self
                .max_features
                .unwrap_or(MaxFeatures::Rule(FeatureRule::All)),
            max_leaf_nodes: self.max_leaf_nodes,
            random_splits: false,
        };
        config.validate()?;
        Ok(DecisionTree {
            params: self.clone(),
            config,
        })
    }
}

/// A validated decision tree estimator.
#[derive(Debug, Clone)]
pub struct DecisionTree {
    params: DecisionTreeParams,
    config: GrowConfig,
}

impl DecisionTree {
    /// The parameters.
    pub fn params(&self) -> &DecisionTreeParams {
        &self.params
    }

    /// Fits the tree and reports its size.
    pub fn fit_report(
        &self,
        data: DatasetView<'_>,
        ctx: &FitContext<'_>,
    ) -> Result<(TreeModel, FitReport)> {
        ctx.check_deadline("growing a decision tree")?;
        let mut d = TreeData::from_view(data)?;
        d.apply_class_weight(self.params.class_weight.as_ref())?;
        let mut rng = Rng::new(self.params.seed ^ ctx.seed);
        let grown = grow(&self.config, &d, &d.w, &mut rng)?;
        let mut report = FitReport::new("cart");
        report.iterations = grown.tree.nodes.len();
        let model = single_tree_model(data, &d, grown)?;
        Ok((model, report))
    }
}

/// Wraps one grown tree as a model.
fn single_tree_model(data: DatasetView<'_>, d: &TreeData, g: Grown) -> Result<TreeModel> {
    let k = d.n_classes.max(1);
    let e = TreeEnsemble::new(
        vec![g.tree],
        d.p as u32,
        k as u32,
        vec![0.0; k],
        Aggregation::Sum,
        Link::Identity,
    )?;
    TreeModel::new(data.task().clone(), e, g.gain, g.splits, None)
}

impl Estimator for DecisionTree {
    fn name(&self) -> &'static str {
        "decision_tree"
    }

    fn fit(
        &self,
        data: DatasetView<'_>,
        ctx: &FitContext<'_>,
    ) -> mlship_core::Result<Box<dyn Model>> {
        Ok(Box::new(self.fit_report(data, ctx)?.0))
    }
}

/// A grown tree with its per-feature importance totals.
#[derive(Debug, Clone)]
pub(crate) struct Grown {
    pub tree: Tree,
    /// Weighted impurity decrease per feature.
    pub gain: Vec<f64>,
    /// Splits per feature.
    pub splits: Vec<f64>,
}

/// Node statistics: weighted class counts, or weighted sums for regression.
#[derive(Debug, Clone, PartialEq)]
struct Stats {
    /// Weighted count per class, or `[Σw, Σwy, Σwy²]` for regression.
    v: Vec<f64>,
    /// Number of rows.
    n: usize,
}

impl Stats {
    fn new(width: usize) -> Self {
        Self {
            v: vec![0.0; width],
            n: 0,
        }
    }

    #[inline]
    fn add(&mut self, classes: bool, y: f64, w: f64) {
        if classes {
            self.v[y as usize] += w;
        } else {
            self.v[0] += w;
            self.v[1] += w * y;
            self.v[2] += w * y * y;
        }
        self.n += 1;
    }

    fn add_stats(&mut self, o: &Self) {
        for (a, b) in self.v.iter_mut().zip(&o.v) {
            *a += b;
        }
        self.n += o.n;
    }

    fn sub_of(&mut self, a: &Self, b: &Self) {
        for ((s, x), y) in self.v.iter_mut().zip(&a.v).zip(&b.v) {
            *s = x - y;
        }
        self.n = a.n - b.n;
    }

    fn weight(&self, classes: bool) -> f64 {
        if classes {
            self.v.iter().sum()
        } else {
            self.v[0]
        }
    }
}

/// The weighted impurity `W · I` of a node (the sum of squared deviations for regression).
fn weighted_impurity(c: Criterion, s: &Stats) -> f64 {
    match c {
        Criterion::Gini => {
            let w: f64 = s.v.iter().sum();
            if w <= 0.0 {
                return 0.0;
            }
            w * (1.0 - s.v.iter().map(|c| (c / w) * (c / w)).sum::<f64>())
        }
        Criterion::Entropy => {
            let w: f64 = s.v.iter().sum();
            if w <= 0.0 {
                return 0.0;
            }
            -w * s
                .v
                .iter()
                .filter(|&&c| c > 0.0)
                .map(|c| (c / w) * (c / w).log2())
                .sum::<f64>()
        }
        Criterion::SquaredError | Criterion::AbsoluteError => {
            if s.v[0] <= 0.0 {
                return 0.0;
            }
            (s.v[2] - s.v[1] * s.v[1] / s.v[0]).max(0.0)
        }
    }
}

/// The chosen split of a node.
#[derive(Debug, Clone)]
struct Split {
    feature: usize,
    threshold: f64,
    missing_left: bool,
    /// Decrease of the weighted impurity (`W_t I_t − W_l I_l − W_r I_r`).
    decrease: f64,
}

struct BuildNode {
    start: usize,
    end: usize,
    depth: usize,
    stats: Stats,
    split: Option<Split>,
    children: Option<(u32, u32)>,
    value: Vec<f64>,
}

/// Grows one tree on the rows of `d` with a positive weight in `w` (bootstrap counts are
/// weights). Deterministic for a given `rng` state.
pub(crate) fn grow(cfg: &GrowConfig, d: &TreeData, w: &[f64], rng: &mut Rng) -> Result<Grown> {
    let crit = cfg.criterion_for(d.n_classes)?;
    let classes = d.n_classes > 0;
    let width = if classes { d.n_classes } else { 3 };
    let mut samples: Vec<usize> = (0..d.n).filter(|&i| w[i] > 0.0).collect();
    if samples.is_empty() {
        return Err(TrainError::data("no row has a positive weight"));
    }
    let mut root_stats = Stats::new(width);
    for &i in &samples {
        root_stats.add(classes, d.y[i], w[i]);
    }
    let w_root = root_stats.weight(classes);
    let mut g = Grower {
        cfg,
        d,
        w,
        crit,
        classes,
        width,
        max_features: cfg.max_features.resolve(d.p),
        w_root,
        buf: Vec::with_capacity(samples.len()),
        features: (0..d.p).collect(),
    };
    let mut nodes: Vec<BuildNode> = Vec::new();
    let root = g.make_node(&samples, 0, samples.len(), 0, root_stats, rng);
    nodes.push(root);
    let mut frontier: Vec<usize> = if nodes[0].split.is_some() {
        vec![0]
    } else {
        vec![]
    };
    let mut leaves = 1usize;
    let mut gain = vec![0.0; d.p];
    let mut splits = vec![0.0; d.p];
    while !frontier.is_empty() {
        if cfg.max_leaf_nodes.is_some_and(|m| leaves >= m) {
            break;
        }
        // Best-first takes the largest decrease (earliest node on ties); depth-first the last.
        let pos = if cfg.max_leaf_nodes.is_some() {
            let mut best = 0;
            for (k, &id) in frontier.iter().enumerate() {
                let dk = nodes[id].split.as_ref().map_or(0.0, |s| s.decrease);
                let db = nodes[frontier[best]]
                    .split
                    .as_ref()
                    .map_or(0.0, |s| s.decrease);
                if dk > db {
                    best = k;
                }
            }
            best
        } else {
            frontier.len() - 1
        };
        let id = frontier.remove(pos);
        let Some(split) = nodes[id].split.clone() else {
            continue;
        };
        let (start, end, depth) = (nodes[id].start, nodes[id].end, nodes[id].depth);
        let mid = partition(&mut samples[start..end], d.col(split.feature), &split) + start;
        let mut ls = Stats::new(width);
        for &i in &samples[start..mid] {
            ls.add(classes, d.y[i], w[i]);
        }
        let mut rs = Stats::new(width);
        rs.sub_of(&nodes[id].stats, &ls);
        gain[split.feature] += split.decrease.max(0.0);
        splits[split.feature] += 1.0;
        let left = g.make_node(&samples, start, mid, depth + 1, ls, rng);
        let right = g.make_node(&samples, mid, end, depth + 1, rs, rng);
        let (li, ri) = (nodes.len(), nodes.len() + 1);
        nodes[id].children = Some((li as u32, ri as u32));
        let (l_split, r_split) = (left.split.is_some(), right.split.is_some());
        nodes.push(left);
        nodes.push(right);
        leaves += 1;
        if l_split {
            frontier.push(li);
        }
        if r_split {
            frontier.push(ri);
        }
    }
    Ok(Grown {
        tree: to_core(&nodes, width_out(d)),
        gain,
        splits,
    })
}

fn width_out(d: &TreeData) -> usize {
    d.n_classes.max(1)
}

/// Converts build nodes to a core tree; unexpanded nodes become leaves.
fn to_core(nodes: &[BuildNode], width: usize) -> Tree {
    let mut out = Vec::with_capacity(nodes.len());
    let mut leaf_values = Vec::new();
    let mut n_leaves = 0u32;
    for n in nodes {
        let cover = if width > 1 {
            n.stats.v.iter().sum()
        } else {
            n.stats.v[0]
        };
        let kind = if let (Some((l, r)), Some(s)) = (&n.children, &n.split) {
            NodeKind::Split {
                feature: s.feature as u32,
                rule: SplitRule::Threshold(s.threshold),
                default_left: s.missing_left,
                left: *l,
                right: *r,
            }
        } else {
            leaf_values.extend_from_slice(&n.value);
            n_leaves += 1;
            NodeKind::Leaf {
                index: n_leaves - 1,
            }
        };
        out.push(Node { cover, kind });
    }
    Tree {
        nodes: out,
        leaf_values,
        output: None,
    }
}

/// Moves the rows going left to the front; returns how many.
fn partition(rows: &mut [usize], col: &[f64], s: &Split) -> usize {
    let mut mid = 0;
    for k in 0..rows.len() {
        let v = col[rows[k]];
        let left = if v.is_nan() {
            s.missing_left
        } else {
            v <= s.threshold
        };
        if left {
            rows.swap(mid, k);
            mid += 1;
        }
    }
    mid
}

struct Grower<'a> {
    cfg: &'a GrowConfig,
    d: &'a TreeData,
    w: &'a [f64],
    crit: Criterion,
    classes: bool,
    width: usize,
    max_features: usize,
    w_root: f64,
    buf: Vec<(f64, usize)>,
    features: Vec<usize>,
}

impl Grower<'_> {
    fn make_node(
        &mut self,
        samples: &[usize],
        start: usize,
        end: usize,
        depth: usize,
        stats: Stats,
        rng: &mut Rng,
    ) -> BuildNode {
        let value = self.leaf_value(&samples[start..end], &stats);
        let n = end - start;
        let impurity = weighted_impurity(self.crit, &stats);
        let splittable = n >= self.cfg.min_samples_split
            && n >= 2 * self.cfg.min_samples_leaf
            && self.cfg.max_depth.is_none_or(|m| depth < m)
            && impurity > 1e-12 * self.impurity_scale(&stats);
        let split = if splittable {
            self.best_split(&samples[start..end], &stats, impurity, rng)
                .filter(|s| {
                    s.decrease / self.w_root + 1e-12 >= self.cfg.min_impurity_decrease
                        && s.decrease > 0.0
                })
        } else {
            None
        };
        BuildNode {
            start,
            end,
            depth,
            stats,
            split,
            children: None,
            value,
        }
    }

    /// The size below which a node's weighted impurity is rounding noise: the total weight for
    /// classes, `Σ w y²` for regression (whose sum of squares cancels against it).
    fn impurity_scale(&self, s: &Stats) -> f64 {
        let scale = if self.classes {
            s.v.iter().sum()
        } else {
            s.v[2]
        };
        scale.max(f64::MIN_POSITIVE)
    }

    fn leaf_value(&self, rows: &[usize], s: &Stats) -> Vec<f64> {
        if self.classes {
            let t: f64 = s.v.iter().sum();
            s.v.iter()
                .map(|c| if t > 0.0 { c / t } else { 0.0 })
                .collect()
        } else if self.crit == Criterion::AbsoluteError {
            let mut v: Vec<(f64, f64)> = rows.iter().map(|&i| (self.d.y[i], self.w[i])).collect();
            vec![weighted_median(&mut v)]
        } else {
            vec![if s.v[0] > 0.0 { s.v[1] / s.v[0] } else { 0.0 }]
        }
    }

    /// The best split over a random order of features, stopping once `max_features`
    /// non-constant features were tried (constant features do not count, as in scikit-learn).
    fn best_split(
        &mut self,
        rows: &[usize],
        stats: &Stats,
        impurity: f64,
        rng: &mut Rng,
    ) -> Option<Split> {
        let p = self.d.p;
        let mut best: Option<Split> = None;
        let mut tried = 0;
        for k in 0..p {
            if tried >= self.max_features {
                break;
            }
            // Partial Fisher–Yates: draw the next feature.
            let r = k + rng.index(p - k);
            self.features.swap(k, r);
            let f = self.features[k];
            let (found, constant) = if self.cfg.random_splits {
                self.random_split_on(f, rows, stats, impurity, rng)
            } else {
                self.best_split_on(f, rows, stats, impurity)
            };
            if !constant {
                tried += 1;
            }
            if let Some(s) = found
                && best.as_ref().is_none_or(|b| s.decrease > b.decrease)
            {
                best = Some(s);
            }
        }
        best
    }

    /// Splits `rows` of feature `f` into sorted present values (in `buf`) and missing stats.
    fn gather(&mut self, f: usize, rows: &[usize]) -> Stats {
        let col = self.d.col(f);
        let mut missing = Stats::new(self.width);
        self.buf.clear();
        for &i in rows {
            let v = col[i];
            if v.is_nan() {
                missing.add(self.classes, self.d.y[i], self.w[i]);
            } else {
                self.buf.push((v, i));
            }
        }
        missing
    }

    /// Evaluates a boundary: left holds `left` plus, if `missing_left`, the missing rows.
    fn evaluate(
        &self,
        total: &Stats,
        left: &Stats,
        missing: &Stats,
        impurity: f64,
    ) -> Option<(f64, bool)> {
        let mut best: Option<(f64, bool)> = None;
        let sides: &[bool] = if missing.n > 0 {
            &[false, true]
        } else {
            &[false]
        };
        let mut l = Stats::new(self.width);
        let mut r = Stats::new(self.width);
        for &ml in sides {
            l.v.copy_from_slice(&left.v);
            l.n = left.n;
            if ml {
                l.add_stats(missing);
            }
            r.sub_of(total, &l);
            if l.n < self.cfg.min_samples_leaf || r.n < self.cfg.min_samples_leaf {
                continue;
            }
            if l.weight(self.classes) <= 0.0 || r.weight(self.classes) <= 0.0 {
                continue;
            }
            let dec =
                impurity - weighted_impurity(self.crit, &l) - weighted_impurity(self.crit, &r);
            if best.is_none_or(|(b, _)| dec > b) {
                best = Some((dec, ml));
            }
        }
        best
    }

    fn best_split_on(
        &mut self,
        f: usize,
        rows: &[usize],
        total: &Stats,
        impurity: f64,
    ) -> (Option<Split>, bool) {
        let missing = self.gather(f, rows);
        let mut buf = std::mem::take(&mut self.buf);
        buf.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let constant = buf
            .first()
            .is_none_or(|a| buf.last().is_some_and(|b| a.0 == b.0));
        if constant && (missing.n == 0 || buf.is_empty()) {
            self.buf = buf;
            return (None, true);
        }
        let mut left = Stats::new(self.width);
        let mut best: Option<Split> = None;
        let abs = self.crit == Criterion::AbsoluteError;
        for k in 0..buf.len() {
            let (v, i) = buf[k];
            left.add(self.classes, self.d.y[i], self.w[i]);
            let last = k + 1 == buf.len();
            if !last && buf[k + 1].0 <= v {
                continue;
            }
            if last && missing.n == 0 {
                continue;
            }
            let found = if abs {
                self.evaluate_abs(&buf[..=k], &buf[k + 1..], rows, f, impurity)
            } else {
                self.evaluate(total, &left, &missing, impurity)
            };
            let Some((dec, ml)) = found else { continue };
            // The last boundary separates missing from present values only.
            if last && ml {
                continue;
            }
            if best.as_ref().is_none_or(|b| dec > b.decrease) {
                let threshold = if last {
                    v
                } else {
                    let mid = v / 2.0 + buf[k + 1].0 / 2.0;
                    if mid >= buf[k + 1].0 || !mid.is_finite() {
                        v
                    } else {
                        mid
                    }
                };
                let missing_left = if missing.n == 0 {
                    let wl = left.weight(self.classes);
                    wl >= total.weight(self.classes) - wl
                } else {
                    ml
                };
                best = Some(Split {
                    feature: f,
                    threshold,
                    missing_left,
                    decrease: dec,
                });
            }
        }
        self.buf = buf;
        (best, false)
    }

    /// Absolute-error decrease of a boundary (present values split at `left | right`, missing
    /// rows tried on both sides); `O(n log n)` per boundary.
    fn evaluate_abs(
        &self,
        left: &[(f64, usize)],
        right: &[(f64, usize)],
        rows: &[usize],
        f: usize,
        impurity_sq: f64,
    ) -> Option<(f64, bool)> {
        let _ = impurity_sq;
        let col = self.d.col(f);
        let miss: Vec<usize> = rows.iter().copied().filter(|&i| col[i].is_nan()).collect();
        let all: Vec<usize> = rows.to_vec();
        let parent = self.abs_dev(&all);
        let mut best: Option<(f64, bool)> = None;
        let sides: &[bool] = if miss.is_empty() {
            &[false]
        } else {
            &[false, true]
        };
        for &ml in sides {
            let mut l: Vec<usize> = left.iter().map(|p| p.1).collect();
            let mut r: Vec<usize> = right.iter().map(|p| p.1).collect();
            if ml {
                l.extend(&miss);
            } else {
                r.extend(&miss);
            }
            if l.len() < self.cfg.min_samples_leaf || r.len() < self.cfg.min_samples_leaf {
                continue;
            }
            let dec = parent - self.abs_dev(&l) - self.abs_dev(&r);
            if best.is_none_or(|(b, _)| dec > b) {
                best = Some((dec, ml));
            }
        }
        best
    }

    /// `Σ w |y − median|` over `rows`.
    fn abs_dev(&self, rows: &[usize]) -> f64 {
        let mut v: Vec<(f64, f64)> = rows.iter().map(|&i| (self.d.y[i], self.w[i])).collect();
        let m = weighted_median(&mut v);
        v.iter().map(|(y, w)| w * (y - m).abs()).sum()
    }

    /// Extra-trees: one threshold drawn uniformly between the node's minimum and maximum.
    fn random_split_on(
        &mut self,
        f: usize,
        rows: &[usize],
        total: &Stats,
        impurity: f64,
        rng: &mut Rng,
    ) -> (Option<Split>, bool) {
        let missing = self.gather(f, rows);
        let (lo, hi) = self
            .buf
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (v, _)| {
                (a.min(*v), b.max(*v))
            });
        if self.buf.is_empty() || lo >= hi {
            return (None, true);
        }
        let mut t = rng.uniform_in(lo, hi);
        if t >= hi {
            t = lo;
        }
        let mut left = Stats::new(self.width);
        let mut left_rows = Vec::new();
        let mut right_rows = Vec::new();
        for &(v, i) in &self.buf {
            if v <= t {
                left.add(self.classes, self.d.y[i], self.w[i]);
                left_rows.push((v, i));
            } else {
                right_rows.push((v, i));
            }
        }
        let found = if self.crit == Criterion::AbsoluteError {
            self.evaluate_abs(&left_rows, &right_rows, rows, f, impurity)
        } else {
            self.evaluate(total, &left, &missing, impurity)
        };
        let split = found.map(|(dec, ml)| Split {
            feature: f,
            threshold: t,
            missing_left: if missing.n == 0 {
                let wl = left.weight(self.classes);
                wl >= total.weight(self.classes) - wl
            } else {
                ml
            },
            decrease: dec,
        });
        (split, false)
    }
}

/// The weighted median (the smallest value where the cumulative weight reaches half), as
/// scikit-learn's absolute-error criterion.
fn weighted_median(v: &mut [(f64, f64)]) -> f64 {
    v.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = v.iter().map(|p| p.1).sum();
    let mut acc = 0.0;
    for (k, &(y, w)) in v.iter().enumerate() {
        acc += w;
        if acc >= total / 2.0 {
            // Exactly half: the midpoint with the next value, as numpy's median.
            if (acc - total / 2.0).abs() <= 1e-12 * total
                && let Some(next) = v.get(k + 1)
            {
                return f64::midpoint(y, next.0);
            }
            return y;
        }
    }
    v.last().map_or(0.0, |p| p.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_median_is_scikit_learns() {
        assert_eq!(
            weighted_median(&mut [(3.0, 1.0), (1.0, 1.0), (2.0, 1.0)]),
            2.0
        );
        assert_eq!(weighted_median(&mut [(1.0, 1.0), (4.0, 1.0)]), 2.5);
        assert_eq!(weighted_median(&mut [(1.0, 1.0), (4.0, 3.0)]), 4.0);
    }

    #[test]
    fn impurities_of_pure_and_mixed_nodes() {
        let s = Stats {
            v: vec![2.0, 2.0],
            n: 4,
        };
        assert!((weighted_impurity(Criterion::Gini, &s) - 2.0).abs() < 1e-12);
        assert!((weighted_impurity(Criterion::Entropy, &s) - 4.0).abs() < 1e-12);
        let pure = Stats {
            v: vec![3.0, 0.0],
            n: 3,
        };
        assert_eq!(weighted_impurity(Criterion::Gini, &pure), 0.0);
        // Σw = 3, Σwy = 6, Σwy² = 14: squared deviations 2.
        let r = Stats {
            v: vec![3.0, 6.0, 14.0],
            n: 3,
        };
        assert!((weighted_impurity(Criterion::SquaredError, &r) - 2.0).abs() < 1e-12);
    }
}
