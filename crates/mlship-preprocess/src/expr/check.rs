//! Type checking: every operator and function gets operands of the types it accepts.

use super::syntax::{BinaryOp, Func, Literal, Node, NodeKind, UnaryOp};
use super::{ExprError, Pointer, ValueType};

/// A type during checking: a value type, or the type of the literal `null`, which fits anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Null,
    Is(ValueType),
}

impl Ty {
    fn describe(self) -> String {
        match self {
            Ty::Null => "null".into(),
            Ty::Is(ValueType::Number) => "a number".into(),
            Ty::Is(ValueType::Boolean) => "a boolean".into(),
            Ty::Is(ValueType::String) => "a string".into(),
            Ty::Is(ValueType::Datetime) => "a datetime".into(),
        }
    }

    /// Whether a value of this type may stand where `want` is expected.
    fn fits(self, want: ValueType) -> bool {
        self == Ty::Null || self == Ty::Is(want)
    }
}

struct Checker<'a> {
    src: &'a str,
    kinds: &'a dyn Fn(&str) -> Option<ValueType>,
}

/// Checks `root` (parsed from `src`) against the input column types and returns its type.
pub(super) fn check(
    src: &str,
    root: &Node,
    kinds: &dyn Fn(&str) -> Option<ValueType>,
) -> Result<ValueType, ExprError> {
    let c = Checker { src, kinds };
    match c.node(root)? {
        Ty::Is(t) => Ok(t),
        Ty::Null => Err(c.error(
            root,
            "the expression is null on every row".into(),
            Some(
                "a feature needs a value of some type; use `otherwise` or coalesce to give one"
                    .into(),
            ),
        )),
    }
}

impl Checker<'_> {
    fn error(&self, node: &Node, message: String, hint: Option<String>) -> ExprError {
        ExprError::type_error(self.src, node.span, message, hint)
    }

    fn column(&self, node: &Node, name: &str) -> Result<ValueType, ExprError> {
        (self.kinds)(name).ok_or_else(|| ExprError::UnknownColumn {
            name: name.to_owned(),
            at: Pointer::new(self.src, node.span),
        })
    }

    /// Checks that `node` has type `want` (or is null), naming `role` in the error.
    /// `role` names the operand in the error; it is only built when there is one.
    fn expect(
        &self,
        node: &Node,
        want: ValueType,
        role: impl FnOnce() -> String,
    ) -> Result<(), ExprError> {
        let t = self.node(node)?;
        if t.fits(want) {
            return Ok(());
        }
        let hint = match (want, t) {
            (ValueType::Number, Ty::Is(ValueType::String)) => Some(
                "strings cannot take part in arithmetic; compare them with == or != instead"
                    .to_owned(),
            ),
            (ValueType::Number, Ty::Is(ValueType::Boolean)) => {
                Some("turn a boolean into 1 / 0 with if(b, 1, 0)".to_owned())
            }
            (ValueType::Boolean, Ty::Is(ValueType::Number)) => {
                Some("make a condition with a comparison, such as x > 0".to_owned())
            }
            _ => None,
        };
        Err(self.error(
            node,
            format!(
                "{} must be {}, but this is {}",
                role(),
                Ty::Is(want).describe(),
                t.describe()
            ),
            hint,
        ))
    }

    /// The common type of `branches` (null fits any), or an error at the first that differs.
    fn unify<'n>(
        &self,
        what: &str,
        branches: impl IntoIterator<Item = &'n Node>,
    ) -> Result<Ty, ExprError> {
        let mut common = Ty::Null;
        let mut first: Option<&Node> = None;
        for b in branches {
            let t = self.node(b)?;
            match (common, t) {
                (_, Ty::Null) => {}
                (Ty::Null, _) => {
                    common = t;
                    first = Some(b);
                }
                (c, t) if c == t => {}
                (c, t) => {
                    let first_text = first.map_or("", |f| &self.src[f.span.start..f.span.end]);
                    return Err(self.error(
                        b,
                        format!(
                            "the values of {what} must all have one type, but `{first_text}` is {} and this is {}",
                            c.describe(),
                            t.describe()
                        ),
                        None,
                    ));
                }
            }
        }
        Ok(common)
    }

    fn node(&self, node: &Node) -> Result<Ty, ExprError> {
        match &node.kind {
            NodeKind::Literal(lit) => Ok(match lit {
                Literal::Number(_) => Ty::Is(ValueType::Number),
                Literal::Str(_) => Ty::Is(ValueType::String),
                Literal::Bool(_) => Ty::Is(ValueType::Boolean),
                Literal::Null => Ty::Null,
            }),
            NodeKind::Column(name) => match self.column(node, name)? {
                ValueType::Datetime => Err(self.error(
                    node,
                    format!("column `{name}` holds datetimes, which expressions cannot compute with yet"),
                    Some(format!("is_null(`{name}`) is accepted; derive other datetime features in the pipeline's datetime step")),
                )),
                t => Ok(Ty::Is(t)),
            },
            NodeKind::Unary(UnaryOp::Neg, a) => {
                self.expect(a, ValueType::Number, || "the operand of `-`".to_owned())?;
                Ok(Ty::Is(ValueType::Number))
            }
            NodeKind::Unary(UnaryOp::Not, a) => {
                self.expect(a, ValueType::Boolean, || "the operand of `not`".to_owned())?;
                Ok(Ty::Is(ValueType::Boolean))
            }
            NodeKind::Binary(op, a, b) => self.binary(*op, a, b),
            NodeKind::Call(func, args) => self.call(*func, args),
            NodeKind::When(arms, fallback) => {
                for (cond, _) in arms {
                    self.expect(cond, ValueType::Boolean, || "a `when` condition".to_owned())?;
                }
                self.unify(
                    "`when … then … otherwise`",
                    arms.iter().map(|(_, v)| v).chain(std::iter::once(&**fallback)),
                )
            }
        }
    }

    fn binary(&self, op: BinaryOp, a: &Node, b: &Node) -> Result<Ty, ExprError> {
        let sym = op.symbol();
        match op {
            BinaryOp::Add
            | BinaryOp::Sub
            | BinaryOp::Mul
            | BinaryOp::Div
            | BinaryOp::Rem
            | BinaryOp::Pow => {
                self.expect(a, ValueType::Number, || {
                    format!("the left operand of `{sym}`")
                })?;
                self.expect(b, ValueType::Number, || {
                    format!("the right operand of `{sym}`")
                })?;
                Ok(Ty::Is(ValueType::Number))
            }
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                self.expect(a, ValueType::Number, || {
                    format!("the left operand of `{sym}`")
                })?;
                self.expect(b, ValueType::Number, || {
                    format!("the right operand of `{sym}`")
                })?;
                Ok(Ty::Is(ValueType::Boolean))
            }
            BinaryOp::Eq | BinaryOp::Ne => {
                let ta = self.node(a)?;
                let tb = self.node(b)?;
                for (side, t) in [(a, ta), (b, tb)] {
                    if t == Ty::Null {
                        return Err(self.error(
                            side,
                            format!("comparing with null by `{sym}` gives null on every row"),
                            Some("test for nulls with is_null(x)".into()),
                        ));
                    }
                }
                if ta != tb {
                    return Err(self.error(
                        b,
                        format!(
                            "`{sym}` compares values of one type, but the left side is {} and the right side is {}",
                            ta.describe(),
                            tb.describe()
                        ),
                        None,
                    ));
                }
                Ok(Ty::Is(ValueType::Boolean))
            }
            BinaryOp::And | BinaryOp::Or => {
                self.expect(a, ValueType::Boolean, || {
                    format!("the left operand of `{sym}`")
                })?;
                self.expect(b, ValueType::Boolean, || {
                    format!("the right operand of `{sym}`")
                })?;
                Ok(Ty::Is(ValueType::Boolean))
            }
        }
    }

    fn call(&self, func: Func, args: &[Node]) -> Result<Ty, ExprError> {
        let name = func.name();
        match func {
            Func::IsNull => {
                // Any type, datetimes included, may be tested for nulls.
                if let Some(arg) = args.first() {
                    if let NodeKind::Column(col) = &arg.kind {
                        self.column(arg, col)?;
                    } else {
                        self.node(arg)?;
                    }
                }
                Ok(Ty::Is(ValueType::Boolean))
            }
            Func::Coalesce => self.unify("coalesce", args),
            Func::If => {
                if let Some(cond) = args.first() {
                    self.expect(cond, ValueType::Boolean, || {
                        "the condition of `if`".to_owned()
                    })?;
                }
                self.unify("`if`", args.iter().skip(1))
            }
            Func::Abs
            | Func::Ceil
            | Func::Clip
            | Func::Exp
            | Func::Floor
            | Func::Ln
            | Func::Log
            | Func::Log2
            | Func::Max
            | Func::Min
            | Func::Pow
            | Func::Round
            | Func::Sqrt => {
                for (i, arg) in args.iter().enumerate() {
                    self.expect(arg, ValueType::Number, || {
                        if args.len() == 1 {
                            format!("the argument of {name}")
                        } else {
                            format!("argument {} of {name}", i + 1)
                        }
                    })?;
                }
                Ok(Ty::Is(ValueType::Number))
            }
        }
    }
}
