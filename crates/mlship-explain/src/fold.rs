//! Folding attributions on transformed features back onto raw columns.
//!
//! The caller says, for each transformed feature, which raw columns it was computed from (the
//! facade reads this from the pipeline). Raw columns linked through a shared feature form one
//! group, reported under their names joined by `+` (`debt+income`); every other raw column is
//! its own group. A group's value is the sum of its features' values, so one-hot indicators add
//! up onto their source column (`island`, not `island=Dream`) and the raw-level values still add
//! up to the output.

use mlship_core::traits::Explanation;
use serde::{Deserialize, Serialize};

use crate::error::{ExplainError, Result};
use crate::values::ShapValues;

/// The name of the group for features derived from no raw column (constants).
pub const UNATTRIBUTED: &str = "(constant)";

/// The root of `i` in a union-find forest, with path halving.
fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// How transformed features map onto groups of raw columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureGroups {
    /// The transformed features' names.
    pub features: Vec<String>,
    /// The groups' names (`island`, `debt+income`), in raw column order.
    pub groups: Vec<String>,
    /// The raw columns of each group.
    pub group_columns: Vec<Vec<String>>,
    /// The group of each transformed feature.
    pub feature_group: Vec<usize>,
}

impl FeatureGroups {
    /// Groups for `features` (names) whose raw sources are `sources` (one list per feature,
    /// naming columns of `raw_columns`).
    pub fn new(
        raw_columns: &[String],
        features: &[String],
        sources: &[Vec<String>],
    ) -> Result<Self> {
        if features.len() != sources.len() {
            return Err(ExplainError::shape(
                "feature sources",
                features.len(),
                sources.len(),
            ));
        }
        let index = |name: &str| {
            raw_columns
                .iter()
                .position(|c| c == name)
                .ok_or_else(|| ExplainError::UnknownColumn {
                    column: name.to_owned(),
                    available: raw_columns.join(", "),
                })
        };
        // Union-find over raw columns.
        let mut parent: Vec<usize> = (0..raw_columns.len()).collect();
        let mut feature_cols = Vec::with_capacity(features.len());
        for src in sources {
            let cols: Vec<usize> = src.iter().map(|s| index(s)).collect::<Result<_>>()?;
            for w in cols.windows(2) {
                let (a, b) = (find(&mut parent, w[0]), find(&mut parent, w[1]));
                if a != b {
                    parent[a.max(b)] = a.min(b);
                }
            }
            feature_cols.push(cols);
        }
        let mut group_of_root = vec![usize::MAX; raw_columns.len()];
        let mut groups = Vec::new();
        let mut group_columns: Vec<Vec<String>> = Vec::new();
        for (c, name) in raw_columns.iter().enumerate() {
            let root = find(&mut parent, c);
            if group_of_root[root] == usize::MAX {
                group_of_root[root] = group_columns.len();
                group_columns.push(Vec::new());
            }
            group_columns[group_of_root[root]].push(name.clone());
        }
        for cols in &group_columns {
            groups.push(cols.join("+"));
        }
        let mut constant = None;
        let feature_group = feature_cols
            .iter()
            .map(|cols| match cols.first() {
                Some(&c) => group_of_root[find(&mut parent, c)],
                None => *constant.get_or_insert_with(|| {
                    groups.push(UNATTRIBUTED.to_owned());
                    group_columns.push(Vec::new());
                    groups.len() - 1
                }),
            })
            .collect();
        Ok(Self {
            features: features.to_vec(),
            groups,
            group_columns,
            feature_group,
        })
    }

    /// The groups of raw columns with more than one column, for permuting or masking them
    /// together (permutation importance, KernelSHAP on raw columns).
    pub fn multi_column_groups(&self) -> Vec<Vec<String>> {
        self.group_columns
            .iter()
            .filter(|g| g.len() > 1)
            .cloned()
            .collect()
    }

    /// Values per group: each row's feature values summed within their groups.
    pub fn fold(&self, values: &ShapValues) -> Result<ShapValues> {
        values.check()?;
        if values.n_features != self.features.len() {
            return Err(ExplainError::shape(
                "features of the values to fold",
                self.features.len(),
                values.n_features,
            ));
        }
        let g = self.groups.len();
        let mut out = ShapValues::zeros(
            values.n_rows,
            values.n_outputs,
            g,
            values.expected_value.clone(),
        );
        for r in 0..values.n_rows {
            for o in 0..values.n_outputs {
                let src = values.row(r, o);
                let start = (r * values.n_outputs + o) * g;
                let dst = &mut out.values[start..start + g];
                for (f, v) in src.iter().enumerate() {
                    dst[self.feature_group[f]] += v;
                }
            }
        }
        Ok(out)
    }
}

/// Core's [`Explanation`] of `values`, attributed to `features`, for `outputs`.
pub fn explanation(
    method: &str,
    values: &ShapValues,
    features: &[String],
    outputs: &[String],
) -> Result<Explanation> {
    values.check()?;
    if features.len() != values.n_features {
        return Err(ExplainError::shape(
            "feature names",
            values.n_features,
            features.len(),
        ));
    }
    if outputs.len() != values.n_outputs {
        return Err(ExplainError::shape(
            "output names",
            values.n_outputs,
            outputs.len(),
        ));
    }
    Ok(Explanation {
        method: method.to_owned(),
        features: features.to_vec(),
        outputs: outputs.to_vec(),
        base_values: values.expected_value.clone(),
        values: values.values.clone(),
        n_rows: values.n_rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn one_hot_and_derived_features_fold_onto_raw_columns() {
        let raw = s(&["island", "debt", "age", "income"]);
        let features = s(&[
            "island=Dream",
            "island=Biscoe",
            "ratio",
            "age",
            "income_log",
            "bias",
        ]);
        let sources = vec![
            s(&["island"]),
            s(&["island"]),
            s(&["debt", "income"]),
            s(&["age"]),
            s(&["income"]),
            vec![],
        ];
        let g = FeatureGroups::new(&raw, &features, &sources).unwrap();
        assert_eq!(g.groups, s(&["island", "debt+income", "age", UNATTRIBUTED]));
        assert_eq!(g.feature_group, vec![0, 0, 1, 2, 1, 3]);
        assert_eq!(g.multi_column_groups(), vec![s(&["debt", "income"])]);
        let v = ShapValues {
            n_rows: 1,
            n_outputs: 1,
            n_features: 6,
            expected_value: vec![0.5],
            values: vec![1.0, -0.25, 2.0, 0.125, 3.0, 0.0],
        };
        let f = g.fold(&v).unwrap();
        assert_eq!(f.row(0, 0), &[0.75, 5.0, 0.125, 0.0]);
        assert_eq!(f.output(0, 0), v.output(0, 0));
        let e = explanation("tree_shap", &f, &g.groups, &s(&["value"])).unwrap();
        assert_eq!(e.features[1], "debt+income");

        let e = FeatureGroups::new(&raw, &features[..1], &[s(&["debts"])]).unwrap_err();
        assert!(e.to_string().contains("unknown column \"debts\""), "{e}");
    }
}
