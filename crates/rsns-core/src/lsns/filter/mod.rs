//! `-Q/--filter EXPR`: the expression language of util-linux's libsmartcols
//! (scols-filter(5)) over any column, shown or not:
//! `TYPE == "net" && NPROCS == 0`, `COMMAND =~ "^sleep"`, `!(USER eq "root")`.

mod lexer;
mod parser;
mod pattern;

use std::rc::Rc;

pub use lexer::CmpOp;

use super::columns::{Column, ValueType};
use pattern::Regex;

/// A filter that does not parse, with the 1-based character it stumbled on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("filter: {message} {}", self.place())]
pub struct FilterError {
    pub position: usize,
    pub message: String,
    /// The filter ended where something more was needed.
    pub at_end: bool,
}

impl FilterError {
    fn at(position: usize, message: &str) -> FilterError {
        FilterError {
            position,
            message: message.to_string(),
            at_end: false,
        }
    }

    fn at_end(position: usize, message: &str) -> FilterError {
        FilterError {
            at_end: true,
            ..FilterError::at(position, message)
        }
    }

    /// Where: a character, or the end (said once, not as both).
    fn place(&self) -> String {
        if self.at_end {
            format!("(the filter ends at character {})", self.position - 1)
        } else {
            format!("at character {}", self.position)
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Column(Column),
    Number(f64),
    String(String),
    Bool(bool),
}

/// A parsed filter, in postfix order: operands push a truth value, `Not`,
/// `And` and `Or` combine the top of the stack. Evaluating it is a loop, so
/// nesting costs no stack however deep it goes.
#[derive(Debug, Clone)]
pub struct Expr {
    ops: Vec<Op>,
}

#[derive(Debug, Clone)]
pub enum Op {
    Or,
    And,
    Not,
    Cmp(Operand, CmpOp, Operand),
    Match {
        operand: Operand,
        negated: bool,
        regex: Rc<Regex>,
    },
    /// A lone operand: true when non-empty and not zero.
    Truth(Operand),
}

/// The value of one cell, as a filter sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(f64),
    String(String),
    Bool(bool),
    Empty,
}

impl Value {
    fn truth(&self) -> bool {
        match self {
            Value::Number(n) => *n != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::Bool(b) => *b,
            Value::Empty => false,
        }
    }

    fn number(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            Value::String(s) => s.trim().parse().ok(),
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            Value::Empty => None,
        }
    }

    /// The real text a filter compares: a string's bytes, with U+FFFD for
    /// a byte that is not UTF-8 (see [`crate::text::lossless`]).
    fn plain(&self) -> String {
        match self {
            Value::String(s) => {
                String::from_utf8_lossy(&crate::text::lossless_bytes(s)).into_owned()
            }
            other => other.text(),
        }
    }

    /// The value as a cell holds it (an empty cell is "").
    pub fn text(&self) -> String {
        match self {
            Value::Number(n) => format_number(*n),
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Empty => String::new(),
        }
    }
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e18 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

impl Expr {
    pub fn parse(text: &str) -> Result<Expr, FilterError> {
        let tokens = lexer::tokenize(text)?;
        let ops = parser::parse(&tokens, text.chars().count())?;
        Ok(Expr { ops })
    }

    /// The columns the expression reads (they must be filled in).
    pub fn columns(&self, out: &mut Vec<Column>) {
        let mut add = |operand: &Operand| {
            if let Operand::Column(c) = operand
                && !out.contains(c)
            {
                out.push(*c);
            }
        };
        for op in &self.ops {
            match op {
                Op::Cmp(a, _, b) => {
                    add(a);
                    add(b);
                }
                Op::Match { operand, .. } | Op::Truth(operand) => add(operand),
                Op::Or | Op::And | Op::Not => {}
            }
        }
    }

    /// Evaluates the expression with `cell` giving each column's value.
    pub fn matches(&self, cell: &dyn Fn(Column) -> Value) -> bool {
        let value = |operand: &Operand| match operand {
            Operand::Column(c) => cell(*c),
            Operand::Number(n) => Value::Number(*n),
            Operand::String(s) => Value::String(s.clone()),
            Operand::Bool(b) => Value::Bool(*b),
        };
        let mut stack: Vec<bool> = Vec::with_capacity(8);
        for op in &self.ops {
            let result = match op {
                Op::Not => !stack.pop().expect("a parsed filter has an operand for '!'"),
                Op::And | Op::Or => {
                    let b = stack.pop().expect("a parsed filter has two operands");
                    let a = stack.pop().expect("a parsed filter has two operands");
                    if matches!(op, Op::And) {
                        a && b
                    } else {
                        a || b
                    }
                }
                Op::Truth(a) => value(a).truth(),
                Op::Match {
                    operand,
                    negated,
                    regex,
                } => regex.is_match(&value(operand).plain()) != *negated,
                Op::Cmp(a, op, b) => {
                    let numeric = is_numeric(a) || is_numeric(b);
                    compare(&value(a), *op, &value(b), numeric)
                }
            };
            stack.push(result);
        }
        stack.pop().unwrap_or(false)
    }
}

fn is_numeric(operand: &Operand) -> bool {
    match operand {
        Operand::Column(c) => c.value_type() == ValueType::Number,
        Operand::Number(_) => true,
        _ => false,
    }
}

/// Numbers compare as numbers (an empty cell equals nothing but another empty
/// cell); everything else compares as text.
fn compare(a: &Value, op: CmpOp, b: &Value, numeric: bool) -> bool {
    use std::cmp::Ordering;
    let ordering = if numeric {
        match (a.number(), b.number()) {
            (Some(x), Some(y)) => x.partial_cmp(&y),
            _ => {
                let both_empty = *a == Value::Empty && *b == Value::Empty;
                return match op {
                    CmpOp::Eq => both_empty,
                    CmpOp::Ne => !both_empty,
                    _ => false,
                };
            }
        }
    } else {
        Some(a.plain().cmp(&b.plain()))
    };
    let Some(ordering) = ordering else {
        return false;
    };
    match op {
        CmpOp::Eq => ordering == Ordering::Equal,
        CmpOp::Ne => ordering != Ordering::Equal,
        CmpOp::Lt => ordering == Ordering::Less,
        CmpOp::Le => ordering != Ordering::Greater,
        CmpOp::Gt => ordering == Ordering::Greater,
        CmpOp::Ge => ordering != Ordering::Less,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(column: Column) -> Value {
        match column {
            Column::Type => Value::String("net".into()),
            Column::Nprocs => Value::Number(0.0),
            Column::Pid => Value::Empty,
            Column::Command => Value::String("sleep 100".into()),
            Column::Ns => Value::Number(4026532290.0),
            _ => Value::Empty,
        }
    }

    fn check(text: &str) -> bool {
        Expr::parse(text).unwrap().matches(&row)
    }

    #[test]
    fn comparisons_logic_and_precedence() {
        assert!(check(r#"TYPE == "net" && NPROCS == 0"#));
        assert!(!check(r#"TYPE == "mnt" && NPROCS == 0"#));
        assert!(check(r#"TYPE == "mnt" || NPROCS < 1"#));
        assert!(check(r#"type eq 'net' AND nprocs le 0"#));
        assert!(check(r#"!(TYPE == "mnt")"#));
        assert!(check(r#"NOT TYPE == "mnt" and NS > 4026531840"#));
        // && binds tighter than ||.
        assert!(check(r#"TYPE == "x" && NPROCS == 1 || NS >= 4026532290"#));
        assert!(!check(
            r#"TYPE == "x" && (NPROCS == 1 || NS >= 4026532290)"#
        ));
    }

    #[test]
    fn regular_expressions_and_empty_cells() {
        assert!(check(r#"COMMAND =~ "^sle+p [0-9]+$""#));
        assert!(check(r#"COMMAND !~ "^bash""#));
        assert!(!check("PID"));
        assert!(!check("PID == 0"));
        assert!(check("PID != 1"));
        assert!(check("COMMAND"));
        assert!(check("true && !false"));
    }

    #[test]
    fn any_nesting_and_any_chain_work_without_recursion() {
        let chain = vec!["NPROCS == 0"; 100_000].join(" && ");
        assert!(check(&chain));
        let chain = vec!["NPROCS == 1"; 100_000].join(" || ");
        assert!(!check(&chain));
        let nested = format!(
            "{}TYPE == 'net'{}",
            "(".repeat(100_000),
            ")".repeat(100_000)
        );
        assert!(check(&nested));
        assert!(check(&format!("{}NPROCS == 0", "!".repeat(100_000))));
        assert!(!check(&format!("{}NPROCS == 0", "!".repeat(100_001))));
        let err = Expr::parse(&"(".repeat(8000)).unwrap_err();
        assert_eq!(err.position, 8001);
        assert!(
            err.at_end && err.message == "expected a column or a value",
            "{err}"
        );
        let err = Expr::parse("(NPROCS == 0").unwrap_err();
        assert_eq!(
            (err.position, err.message.as_str()),
            (13, "missing ')' for the '(' at character 1")
        );
        assert_eq!(
            err.to_string(),
            "filter: missing ')' for the '(' at character 1 (the filter ends at character 12)"
        );
        // One place, said once (it read "... at character 4 at the end at character 6").
        let err = Expr::parse("NS ==").unwrap_err();
        assert_eq!(
            err.to_string(),
            "filter: expected a column or a value after the comparison at character 4 (the \
             filter ends at character 5)"
        );
        let err = Expr::parse("NPROCS == 0)").unwrap_err();
        assert_eq!((err.position, err.message.as_str()), (12, "unexpected ')'"));
    }

    #[test]
    fn errors_name_the_place_and_the_problem() {
        let err = Expr::parse("NPROCS > )").unwrap_err();
        assert_eq!(err.position, 10);
        assert!(err.message.contains("found ')'"), "{err}");
        let err = Expr::parse("BOGUS == 1").unwrap_err();
        assert_eq!(
            (err.position, err.message.as_str()),
            (1, "unknown column 'BOGUS'")
        );
        let err = Expr::parse("(TYPE == 'net'").unwrap_err();
        assert!(err.message.contains("missing ')'"), "{err}");
        let err = Expr::parse("TYPE ==").unwrap_err();
        assert_eq!(err.position, 8);
        let err = Expr::parse("TYPE =~ 'a('").unwrap_err();
        assert!(err.message.contains("regular expression"), "{err}");
        let err = Expr::parse("TYPE == 'net' 'x'").unwrap_err();
        assert_eq!(err.position, 15);
        let mut columns = Vec::new();
        Expr::parse("TYPE == 'net' || !(PID > 3 && type != 'x')")
            .unwrap()
            .columns(&mut columns);
        assert_eq!(columns, vec![Column::Type, Column::Pid]);
    }
}
