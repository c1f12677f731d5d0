//! Feature expressions: the small formula language of engineered features.
//!
//! A pipeline spec names new features by formulas over the input columns, such as
//! `debt_ratio = "debt / income"`, `log_income = "ln(income + 1)"`, `adult = "age >= 18"` or
//! `size = "when body_mass_g > 4500 then 'large' otherwise 'small'"`. An [`Expr`] is parsed once
//! when the pipeline is fitted, type-checked against the input columns ([`Expr::check`]),
//! stored in the bundle as its source text (deserialising parses it again, so a bundle cannot
//! smuggle in a tree the parser would refuse), and evaluated with [`Expr::eval`].
//!
//! Evaluation is columnar: each node of the tree is computed once over whole column vectors.
//! The serving row path calls the same evaluator on 1-row columns, so a row's result is
//! bit-for-bit the one it gets inside a frame. Every numeric result is finite or null; the
//! null and domain rules are in `docs/expressions.md`.

mod check;
mod eval;
mod syntax;
#[cfg(test)]
mod tests;

use std::fmt;

use mlship_core::{ColumnData, ColumnKind, RawBatch, RawColumn, Schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use syntax::{Node, NodeKind, Span};

/// The type of a value in an expression, of an input column, or of an expression's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    /// Finite real numbers (a numeric column).
    Number,
    /// `true` / `false` (a boolean column).
    Boolean,
    /// Text (a categorical column).
    String,
    /// Instants (a datetime column). Only `is_null` accepts them for now; no expression
    /// produces one.
    Datetime,
}

impl ValueType {
    /// The type of a raw column's values.
    pub fn of(data: &ColumnData) -> ValueType {
        match data {
            ColumnData::Numeric(_) => Self::Number,
            ColumnData::Categorical { .. } => Self::String,
            ColumnData::Boolean(_) => Self::Boolean,
            ColumnData::Datetime(_) => Self::Datetime,
        }
    }

    /// The type of a schema column's values.
    pub fn of_kind(kind: &ColumnKind) -> ValueType {
        match kind {
            ColumnKind::Numeric => Self::Number,
            ColumnKind::Categorical { .. } => Self::String,
            ColumnKind::Boolean => Self::Boolean,
            ColumnKind::Datetime { .. } => Self::Datetime,
        }
    }

    /// A short name: `number`, `boolean`, `string`, `datetime`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::String => "string",
            Self::Datetime => "datetime",
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where in the source an error is: a 1-based line and column (in characters) and the
/// offending line with a caret under the spot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pointer {
    /// 1-based line number (expressions are usually one line).
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// The source line and a line of carets under the offending text.
    pub excerpt: String,
}

impl Pointer {
    fn new(src: &str, span: Span) -> Pointer {
        let start = span.start.min(src.len());
        let end = span.end.clamp(start, src.len());
        let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = src[start..].find('\n').map_or(src.len(), |i| start + i);
        let line = src[..start].matches('\n').count() + 1;
        let text = &src[line_start..line_end];
        let column = src[line_start..start].chars().count() + 1;
        let width = src[start..end.min(line_end)].chars().count().max(1);
        let excerpt = format!(
            "  {}\n  {}{}",
            text.replace('\t', " "),
            " ".repeat(column - 1),
            "^".repeat(width)
        );
        Pointer {
            line,
            column,
            excerpt,
        }
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 1 {
            write!(f, "line {}, ", self.line)?;
        }
        write!(f, "column {}\n{}", self.column, self.excerpt)
    }
}

fn hint_line(hint: Option<&String>) -> String {
    hint.map_or_else(String::new, |h| format!("\nhint: {h}"))
}

/// What is wrong with an expression, or with the columns it was evaluated on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ExprError {
    /// The text is not a well-formed expression.
    #[error("{message} at {at}{}", hint_line(hint.as_ref()))]
    Syntax {
        /// What is wrong.
        message: String,
        /// Where.
        at: Pointer,
        /// How to fix it, when there is an obvious way.
        hint: Option<String>,
    },
    /// A call names no supported function.
    #[error(
        "unknown function `{name}` at {at}\nhint: the supported functions are {}",
        syntax::function_list()
    )]
    UnknownFunction {
        /// The name called.
        name: String,
        /// Where.
        at: Pointer,
    },
    /// A function is called with too few or too many arguments.
    #[error(
        "{function} takes {expected} but is given {found} at {at}\nhint: call it as {signature}"
    )]
    Arity {
        /// The function.
        function: &'static str,
        /// The accepted number of arguments, in words.
        expected: String,
        /// The number given.
        found: usize,
        /// How it is called.
        signature: &'static str,
        /// Where.
        at: Pointer,
    },
    /// The expression names a column the input does not have.
    #[error(
        "unknown column `{name}` at {at}\nhint: column names are case-sensitive; write names with spaces or symbols in backquotes"
    )]
    UnknownColumn {
        /// The column named.
        name: String,
        /// Where.
        at: Pointer,
    },
    /// An operator or function is applied to values of the wrong type.
    #[error("{message} at {at}{}", hint_line(hint.as_ref()))]
    Type {
        /// What is wrong, naming the types.
        message: String,
        /// Where.
        at: Pointer,
        /// How to fix it, when there is an obvious way.
        hint: Option<String>,
    },
    /// The evaluator met a value of a type the checker ruled out: a bug, never the user's fault.
    #[error("internal error: {detail}\nhint: please report this together with the expression")]
    Internal {
        /// What was met.
        detail: String,
    },
    /// A column handed to [`Expr::eval`] cannot be used (wrong length, broken dictionary).
    #[error("column {column:?}: {detail}")]
    Column {
        /// The column at fault.
        column: String,
        /// What is wrong.
        detail: String,
    },
}

impl ExprError {
    fn syntax(src: &str, span: Span, message: String, hint: Option<String>) -> ExprError {
        ExprError::Syntax {
            message,
            at: Pointer::new(src, span),
            hint,
        }
    }

    fn type_error(src: &str, span: Span, message: String, hint: Option<String>) -> ExprError {
        ExprError::Type {
            message,
            at: Pointer::new(src, span),
            hint,
        }
    }

    /// Where in the source the error is, when it is about the text.
    pub fn pointer(&self) -> Option<&Pointer> {
        match self {
            Self::Syntax { at, .. }
            | Self::UnknownFunction { at, .. }
            | Self::Arity { at, .. }
            | Self::UnknownColumn { at, .. }
            | Self::Type { at, .. } => Some(at),
            Self::Column { .. } | Self::Internal { .. } => None,
        }
    }
}

/// A parsed feature expression: its source text and its syntax tree.
///
/// It serialises as its source string and deserialises by parsing that string again.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    source: String,
    root: Node,
}

impl Expr {
    /// Parses `source`; the error points at the offending spot.
    pub fn parse(source: &str) -> Result<Expr, ExprError> {
        let root = syntax::parse(source)?;
        Ok(Expr {
            source: source.to_owned(),
            root,
        })
    }

    /// The text the expression was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The input columns the expression reads, in order of first mention, each once.
    pub fn columns(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let mut stack = vec![&self.root];
        // Depth-first, left to right: children are pushed in reverse.
        while let Some(node) = stack.pop() {
            match &node.kind {
                NodeKind::Literal(_) => {}
                NodeKind::Column(name) => {
                    if !out.contains(&name.as_str()) {
                        out.push(name);
                    }
                }
                NodeKind::Unary(_, a) => stack.push(a),
                NodeKind::Binary(_, a, b) => {
                    stack.push(b);
                    stack.push(a);
                }
                NodeKind::Call(_, args) => stack.extend(args.iter().rev()),
                NodeKind::When(arms, z) => {
                    stack.push(z);
                    for (c, v) in arms.iter().rev() {
                        stack.push(v);
                        stack.push(c);
                    }
                }
            }
        }
        out
    }

    /// Type-checks the expression against the input columns, `kinds` giving each column's
    /// type (`None` for a column the input does not have), and returns the result's type.
    pub fn check(&self, kinds: &dyn Fn(&str) -> Option<ValueType>) -> Result<ValueType, ExprError> {
        check::check(&self.source, &self.root, kinds)
    }

    /// Type-checks the expression against the columns of `schema`.
    pub fn check_schema(&self, schema: &Schema) -> Result<ValueType, ExprError> {
        self.check(&|name| {
            schema
                .column(name)
                .map(|(_, c)| ValueType::of_kind(&c.kind))
        })
    }

    /// Type-checks the expression against the columns of `batch`.
    pub fn check_batch(&self, batch: &RawBatch) -> Result<ValueType, ExprError> {
        self.check(&|name| batch.column(name).map(|c| ValueType::of(&c.data)))
    }

    /// Evaluates the expression over `n_rows` rows into a column called `name`. `columns`
    /// looks up the input columns by name; each must hold `n_rows` rows.
    ///
    /// The expression is checked against the columns' types first, so a mismatch is an error,
    /// never a panic. The result carries a validity mask only when it holds a null; a string
    /// result is a categorical column whose dictionary lists its values in order of first
    /// appearance.
    pub fn eval<'c>(
        &self,
        name: &str,
        n_rows: usize,
        columns: &dyn Fn(&str) -> Option<&'c RawColumn>,
    ) -> Result<RawColumn, ExprError> {
        eval::eval(self, name, n_rows, columns)
    }

    /// Evaluates the expression over the rows of `batch` into a column called `name`.
    pub fn eval_batch(&self, name: &str, batch: &RawBatch) -> Result<RawColumn, ExprError> {
        self.eval(name, batch.n_rows(), &|c| batch.column(c))
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl std::str::FromStr for Expr {
    type Err = ExprError;
    fn from_str(s: &str) -> Result<Expr, ExprError> {
        Expr::parse(s)
    }
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Expr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Expr, D::Error> {
        let source = String::deserialize(deserializer)?;
        Expr::parse(&source).map_err(serde::de::Error::custom)
    }
}
