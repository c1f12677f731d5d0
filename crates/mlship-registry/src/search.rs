//! Search queries over versions: space-separated terms that must all hold.
//!
//! - `churn` — the model name contains the word (ignoring case);
//! - `name=churn`, `name~chu` — the model name is, or contains, the text;
//! - `tag.team=risk` (or `tags.team`) — a version tag;
//! - `metrics.roc_auc > 0.9` (also `>=`, `<`, `<=`, `=`, `!=`) — a metric the version has;
//! - `params.max_depth=6` — a parameter (dotted path; compared as numbers when both are);
//! - `status=active`, `alias=production`, `task=binary`, `kind=model`, `version>=3`,
//!   `run=RUN_ID`, `data=FINGERPRINT`.
//!
//! Spaces around operators are optional; `and` between terms is ignored.

use serde_json::Value;

use crate::error::{RegistryError, Result};
use crate::store::{SqlValue, StoreKind};
use crate::types::VersionRecord;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Contains,
}

impl Op {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "=" | "==" => Self::Eq,
            "!=" => Self::Ne,
            ">" => Self::Gt,
            ">=" => Self::Ge,
            "<" => Self::Lt,
            "<=" => Self::Le,
            "~" => Self::Contains,
            _ => return None,
        })
    }

    fn num(self, a: f64, b: f64) -> bool {
        match self {
            Self::Eq => a == b,
            Self::Ne => a != b,
            Self::Gt => a > b,
            Self::Ge => a >= b,
            Self::Lt => a < b,
            Self::Le => a <= b,
            Self::Contains => false,
        }
    }

    fn text(self, a: &str, b: &str) -> bool {
        match self {
            Self::Eq => a == b,
            Self::Ne => a != b,
            Self::Contains => a.to_lowercase().contains(&b.to_lowercase()),
            Self::Gt => a > b,
            Self::Ge => a >= b,
            Self::Lt => a < b,
            Self::Le => a <= b,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Term {
    Word(String),
    Compare { key: String, op: Op, value: String },
}

/// A parsed search query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    terms: Vec<Term>,
}

/// Splits `text` into words and operators.
fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let flush = |cur: &mut String, out: &mut Vec<String>| {
        if !cur.is_empty() {
            out.push(std::mem::take(cur));
        }
    };
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            flush(&mut cur, &mut out);
            i += 1;
        } else if c == '"' || c == '\'' {
            // A quoted value keeps its spaces and operators.
            let end = chars[i + 1..]
                .iter()
                .position(|&d| d == c)
                .map_or(chars.len(), |p| i + 1 + p);
            cur.extend(&chars[i + 1..end]);
            i = end + 1;
        } else if matches!(c, '=' | '!' | '<' | '>' | '~') {
            flush(&mut cur, &mut out);
            let two = chars.get(i + 1) == Some(&'=');
            out.push(if two { format!("{c}=") } else { c.to_string() });
            i += if two { 2 } else { 1 };
        } else {
            cur.push(c);
            i += 1;
        }
    }
    flush(&mut cur, &mut out);
    out
}

const KEYS: &str =
    "name, tag.KEY, metrics.NAME, params.PATH, status, alias, task, kind, version, run, data";

impl Query {
    /// Parses a query; an empty query matches every version.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |reason: String| RegistryError::InvalidQuery {
            query: text.to_owned(),
            reason,
        };
        let toks = tokens(text);
        let mut terms = Vec::new();
        let mut i = 0;
        while i < toks.len() {
            let t = &toks[i];
            if Op::parse(t).is_some() {
                return Err(bad(format!("operator {t:?} without a key before it")));
            }
            if t.eq_ignore_ascii_case("and") {
                i += 1;
                continue;
            }
            if let Some(op) = toks.get(i + 1).and_then(|o| Op::parse(o)) {
                {
                    let value = toks
                        .get(i + 2)
                        .filter(|v| Op::parse(v).is_none())
                        .ok_or_else(|| bad(format!("no value after {t} {}", toks[i + 1])))?;
                    let key = t.to_lowercase();
                    let known = matches!(
                        key.as_str(),
                        "name"
                            | "model"
                            | "status"
                            | "alias"
                            | "task"
                            | "kind"
                            | "version"
                            | "run"
                            | "run_id"
                            | "data"
                            | "data_fingerprint"
                    ) || ["tag.", "tags.", "metric.", "metrics.", "param.", "params."]
                        .iter()
                        .any(|p| key.strip_prefix(p).is_some_and(|rest| !rest.is_empty()));
                    if !known {
                        return Err(bad(format!("unknown key {t:?}: expected one of {KEYS}")));
                    }
                    let numeric = key.starts_with("metric") || key == "version";
                    if numeric && op != Op::Contains && value.parse::<f64>().is_err() {
                        return Err(bad(format!(
                            "{t} compares numbers, but {value:?} is not one"
                        )));
                    }
                    terms.push(Term::Compare {
                        key: t.clone(),
                        op,
                        value: value.clone(),
                    });
                    i += 3;
                }
            } else {
                terms.push(Term::Word(t.to_lowercase()));
                i += 1;
            }
        }
        Ok(Self { terms })
    }

    /// Whether a model name satisfies every term about the name (the words and `name`).
    pub fn matches_name(&self, name: &str) -> bool {
        self.terms.iter().all(|t| match t {
            Term::Word(w) => name.to_lowercase().contains(w.as_str()),
            Term::Compare { key, op, value } if is_name_key(key) => op.text(name, value),
            Term::Compare { .. } => true,
        })
    }

    /// Whether any term is about the model name.
    pub fn has_name_terms(&self) -> bool {
        self.terms.iter().any(|t| match t {
            Term::Word(_) => true,
            Term::Compare { key, .. } => is_name_key(key),
        })
    }

    /// A SQL condition over `versions v` that every match satisfies (it may let through
    /// versions that do not match; [`Self::matches`] decides), with its parameters — so a
    /// search reads only the rows that can match. Metric bounds are widened by a relative
    /// 1e-9 so that the database's number parsing can never exclude a true match.
    pub fn prefilter(&self, kind: StoreKind) -> (String, Vec<SqlValue>) {
        let mut conds = Vec::new();
        let mut params = Vec::new();
        for t in &self.terms {
            let Term::Compare { key, op, value } = t else {
                continue;
            };
            let lower = key.to_lowercase();
            let suffix = |prefixes: &[&str]| {
                prefixes
                    .iter()
                    .find_map(|p| key.get(p.len()..).filter(|_| lower.starts_with(p)))
            };
            if let Some(k) = suffix(&["tags.", "tag."]) {
                let mut cond =
                    "EXISTS (SELECT 1 FROM version_tags t WHERE t.version_id = v.id AND t.key = ?"
                        .to_owned();
                params.push(SqlValue::Text(k.to_owned()));
                if *op == Op::Eq {
                    cond.push_str(" AND t.value = ?");
                    params.push(SqlValue::Text(value.clone()));
                }
                cond.push(')');
                conds.push(cond);
            } else if let Some(m) = suffix(&["metrics.", "metric."]) {
                let Ok(b) = value.parse::<f64>() else {
                    continue;
                };
                let slack = b.abs() * 1e-9 + 1e-300;
                let (cmp, bound) = match op {
                    Op::Gt | Op::Ge => (">=", b - slack),
                    Op::Lt | Op::Le => ("<=", b + slack),
                    Op::Eq => {
                        conds.push(format!(
                            "{} BETWEEN ? AND ?",
                            metric_sql(kind, m, &mut params)
                        ));
                        params.push(SqlValue::Real(b - slack));
                        params.push(SqlValue::Real(b + slack));
                        continue;
                    }
                    Op::Ne | Op::Contains => continue,
                };
                conds.push(format!("{} {cmp} ?", metric_sql(kind, m, &mut params)));
                params.push(SqlValue::Real(bound));
            } else if *op == Op::Eq && lower == "alias" {
                conds.push(
                    "EXISTS (SELECT 1 FROM aliases a WHERE a.version_id = v.id AND a.alias = ?)"
                        .to_owned(),
                );
                params.push(SqlValue::Text(value.clone()));
            } else if *op == Op::Eq {
                let column = match lower.as_str() {
                    "status" => "v.status",
                    "kind" => "v.kind",
                    "task" => "v.task",
                    "run" | "run_id" => "v.run_id",
                    "data" | "data_fingerprint" => "v.data_fingerprint",
                    _ => continue,
                };
                conds.push(format!("{column} = ?"));
                params.push(SqlValue::Text(value.clone()));
            }
        }
        if conds.is_empty() {
            ("1 = 1".to_owned(), params)
        } else {
            (conds.join(" AND "), params)
        }
    }

    /// Whether `v` satisfies every term.
    pub fn matches(&self, v: &VersionRecord) -> bool {
        self.terms.iter().all(|t| match t {
            Term::Word(w) => v.model.to_lowercase().contains(w.as_str()),
            Term::Compare { key, op, value } => compare(v, key, *op, value),
        })
    }
}

fn is_name_key(key: &str) -> bool {
    key.eq_ignore_ascii_case("name") || key.eq_ignore_ascii_case("model")
}

/// The SQL expression of metric `name` of `v` as a double (`NULL` when absent).
fn metric_sql(kind: StoreKind, name: &str, params: &mut Vec<SqlValue>) -> String {
    match kind {
        StoreKind::Sqlite => {
            // A JSON path with the key quoted, so dots and spaces in metric names stay literal.
            let quoted = serde_json::to_string(name).unwrap_or_default();
            params.push(SqlValue::Text(format!("$.{quoted}")));
            "CAST(json_extract(v.metrics, ?) AS REAL)".to_owned()
        }
        StoreKind::Postgres => {
            params.push(SqlValue::Text(name.to_owned()));
            "CAST(CAST(v.metrics AS jsonb) ->> ? AS double precision)".to_owned()
        }
    }
}

fn compare(v: &VersionRecord, key: &str, op: Op, value: &str) -> bool {
    let lower = key.to_lowercase();
    let rest = |prefixes: &[&str]| {
        prefixes
            .iter()
            .find_map(|p| key.get(p.len()..).filter(|_| lower.starts_with(p)))
    };
    if let Some(m) = rest(&["metrics.", "metric."]) {
        let Ok(b) = value.parse::<f64>() else {
            return false;
        };
        return v.metrics.get(m).is_some_and(|&a| op.num(a, b));
    }
    if let Some(k) = rest(&["tags.", "tag."]) {
        return v.tags.get(k).is_some_and(|a| op.text(a, value));
    }
    if let Some(path) = rest(&["params.", "param."]) {
        let mut cur = &v.params;
        for part in path.split('.') {
            match cur.get(part) {
                Some(next) => cur = next,
                None => return false,
            }
        }
        return match (cur, value.parse::<f64>()) {
            (Value::Number(n), Ok(b)) => n.as_f64().is_some_and(|a| op.num(a, b)),
            (Value::String(s), _) => op.text(s, value),
            (other, _) => op.text(&other.to_string(), value),
        };
    }
    let text = |a: Option<&str>| a.is_some_and(|a| op.text(a, value));
    match lower.as_str() {
        "name" | "model" => text(Some(&v.model)),
        "status" => text(Some(v.status.name())),
        "alias" => match op {
            Op::Ne => !v.aliases.iter().any(|a| a == value),
            _ => v.aliases.iter().any(|a| op.text(a, value)),
        },
        "task" => text(v.task.as_deref()),
        "kind" => text(Some(&v.kind)),
        "run" | "run_id" => text(v.run_id.as_deref()),
        "data" | "data_fingerprint" => text(v.data_fingerprint.as_deref()),
        "version" => value
            .parse::<f64>()
            .is_ok_and(|b| op.num(v.version as f64, b)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_split_operators_with_or_without_spaces() {
        assert_eq!(tokens("metrics.auc>0.9"), ["metrics.auc", ">", "0.9"]);
        assert_eq!(
            tokens("metrics.auc >= 0.9 churn"),
            ["metrics.auc", ">=", "0.9", "churn"]
        );
        assert_eq!(tokens("tag.note='a b'"), ["tag.note", "=", "a b"]);
    }

    #[test]
    fn bad_queries_say_why() {
        for (q, why) in [
            ("> 3", "without a key"),
            ("metrics.auc >", "no value"),
            ("metrics.auc > high", "not one"),
            ("colour = red", "unknown key"),
            ("tag. = x", "unknown key"),
        ] {
            let e = Query::parse(q).unwrap_err().to_string();
            assert!(e.contains(why), "{q}: {e}");
        }
        assert!(Query::parse("").unwrap().terms.is_empty());
    }
}
