//! Tokens of the filter language (scols-filter(5)).

use super::FilterError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    LParen,
    RParen,
    And,
    Or,
    Not,
    Cmp(CmpOp),
    /// `=~` (false) or `!~` (true).
    Match {
        negated: bool,
    },
    Number(f64),
    String(String),
    Bool(bool),
    Holder(String),
}

impl Token {
    pub fn describe(&self) -> String {
        match self {
            Token::LParen => "'('".into(),
            Token::RParen => "')'".into(),
            Token::And => "'&&'".into(),
            Token::Or => "'||'".into(),
            Token::Not => "'!'".into(),
            Token::Cmp(_) => "a comparison".into(),
            Token::Match { .. } => "'=~'".into(),
            Token::Number(n) => format!("number {n}"),
            Token::String(s) => format!("string \"{s}\""),
            Token::Bool(b) => format!("{b}"),
            Token::Holder(h) => format!("column {h}"),
        }
    }
}

/// A token and the 1-based character position where it starts.
pub type Spanned = (Token, usize);

pub fn tokenize(text: &str) -> Result<Vec<Spanned>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let symbol = match two.as_str() {
            "&&" => Some(Token::And),
            "||" => Some(Token::Or),
            "==" => Some(Token::Cmp(CmpOp::Eq)),
            "!=" => Some(Token::Cmp(CmpOp::Ne)),
            "<=" => Some(Token::Cmp(CmpOp::Le)),
            ">=" => Some(Token::Cmp(CmpOp::Ge)),
            "=~" => Some(Token::Match { negated: false }),
            "!~" => Some(Token::Match { negated: true }),
            _ => None,
        };
        if let Some(token) = symbol {
            tokens.push((token, at));
            i += 2;
            continue;
        }
        let single = match c {
            '(' => Some(Token::LParen),
            ')' => Some(Token::RParen),
            '!' => Some(Token::Not),
            '<' => Some(Token::Cmp(CmpOp::Lt)),
            '>' => Some(Token::Cmp(CmpOp::Gt)),
            _ => None,
        };
        if let Some(token) = single {
            tokens.push((token, at));
            i += 1;
            continue;
        }
        if c == '"' || c == '\'' {
            let end = chars[i + 1..]
                .iter()
                .position(|&d| d == c || d == '\n')
                .map(|p| p + i + 1);
            match end {
                Some(end) if chars[end] == c => {
                    tokens.push((Token::String(chars[i + 1..end].iter().collect()), at));
                    i = end + 1;
                    continue;
                }
                _ => return Err(FilterError::at(at, "unterminated string")),
            }
        }
        if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let value = parse_number(&word)
                .ok_or_else(|| FilterError::at(at, &format!("not a number: '{word}'")))?;
            tokens.push((Token::Number(value), at));
            continue;
        }
        if c.is_ascii_alphabetic() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || "_.%:/-".contains(chars[i]))
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            tokens.push((keyword(&word).unwrap_or(Token::Holder(word)), at));
            continue;
        }
        return Err(FilterError::at(at, &format!("unexpected character '{c}'")));
    }
    Ok(tokens)
}

fn keyword(word: &str) -> Option<Token> {
    Some(match word.to_ascii_lowercase().as_str() {
        "and" => Token::And,
        "or" => Token::Or,
        "not" => Token::Not,
        "eq" => Token::Cmp(CmpOp::Eq),
        "ne" => Token::Cmp(CmpOp::Ne),
        "lt" => Token::Cmp(CmpOp::Lt),
        "le" => Token::Cmp(CmpOp::Le),
        "gt" => Token::Cmp(CmpOp::Gt),
        "ge" => Token::Cmp(CmpOp::Ge),
        _ if word == "true" || word == "TRUE" => Token::Bool(true),
        _ if word == "false" || word == "FALSE" => Token::Bool(false),
        _ => return None,
    })
}

/// `42`, `1.5`, `4K` or `4KiB` (powers of 1024, K to Y).
fn parse_number(word: &str) -> Option<f64> {
    let digits_end = word
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(word.len());
    let (number, suffix) = word.split_at(digits_end);
    let value: f64 = number.parse().ok()?;
    let suffix = suffix.strip_suffix("iB").unwrap_or(suffix);
    let power = match suffix {
        "" => 0,
        _ => 1 + "KMGTPEZY".find(suffix).filter(|_| suffix.len() == 1)? as i32,
    };
    Some(value * 1024f64.powi(power))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_words_and_values() {
        let tokens: Vec<Token> = tokenize("TYPE == \"net\" && NPROCS >= 2K or !(x !~ 'a b')")
            .unwrap()
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        assert_eq!(
            tokens,
            vec![
                Token::Holder("TYPE".into()),
                Token::Cmp(CmpOp::Eq),
                Token::String("net".into()),
                Token::And,
                Token::Holder("NPROCS".into()),
                Token::Cmp(CmpOp::Ge),
                Token::Number(2048.0),
                Token::Or,
                Token::Not,
                Token::LParen,
                Token::Holder("x".into()),
                Token::Match { negated: true },
                Token::String("a b".into()),
                Token::RParen,
            ]
        );
    }

    #[test]
    fn numbers_take_binary_suffixes() {
        assert_eq!(parse_number("3"), Some(3.0));
        assert_eq!(parse_number("1.5"), Some(1.5));
        assert_eq!(parse_number("1KiB"), Some(1024.0));
        assert_eq!(parse_number("2M"), Some(2.0 * 1024.0 * 1024.0));
        assert_eq!(parse_number("2KB"), None);
        assert_eq!(parse_number("1.2.3"), None);
    }

    #[test]
    fn errors_point_at_the_character() {
        assert_eq!(tokenize("PID == 'x").unwrap_err().position, 8);
        assert_eq!(tokenize("PID # 2").unwrap_err().position, 5);
        assert_eq!(tokenize("PID == 12q").unwrap_err().position, 8);
    }
}
