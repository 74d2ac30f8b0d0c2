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

/// The JSON layouts libsmartcols (2.42) offers through `LIBSMARTCOLS_JSON`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Unset or any other value: indented, one key per line.
    Pretty,
    /// `compact`: no spaces, one top-level row per line inside the wrapper.
    Compact,
    /// `lines`: JSON Lines, one row object per line and no wrapper.
    Lines,
}

impl Layout {
    pub fn from_env() -> Layout {
        match std::env::var_os("LIBSMARTCOLS_JSON").as_deref() {
            Some(v) if v == "compact" => Layout::Compact,
            Some(v) if v == "lines" => Layout::Lines,
            _ => Layout::Pretty,
        }
    }
}

/// The table as `LIBSMARTCOLS_JSON` asks, as lsns prints it.
pub fn render(table: &str, keys: &[String], nodes: &[Node]) -> String {
    render_as(Layout::from_env(), table, keys, nodes)
}

pub fn render_as(layout: Layout, table: &str, keys: &[String], nodes: &[Node]) -> String {
    let mut out = String::new();
    match layout {
        Layout::Pretty => {
            out.push_str("{\n");
            let _ = writeln!(out, "   {}: [", quote(table));
            array(&mut out, keys, nodes, 2);
            out.push_str("   ]\n}\n");
        }
        Layout::Compact => {
            let _ = write!(out, "{{{}:[", quote(table));
            for (i, node) in nodes.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                compact(&mut out, keys, node);
            }
            out.push_str("\n]}\n");
        }
        Layout::Lines => {
            for node in nodes {
                compact(&mut out, keys, node);
                out.push('\n');
            }
        }
    }
    out
}

/// One row (and its children) with no whitespace at all.
fn compact(out: &mut String, keys: &[String], node: &Node) {
    out.push('{');
    for (k, (key, value)) in keys.iter().zip(&node.values).enumerate() {
        if k > 0 {
            out.push(',');
        }
        let _ = write!(out, "{}:{}", quote(key), literal(value));
    }
    if !node.children.is_empty() {
        out.push_str(",\"children\":[");
        for (i, child) in node.children.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            compact(out, keys, child);
        }
        out.push(']');
    }
    out.push('}');
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

    /// libsmartcols 2.42's compact and lines layouts, byte for byte (its
    /// column tests' expected outputs have the same shape).
    #[test]
    fn compact_and_lines_as_libsmartcols_writes_them() {
        let keys = vec!["ns".to_string(), "command".to_string()];
        let row = |ns: f64, children| Node {
            values: vec![Value::Number(ns), Value::String("sh".into())],
            children,
        };
        let nodes = vec![
            row(1.0, vec![row(2.0, vec![]), row(3.0, vec![])]),
            row(4.0, vec![]),
        ];
        assert_eq!(
            render_as(Layout::Compact, "namespaces", &keys, &nodes),
            "{\"namespaces\":[\n\
             {\"ns\":1,\"command\":\"sh\",\"children\":[{\"ns\":2,\"command\":\"sh\"},\
             {\"ns\":3,\"command\":\"sh\"}]},\n\
             {\"ns\":4,\"command\":\"sh\"}\n]}\n"
        );
        assert_eq!(
            render_as(Layout::Lines, "namespaces", &keys, &nodes[1..]),
            "{\"ns\":4,\"command\":\"sh\"}\n"
        );
        assert_eq!(render_as(Layout::Lines, "namespaces", &keys, &[]), "");
        assert_eq!(
            render_as(Layout::Compact, "namespaces", &keys, &[]),
            "{\"namespaces\":[\n]}\n"
        );
    }
}
