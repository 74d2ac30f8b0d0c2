//! The `=~` and `!~` patterns: extended regular expressions, compiled with
//! bounds on their size and nesting, so a pattern cannot take the machine's
//! memory (`a{1000}{1000}{1000}` asked glibc's regcomp for 23 GB) or its
//! stack (15,000 nested groups).

/// The compiled program's size at most (regex-lite's own measure).
const SIZE_LIMIT: usize = 1 << 20;
/// Groups and repetitions nested at most this deep.
const NEST_LIMIT: u32 = 100;

#[derive(Debug)]
pub struct Regex(regex_lite::Regex);

impl Regex {
    /// Compiles `pattern`; the error is one line.
    pub fn new(pattern: &str) -> Result<Regex, String> {
        regex_lite::RegexBuilder::new(pattern)
            .size_limit(SIZE_LIMIT)
            .nest_limit(NEST_LIMIT)
            .build()
            .map(Regex)
            .map_err(|e| {
                let text = e.to_string();
                let text = text.lines().last().unwrap_or("").trim();
                if text.contains("size limit") {
                    format!("the pattern is too large once compiled (over {SIZE_LIMIT} bytes)")
                } else if text.contains("nest") {
                    format!("the pattern nests groups or repetitions over {NEST_LIMIT} deep")
                } else {
                    text.trim_start_matches("error: ").to_string()
                }
            })
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.0.is_match(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_regular_expressions_match_like_grep_e() {
        let re = Regex::new("^(sh|bash)( |$)").unwrap();
        assert!(re.is_match("sh -c true"));
        assert!(re.is_match("bash"));
        assert!(!re.is_match("dash"));
        assert!(Regex::new("[[:digit:]]+").unwrap().is_match("pid 42"));
        assert!(Regex::new("a(").is_err());
    }

    #[test]
    fn huge_or_deep_patterns_are_refused_in_one_line() {
        let e = Regex::new("a{1000}{1000}{1000}").unwrap_err();
        assert!(e.contains("too large"), "{e}");
        let deep = format!("{}a{}", "(".repeat(15_000), ")".repeat(15_000));
        let e = Regex::new(&deep).unwrap_err();
        assert!(e.contains("nests"), "{e}");
        assert!(!e.contains('\n'));
    }
}
