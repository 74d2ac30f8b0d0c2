//! Precedence, loosest first: `||`, `&&`, `!`, comparisons. Parsed with an
//! explicit operator stack (shunting-yard) into postfix order, so neither
//! parsing nor evaluating recurses: no input, however deeply nested, can
//! exhaust the stack (a small `ulimit -s` included).

use super::lexer::{Spanned, Token};
use super::pattern::Regex;
use super::{FilterError, Op, Operand};
use crate::lsns::columns::Column;

/// An operator waiting on the stack for its operands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Or,
    And,
    Not,
    /// An open bracket, with the character it is at.
    Open(usize),
}

impl Pending {
    fn precedence(self) -> u8 {
        match self {
            Pending::Open(_) => 0,
            Pending::Or => 1,
            Pending::And => 2,
            Pending::Not => 3,
        }
    }

    fn op(self) -> Option<Op> {
        match self {
            Pending::Or => Some(Op::Or),
            Pending::And => Some(Op::And),
            Pending::Not => Some(Op::Not),
            Pending::Open(_) => None,
        }
    }
}

pub fn parse(tokens: &[Spanned], text_len: usize) -> Result<Vec<Op>, FilterError> {
    let mut parser = Parser {
        tokens,
        pos: 0,
        end: text_len + 1,
    };
    let mut out = Vec::new();
    let mut stack: Vec<Pending> = Vec::new();
    loop {
        // An operand is expected: `!`, `(` or a comparison.
        match parser.peek().map(|(t, at)| (t.clone(), *at)) {
            Some((Token::Not, _)) => {
                parser.pos += 1;
                stack.push(Pending::Not);
                continue;
            }
            Some((Token::LParen, at)) => {
                parser.pos += 1;
                stack.push(Pending::Open(at));
                continue;
            }
            _ => out.push(parser.comparison()?),
        }
        // An operator is expected: `&&`, `||`, `)` or the end.
        loop {
            match parser.peek().map(|(t, at)| (t.clone(), *at)) {
                Some((Token::RParen, at)) => {
                    parser.pos += 1;
                    loop {
                        match stack.pop() {
                            Some(Pending::Open(_)) => break,
                            Some(other) => out.extend(other.op()),
                            None => return Err(FilterError::at(at, "unexpected ')'")),
                        }
                    }
                }
                Some((Token::And | Token::Or, _)) => {
                    let (token, _) = parser.next().expect("peeked");
                    let incoming = if *token == Token::And {
                        Pending::And
                    } else {
                        Pending::Or
                    };
                    // Left-associative: pop what binds at least as tightly.
                    while let Some(&top) = stack.last()
                        && top.precedence() >= incoming.precedence()
                    {
                        stack.pop();
                        out.extend(top.op());
                    }
                    stack.push(incoming);
                    break;
                }
                Some((token, at)) => {
                    return Err(FilterError::at(
                        at,
                        &format!("unexpected {}", token.describe()),
                    ));
                }
                None => {
                    while let Some(top) = stack.pop() {
                        match top {
                            Pending::Open(open) => {
                                return Err(FilterError::at_end(
                                    parser.end,
                                    &format!("missing ')' for the '(' at character {open}"),
                                ));
                            }
                            other => out.extend(other.op()),
                        }
                    }
                    return Ok(out);
                }
            }
        }
    }
}

struct Parser<'a> {
    tokens: &'a [Spanned],
    pos: usize,
    /// The position just after the text, for "expected ... at the end".
    end: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Spanned> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<&Spanned> {
        let token = self.tokens.get(self.pos);
        self.pos += 1;
        token
    }

    fn here(&self) -> usize {
        self.peek().map_or(self.end, |(_, at)| *at)
    }

    /// `OPERAND`, `OPERAND CMP OPERAND` or `OPERAND =~ "REGEX"`.
    fn comparison(&mut self) -> Result<Op, FilterError> {
        let left = self.operand_after("")?;
        match self.peek().cloned() {
            Some((Token::Cmp(op), at)) => {
                self.pos += 1;
                let right = self.operand_after(&format!("the comparison at character {at}"))?;
                Ok(Op::Cmp(left, op, right))
            }
            Some((Token::Match { negated }, at)) => {
                self.pos += 1;
                let pattern_at = self.here();
                match self.next().cloned() {
                    Some((Token::String(pattern), _)) => {
                        let regex = Regex::new(&pattern).map_err(|e| {
                            FilterError::at(pattern_at, &format!("bad regular expression: {e}"))
                        })?;
                        Ok(Op::Match {
                            operand: left,
                            negated,
                            regex: std::rc::Rc::new(regex),
                        })
                    }
                    _ => Err(FilterError::at(
                        pattern_at,
                        &format!(
                            "expected a quoted regular expression after the '=~' at character {at}"
                        ),
                    )),
                }
            }
            _ => Ok(Op::Truth(left)),
        }
    }

    fn operand_after(&mut self, after: &str) -> Result<Operand, FilterError> {
        let at = self.here();
        let expected = if after.is_empty() {
            "expected a column or a value".to_string()
        } else {
            format!("expected a column or a value after {after}")
        };
        let operand = match self.next().cloned() {
            Some((Token::Holder(name), _)) => Operand::Column(
                Column::from_name(&name)
                    .ok_or_else(|| FilterError::at(at, &format!("unknown column '{name}'")))?,
            ),
            Some((Token::Number(n), _)) => Operand::Number(n),
            Some((Token::String(s), _)) => Operand::String(s),
            Some((Token::Bool(b), _)) => Operand::Bool(b),
            Some((token, _)) => {
                return Err(FilterError::at(
                    at,
                    &format!("{expected}, found {}", token.describe()),
                ));
            }
            None => return Err(FilterError::at_end(at, &expected)),
        };
        Ok(operand)
    }
}
