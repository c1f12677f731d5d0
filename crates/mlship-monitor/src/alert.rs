//! Alert evaluation over a sequence of window results, and the rollback policy.
//!
//! Each window brings a set of named metric values ([`WindowResult`]). A rule's streak grows by
//! one for every window whose metric breaches the threshold and resets on a window where it does
//! not; a window that lacks the metric (labels not arrived yet) neither grows nor breaks the
//! streak. When the streak reaches the rule's `windows` the rule fires, an [`Alert`] is
//! produced and the streak starts again from zero.
//!
//! # Rollback policy (it must not flap)
//!
//! A firing rule with `action = "rollback"` asks the facade's [`RollbackAction`] to move the
//! alias back, unless one of these holds (the alert then says which):
//!
//! 1. the rule watches a drift or anomaly metric and does not set `allow_on_drift = true` —
//!    only performance rules (realised or estimated) roll back by default;
//! 2. the alias was rolled back less than `cooldown_seconds` ago (default 24 h; the time is
//!    passed in, never read from the clock);
//! 3. there is no version that held the alias before its last promotion, or the alias already
//!    holds it — a rollback never goes past that version.
//!
//! After a rollback every rule's streak resets: the windows that condemned the old version say
//! nothing about the version now serving.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{MonitorError, Result};
use crate::rules::{AlertOutput, AlertRule, Comparison, RuleAction, RuleSet, Severity};

/// The metrics of one window of traffic.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowResult {
    /// When the window ended, in seconds since the Unix epoch.
    pub end: u64,
    /// The metric values by name (`performance.accuracy`, `drift.share`, …).
    pub metrics: BTreeMap<String, f64>,
}

impl WindowResult {
    /// A window ending at `end` with the given metrics.
    pub fn new<K: Into<String>>(end: u64, metrics: impl IntoIterator<Item = (K, f64)>) -> Self {
        Self {
            end,
            metrics: metrics.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        }
    }
}

/// Where an alias stands, as the facade reads it from the registry before each evaluation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasState {
    /// The alias watched, e.g. `churn@prod`.
    pub alias: String,
    /// The version it holds now.
    pub current: u64,
    /// The version that held it before its last promotion, if any: the floor of rollbacks.
    pub previous: Option<u64>,
}

/// What the facade is asked to do: move `alias` from `from` back to `to`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackRequest {
    /// The alias to move.
    pub alias: String,
    /// The version it holds now.
    pub from: u64,
    /// The version it moves back to.
    pub to: u64,
    /// The reason for the audit log: the rule and its evidence.
    pub reason: String,
}

/// Moves an alias back; the facade implements it with the registry (which records the reason in
/// its audit log).
pub trait RollbackAction {
    /// Performs the rollback.
    ///
    /// # Errors
    /// A message saying why the alias could not be moved; the alert records it.
    fn roll_back(&mut self, request: &RollbackRequest) -> std::result::Result<(), String>;
}

/// What became of a rule's rollback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RollbackOutcome {
    /// The rule only notifies.
    NotRequested,
    /// The alias was moved back.
    Done {
        /// The version it held.
        from: u64,
        /// The version it holds now.
        to: u64,
    },
    /// The policy held the rollback back.
    Suppressed {
        /// Which clause of the policy, in words.
        reason: String,
    },
    /// The facade's action failed.
    Failed {
        /// Its message.
        error: String,
    },
}

/// A fired rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The rule's name.
    pub rule: String,
    /// The metric it watches.
    pub metric: String,
    /// The comparison.
    pub comparison: Comparison,
    /// The threshold.
    pub threshold: f64,
    /// The severity.
    pub severity: Severity,
    /// The rule's action.
    pub action: RuleAction,
    /// The alias watched.
    pub alias: String,
    /// The version serving when the rule fired.
    pub version: u64,
    /// The end of the window that fired it (seconds since the Unix epoch).
    pub window_end: u64,
    /// The evidence: `(window end, value)` of each breaching window in the streak, oldest first.
    pub evidence: Vec<(u64, f64)>,
    /// What became of the rollback.
    pub rollback: RollbackOutcome,
}

impl Alert {
    /// The alert in words, one line.
    pub fn summary(&self) -> String {
        let mut line = format!(
            "[{}] rule {} on {} (version {}): {} {} {} in {} window(s) in a row (",
            severity_label(self.severity),
            self.rule,
            self.alias,
            self.version,
            self.metric,
            self.comparison,
            self.threshold,
            self.evidence.len()
        );
        for (i, (end, value)) in self.evidence.iter().enumerate() {
            if i > 0 {
                line.push_str(", ");
            }
            let _ = write!(line, "{value} at {end}");
        }
        line.push(')');
        match &self.rollback {
            RollbackOutcome::NotRequested => {}
            RollbackOutcome::Done { from, to } => {
                let _ = write!(line, "; rolled back from version {from} to {to}");
            }
            RollbackOutcome::Suppressed { reason } => {
                let _ = write!(line, "; no rollback: {reason}");
            }
            RollbackOutcome::Failed { error } => {
                let _ = write!(line, "; rollback failed: {error}");
            }
        }
        line
    }
}

fn severity_label(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Critical => "critical",
    }
}

/// The engine's memory between windows; serialisable so a watcher can resume after a restart.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EngineState {
    /// The current streak of each rule: `(window end, value)` of its breaching windows.
    pub streaks: BTreeMap<String, Vec<(u64, f64)>>,
    /// When each alias was last rolled back (seconds since the Unix epoch).
    pub last_rollback: BTreeMap<String, u64>,
}

/// Evaluates a [`RuleSet`] window after window and applies the rollback policy.
#[derive(Clone, Debug)]
pub struct AlertEngine {
    rules: RuleSet,
    state: EngineState,
}

impl AlertEngine {
    /// An engine with fresh state.
    ///
    /// # Errors
    /// [`MonitorError::Rule`] when the rules do not validate.
    pub fn new(rules: RuleSet) -> Result<Self> {
        Self::resume(rules, EngineState::default())
    }

    /// An engine that continues from a saved state (streaks of rules no longer present are
    /// dropped).
    ///
    /// # Errors
    /// [`MonitorError::Rule`] when the rules do not validate.
    pub fn resume(rules: RuleSet, mut state: EngineState) -> Result<Self> {
        rules.validate()?;
        state
            .streaks
            .retain(|name, _| rules.rules.iter().any(|r| &r.name == name));
        Ok(Self { rules, state })
    }

    /// The rules.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// The state to save for a later [`AlertEngine::resume`].
    pub fn state(&self) -> &EngineState {
        &self.state
    }

    /// Evaluates one window for `alias` at time `now` (seconds since the Unix epoch), rolling
    /// back through `action` when a rule asks for it and the policy allows it. Returns the
    /// alerts fired, in rule order. At most one rollback happens per window; a later rollback
    /// rule in the same window is suppressed by the cooldown.
    pub fn evaluate(
        &mut self,
        window: &WindowResult,
        alias: &AliasState,
        now: u64,
        action: &mut dyn RollbackAction,
    ) -> Vec<Alert> {
        let mut alerts = Vec::new();
        let mut rolled_back = false;
        let Self { rules, state } = self;
        let cooldown = rules.rollback.cooldown_seconds;
        for rule in &rules.rules {
            let Some(&value) = window.metrics.get(&rule.metric) else {
                continue;
            };
            let streak = state.streaks.entry(rule.name.clone()).or_default();
            if !rule.comparison.holds(value, rule.threshold) {
                streak.clear();
                continue;
            }
            streak.push((window.end, value));
            if streak.len() < rule.windows as usize {
                continue;
            }
            let evidence = std::mem::take(streak);
            let mut alert = Alert {
                rule: rule.name.clone(),
                metric: rule.metric.clone(),
                comparison: rule.comparison,
                threshold: rule.threshold,
                severity: rule.severity,
                action: rule.action,
                alias: alias.alias.clone(),
                version: alias.current,
                window_end: window.end,
                evidence,
                rollback: RollbackOutcome::NotRequested,
            };
            if rule.action == RuleAction::Rollback {
                alert.rollback = try_roll_back(state, cooldown, rule, &alert, alias, now, action);
                rolled_back |= matches!(alert.rollback, RollbackOutcome::Done { .. });
            }
            alerts.push(alert);
        }
        if rolled_back {
            state.streaks.clear();
        }
        alerts
    }
}

fn try_roll_back(
    state: &mut EngineState,
    cooldown: u64,
    rule: &AlertRule,
    alert: &Alert,
    alias: &AliasState,
    now: u64,
    action: &mut dyn RollbackAction,
) -> RollbackOutcome {
    let suppressed = |reason: String| RollbackOutcome::Suppressed { reason };
    if !rule.may_roll_back() {
        return suppressed(format!(
            "rule {} watches {}, not a performance metric; set allow_on_drift = true to let \
                 it roll back",
            rule.name, rule.metric
        ));
    }
    if let Some(&last) = state.last_rollback.get(&alias.alias) {
        let since = now.saturating_sub(last);
        if since < cooldown {
            return suppressed(format!(
                "{} was rolled back {since} s ago, inside the cooldown of {cooldown} s",
                alias.alias
            ));
        }
    }
    let Some(previous) = alias.previous else {
        return suppressed(format!(
            "{} has no version that held it before its last promotion",
            alias.alias
        ));
    };
    if previous == alias.current {
        return suppressed(format!(
            "{} already holds version {previous}, the one before its last promotion; a \
                 rollback never goes further back",
            alias.alias
        ));
    }
    let request = RollbackRequest {
        alias: alias.alias.clone(),
        from: alias.current,
        to: previous,
        reason: format!("automatic rollback: {}", alert.summary()),
    };
    match action.roll_back(&request) {
        Ok(()) => {
            state.last_rollback.insert(alias.alias.clone(), now);
            RollbackOutcome::Done {
                from: alias.current,
                to: previous,
            }
        }
        Err(error) => RollbackOutcome::Failed { error },
    }
}

/// Writes `alerts` to one output: a line of words per alert for [`AlertOutput::Stdout`], a JSON
/// object per line for [`AlertOutput::JsonLines`] (both to `stdout`), and JSON lines appended
/// and synced to the file for [`AlertOutput::File`].
///
/// # Errors
/// [`MonitorError::Output`] naming the output when writing fails.
pub fn emit(output: &AlertOutput, alerts: &[Alert], stdout: &mut dyn Write) -> Result<()> {
    if alerts.is_empty() {
        return Ok(());
    }
    let failed = |target: &str, e: &dyn std::fmt::Display| MonitorError::Output {
        target: target.into(),
        detail: e.to_string(),
    };
    match output {
        AlertOutput::Stdout => {
            for alert in alerts {
                writeln!(stdout, "{}", alert.summary()).map_err(|e| failed("stdout", &e))?;
            }
            stdout.flush().map_err(|e| failed("stdout", &e))
        }
        AlertOutput::JsonLines => {
            let text = json_lines(alerts).map_err(|e| failed("stdout", &e))?;
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .map_err(|e| failed("stdout", &e))
        }
        AlertOutput::File { path } => append_json_lines(path, alerts),
    }
}

fn json_lines(alerts: &[Alert]) -> serde_json::Result<String> {
    let mut text = String::new();
    for alert in alerts {
        text.push_str(&serde_json::to_string(alert)?);
        text.push('\n');
    }
    Ok(text)
}

/// Appends one JSON object per alert to `path` (created when missing) and syncs it to disk.
/// An append-only log is extended in place rather than rewritten: earlier alerts are never
/// touched, and one write per call keeps a batch together.
///
/// # Errors
/// [`MonitorError::Output`] naming the file when it cannot be opened, written or synced.
pub fn append_json_lines(path: &Path, alerts: &[Alert]) -> Result<()> {
    let failed = |e: &dyn std::fmt::Display| MonitorError::Output {
        target: path.display().to_string(),
        detail: format!("{e}; check that its directory exists and is writable"),
    };
    let text = json_lines(alerts).map_err(|e| failed(&e))?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| failed(&e))?;
    file.write_all(text.as_bytes()).map_err(|e| failed(&e))?;
    file.sync_data().map_err(|e| failed(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::MetricFamily;

    #[derive(Default)]
    struct Recorder {
        requests: Vec<RollbackRequest>,
        fail: bool,
    }

    impl RollbackAction for Recorder {
        fn roll_back(&mut self, request: &RollbackRequest) -> std::result::Result<(), String> {
            if self.fail {
                return Err("registry is locked".into());
            }
            self.requests.push(request.clone());
            Ok(())
        }
    }

    fn rule(name: &str, metric: &str, comparison: Comparison, threshold: f64) -> AlertRule {
        AlertRule {
            name: name.into(),
            metric: metric.into(),
            comparison,
            threshold,
            ..AlertRule::default()
        }
    }

    fn rollback_rule(metric: &str, windows: u32) -> AlertRule {
        AlertRule {
            windows,
            action: RuleAction::Rollback,
            ..rule("roll", metric, Comparison::Below, 0.8)
        }
    }

    fn engine(rules: Vec<AlertRule>) -> AlertEngine {
        AlertEngine::new(RuleSet {
            rules,
            ..RuleSet::default()
        })
        .unwrap()
    }

    fn prod(current: u64, previous: Option<u64>) -> AliasState {
        AliasState {
            alias: "churn@prod".into(),
            current,
            previous,
        }
    }

    fn window(end: u64, metric: &str, value: f64) -> WindowResult {
        WindowResult::new(end, [(metric, value)])
    }

    const HOUR: u64 = 3600;

    #[test]
    fn a_rule_fires_after_its_windows_in_a_row_and_starts_again() {
        let mut eng = engine(vec![AlertRule {
            windows: 3,
            ..rule("drop", "performance.accuracy", Comparison::Below, 0.8)
        }]);
        let mut rec = Recorder::default();
        let alias = prod(2, Some(1));
        let values = [0.7, 0.7, 0.9, 0.7, 0.7, 0.7, 0.7];
        let fired: Vec<usize> = values
            .iter()
            .enumerate()
            .filter(|&(i, &v)| {
                !eng.evaluate(
                    &window(i as u64, "performance.accuracy", v),
                    &alias,
                    i as u64,
                    &mut rec,
                )
                .is_empty()
            })
            .map(|(i, _)| i)
            .collect();
        // The 0.9 breaks the first streak; the next three breaches fire at window 5; window 6
        // starts a new streak.
        assert_eq!(fired, vec![5]);
        assert!(rec.requests.is_empty());
    }

    #[test]
    fn a_missing_metric_neither_counts_nor_breaks_the_streak() {
        let mut eng = engine(vec![AlertRule {
            windows: 2,
            ..rule("drop", "performance.accuracy", Comparison::Below, 0.8)
        }]);
        let mut rec = Recorder::default();
        let alias = prod(2, Some(1));
        assert!(
            eng.evaluate(&window(1, "performance.accuracy", 0.5), &alias, 1, &mut rec)
                .is_empty()
        );
        assert!(
            eng.evaluate(&window(2, "drift.share", 0.9), &alias, 2, &mut rec)
                .is_empty()
        );
        let alerts = eng.evaluate(&window(3, "performance.accuracy", 0.6), &alias, 3, &mut rec);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].evidence, vec![(1, 0.5), (3, 0.6)]);
        assert_eq!(alerts[0].rollback, RollbackOutcome::NotRequested);
    }

    #[test]
    fn a_performance_rule_rolls_back_with_rule_and_evidence_as_reason() {
        let mut eng = engine(vec![rollback_rule("performance.accuracy", 2)]);
        let mut rec = Recorder::default();
        let alias = prod(5, Some(4));
        eng.evaluate(
            &window(10, "performance.accuracy", 0.7),
            &alias,
            10,
            &mut rec,
        );
        let alerts = eng.evaluate(
            &window(20, "performance.accuracy", 0.6),
            &alias,
            20,
            &mut rec,
        );
        assert_eq!(alerts[0].rollback, RollbackOutcome::Done { from: 5, to: 4 });
        assert_eq!(rec.requests.len(), 1);
        let request = &rec.requests[0];
        assert_eq!((request.from, request.to), (5, 4));
        assert!(request.reason.contains("rule roll"), "{}", request.reason);
        assert!(request.reason.contains("0.7 at 10"), "{}", request.reason);
        assert!(request.reason.contains("0.6 at 20"), "{}", request.reason);
        assert_eq!(eng.state().last_rollback.get("churn@prod"), Some(&20));
    }

    #[test]
    fn an_estimated_performance_rule_may_roll_back() {
        let mut eng = engine(vec![rollback_rule("estimated.accuracy", 1)]);
        let mut rec = Recorder::default();
        let alerts = eng.evaluate(
            &window(1, "estimated.accuracy", 0.5),
            &prod(2, Some(1)),
            1,
            &mut rec,
        );
        assert_eq!(alerts[0].rollback, RollbackOutcome::Done { from: 2, to: 1 });
    }

    #[test]
    fn a_drift_only_rule_does_not_roll_back_by_default() {
        let drift = AlertRule {
            action: RuleAction::Rollback,
            ..rule("drifted", "drift.share", Comparison::AtLeast, 0.5)
        };
        assert_eq!(drift.family(), Some(MetricFamily::Drift));
        let mut eng = engine(vec![drift.clone()]);
        let mut rec = Recorder::default();
        let alerts = eng.evaluate(
            &window(1, "drift.share", 0.9),
            &prod(2, Some(1)),
            1,
            &mut rec,
        );
        assert_eq!(alerts.len(), 1);
        let RollbackOutcome::Suppressed { reason } = &alerts[0].rollback else {
            panic!(
                "expected a suppressed rollback, got {:?}",
                alerts[0].rollback
            );
        };
        assert!(reason.contains("allow_on_drift"), "{reason}");
        assert!(rec.requests.is_empty());

        let mut eng = engine(vec![AlertRule {
            allow_on_drift: true,
            ..drift
        }]);
        let alerts = eng.evaluate(
            &window(1, "drift.share", 0.9),
            &prod(2, Some(1)),
            1,
            &mut rec,
        );
        assert_eq!(alerts[0].rollback, RollbackOutcome::Done { from: 2, to: 1 });
    }

    #[test]
    fn a_second_firing_inside_the_cooldown_does_nothing() {
        let mut eng = engine(vec![rollback_rule("performance.accuracy", 1)]);
        let mut rec = Recorder::default();
        let t0 = 1_000_000;
        let alerts = eng.evaluate(
            &window(t0, "performance.accuracy", 0.5),
            &prod(3, Some(2)),
            t0,
            &mut rec,
        );
        assert_eq!(alerts[0].rollback, RollbackOutcome::Done { from: 3, to: 2 });
        // Someone promotes version 4 over 2; it degrades an hour later: still in the cooldown.
        let later = t0 + HOUR;
        let alerts = eng.evaluate(
            &window(later, "performance.accuracy", 0.5),
            &prod(4, Some(2)),
            later,
            &mut rec,
        );
        let RollbackOutcome::Suppressed { reason } = &alerts[0].rollback else {
            panic!(
                "expected a suppressed rollback, got {:?}",
                alerts[0].rollback
            );
        };
        assert!(reason.contains("cooldown"), "{reason}");
        assert_eq!(rec.requests.len(), 1);
        // Once the 24 hours have passed the rule may roll back again.
        let after = t0 + 24 * HOUR;
        let alerts = eng.evaluate(
            &window(after, "performance.accuracy", 0.5),
            &prod(4, Some(2)),
            after,
            &mut rec,
        );
        assert_eq!(alerts[0].rollback, RollbackOutcome::Done { from: 4, to: 2 });
        assert_eq!(rec.requests.len(), 2);
    }

    #[test]
    fn the_cooldown_is_per_alias() {
        let mut eng = engine(vec![rollback_rule("performance.accuracy", 1)]);
        let mut rec = Recorder::default();
        eng.evaluate(
            &window(1, "performance.accuracy", 0.5),
            &prod(3, Some(2)),
            1,
            &mut rec,
        );
        let other = AliasState {
            alias: "churn@canary".into(),
            current: 7,
            previous: Some(6),
        };
        let alerts = eng.evaluate(&window(2, "performance.accuracy", 0.5), &other, 2, &mut rec);
        assert_eq!(alerts[0].rollback, RollbackOutcome::Done { from: 7, to: 6 });
    }

    #[test]
    fn a_rollback_never_goes_past_the_previous_holder() {
        let rules = RuleSet {
            rules: vec![rollback_rule("performance.accuracy", 1)],
            rollback: crate::rules::RollbackSettings {
                cooldown_seconds: 0,
            },
            ..RuleSet::default()
        };
        let mut eng = AlertEngine::new(rules).unwrap();
        let mut rec = Recorder::default();
        let alerts = eng.evaluate(
            &window(1, "performance.accuracy", 0.5),
            &prod(3, Some(2)),
            1,
            &mut rec,
        );
        assert_eq!(alerts[0].rollback, RollbackOutcome::Done { from: 3, to: 2 });
        // Version 2 degrades too: it already is the floor, so nothing moves.
        let alerts = eng.evaluate(
            &window(2, "performance.accuracy", 0.5),
            &prod(2, Some(2)),
            2,
            &mut rec,
        );
        assert!(matches!(
            &alerts[0].rollback,
            RollbackOutcome::Suppressed { reason } if reason.contains("never goes further back")
        ));
        // A first version with no previous holder cannot be rolled back.
        let alerts = eng.evaluate(
            &window(3, "performance.accuracy", 0.5),
            &prod(1, None),
            3,
            &mut rec,
        );
        assert!(matches!(
            &alerts[0].rollback,
            RollbackOutcome::Suppressed { reason } if reason.contains("no version")
        ));
        assert_eq!(rec.requests.len(), 1);
        assert!(rec.requests.iter().all(|r| r.to == 2));
    }

    #[test]
    fn windows_reset_after_a_rollback() {
        let notify = AlertRule {
            windows: 2,
            ..rule("slow drift", "drift.share", Comparison::AtLeast, 0.5)
        };
        let mut eng = engine(vec![rollback_rule("performance.accuracy", 1), notify]);
        let mut rec = Recorder::default();
        let alias = prod(3, Some(2));
        // One drifted window starts the drift rule's streak.
        eng.evaluate(&window(1, "drift.share", 0.9), &alias, 1, &mut rec);
        assert_eq!(eng.state().streaks["slow drift"].len(), 1);
        // Performance collapses: rollback, and every streak starts again.
        let w = WindowResult::new(2, [("performance.accuracy", 0.5)]);
        let alerts = eng.evaluate(&w, &alias, 2, &mut rec);
        assert_eq!(alerts.len(), 1);
        assert!(eng.state().streaks.values().all(Vec::is_empty));
        // So one more drifted window on the restored version does not fire the drift rule.
        let alerts = eng.evaluate(
            &window(3, "drift.share", 0.9),
            &prod(2, Some(2)),
            3,
            &mut rec,
        );
        assert!(alerts.is_empty());
    }

    #[test]
    fn a_failed_rollback_is_reported_and_starts_no_cooldown() {
        let mut eng = engine(vec![rollback_rule("performance.accuracy", 1)]);
        let mut rec = Recorder {
            fail: true,
            ..Recorder::default()
        };
        let alerts = eng.evaluate(
            &window(1, "performance.accuracy", 0.5),
            &prod(3, Some(2)),
            1,
            &mut rec,
        );
        assert_eq!(
            alerts[0].rollback,
            RollbackOutcome::Failed {
                error: "registry is locked".into()
            }
        );
        assert!(eng.state().last_rollback.is_empty());
        rec.fail = false;
        let alerts = eng.evaluate(
            &window(2, "performance.accuracy", 0.5),
            &prod(3, Some(2)),
            2,
            &mut rec,
        );
        assert_eq!(alerts[0].rollback, RollbackOutcome::Done { from: 3, to: 2 });
    }

    #[test]
    fn state_survives_a_restart() {
        let rules = RuleSet {
            rules: vec![rollback_rule("performance.accuracy", 2)],
            ..RuleSet::default()
        };
        let mut eng = AlertEngine::new(rules.clone()).unwrap();
        let mut rec = Recorder::default();
        let alias = prod(3, Some(2));
        eng.evaluate(&window(1, "performance.accuracy", 0.5), &alias, 1, &mut rec);
        let saved = serde_json::to_string(eng.state()).unwrap();
        let state: EngineState = serde_json::from_str(&saved).unwrap();
        let mut eng = AlertEngine::resume(rules, state).unwrap();
        let alerts = eng.evaluate(&window(2, "performance.accuracy", 0.5), &alias, 2, &mut rec);
        assert_eq!(alerts[0].rollback, RollbackOutcome::Done { from: 3, to: 2 });
    }

    #[test]
    fn outputs_write_words_and_json_lines() {
        let mut eng = engine(vec![rule(
            "drop",
            "performance.accuracy",
            Comparison::Below,
            0.8,
        )]);
        let mut rec = Recorder::default();
        let alerts = eng.evaluate(
            &window(7, "performance.accuracy", 0.5),
            &prod(3, Some(2)),
            7,
            &mut rec,
        );
        let mut out = Vec::new();
        emit(&AlertOutput::Stdout, &alerts, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("[warning] rule drop on churn@prod"),
            "{text}"
        );
        let mut out = Vec::new();
        emit(&AlertOutput::JsonLines, &alerts, &mut out).unwrap();
        let back: Alert = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, alerts[0]);

        let dir =
            std::env::temp_dir().join(format!("mlship-monitor-alerts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("alerts.jsonl");
        let _ = std::fs::remove_file(&path);
        let file = AlertOutput::File { path: path.clone() };
        emit(&file, &alerts, &mut Vec::new()).unwrap();
        emit(&file, &alerts, &mut Vec::new()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        for line in lines {
            let alert: Alert = serde_json::from_str(line).unwrap();
            assert_eq!(alert.rule, "drop");
        }
        let missing = AlertOutput::File {
            path: dir.join("no/such/dir/alerts.jsonl"),
        };
        let msg = emit(&missing, &alerts, &mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("alerts.jsonl"), "{msg}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
