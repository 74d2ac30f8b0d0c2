//! JSON output: `{"namespaces": [...]}` with lower-case keys, numbers as
//! numbers, null for an empty cell, and `children` arrays in tree modes.

use std::fmt::Write;

use crate::lsns::filter::Value;

/// One row's values (in column order) and its children.
#[derive(Debug)]
pub struct Node {
    pub values: Vec<Value>,
    pub children: Vec<Node>,
}

pub fn render(table: &str, keys: &[String], nodes: &[Node]) -> String {
    let mut out = String::from("{\n");
    let _ = writeln!(out, "   {}: [", quote(table));
    array(&mut out, keys, nodes, 2);
    out.push_str("   ]\n}\n");
    out
}

/// Elements joined as util-linux joins them: `},{` on one line.
fn array(out: &mut String, keys: &[String], nodes: &[Node], depth: usize) {
    let pad = "   ".repeat(depth);
    let inner = "   ".repeat(depth + 1);
    if !nodes.is_empty() {
        let _ = writeln!(out, "{pad}{{");
    }
    for (i, node) in nodes.iter().enumerate() {
        let fields = node.values.len() + usize::from(!node.children.is_empty());
        for (k, (key, value)) in keys.iter().zip(&node.values).enumerate() {
            let _ = write!(out, "{inner}{}: {}", quote(key), literal(value));
            out.push_str(if k + 1 < fields { ",\n" } else { "\n" });
        }
        if !node.children.is_empty() {
            let _ = writeln!(out, "{inner}\"children\": [");
            array(out, keys, &node.children, depth + 2);
            let _ = writeln!(out, "{inner}]");
        }
        let close = if i + 1 < nodes.len() { "},{" } else { "}" };
        let _ = writeln!(out, "{pad}{close}");
    }
}

fn quote(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

/// A cell's real text as a JSON string: a byte that is not UTF-8 becomes
/// the lone surrogate U+DC80 + byte (`\udce9` for 0xE9), Python's
/// "surrogateescape", which gives the bytes back and is never valid text.
fn quote_bytes(text: &str) -> String {
    let bytes = crate::text::lossless_bytes(text);
    let mut out = String::from("\"");
    for chunk in bytes.utf8_chunks() {
        let q = quote(chunk.valid());
        out.push_str(&q[1..q.len() - 1]);
        for b in chunk.invalid() {
            let _ = write!(out, "\\u{:04x}", 0xdc00 + u32::from(*b));
        }
    }
    out.push('"');
    out
}

fn literal(value: &Value) -> String {
    match value {
        Value::String(s) => quote_bytes(s),
        Value::Empty => "null".into(),
        Value::Number(_) | Value::Bool(_) => value.text(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_rows_parse_back() {
        let keys = vec!["ns".to_string(), "command".to_string()];
        let nodes = vec![Node {
            values: vec![
                Value::Number(4026531835.0),
                Value::String("a \"q\"\n".into()),
            ],
            children: vec![Node {
                values: vec![Value::Number(7.0), Value::Empty],
                children: vec![],
            }],
        }];
        let text = render("namespaces", &keys, &nodes);
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["namespaces"][0]["ns"], 4026531835u64);
        assert_eq!(parsed["namespaces"][0]["command"], "a \"q\"\n");
        assert_eq!(parsed["namespaces"][0]["children"][0]["ns"], 7);
        assert!(parsed["namespaces"][0]["children"][0]["command"].is_null());
        let empty: serde_json::Value =
            serde_json::from_str(&render("namespaces", &keys, &[])).unwrap();
        assert_eq!(empty["namespaces"].as_array().map(Vec::len), Some(0));
    }
}
