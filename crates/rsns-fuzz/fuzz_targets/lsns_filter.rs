//! rs-lsns -Q expressions: never a panic or a hang; an error points at a
//! character of the text, 1-based, or just past its end.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rsns_core::lsns::filter::Expr;

fuzz_target!(|text: &str| {
    if text.len() > 4096 {
        return;
    }
    match Expr::parse(text) {
        Ok(expr) => {
            let mut columns = Vec::new();
            expr.columns(&mut columns);
        }
        Err(err) => assert!(
            (1..=text.chars().count() + 1).contains(&err.position),
            "{err:?}"
        ),
    }
});
