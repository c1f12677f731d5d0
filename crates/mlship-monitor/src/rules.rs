//! The alert-rule format: a TOML file of `[[rule]]` tables, an optional `[rollback]` table and
//! `[[output]]` tables (documented in `docs/monitoring.md`).
//!
//! ```toml
//! [rollback]
//! cooldown_seconds = 86400
//!
//! [[rule]]
//! name = "accuracy dropped"
//! metric = "performance.accuracy"
//! comparison = "<"
//! threshold = 0.8
//! windows = 3
//! severity = "critical"
//! action = "rollback"
//!
//! [[output]]
//! type = "file"
//! path = "alerts.jsonl"
//! ```
//!
//! A metric name starts with its family — `performance.` (realised, from labels), `estimated.`
//! (label-free estimates), `drift.` (input, prediction or target drift) or `anomaly.` — and the
//! family decides whether a rule may roll back (see [`crate::alert`]).

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{MonitorError, Result};

/// The family of a metric, the part of its name before the first dot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricFamily {
    /// Realised performance, computed once labels arrive (`performance.accuracy`).
    Performance,
    /// Performance estimated without labels (`estimated.roc_auc`).
    Estimated,
    /// Input, prediction or target drift (`drift.share`, `drift.prediction`).
    Drift,
    /// Input anomalies (`anomaly.out_of_range_rate`).
    Anomaly,
}

impl MetricFamily {
    /// The family of a metric name, or `None` when its prefix is unknown.
    pub fn of(metric: &str) -> Option<Self> {
        let (family, rest) = metric.split_once('.')?;
        if rest.is_empty() {
            return None;
        }
        match family {
            "performance" => Some(Self::Performance),
            "estimated" => Some(Self::Estimated),
            "drift" => Some(Self::Drift),
            "anomaly" => Some(Self::Anomaly),
            _ => None,
        }
    }

    /// Whether rules on this family may roll back without `allow_on_drift`.
    pub fn is_performance(self) -> bool {
        matches!(self, Self::Performance | Self::Estimated)
    }
}

/// How a metric is compared with a rule's threshold; the rule fires when the comparison holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    /// Strictly below the threshold.
    #[serde(rename = "<")]
    Below,
    /// Below or equal.
    #[serde(rename = "<=")]
    AtMost,
    /// Strictly above the threshold.
    #[serde(rename = ">")]
    Above,
    /// Above or equal.
    #[serde(rename = ">=")]
    AtLeast,
}

impl Comparison {
    /// Whether `value` breaches `threshold` (NaN never does).
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Self::Below => value < threshold,
            Self::AtMost => value <= threshold,
            Self::Above => value > threshold,
            Self::AtLeast => value >= threshold,
        }
    }

    /// The comparison as written in a rules file.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Below => "<",
            Self::AtMost => "<=",
            Self::Above => ">",
            Self::AtLeast => ">=",
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// How urgent an alert is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth a look.
    Info,
    /// Needs attention (the default).
    #[default]
    Warning,
    /// Needs action now.
    Critical,
}

/// What happens when a rule fires.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleAction {
    /// Emit the alert only (the default).
    #[default]
    Notify,
    /// Emit the alert and move the alias back to its previous version, subject to the
    /// rollback policy.
    Rollback,
}

/// One alert rule. `Default` is the one source of defaults for the optional keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertRule {
    /// The rule's name, unique in its file; it appears in alerts and rollback reasons.
    pub name: String,
    /// The metric watched, `family.name` (e.g. `performance.accuracy`, `drift.share`).
    pub metric: String,
    /// How the metric is compared with the threshold.
    pub comparison: Comparison,
    /// The threshold.
    pub threshold: f64,
    /// How many windows in a row must breach before the rule fires (default 1).
    pub windows: u32,
    /// The alert's severity (default `warning`).
    pub severity: Severity,
    /// What firing does (default `notify`).
    pub action: RuleAction,
    /// Lets a rule on a drift or anomaly metric roll back (default false: only performance
    /// rules, realised or estimated, may).
    pub allow_on_drift: bool,
}

impl Default for AlertRule {
    fn default() -> Self {
        Self {
            name: String::new(),
            metric: String::new(),
            comparison: Comparison::Above,
            threshold: f64::NAN,
            windows: 1,
            severity: Severity::Warning,
            action: RuleAction::Notify,
            allow_on_drift: false,
        }
    }
}

impl AlertRule {
    /// The family of the rule's metric (valid once the rule is validated).
    pub fn family(&self) -> Option<MetricFamily> {
        MetricFamily::of(&self.metric)
    }

    /// Whether the policy lets this rule roll back at all.
    pub fn may_roll_back(&self) -> bool {
        self.action == RuleAction::Rollback
            && (self.allow_on_drift || self.family().is_some_and(MetricFamily::is_performance))
    }

    fn validate(&self, position: usize) -> Result<()> {
        let rule = if self.name.is_empty() {
            format!("#{}", position + 1)
        } else {
            self.name.clone()
        };
        let bad = |key: &str, detail: String| MonitorError::Rule {
            rule: rule.clone(),
            key: key.into(),
            detail,
        };
        if self.name.trim().is_empty() {
            return Err(bad("name", "a rule needs a non-empty name".into()));
        }
        if self.metric.is_empty() {
            return Err(bad(
                "metric",
                "missing: set e.g. metric = \"performance.accuracy\"".into(),
            ));
        }
        if self.family().is_none() {
            return Err(bad(
                "metric",
                format!(
                    "{:?} has no known family: expected a name starting with performance., \
                     estimated., drift. or anomaly.",
                    self.metric
                ),
            ));
        }
        if !self.threshold.is_finite() {
            return Err(bad(
                "threshold",
                "missing or not finite: set a number, e.g. threshold = 0.8".into(),
            ));
        }
        if self.windows == 0 {
            return Err(bad(
                "windows",
                "0: expected at least 1 window in a row".into(),
            ));
        }
        Ok(())
    }
}

/// The rollback policy's settings. `Default` is the one source of defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RollbackSettings {
    /// At most one rollback per alias within this many seconds (default 86,400: 24 h).
    pub cooldown_seconds: u64,
}

/// The default rollback cooldown: 24 hours.
pub const DEFAULT_COOLDOWN_SECONDS: u64 = 24 * 60 * 60;

impl Default for RollbackSettings {
    fn default() -> Self {
        Self {
            cooldown_seconds: DEFAULT_COOLDOWN_SECONDS,
        }
    }
}

/// Where alerts go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AlertOutput {
    /// One human-readable line per alert on standard output.
    Stdout,
    /// One JSON object per line on standard output.
    JsonLines,
    /// One JSON object per line appended to a file.
    File {
        /// The file appended to (created when missing).
        path: PathBuf,
    },
}

/// A whole rules file. `Default` is the one source of defaults: no rules, the default rollback
/// settings and alerts to standard output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuleSet {
    /// The rollback policy's settings.
    pub rollback: RollbackSettings,
    /// The rules, evaluated in order.
    #[serde(rename = "rule")]
    pub rules: Vec<AlertRule>,
    /// Where alerts go.
    #[serde(rename = "output")]
    pub outputs: Vec<AlertOutput>,
}

impl Default for RuleSet {
    fn default() -> Self {
        Self {
            rollback: RollbackSettings::default(),
            rules: Vec::new(),
            outputs: vec![AlertOutput::Stdout],
        }
    }
}

impl RuleSet {
    /// Parses and validates a rules file's text.
    ///
    /// # Errors
    /// [`MonitorError::RulesFile`] when the text is not TOML or has unknown keys or wrong types
    /// (the message names the key and line); [`MonitorError::Rule`] naming the rule and key
    /// when a value is invalid or a name repeats.
    pub fn from_toml(text: &str) -> Result<Self> {
        let set: Self = toml::from_str(text).map_err(|e| MonitorError::RulesFile {
            detail: e.to_string().trim_end().replace('\n', " "),
        })?;
        set.validate()?;
        Ok(set)
    }

    /// Checks every rule and that rule names are unique.
    ///
    /// # Errors
    /// [`MonitorError::Rule`] naming the first rule and key at fault.
    pub fn validate(&self) -> Result<()> {
        let mut seen = BTreeSet::new();
        for (position, rule) in self.rules.iter().enumerate() {
            rule.validate(position)?;
            if !seen.insert(rule.name.as_str()) {
                return Err(MonitorError::Rule {
                    rule: rule.name.clone(),
                    key: "name".into(),
                    detail: "used by an earlier rule: rule names must be unique".into(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_rule_takes_its_defaults() {
        let set = RuleSet::from_toml(
            "[[rule]]\nname = \"drift\"\nmetric = \"drift.share\"\ncomparison = \">=\"\nthreshold = 0.5\n",
        )
        .unwrap();
        assert_eq!(set.rollback, RollbackSettings::default());
        assert_eq!(set.outputs, vec![AlertOutput::Stdout]);
        let rule = &set.rules[0];
        assert_eq!(rule.windows, 1);
        assert_eq!(rule.severity, Severity::Warning);
        assert_eq!(rule.action, RuleAction::Notify);
        assert!(!rule.allow_on_drift);
        assert_eq!(rule.comparison, Comparison::AtLeast);
        assert_eq!(rule.family(), Some(MetricFamily::Drift));
    }

    #[test]
    fn a_full_file_parses() {
        let text = r#"
            [rollback]
            cooldown_seconds = 3600

            [[rule]]
            name = "accuracy dropped"
            metric = "performance.accuracy"
            comparison = "<"
            threshold = 0.8
            windows = 3
            severity = "critical"
            action = "rollback"

            [[output]]
            type = "json_lines"

            [[output]]
            type = "file"
            path = "alerts.jsonl"
        "#;
        let set = RuleSet::from_toml(text).unwrap();
        assert_eq!(set.rollback.cooldown_seconds, 3600);
        assert_eq!(set.rules[0].windows, 3);
        assert_eq!(set.rules[0].severity, Severity::Critical);
        assert!(set.rules[0].may_roll_back());
        assert_eq!(
            set.outputs,
            vec![
                AlertOutput::JsonLines,
                AlertOutput::File {
                    path: "alerts.jsonl".into()
                }
            ]
        );
    }

    fn error_of(text: &str) -> String {
        RuleSet::from_toml(text).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_rule_and_the_key() {
        let base =
            "[[rule]]\nname = \"r1\"\nmetric = \"performance.accuracy\"\ncomparison = \"<\"\n";
        let msg = error_of(base);
        assert!(
            msg.contains("rule r1") && msg.contains("threshold"),
            "{msg}"
        );
        let msg = error_of(&format!("{base}threshold = 0.8\nwindows = 0\n"));
        assert!(msg.contains("rule r1") && msg.contains("windows"), "{msg}");
        let msg = error_of(
            "[[rule]]\nname = \"r2\"\nmetric = \"accuracy\"\ncomparison = \"<\"\nthreshold = 1\n",
        );
        assert!(msg.contains("rule r2") && msg.contains("metric"), "{msg}");
        let msg = error_of(&format!("{base}threshold = 0.8\ncooldown = 5\n"));
        assert!(msg.contains("cooldown"), "{msg}");
        let msg = error_of(&format!("{base}threshold = 0.8\nseverity = \"loud\"\n"));
        assert!(msg.contains("loud"), "{msg}");
        let msg = error_of(&format!("{base}threshold = 0.8\n{base}threshold = 0.7\n"));
        assert!(msg.contains("rule r1") && msg.contains("unique"), "{msg}");
        let msg = error_of("[[rule]]\nmetric = \"drift.share\"\nthreshold = 1\n");
        assert!(msg.contains("rule #1") && msg.contains("name"), "{msg}");
    }

    #[test]
    fn only_performance_rules_may_roll_back_by_default() {
        let mut rule = AlertRule {
            name: "r".into(),
            metric: "drift.share".into(),
            threshold: 0.5,
            action: RuleAction::Rollback,
            ..AlertRule::default()
        };
        assert!(!rule.may_roll_back());
        rule.allow_on_drift = true;
        assert!(rule.may_roll_back());
        rule.allow_on_drift = false;
        rule.metric = "estimated.roc_auc".into();
        assert!(rule.may_roll_back());
        rule.action = RuleAction::Notify;
        assert!(!rule.may_roll_back());
    }

    #[test]
    fn comparisons_hold_as_written() {
        assert!(Comparison::Below.holds(0.7, 0.8));
        assert!(!Comparison::Below.holds(0.8, 0.8));
        assert!(Comparison::AtMost.holds(0.8, 0.8));
        assert!(Comparison::Above.holds(0.9, 0.8));
        assert!(!Comparison::Above.holds(0.8, 0.8));
        assert!(Comparison::AtLeast.holds(0.8, 0.8));
        assert!(!Comparison::AtLeast.holds(f64::NAN, 0.8));
    }
}
