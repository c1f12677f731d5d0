//! Columnar evaluation: each node is computed once over whole columns.
//!
//! Column references borrow the input; literals and operations on literals stay scalars and
//! are never broadcast until the result is built. Every value goes through the same scalar
//! kernels whatever the number of rows, so a row evaluated alone gives the bits it gets
//! inside a frame.

use std::borrow::Cow;

use mlship_core::{ColumnData, RawColumn};

use super::syntax::{BinaryOp, Func, Literal, Node, NodeKind, UnaryOp};
use super::{Expr, ExprError, Pointer, ValueType};

/// Numbers, as a borrowed view: a scalar (`None` = null) or a column with its validity.
#[derive(Debug, Clone, Copy)]
enum Nums<'a> {
    Const(Option<f64>),
    Col(&'a [f64], Option<&'a [bool]>),
}

impl Nums<'_> {
    /// Row `i`; a non-finite input value counts as null.
    #[inline]
    fn get(self, i: usize) -> Option<f64> {
        match self {
            Nums::Const(c) => c,
            Nums::Col(v, m) => {
                let x = v[i];
                (m.is_none_or(|m| m[i]) && x.is_finite()).then_some(x)
            }
        }
    }
}

/// Booleans, as a borrowed view.
#[derive(Debug, Clone, Copy)]
enum Bools<'a> {
    Const(Option<bool>),
    Col(&'a [bool], Option<&'a [bool]>),
}

impl Bools<'_> {
    #[inline]
    fn get(self, i: usize) -> Option<bool> {
        match self {
            Bools::Const(c) => c,
            Bools::Col(v, m) => m.is_none_or(|m| m[i]).then(|| v[i]),
        }
    }
}

/// Strings, as a borrowed view of a dictionary-encoded column or a scalar.
#[derive(Debug, Clone, Copy)]
enum Strs<'a> {
    Const(Option<&'a str>),
    Col(&'a [String], &'a [u32], Option<&'a [bool]>),
}

impl<'a> Strs<'a> {
    #[inline]
    fn get(self, i: usize) -> Option<&'a str> {
        match self {
            Strs::Const(c) => c,
            Strs::Col(dict, codes, m) => {
                if m.is_none_or(|m| m[i]) {
                    dict.get(codes[i] as usize).map(String::as_str)
                } else {
                    None
                }
            }
        }
    }
}

/// An evaluated node.
#[derive(Debug)]
enum Val<'a> {
    /// Null on every row, of whatever type the context wants.
    Null,
    Num(NumVal<'a>),
    Bool(BoolVal<'a>),
    Str(StrVal<'a>),
    /// A datetime column: only its validity is used (by `is_null`).
    Opaque(Option<&'a [bool]>),
}

#[derive(Debug)]
enum NumVal<'a> {
    Const(f64),
    Col(Cow<'a, [f64]>, Option<Cow<'a, [bool]>>),
}

#[derive(Debug)]
enum BoolVal<'a> {
    Const(bool),
    Col(Cow<'a, [bool]>, Option<Cow<'a, [bool]>>),
}

#[derive(Debug)]
enum StrVal<'a> {
    Const(&'a str),
    Col(Cow<'a, [String]>, Cow<'a, [u32]>, Option<Cow<'a, [bool]>>),
}

/// A borrowed view of any value.
#[derive(Debug, Clone, Copy)]
enum View<'a> {
    Null,
    Num(Nums<'a>),
    Bool(Bools<'a>),
    Str(Strs<'a>),
    Opaque(Option<&'a [bool]>),
}

impl View<'_> {
    #[inline]
    fn is_valid(self, i: usize) -> bool {
        match self {
            View::Null => false,
            View::Num(v) => v.get(i).is_some(),
            View::Bool(v) => v.get(i).is_some(),
            View::Str(v) => v.get(i).is_some(),
            View::Opaque(m) => m.is_none_or(|m| m[i]),
        }
    }
}

impl Val<'_> {
    fn view(&self) -> View<'_> {
        match self {
            Val::Null => View::Null,
            Val::Num(NumVal::Const(x)) => View::Num(Nums::Const(Some(*x))),
            Val::Num(NumVal::Col(v, m)) => View::Num(Nums::Col(v, m.as_deref())),
            Val::Bool(BoolVal::Const(b)) => View::Bool(Bools::Const(Some(*b))),
            Val::Bool(BoolVal::Col(v, m)) => View::Bool(Bools::Col(v, m.as_deref())),
            Val::Str(StrVal::Const(s)) => View::Str(Strs::Const(Some(s))),
            Val::Str(StrVal::Col(d, c, m)) => View::Str(Strs::Col(d, c, m.as_deref())),
            Val::Opaque(m) => View::Opaque(*m),
        }
    }
}

fn mismatch(what: &str) -> ExprError {
    ExprError::Internal {
        detail: format!("{what} has a type the checker did not expect"),
    }
}

fn nums(v: View<'_>) -> Result<Nums<'_>, ExprError> {
    match v {
        View::Null => Ok(Nums::Const(None)),
        View::Num(x) => Ok(x),
        _ => Err(mismatch("a number")),
    }
}

fn bools(v: View<'_>) -> Result<Bools<'_>, ExprError> {
    match v {
        View::Null => Ok(Bools::Const(None)),
        View::Bool(x) => Ok(x),
        _ => Err(mismatch("a boolean")),
    }
}

/// A scalar number result: null unless finite.
fn num_const<'a>(x: Option<f64>) -> Val<'a> {
    match x {
        Some(x) if x.is_finite() => Val::Num(NumVal::Const(x)),
        _ => Val::Null,
    }
}

fn bool_const<'a>(x: Option<bool>) -> Val<'a> {
    x.map_or(Val::Null, |b| Val::Bool(BoolVal::Const(b)))
}

/// A numeric column of `n` rows from a row function; non-finite results become nulls, and a
/// null row stores 0.
fn num_col<'a>(n: usize, mut f: impl FnMut(usize) -> Option<f64>) -> Val<'a> {
    let mut values = Vec::with_capacity(n);
    let mut valid: Option<Vec<bool>> = None;
    for i in 0..n {
        match f(i) {
            Some(x) if x.is_finite() => {
                values.push(x);
                if let Some(m) = &mut valid {
                    m.push(true);
                }
            }
            _ => {
                values.push(0.0);
                valid.get_or_insert_with(|| all_valid(n, i)).push(false);
            }
        }
    }
    Val::Num(NumVal::Col(Cow::Owned(values), valid.map(Cow::Owned)))
}

/// A validity mask with room for `n` flags, the first `valid` of them set; it is only made
/// when a column meets its first null.
fn all_valid(n: usize, valid: usize) -> Vec<bool> {
    let mut m = Vec::with_capacity(n);
    m.resize(valid, true);
    m
}

/// A boolean column of `n` rows from a row function; a null row stores `false`.
fn bool_col<'a>(n: usize, mut f: impl FnMut(usize) -> Option<bool>) -> Val<'a> {
    let mut values = Vec::with_capacity(n);
    let mut valid: Option<Vec<bool>> = None;
    for i in 0..n {
        if let Some(b) = f(i) {
            values.push(b);
            if let Some(m) = &mut valid {
                m.push(true);
            }
        } else {
            values.push(false);
            valid.get_or_insert_with(|| all_valid(n, i)).push(false);
        }
    }
    Val::Bool(BoolVal::Col(Cow::Owned(values), valid.map(Cow::Owned)))
}

fn map1<'a>(n: usize, a: Nums<'_>, f: impl Fn(f64) -> Option<f64>) -> Val<'a> {
    match a {
        Nums::Const(x) => num_const(x.and_then(f)),
        Nums::Col(..) => num_col(n, |i| a.get(i).and_then(&f)),
    }
}

fn map2<'a>(n: usize, a: Nums<'_>, b: Nums<'_>, f: impl Fn(f64, f64) -> Option<f64>) -> Val<'a> {
    if let (Nums::Const(x), Nums::Const(y)) = (a, b) {
        return num_const(x.zip(y).and_then(|(x, y)| f(x, y)));
    }
    num_col(n, |i| match (a.get(i), b.get(i)) {
        (Some(x), Some(y)) => f(x, y),
        _ => None,
    })
}

fn map3<'a>(
    n: usize,
    a: Nums<'_>,
    b: Nums<'_>,
    c: Nums<'_>,
    f: impl Fn(f64, f64, f64) -> Option<f64>,
) -> Val<'a> {
    if let (Nums::Const(x), Nums::Const(y), Nums::Const(z)) = (a, b, c) {
        return num_const(match (x, y, z) {
            (Some(x), Some(y), Some(z)) => f(x, y, z),
            _ => None,
        });
    }
    num_col(n, |i| match (a.get(i), b.get(i), c.get(i)) {
        (Some(x), Some(y), Some(z)) => f(x, y, z),
        _ => None,
    })
}

fn compare<'a>(n: usize, a: Nums<'_>, b: Nums<'_>, f: impl Fn(f64, f64) -> bool) -> Val<'a> {
    if let (Nums::Const(x), Nums::Const(y)) = (a, b) {
        return bool_const(x.zip(y).map(|(x, y)| f(x, y)));
    }
    bool_col(n, |i| match (a.get(i), b.get(i)) {
        (Some(x), Some(y)) => Some(f(x, y)),
        _ => None,
    })
}

/// The scalar kernels, shared by every path.
mod kernel {
    pub fn div(x: f64, y: f64) -> Option<f64> {
        (y != 0.0).then(|| x / y)
    }
    pub fn rem(x: f64, y: f64) -> Option<f64> {
        (y != 0.0).then(|| x % y)
    }
    pub fn pow(x: f64, y: f64) -> f64 {
        x.powf(y)
    }
    pub fn ln(x: f64) -> Option<f64> {
        (x > 0.0).then(|| x.ln())
    }
    pub fn log10(x: f64) -> Option<f64> {
        (x > 0.0).then(|| x.log10())
    }
    pub fn log2(x: f64) -> Option<f64> {
        (x > 0.0).then(|| x.log2())
    }
    pub fn log(x: f64, base: f64) -> Option<f64> {
        if x <= 0.0 || base <= 0.0 || base == 1.0 {
            None
        } else if base == 2.0 {
            Some(x.log2())
        } else if base == 10.0 {
            Some(x.log10())
        } else {
            Some(x.ln() / base.ln())
        }
    }
    pub fn sqrt(x: f64) -> Option<f64> {
        (x >= 0.0).then(|| x.sqrt())
    }
    pub fn clip(x: f64, lo: f64, hi: f64) -> Option<f64> {
        if lo > hi {
            return None;
        }
        Some(if x < lo {
            lo
        } else if x > hi {
            hi
        } else {
            x
        })
    }
    /// The smaller of two finite numbers, spelled out so that `-0` and `0` order the same way
    /// on every path.
    pub fn min(x: f64, y: f64) -> f64 {
        if y < x { y } else { x }
    }
    /// The larger of two finite numbers.
    pub fn max(x: f64, y: f64) -> f64 {
        if y > x { y } else { x }
    }
    /// Rounds half away from zero to `digits` decimals (negative: tens, hundreds, …).
    pub fn round(x: f64, digits: f64) -> Option<f64> {
        if digits.fract() != 0.0 || digits.abs() > 308.0 {
            return None;
        }
        let d = digits as i32;
        if d >= 0 {
            let p = 10f64.powi(d);
            let s = x * p;
            // Beyond the precision of `x` there is nothing to round.
            if !s.is_finite() || s.abs() >= 4_503_599_627_370_496.0 {
                return Some(x);
            }
            Some(s.round() / p)
        } else {
            let q = 10f64.powi(-d);
            Some((x / q).round() * q)
        }
    }
}

struct Ctx<'f, 'c> {
    n: usize,
    columns: &'f dyn Fn(&str) -> Option<&'c RawColumn>,
    src: &'f str,
}

impl<'c> Ctx<'_, 'c> {
    fn node<'a>(&self, node: &'a Node) -> Result<Val<'a>, ExprError>
    where
        'c: 'a,
    {
        let n = self.n;
        Ok(match &node.kind {
            NodeKind::Literal(lit) => match lit {
                Literal::Number(x) => num_const(Some(*x)),
                Literal::Str(s) => Val::Str(StrVal::Const(s)),
                Literal::Bool(b) => Val::Bool(BoolVal::Const(*b)),
                Literal::Null => Val::Null,
            },
            NodeKind::Column(name) => {
                let col = (self.columns)(name).ok_or_else(|| ExprError::UnknownColumn {
                    name: name.clone(),
                    at: Pointer::new(self.src, node.span),
                })?;
                let m = col.validity.as_deref();
                match &col.data {
                    ColumnData::Numeric(v) => {
                        Val::Num(NumVal::Col(Cow::Borrowed(v), m.map(Cow::Borrowed)))
                    }
                    ColumnData::Boolean(v) => {
                        Val::Bool(BoolVal::Col(Cow::Borrowed(v), m.map(Cow::Borrowed)))
                    }
                    ColumnData::Categorical { dict, codes } => Val::Str(StrVal::Col(
                        Cow::Borrowed(dict),
                        Cow::Borrowed(codes),
                        m.map(Cow::Borrowed),
                    )),
                    ColumnData::Datetime(_) => Val::Opaque(m),
                }
            }
            NodeKind::Unary(UnaryOp::Neg, a) => {
                let a = self.node(a)?;
                map1(n, nums(a.view())?, |x| Some(-x))
            }
            NodeKind::Unary(UnaryOp::Not, a) => {
                let a = self.node(a)?;
                let a = bools(a.view())?;
                match a {
                    Bools::Const(x) => bool_const(x.map(|b| !b)),
                    Bools::Col(..) => bool_col(n, |i| a.get(i).map(|b| !b)),
                }
            }
            NodeKind::Binary(op, a, b) => {
                let a = self.node(a)?;
                let b = self.node(b)?;
                self.binary(*op, a.view(), b.view())?
            }
            NodeKind::Call(func, args) => {
                let vals = args
                    .iter()
                    .map(|a| self.node(a))
                    .collect::<Result<Vec<_>, _>>()?;
                let views: Vec<View<'_>> = vals.iter().map(Val::view).collect();
                self.call(*func, &views)?
            }
            NodeKind::When(arms, fallback) => {
                let conds = arms
                    .iter()
                    .map(|(c, _)| self.node(c))
                    .collect::<Result<Vec<_>, _>>()?;
                let mut values = arms
                    .iter()
                    .map(|(_, v)| self.node(v))
                    .collect::<Result<Vec<_>, _>>()?;
                values.push(self.node(fallback)?);
                let conds = conds
                    .iter()
                    .map(|c| bools(c.view()))
                    .collect::<Result<Vec<_>, _>>()?;
                let k = conds.len();
                let sel: Vec<u32> = (0..n)
                    .map(|i| {
                        conds
                            .iter()
                            .position(|c| c.get(i) == Some(true))
                            .unwrap_or(k) as u32
                    })
                    .collect();
                let views: Vec<View<'_>> = values.iter().map(Val::view).collect();
                choose(n, &sel, &views)?
            }
        })
    }

    fn binary<'a>(&self, op: BinaryOp, a: View<'_>, b: View<'_>) -> Result<Val<'a>, ExprError> {
        let n = self.n;
        Ok(match op {
            BinaryOp::Add => map2(n, nums(a)?, nums(b)?, |x, y| Some(x + y)),
            BinaryOp::Sub => map2(n, nums(a)?, nums(b)?, |x, y| Some(x - y)),
            BinaryOp::Mul => map2(n, nums(a)?, nums(b)?, |x, y| Some(x * y)),
            BinaryOp::Div => map2(n, nums(a)?, nums(b)?, kernel::div),
            BinaryOp::Rem => map2(n, nums(a)?, nums(b)?, kernel::rem),
            BinaryOp::Pow => map2(n, nums(a)?, nums(b)?, |x, y| Some(kernel::pow(x, y))),
            BinaryOp::Lt => compare(n, nums(a)?, nums(b)?, |x, y| x < y),
            BinaryOp::Le => compare(n, nums(a)?, nums(b)?, |x, y| x <= y),
            BinaryOp::Gt => compare(n, nums(a)?, nums(b)?, |x, y| x > y),
            BinaryOp::Ge => compare(n, nums(a)?, nums(b)?, |x, y| x >= y),
            BinaryOp::Eq | BinaryOp::Ne => {
                let eq = equal(n, a, b)?;
                if op == BinaryOp::Ne {
                    match eq {
                        Val::Bool(BoolVal::Const(b)) => Val::Bool(BoolVal::Const(!b)),
                        Val::Bool(BoolVal::Col(v, m)) => {
                            Val::Bool(BoolVal::Col(Cow::Owned(v.iter().map(|b| !b).collect()), m))
                        }
                        other => other,
                    }
                } else {
                    eq
                }
            }
            BinaryOp::And | BinaryOp::Or => {
                let (a, b) = (bools(a)?, bools(b)?);
                // SQL's three-valued logic: false and null = false, true or null = true.
                let f = |x: Option<bool>, y: Option<bool>| {
                    let dominant = op == BinaryOp::Or;
                    match (x, y) {
                        (Some(x), _) if x == dominant => Some(dominant),
                        (_, Some(y)) if y == dominant => Some(dominant),
                        (Some(_), Some(_)) => Some(!dominant),
                        _ => None,
                    }
                };
                if let (Bools::Const(x), Bools::Const(y)) = (a, b) {
                    bool_const(f(x, y))
                } else {
                    bool_col(n, |i| f(a.get(i), b.get(i)))
                }
            }
        })
    }

    fn call<'a>(&self, func: Func, args: &[View<'_>]) -> Result<Val<'a>, ExprError> {
        let n = self.n;
        let num = |i: usize| arg(args, i);
        Ok(match func {
            Func::Abs => map1(n, num(0)?, |x| Some(x.abs())),
            Func::Ceil => map1(n, num(0)?, |x| Some(x.ceil())),
            Func::Floor => map1(n, num(0)?, |x| Some(x.floor())),
            Func::Exp => map1(n, num(0)?, |x| Some(x.exp())),
            Func::Sqrt => map1(n, num(0)?, kernel::sqrt),
            Func::Ln => map1(n, num(0)?, kernel::ln),
            Func::Log2 => map1(n, num(0)?, kernel::log2),
            Func::Log if args.len() == 1 => map1(n, num(0)?, kernel::log10),
            Func::Log => map2(n, num(0)?, num(1)?, kernel::log),
            Func::Round if args.len() == 1 => map1(n, num(0)?, |x| Some(x.round())),
            Func::Round => map2(n, num(0)?, num(1)?, kernel::round),
            Func::Pow => map2(n, num(0)?, num(1)?, |x, y| Some(kernel::pow(x, y))),
            Func::Clip => map3(n, num(0)?, num(1)?, num(2)?, kernel::clip),
            Func::Min | Func::Max => {
                let f = if func == Func::Min {
                    kernel::min
                } else {
                    kernel::max
                };
                let mut acc = map1(n, num(0)?, Some);
                for i in 1..args.len() {
                    acc = map2(n, nums(acc.view())?, num(i)?, |x, y| Some(f(x, y)));
                }
                acc
            }
            Func::IsNull => {
                let a = *args.first().ok_or_else(|| mismatch("a missing argument"))?;
                match a {
                    View::Null => Val::Bool(BoolVal::Const(true)),
                    View::Num(Nums::Const(x)) => Val::Bool(BoolVal::Const(x.is_none())),
                    View::Bool(Bools::Const(x)) => Val::Bool(BoolVal::Const(x.is_none())),
                    View::Str(Strs::Const(x)) => Val::Bool(BoolVal::Const(x.is_none())),
                    _ => bool_col(n, |i| Some(!a.is_valid(i))),
                }
            }
            Func::Coalesce => {
                let last = args.len().saturating_sub(1);
                let sel: Vec<u32> = (0..n)
                    .map(|i| args.iter().position(|a| a.is_valid(i)).unwrap_or(last) as u32)
                    .collect();
                choose(n, &sel, args)?
            }
            Func::If => {
                let cond = bools(*args.first().ok_or_else(|| mismatch("a missing argument"))?)?;
                let sel: Vec<u32> = (0..n)
                    .map(|i| u32::from(cond.get(i) != Some(true)))
                    .collect();
                choose(n, &sel, args.get(1..).unwrap_or(&[]))?
            }
        })
    }
}

/// Argument `i` as numbers.
fn arg<'v>(args: &[View<'v>], i: usize) -> Result<Nums<'v>, ExprError> {
    nums(*args.get(i).ok_or_else(|| mismatch("a missing argument"))?)
}

/// Row `i` takes its value from `branches[sel[i]]`.
fn choose<'a>(n: usize, sel: &[u32], branches: &[View<'_>]) -> Result<Val<'a>, ExprError> {
    let branch = |i: usize| branches.get(sel[i] as usize).copied().unwrap_or(View::Null);
    let Some(kind) = branches.iter().find(|b| !matches!(b, View::Null)) else {
        return Ok(Val::Null);
    };
    Ok(match kind {
        View::Num(_) => num_col(n, |i| nums(branch(i)).ok().and_then(|v| v.get(i))),
        View::Bool(_) => bool_col(n, |i| bools(branch(i)).ok().and_then(|v| v.get(i))),
        View::Str(_) => {
            // Concatenate the branches' dictionaries; the result is re-encoded at the end.
            let mut dict: Vec<String> = Vec::new();
            let mut offsets = Vec::with_capacity(branches.len());
            for b in branches {
                offsets.push(dict.len() as u32);
                match b {
                    View::Str(Strs::Const(Some(s))) => dict.push((*s).to_owned()),
                    View::Str(Strs::Col(d, _, _)) => dict.extend(d.iter().cloned()),
                    _ => {}
                }
            }
            let mut codes = Vec::with_capacity(n);
            let mut valid = Vec::with_capacity(n);
            let mut nulls = false;
            for i in 0..n {
                let s = sel[i] as usize;
                let code = match branches.get(s) {
                    Some(View::Str(Strs::Const(Some(_)))) => Some(offsets[s]),
                    Some(View::Str(v @ Strs::Col(_, c, _))) => v.get(i).map(|_| offsets[s] + c[i]),
                    _ => None,
                };
                codes.push(code.unwrap_or(0));
                valid.push(code.is_some());
                nulls |= code.is_none();
            }
            Val::Str(StrVal::Col(
                Cow::Owned(dict),
                Cow::Owned(codes),
                nulls.then_some(Cow::Owned(valid)),
            ))
        }
        View::Null | View::Opaque(_) => return Err(mismatch("a branch")),
    })
}

/// Equality of two values of one type; null when either side is.
fn equal<'a>(n: usize, a: View<'_>, b: View<'_>) -> Result<Val<'a>, ExprError> {
    Ok(match (a, b) {
        (View::Null, _) | (_, View::Null) => Val::Null,
        (View::Num(x), View::Num(y)) => compare(n, x, y, |x, y| x == y),
        (View::Bool(x), View::Bool(y)) => {
            if let (Bools::Const(p), Bools::Const(q)) = (x, y) {
                bool_const(p.zip(q).map(|(p, q)| p == q))
            } else {
                bool_col(n, |i| x.get(i).zip(y.get(i)).map(|(p, q)| p == q))
            }
        }
        (View::Str(x), View::Str(y)) => match (x, y) {
            (Strs::Const(p), Strs::Const(q)) => bool_const(p.zip(q).map(|(p, q)| p == q)),
            (Strs::Const(s), col @ Strs::Col(dict, codes, _))
            | (col @ Strs::Col(dict, codes, _), Strs::Const(s)) => {
                // Compare each dictionary entry once, then look rows up by code.
                let Some(s) = s else {
                    return Ok(Val::Null);
                };
                let hits: Vec<bool> = dict.iter().map(|d| d == s).collect();
                bool_col(n, |i| {
                    col.get(i)
                        .and_then(|_| hits.get(codes[i] as usize).copied())
                })
            }
            (Strs::Col(..), Strs::Col(..)) => {
                bool_col(n, |i| x.get(i).zip(y.get(i)).map(|(p, q)| p == q))
            }
        },
        _ => return Err(mismatch("an operand of `==`")),
    })
}

/// Checks that every column the expression reads has `n_rows` rows and a sound dictionary.
fn validate_inputs<'c>(
    expr: &Expr,
    n_rows: usize,
    columns: &dyn Fn(&str) -> Option<&'c RawColumn>,
) -> Result<(), ExprError> {
    for name in expr.columns() {
        let Some(col) = columns(name) else {
            continue; // the checker reports it with its position
        };
        let bad = |detail: String| ExprError::Column {
            column: name.to_owned(),
            detail,
        };
        if col.len() != n_rows {
            return Err(bad(format!(
                "has {} rows but the expression is evaluated over {n_rows}",
                col.len()
            )));
        }
        if let Some(m) = &col.validity
            && m.len() != n_rows
        {
            return Err(bad(format!(
                "has {} validity flags for {n_rows} rows",
                m.len()
            )));
        }
        if let ColumnData::Categorical { dict, codes } = &col.data
            && let Some(row) = codes.iter().position(|&k| k as usize >= dict.len())
        {
            return Err(bad(format!(
                "row {row}: dictionary code {} is out of range (dictionary has {} entries)",
                codes[row],
                dict.len()
            )));
        }
    }
    Ok(())
}

/// Evaluates `expr` over `n_rows` rows into a column called `name`.
pub(super) fn eval<'c>(
    expr: &Expr,
    name: &str,
    n_rows: usize,
    columns: &dyn Fn(&str) -> Option<&'c RawColumn>,
) -> Result<RawColumn, ExprError> {
    validate_inputs(expr, n_rows, columns)?;
    let ty = expr.check(&|c| columns(c).map(|col| ValueType::of(&col.data)))?;
    let ctx = Ctx {
        n: n_rows,
        columns,
        src: &expr.source,
    };
    let val = ctx.node(&expr.root)?;
    let n = n_rows;
    let view = val.view();
    let finished = match (ty, view) {
        (ValueType::Number, View::Num(_) | View::Null) => {
            let v = nums(view)?;
            num_col(n, |i| v.get(i))
        }
        (ValueType::Boolean, View::Bool(_) | View::Null) => {
            let v = bools(view)?;
            bool_col(n, |i| v.get(i))
        }
        (ValueType::String, View::Str(v)) => return Ok(finish_strings(name, n, v)),
        (ValueType::String, View::Null) => {
            return Ok(finish_strings(name, n, Strs::Const(None)));
        }
        _ => return Err(mismatch("the result")),
    };
    Ok(match finished {
        Val::Num(NumVal::Col(v, m)) => RawColumn {
            name: name.to_owned(),
            data: ColumnData::Numeric(v.into_owned()),
            validity: m.map(Cow::into_owned),
        },
        Val::Bool(BoolVal::Col(v, m)) => RawColumn {
            name: name.to_owned(),
            data: ColumnData::Boolean(v.into_owned()),
            validity: m.map(Cow::into_owned),
        },
        _ => return Err(mismatch("the result")),
    })
}

/// A categorical column whose dictionary lists the values in order of first appearance; a
/// null row stores code 0 (an all-null column gets the dictionary `[""]`, as in core).
fn finish_strings(name: &str, n: usize, v: Strs<'_>) -> RawColumn {
    let mut dict: Vec<String> = Vec::new();
    let mut codes = Vec::with_capacity(n);
    let mut valid = Vec::with_capacity(n);
    let mut nulls = false;
    match v {
        Strs::Const(s) => {
            if let Some(s) = s {
                dict.push(s.to_owned());
            }
            codes.resize(n, 0);
            valid.resize(n, s.is_some());
            nulls = s.is_none();
        }
        Strs::Col(src_dict, src_codes, _) => {
            let mut remap = vec![u32::MAX; src_dict.len()];
            for (i, &code) in src_codes.iter().enumerate().take(n) {
                if v.get(i).is_some() {
                    let k = code as usize;
                    if remap[k] == u32::MAX {
                        remap[k] = dict.len() as u32;
                        dict.push(src_dict[k].clone());
                    }
                    codes.push(remap[k]);
                    valid.push(true);
                } else {
                    codes.push(0);
                    valid.push(false);
                    nulls = true;
                }
            }
        }
    }
    if dict.is_empty() && n > 0 {
        dict.push(String::new());
    }
    RawColumn {
        name: name.to_owned(),
        data: ColumnData::Categorical { dict, codes },
        validity: nulls.then_some(valid),
    }
}
