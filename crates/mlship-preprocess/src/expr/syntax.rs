//! Tokens, the syntax tree and the recursive-descent parser of feature expressions.

use super::ExprError;

/// Deepest nesting of the tree (and of the parser's recursion) that an expression may reach.
/// It keeps parsing, checking and evaluating an untrusted expression from a bundle off the
/// end of the stack.
pub(crate) const MAX_DEPTH: u32 = 128;

/// A byte range `start..end` in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    fn to(self, other: Span) -> Span {
        Span {
            start: self.start,
            end: other.end,
        }
    }
}

/// A literal value written in the expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    Number(f64),
    Str(String),
    Bool(bool),
    Null,
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnaryOp {
    Neg,
    Not,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Pow,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Add => "+",
            Self::Sub => "-",
            Self::Mul => "*",
            Self::Div => "/",
            Self::Rem => "%",
            Self::Pow => "^",
            Self::Eq => "==",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
            Self::And => "and",
            Self::Or => "or",
        }
    }
}

/// The built-in functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Abs,
    Ceil,
    Clip,
    Coalesce,
    Exp,
    Floor,
    If,
    IsNull,
    Ln,
    Log,
    Log2,
    Max,
    Min,
    Pow,
    Round,
    Sqrt,
}

/// Every function, in alphabetical order of its name.
pub(crate) const FUNCS: [Func; 16] = [
    Func::Abs,
    Func::Ceil,
    Func::Clip,
    Func::Coalesce,
    Func::Exp,
    Func::Floor,
    Func::If,
    Func::IsNull,
    Func::Ln,
    Func::Log,
    Func::Log2,
    Func::Max,
    Func::Min,
    Func::Pow,
    Func::Round,
    Func::Sqrt,
];

impl Func {
    /// The function's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Abs => "abs",
            Self::Ceil => "ceil",
            Self::Clip => "clip",
            Self::Coalesce => "coalesce",
            Self::Exp => "exp",
            Self::Floor => "floor",
            Self::If => "if",
            Self::IsNull => "is_null",
            Self::Ln => "ln",
            Self::Log => "log",
            Self::Log2 => "log2",
            Self::Max => "max",
            Self::Min => "min",
            Self::Pow => "pow",
            Self::Round => "round",
            Self::Sqrt => "sqrt",
        }
    }

    /// The function called `name` (case-insensitive).
    pub fn from_name(name: &str) -> Option<Func> {
        FUNCS
            .iter()
            .copied()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }

    /// The fewest and the most arguments accepted (`None` = no upper bound).
    pub fn arity(self) -> (usize, Option<usize>) {
        match self {
            Self::Abs
            | Self::Ceil
            | Self::Exp
            | Self::Floor
            | Self::IsNull
            | Self::Ln
            | Self::Log2
            | Self::Sqrt => (1, Some(1)),
            Self::Log | Self::Round => (1, Some(2)),
            Self::Pow => (2, Some(2)),
            Self::Clip | Self::If => (3, Some(3)),
            Self::Coalesce | Self::Max | Self::Min => (2, None),
        }
    }

    /// The arity as words, for error messages.
    pub fn arity_text(self) -> String {
        match self.arity() {
            (lo, Some(hi)) if lo == hi => {
                format!("{lo} argument{}", if lo == 1 { "" } else { "s" })
            }
            (lo, Some(hi)) => format!("{lo} to {hi} arguments"),
            (lo, None) => format!("at least {lo} arguments"),
        }
    }

    /// How the function is called, for error hints.
    pub fn signature(self) -> &'static str {
        match self {
            Self::Abs => "abs(x)",
            Self::Ceil => "ceil(x)",
            Self::Clip => "clip(x, lo, hi)",
            Self::Coalesce => "coalesce(a, b, …)",
            Self::Exp => "exp(x)",
            Self::Floor => "floor(x)",
            Self::If => "if(condition, then, else)",
            Self::IsNull => "is_null(x)",
            Self::Ln => "ln(x)",
            Self::Log => "log(x) or log(x, base)",
            Self::Log2 => "log2(x)",
            Self::Max => "max(a, b, …)",
            Self::Min => "min(a, b, …)",
            Self::Pow => "pow(x, y)",
            Self::Round => "round(x) or round(x, digits)",
            Self::Sqrt => "sqrt(x)",
        }
    }
}

/// The list of supported functions, for error hints.
pub(crate) fn function_list() -> String {
    FUNCS
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A node of the syntax tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub kind: NodeKind,
    pub span: Span,
    /// 1 for a leaf; one more than the deepest child otherwise.
    pub depth: u32,
}

/// What a node is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeKind {
    Literal(Literal),
    Column(String),
    Unary(UnaryOp, Box<Node>),
    Binary(BinaryOp, Box<Node>, Box<Node>),
    Call(Func, Vec<Node>),
    /// `when c1 then v1 … otherwise z`: the `(condition, value)` pairs and the fallback.
    When(Vec<(Node, Node)>, Box<Node>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Number(f64),
    Str(String),
    Ident(String),
    /// A backquoted name: always a column, never a keyword or function.
    Quoted(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
    End,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Number(x) => format!("number {x}"),
        Tok::Str(s) => format!("string {s:?}"),
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Quoted(s) => format!("column `{s}`"),
        Tok::Op(o) => format!("`{o}`"),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::Comma => "`,`".into(),
        Tok::End => "the end of the expression".into(),
    }
}

const KEYWORDS: [&str; 9] = [
    "and",
    "or",
    "not",
    "true",
    "false",
    "null",
    "when",
    "then",
    "otherwise",
];

fn is_keyword(s: &str, kw: &str) -> bool {
    s.eq_ignore_ascii_case(kw)
}

// One loop over the token kinds reads best in one place.
#[allow(clippy::too_many_lines)]
fn lex(src: &str) -> Result<Vec<(Tok, Span)>, ExprError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let tok = if c.is_ascii_digit()
            || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
                let mut j = i + 1;
                if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
                    j += 1;
                }
                if j < bytes.len() && bytes[j].is_ascii_digit() {
                    i = j;
                    while i < bytes.len() && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            let text = &src[start..i];
            let span = Span { start, end: i };
            let x: f64 = text.parse().map_err(|_| {
                ExprError::syntax(src, span, format!("malformed number `{text}`"), None)
            })?;
            if !x.is_finite() {
                return Err(ExprError::syntax(
                    src,
                    span,
                    format!("number `{text}` is too large"),
                    Some("numbers must be finite (at most about 1.8e308)".into()),
                ));
            }
            if i < bytes.len() && (bytes[i].is_ascii_alphabetic() || bytes[i] == b'_') {
                return Err(ExprError::syntax(
                    src,
                    Span { start, end: i + 1 },
                    format!("malformed number `{}`", &src[start..=i]),
                    Some("put an operator between a number and a name, such as `2 * x`".into()),
                ));
            }
            Tok::Number(x)
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            Tok::Ident(src[start..i].to_owned())
        } else if c == b'\'' || c == b'"' || c == b'`' {
            // Quoted text; the quote character is escaped by doubling it.
            let mut text = String::new();
            i += 1;
            let mut seg = i;
            loop {
                if i >= bytes.len() {
                    let what = if c == b'`' {
                        "backquoted name"
                    } else {
                        "string"
                    };
                    return Err(ExprError::syntax(
                        src,
                        Span {
                            start,
                            end: start + 1,
                        },
                        format!("unterminated {what}"),
                        Some(format!(
                            "close it with {0}; write {0}{0} for a {0} inside it",
                            c as char
                        )),
                    ));
                }
                if bytes[i] == c {
                    text.push_str(&src[seg..i]);
                    if bytes.get(i + 1) == Some(&c) {
                        text.push(c as char);
                        i += 2;
                        seg = i;
                        continue;
                    }
                    i += 1;
                    break;
                }
                i += 1;
            }
            if c == b'`' {
                if text.is_empty() {
                    return Err(ExprError::syntax(
                        src,
                        Span { start, end: i },
                        "empty column name".into(),
                        None,
                    ));
                }
                Tok::Quoted(text)
            } else {
                Tok::Str(text)
            }
        } else {
            let two = src.get(i..i + 2).unwrap_or("");
            let op: Option<&'static str> = match two {
                "==" => Some("=="),
                "!=" | "<>" => Some("!="),
                "<=" => Some("<="),
                ">=" => Some(">="),
                _ => None,
            };
            if let Some(op) = op {
                i += 2;
                Tok::Op(op)
            } else {
                i += 1;
                match c {
                    b'(' => Tok::LParen,
                    b')' => Tok::RParen,
                    b',' => Tok::Comma,
                    b'+' => Tok::Op("+"),
                    b'-' => Tok::Op("-"),
                    b'*' => Tok::Op("*"),
                    b'/' => Tok::Op("/"),
                    b'%' => Tok::Op("%"),
                    b'^' => Tok::Op("^"),
                    b'<' => Tok::Op("<"),
                    b'>' => Tok::Op(">"),
                    b'=' => {
                        return Err(ExprError::syntax(
                            src,
                            Span { start, end: i },
                            "unexpected `=`".into(),
                            Some("compare with `==`".into()),
                        ));
                    }
                    _ => {
                        let ch = src[start..].chars().next().unwrap_or('?');
                        let end = start + ch.len_utf8();
                        let hint = if ch.is_alphabetic() {
                            Some("names with characters other than A-Z, a-z, 0-9 and _ go in backquotes, such as `bill length (mm)`".into())
                        } else {
                            None
                        };
                        return Err(ExprError::syntax(
                            src,
                            Span { start, end },
                            format!("unexpected character {ch:?}"),
                            hint,
                        ));
                    }
                }
            }
        };
        out.push((tok, Span { start, end: i }));
    }
    out.push((
        Tok::End,
        Span {
            start: src.len(),
            end: src.len(),
        },
    ));
    Ok(out)
}

/// Parses `src` into a syntax tree.
pub(crate) fn parse(src: &str) -> Result<Node, ExprError> {
    let tokens = lex(src)?;
    let mut p = Parser {
        src,
        tokens,
        pos: 0,
        nesting: 0,
    };
    if matches!(p.peek(), Tok::End) {
        return Err(ExprError::syntax(
            src,
            p.span(),
            "empty expression".into(),
            Some("write a formula such as `debt / income`".into()),
        ));
    }
    let node = p.expr()?;
    if !matches!(p.peek(), Tok::End) {
        let hint = match p.peek() {
            Tok::RParen => Some("this `)` has no matching `(`".to_owned()),
            _ => Some("an operator such as `+` or `and` may be missing".to_owned()),
        };
        return Err(ExprError::syntax(
            src,
            p.span(),
            format!(
                "unexpected {} after a complete expression",
                describe(p.peek())
            ),
            hint,
        ));
    }
    Ok(node)
}

struct Parser<'s> {
    src: &'s str,
    tokens: Vec<(Tok, Span)>,
    pos: usize,
    nesting: u32,
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.tokens[self.pos.min(self.tokens.len() - 1)].0
    }

    fn span(&self) -> Span {
        self.tokens[self.pos.min(self.tokens.len() - 1)].1
    }

    fn bump(&mut self) -> (Tok, Span) {
        let t = self.tokens[self.pos.min(self.tokens.len() - 1)].clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn at_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if is_keyword(s, kw))
    }

    fn at_op(&self, op: &str) -> bool {
        matches!(self.peek(), Tok::Op(o) if *o == op)
    }

    fn error(&self, span: Span, message: String, hint: Option<String>) -> ExprError {
        ExprError::syntax(self.src, span, message, hint)
    }

    fn enter(&mut self) -> Result<(), ExprError> {
        self.nesting += 1;
        if self.nesting > MAX_DEPTH {
            return Err(self.too_deep(self.span()));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.nesting -= 1;
    }

    fn too_deep(&self, span: Span) -> ExprError {
        self.error(
            span,
            format!("expression nests more than {MAX_DEPTH} levels deep"),
            Some("split it into several features".into()),
        )
    }

    fn node(&self, kind: NodeKind, span: Span) -> Result<Node, ExprError> {
        let depth = 1 + match &kind {
            NodeKind::Literal(_) | NodeKind::Column(_) => 0,
            NodeKind::Unary(_, a) => a.depth,
            NodeKind::Binary(_, a, b) => a.depth.max(b.depth),
            NodeKind::Call(_, args) => args.iter().map(|a| a.depth).max().unwrap_or(0),
            NodeKind::When(arms, z) => arms
                .iter()
                .map(|(c, v)| c.depth.max(v.depth))
                .max()
                .unwrap_or(0)
                .max(z.depth),
        };
        if depth > MAX_DEPTH {
            return Err(self.too_deep(span));
        }
        Ok(Node { kind, span, depth })
    }

    fn binary(&self, op: BinaryOp, a: Node, b: Node) -> Result<Node, ExprError> {
        let span = a.span.to(b.span);
        self.node(NodeKind::Binary(op, Box::new(a), Box::new(b)), span)
    }

    fn expr(&mut self) -> Result<Node, ExprError> {
        self.enter()?;
        let r = self.or();
        self.leave();
        r
    }

    fn or(&mut self) -> Result<Node, ExprError> {
        let mut a = self.and()?;
        while self.at_keyword("or") {
            self.bump();
            let b = self.and()?;
            a = self.binary(BinaryOp::Or, a, b)?;
        }
        Ok(a)
    }

    fn and(&mut self) -> Result<Node, ExprError> {
        let mut a = self.not()?;
        while self.at_keyword("and") {
            self.bump();
            let b = self.not()?;
            a = self.binary(BinaryOp::And, a, b)?;
        }
        Ok(a)
    }

    fn not(&mut self) -> Result<Node, ExprError> {
        if self.at_keyword("not") {
            let (_, span) = self.bump();
            self.enter()?;
            let a = self.not();
            self.leave();
            let a = a?;
            let span = span.to(a.span);
            return self.node(NodeKind::Unary(UnaryOp::Not, Box::new(a)), span);
        }
        self.comparison()
    }

    fn comparison_op(&self) -> Option<BinaryOp> {
        match self.peek() {
            Tok::Op("==") => Some(BinaryOp::Eq),
            Tok::Op("!=") => Some(BinaryOp::Ne),
            Tok::Op("<") => Some(BinaryOp::Lt),
            Tok::Op("<=") => Some(BinaryOp::Le),
            Tok::Op(">") => Some(BinaryOp::Gt),
            Tok::Op(">=") => Some(BinaryOp::Ge),
            _ => None,
        }
    }

    fn comparison(&mut self) -> Result<Node, ExprError> {
        let a = self.sum()?;
        let Some(op) = self.comparison_op() else {
            return Ok(a);
        };
        self.bump();
        let b = self.sum()?;
        if self.comparison_op().is_some() {
            return Err(self.error(
                self.span(),
                "comparisons cannot be chained".into(),
                Some("write `a < b and b < c` instead of `a < b < c`".into()),
            ));
        }
        self.binary(op, a, b)
    }

    fn sum(&mut self) -> Result<Node, ExprError> {
        let mut a = self.product()?;
        loop {
            let op = match self.peek() {
                Tok::Op("+") => BinaryOp::Add,
                Tok::Op("-") => BinaryOp::Sub,
                _ => return Ok(a),
            };
            self.bump();
            let b = self.product()?;
            a = self.binary(op, a, b)?;
        }
    }

    fn product(&mut self) -> Result<Node, ExprError> {
        let mut a = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Op("*") => BinaryOp::Mul,
                Tok::Op("/") => BinaryOp::Div,
                Tok::Op("%") => BinaryOp::Rem,
                _ => return Ok(a),
            };
            self.bump();
            let b = self.unary()?;
            a = self.binary(op, a, b)?;
        }
    }

    fn unary(&mut self) -> Result<Node, ExprError> {
        if self.at_op("-") {
            let (_, span) = self.bump();
            self.enter()?;
            let a = self.unary();
            self.leave();
            let a = a?;
            let span = span.to(a.span);
            return self.node(NodeKind::Unary(UnaryOp::Neg, Box::new(a)), span);
        }
        self.power()
    }

    fn power(&mut self) -> Result<Node, ExprError> {
        let base = self.primary()?;
        if self.at_op("^") {
            self.bump();
            // Right-associative, and the exponent may carry a sign: `2 ^ -1`, `2 ^ 3 ^ 2`.
            self.enter()?;
            let exponent = self.unary();
            self.leave();
            return self.binary(BinaryOp::Pow, base, exponent?);
        }
        Ok(base)
    }

    fn expect(&mut self, want: &Tok, what: &str, hint: Option<String>) -> Result<Span, ExprError> {
        if self.peek() == want {
            return Ok(self.bump().1);
        }
        Err(self.error(
            self.span(),
            format!("expected {what}, found {}", describe(self.peek())),
            hint,
        ))
    }

    fn primary(&mut self) -> Result<Node, ExprError> {
        let (tok, span) = self.bump();
        match tok {
            Tok::Number(x) => self.node(NodeKind::Literal(Literal::Number(x)), span),
            Tok::Str(s) => self.node(NodeKind::Literal(Literal::Str(s)), span),
            Tok::Quoted(name) => self.node(NodeKind::Column(name), span),
            Tok::LParen => {
                let inner = self.expr()?;
                let close = self.expect(&Tok::RParen, "`)`", Some("a `(` is not closed".into()))?;
                Ok(Node {
                    span: span.to(close),
                    ..inner
                })
            }
            Tok::Ident(name) => self.ident(name, span),
            Tok::Op(_) | Tok::RParen | Tok::Comma | Tok::End => {
                let hint = if matches!(tok, Tok::End) {
                    Some("the expression ends too early".into())
                } else {
                    None
                };
                Err(self.error(
                    span,
                    format!("expected a value, found {}", describe(&tok)),
                    hint,
                ))
            }
        }
    }

    fn ident(&mut self, name: String, span: Span) -> Result<Node, ExprError> {
        if is_keyword(&name, "true") {
            return self.node(NodeKind::Literal(Literal::Bool(true)), span);
        }
        if is_keyword(&name, "false") {
            return self.node(NodeKind::Literal(Literal::Bool(false)), span);
        }
        if is_keyword(&name, "null") {
            return self.node(NodeKind::Literal(Literal::Null), span);
        }
        if is_keyword(&name, "when") {
            return self.when(span);
        }
        if KEYWORDS.iter().any(|k| is_keyword(&name, k)) {
            return Err(self.error(
                span,
                format!("expected a value, found keyword `{name}`"),
                Some(format!(
                    "a column named {name:?} must be written in backquotes: `{name}`"
                )),
            ));
        }
        if matches!(self.peek(), Tok::LParen) {
            return self.call(&name, span);
        }
        self.node(NodeKind::Column(name), span)
    }

    fn call(&mut self, name: &str, name_span: Span) -> Result<Node, ExprError> {
        let Some(func) = Func::from_name(name) else {
            return Err(ExprError::UnknownFunction {
                name: name.to_owned(),
                at: super::Pointer::new(self.src, name_span),
            });
        };
        self.bump(); // `(`
        let mut args = Vec::new();
        if !matches!(self.peek(), Tok::RParen) {
            loop {
                args.push(self.expr()?);
                if matches!(self.peek(), Tok::Comma) {
                    self.bump();
                    continue;
                }
                break;
            }
        }
        let close = self.expect(
            &Tok::RParen,
            "`,` or `)`",
            Some(format!("{} is called as {}", func.name(), func.signature())),
        )?;
        let span = name_span.to(close);
        let (lo, hi) = func.arity();
        if args.len() < lo || hi.is_some_and(|hi| args.len() > hi) {
            return Err(ExprError::Arity {
                function: func.name(),
                expected: func.arity_text(),
                found: args.len(),
                signature: func.signature(),
                at: super::Pointer::new(self.src, span),
            });
        }
        self.node(NodeKind::Call(func, args), span)
    }

    fn when(&mut self, start: Span) -> Result<Node, ExprError> {
        let mut arms = Vec::new();
        loop {
            let cond = self.expr()?;
            if !self.at_keyword("then") {
                return Err(self.error(
                    self.span(),
                    format!("expected `then`, found {}", describe(self.peek())),
                    Some("write `when condition then value … otherwise value`".into()),
                ));
            }
            self.bump();
            let value = self.expr()?;
            arms.push((cond, value));
            if self.at_keyword("when") {
                self.bump();
                continue;
            }
            if self.at_keyword("otherwise") {
                self.bump();
                break;
            }
            return Err(self.error(
                self.span(),
                format!("expected `when` or `otherwise`, found {}", describe(self.peek())),
                Some("every `when … then …` chain ends with `otherwise value` (use `otherwise null` for none)".into()),
            ));
        }
        let fallback = self.expr()?;
        let span = start.to(fallback.span);
        self.node(NodeKind::When(arms, Box::new(fallback)), span)
    }
}
