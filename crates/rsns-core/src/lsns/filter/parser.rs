//! Precedence, loosest first: `||`, `&&`, `!`, comparisons.

use super::lexer::{Spanned, Token};
use super::{Expr, FilterError, Operand};
use crate::lsns::columns::Column;
use crate::sys::Regex;

pub fn parse(tokens: &[Spanned], text_len: usize) -> Result<Expr, FilterError> {
    let mut parser = Parser {
        tokens,
        pos: 0,
        end: text_len + 1,
    };
    let expr = parser.or()?;
    if let Some((token, at)) = parser.peek() {
        return Err(FilterError::at(
            *at,
            &format!("unexpected {}", token.describe()),
        ));
    }
    Ok(expr)
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

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while matches!(self.peek(), Some((Token::Or, _))) {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.not()?;
        while matches!(self.peek(), Some((Token::And, _))) {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, FilterError> {
        if matches!(self.peek(), Some((Token::Not, _))) {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, FilterError> {
        if matches!(self.peek(), Some((Token::LParen, _))) {
            let open = self.here();
            self.pos += 1;
            let inner = self.or()?;
            match self.next() {
                Some((Token::RParen, _)) => return Ok(inner),
                _ => {
                    self.pos -= 1;
                    return Err(FilterError::at(
                        self.here(),
                        &format!("missing ')' for the '(' at character {open}"),
                    ));
                }
            }
        }
        let left = self.operand()?;
        match self.peek().cloned() {
            Some((Token::Cmp(op), at)) => {
                self.pos += 1;
                let right = self.operand_after(&format!("the comparison at character {at}"))?;
                Ok(Expr::Cmp(left, op, right))
            }
            Some((Token::Match { negated }, at)) => {
                self.pos += 1;
                let pattern_at = self.here();
                match self.next().cloned() {
                    Some((Token::String(pattern), _)) => {
                        let regex = Regex::new(&pattern).map_err(|e| {
                            FilterError::at(pattern_at, &format!("bad regular expression: {e}"))
                        })?;
                        Ok(Expr::Match {
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
            _ => Ok(Expr::Truth(left)),
        }
    }

    fn operand(&mut self) -> Result<Operand, FilterError> {
        self.operand_after("")
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
            None => return Err(FilterError::at(at, &format!("{expected} at the end"))),
        };
        Ok(operand)
    }
}
