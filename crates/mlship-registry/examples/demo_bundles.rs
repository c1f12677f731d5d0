//! Writes three small demo bundles (`churn-v1.mlship` … `churn-v3.mlship`) into a folder, for
//! trying the registry before any model is trained:
//!
//! ```sh
//! cargo run -p mlship-registry --example demo_bundles -- models
//! ```
//!
//! Each is a valid mlship envelope with a model manifest (task, input schema, parameters,
//! metrics, lineage); their `model` sections hold placeholder bytes, so they can be registered,
//! promoted and rolled back, but not served.

use std::path::PathBuf;

use mlship_core::bundle::{Envelope, Section};
use mlship_core::manifest::Manifest;
use mlship_core::schema::{ColumnKind, ColumnSpec, Schema};
use mlship_core::task::Task;
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "models".into()));
    std::fs::create_dir_all(&dir)?;
    let versions = [
        (1, 0.861, 4, 0.1, "sha256:4f1c9a0e2b7d5c3a"),
        (2, 0.902, 6, 0.1, "sha256:4f1c9a0e2b7d5c3a"),
        (3, 0.915, 6, 0.05, "sha256:9be07d13aa5e2f41"),
    ];
    for (n, auc, depth, rate, data) in versions {
        let mut m = Manifest::new("model");
        m.name = Some("churn".into());
        m.task = Some(Task::Binary {
            classes: vec!["no".into(), "yes".into()],
        });
        let mut columns = vec![
            ColumnSpec::new("tenure_months", ColumnKind::Numeric, false),
            ColumnSpec::new("monthly_charges", ColumnKind::Numeric, false),
            ColumnSpec::new(
                "contract",
                ColumnKind::Categorical {
                    levels: vec!["monthly".into(), "one_year".into(), "two_year".into()],
                    open: false,
                },
                false,
            ),
        ];
        if n == 3 {
            columns.push(ColumnSpec::new("support_calls", ColumnKind::Numeric, true));
        }
        m.schema = Some(Schema::new(columns));
        m.params = json!({
            "estimator": "gradient_boosting",
            "gradient_boosting": {"max_depth": depth, "learning_rate": rate, "n_estimators": 300},
        });
        m.metrics.insert("roc_auc".into(), auc);
        m.metrics.insert("log_loss".into(), 0.62 - auc / 2.0);
        m.lineage.data_fingerprint = Some(data.into());
        m.lineage.data_source = Some("churn.csv".into());
        m.lineage.seed = Some(42);
        let envelope = Envelope {
            manifest: m.to_json(),
            sections: vec![Section::new(
                "model",
                1,
                format!("placeholder model {n}").into_bytes(),
            )],
        };
        let path = dir.join(format!("churn-v{n}.mlship"));
        envelope.write_atomic(&path)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
