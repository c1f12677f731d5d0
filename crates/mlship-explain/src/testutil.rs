//! Small raw predictors for tests.

use mlship_core::batch::RawValue;
use mlship_core::traits::{Predictions, RawPredictor};
use mlship_core::{ColumnKind, ColumnSpec, RawBatch, RawColumn, Schema, Task};
use ndarray::Array2;

/// `margin = 2·a − b + 1.5·[c = "x"] + 0.5·a·[c = "y"]` on numeric `a`, `b` and categorical
/// `c` (a missing `a` counts as 0). As a regressor it predicts the margin; as a classifier
/// (classes `no`, `yes`) the probability of `yes` is the logistic of the margin.
#[derive(Debug)]
pub struct Toy {
    schema: Schema,
    task: Task,
    /// Whether a classifier returns probabilities.
    pub probabilities: bool,
}

impl Toy {
    /// The regressor.
    pub fn regressor() -> Self {
        Self::with_task(Task::Regression)
    }

    /// The classifier.
    pub fn classifier() -> Self {
        Self::with_task(Task::classification(["no", "yes"]).unwrap())
    }

    fn with_task(task: Task) -> Self {
        let levels = vec!["x".to_owned(), "y".to_owned(), "z".to_owned()];
        Self {
            schema: Schema::new(vec![
                ColumnSpec::new("a", ColumnKind::Numeric, true),
                ColumnSpec::new("b", ColumnKind::Numeric, false),
                ColumnSpec::new(
                    "c",
                    ColumnKind::Categorical {
                        levels,
                        open: false,
                    },
                    false,
                ),
            ]),
            task,
            probabilities: true,
        }
    }

    /// The margin of one row.
    pub fn margin(a: f64, b: f64, c: &str) -> f64 {
        2.0 * a - b + if c == "x" { 1.5 } else { 0.0 } + if c == "y" { 0.5 * a } else { 0.0 }
    }
}

impl RawPredictor for Toy {
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn task(&self) -> &Task {
        &self.task
    }
    fn predict(&self, batch: &RawBatch) -> mlship_core::Result<Predictions> {
        let col = |name: &str| {
            batch.column(name).ok_or_else(|| {
                mlship_core::Error::invalid_data(format!("column {name} is missing"))
            })
        };
        let (a, b, c) = (col("a")?, col("b")?, col("c")?);
        let margins: Vec<f64> = (0..batch.n_rows())
            .map(|r| {
                let num = |v: RawValue<'_>| if let RawValue::Number(x) = v { x } else { 0.0 };
                let cat = match c.value(r) {
                    RawValue::Str(s) => s.to_owned(),
                    _ => String::new(),
                };
                Self::margin(num(a.value(r)), num(b.value(r)), &cat)
            })
            .collect();
        if !self.task.is_classification() {
            return Ok(Predictions {
                values: margins,
                labels: None,
                probabilities: None,
            });
        }
        let p1: Vec<f64> = margins.iter().map(|m| 1.0 / (1.0 + (-m).exp())).collect();
        let values: Vec<f64> = p1.iter().map(|&p| f64::from(u8::from(p >= 0.5))).collect();
        let labels = values
            .iter()
            .map(|&v| if v == 1.0 { "yes" } else { "no" }.to_owned())
            .collect();
        let probabilities = self.probabilities.then(|| {
            Array2::from_shape_fn(
                (p1.len(), 2),
                |(i, j)| if j == 1 { p1[i] } else { 1.0 - p1[i] },
            )
        });
        Ok(Predictions {
            values,
            labels: Some(labels),
            probabilities,
        })
    }
}

/// `n` rows of `a`, `b`, `c` from a seed; `a` is missing in about one row in ten.
pub fn toy_batch(n: usize, seed: u64) -> RawBatch {
    let mut r = mlship_core::rng::Rng::new(seed);
    let a: Vec<Option<f64>> = (0..n)
        .map(|_| (r.below(10) != 0).then(|| r.normal()))
        .collect();
    let b: Vec<Option<f64>> = (0..n).map(|_| Some(r.normal() * 2.0)).collect();
    let c: Vec<Option<&str>> = (0..n).map(|_| Some(["x", "y", "z"][r.index(3)])).collect();
    RawBatch::new(vec![
        RawColumn::numeric("a", a),
        RawColumn::numeric("b", b),
        RawColumn::categorical("c", c),
    ])
    .unwrap()
}
