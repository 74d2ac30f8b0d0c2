//! Table and raw output, laid out as libsmartcols does for lsns(8): one space
//! between columns, numbers on the right, no padding after the last column,
//! multi-line cells (NSFS) on extra lines, and the truncatable column
//! (COMMAND) cut to the terminal width.

use std::fmt::Write;

use crate::text::{Escape, encode, lossless_bytes};

/// Cells already turned into text, in print order.
#[derive(Debug, Default)]
pub struct Grid {
    pub headers: Vec<&'static str>,
    pub right: Vec<bool>,
    /// libsmartcols's width hints (see `table` for when they apply).
    pub hints: Vec<usize>,
    /// The column to shorten when the table is wider than the terminal.
    pub truncate: Option<usize>,
    pub lines: Vec<Vec<String>>,
    /// In tree modes: the tree column, and for each line the drawing its
    /// extra lines (of a multi-line cell) show in that column.
    pub art: Option<(usize, Vec<String>)>,
}

fn width(text: &str) -> usize {
    text.chars().count()
}

fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// Renders an aligned table. `term_width` is None when stdout is not a
/// terminal; `truncate` is false with -u.
pub fn table(grid: &Grid, headings: bool, term_width: Option<usize>, truncate: bool) -> String {
    let ncols = grid.headers.len();
    // libsmartcols's rule, quirk included: the header's width is the floor,
    // and the hint widens a column only when its widest cell is at least as
    // wide as the header (a PID column of "1"s stays 3 wide, of "470"s is 5).
    let mut widths: Vec<usize> = (0..ncols)
        .map(|c| {
            let cells = grid
                .lines
                .iter()
                .flat_map(|l| l[c].split('\n'))
                .map(width)
                .max()
                .unwrap_or(0);
            // Headers count also with -n, as in lsns(8).
            let floor = width(grid.headers[c]);
            let hint = grid.hints.get(c).copied().unwrap_or(0);
            if cells < floor {
                floor
            } else if cells < hint && floor < hint {
                hint
            } else {
                cells
            }
        })
        .collect();
    let total = |widths: &[usize]| widths.iter().sum::<usize>() + ncols.saturating_sub(1);
    if let (true, Some(limit), Some(col)) = (truncate, term_width, grid.truncate) {
        let total = total(&widths);
        if total > limit {
            let floor = width(grid.headers[col]);
            widths[col] = widths[col].saturating_sub(total - limit).max(floor);
        }
    }
    let mut out = String::new();
    if headings {
        let header: Vec<String> = grid.headers.iter().map(|h| h.to_string()).collect();
        push_line(&mut out, &header, &widths, &grid.right);
    }
    for (l, line) in grid.lines.iter().enumerate() {
        let parts: Vec<Vec<&str>> = line.iter().map(|cell| cell.split('\n').collect()).collect();
        let height = parts.iter().map(Vec::len).max().unwrap_or(1);
        for sub in 0..height {
            let cells: Vec<String> = parts
                .iter()
                .enumerate()
                .map(|(c, lines)| {
                    let text = match (lines.get(sub), &grid.art) {
                        (Some(text), _) => text,
                        (None, Some((col, art))) if *col == c => art[l].as_str(),
                        (None, _) => "",
                    };
                    cut(text, widths[c])
                })
                .collect();
            push_line(&mut out, &cells, &widths, &grid.right);
        }
    }
    out
}

/// One screen line, padded as libsmartcols pads it, on the first line of a
/// row and on the extra lines of its multi-line cells alike: every column
/// but the last is filled to its width and followed by the separator, even
/// when empty (so a line may end in spaces, as lsns's do); the last column
/// is not filled, and a right-aligned one is padded only in front of text.
fn push_line(out: &mut String, cells: &[String], widths: &[usize], right: &[bool]) {
    let last = cells.len().saturating_sub(1);
    for (c, cell) in cells.iter().enumerate() {
        if c > 0 {
            out.push(' ');
        }
        let pad = " ".repeat(widths[c].saturating_sub(width(cell)));
        if c == last {
            if right[c] && !cell.is_empty() {
                out.push_str(&pad);
            }
            out.push_str(cell);
        } else if right[c] {
            let _ = write!(out, "{pad}{cell}");
        } else {
            let _ = write!(out, "{cell}{pad}");
        }
    }
    out.push('\n');
}

/// Raw output: cells separated by one space, with space, backslash and
/// control characters written as `\xHH` so every line splits on spaces.
pub fn raw(grid: &Grid, headings: bool) -> String {
    let mut out = String::new();
    let mut push = |cells: Vec<String>| {
        out.push_str(&cells.join(" "));
        out.push('\n');
    };
    if headings {
        push(grid.headers.iter().map(|h| h.to_string()).collect());
    }
    for line in &grid.lines {
        push(line.iter().map(|c| escape(c)).collect());
    }
    out
}

/// A cell as lsns(8) shows it in a table (libsmartcols's safe encoding):
/// control characters and bytes that are not UTF-8 as `\xHH`, and a
/// backslash that `x` follows as `\x5c`, so a real newline and the text
/// `\x0a` never look the same. `cell` is [`crate::text::lossless`] text.
pub fn escape_controls(cell: &str) -> String {
    if !cell.chars().any(|c| c == '\\' || c.is_control()) {
        return cell.to_string();
    }
    let hex_if = |yes: bool| if yes { Escape::Hex } else { Escape::Keep };
    encode(&lossless_bytes(cell), |c, next| {
        hex_if(c.is_control() || (c == '\\' && next == Some(b'x')))
    })
}

/// Raw output: space, backslash, control characters and bytes that are
/// not UTF-8 as `\xHH`, so every line splits on spaces.
fn escape(cell: &str) -> String {
    encode(&lossless_bytes(cell), |c, _| {
        if c == ' ' || c == '\\' || c.is_control() {
            Escape::Hex
        } else {
            Escape::Keep
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Grid {
        Grid {
            headers: vec!["NS", "TYPE", "COMMAND"],
            right: vec![true, false, false],
            hints: vec![10, 5, 0],
            truncate: Some(2),
            lines: vec![
                vec!["4026531835".into(), "cgroup".into(), "init splash".into()],
                vec!["7".into(), "net".into(), String::new()],
            ],
            art: None,
        }
    }

    #[test]
    fn columns_align_like_lsns() {
        assert_eq!(
            table(&grid(), true, None, true),
            "        NS TYPE   COMMAND\n\
             4026531835 cgroup init splash\n\
             \u{20}        7 net    \n"
        );
        assert_eq!(
            table(&grid(), false, Some(22), true),
            "4026531835 cgroup init sp\n         7 net    \n"
        );
    }

    #[test]
    fn width_hints_apply_only_to_cells_as_wide_as_the_header() {
        let mut grid = grid();
        grid.lines[0][1] = "net".into();
        // "net" is narrower than "TYPE": the header sets the width.
        assert!(table(&grid, true, None, true).starts_with("        NS TYPE COMMAND\n"));
        // "user" is as wide as "TYPE": the hint (5) applies, long line or not.
        grid.lines[0][1] = "user".into();
        assert!(table(&grid, true, None, true).starts_with("        NS TYPE  COMMAND\n"));
        grid.lines[0][2] = "x".repeat(80);
        assert!(table(&grid, true, None, true).starts_with("        NS TYPE  COMMAND\n"));
        assert!(table(&grid, true, None, false).starts_with("        NS TYPE  COMMAND\n"));
    }

    #[test]
    fn the_hint_needs_a_cell_as_wide_as_the_header() {
        // lsns's NPROCS (hint 5, header 6): the header sets it. PID (hint 5)
        // over "469", as wide as "PID": the hint. PPID over "468", narrower
        // than "PPID": the header, not the hint (CI's failure).
        let grid = Grid {
            headers: vec!["NPROCS", "PID", "PPID"],
            right: vec![true, true, true],
            hints: vec![5, 5, 5],
            truncate: None,
            lines: vec![vec!["3".into(), "469".into(), "468".into()]],
            art: None,
        };
        assert_eq!(
            table(&grid, true, None, true),
            "NPROCS   PID PPID\n     3   469  468\n"
        );
    }

    #[test]
    fn multi_line_cells_take_extra_lines() {
        let grid = Grid {
            headers: vec!["NS", "NSFS"],
            right: vec![true, false],
            hints: Vec::new(),
            truncate: None,
            lines: vec![vec!["5".into(), "/a\n/bb".into()]],
            art: None,
        };
        assert_eq!(table(&grid, true, None, true), "NS NSFS\n 5 /a\n   /bb\n");
        // The extra line pads the columns around the cell as the first does
        // (lsns pads them; a line may end in spaces, as lsns's do).
        let grid = Grid {
            headers: vec!["NS", "NSFS", "TYPE", "PID"],
            right: vec![true, false, false, true],
            hints: Vec::new(),
            truncate: None,
            lines: vec![vec![
                "5".into(),
                "/a\n/bb".into(),
                "uts".into(),
                String::new(),
            ]],
            art: None,
        };
        assert_eq!(
            table(&grid, true, None, true),
            "NS NSFS TYPE PID\n 5 /a   uts  \n   /bb       \n"
        );
        // In a tree, the extra line carries the tree's bars down.
        let grid = Grid {
            headers: vec!["NS", "NSFS"],
            right: vec![false, false],
            hints: Vec::new(),
            truncate: None,
            lines: vec![
                vec!["1".into(), String::new()],
                vec!["├─2".into(), "/a\n/b".into()],
                vec!["│ └─3".into(), String::new()],
                vec!["└─4".into(), String::new()],
            ],
            art: Some((
                0,
                vec![String::new(), "│ │ ".into(), "│   ".into(), "  ".into()],
            )),
        };
        assert_eq!(
            table(&grid, true, None, true),
            "NS    NSFS\n1     \n├─2   /a\n│ │   /b\n│ └─3 \n└─4   \n"
        );
    }

    #[test]
    fn raw_escapes_what_would_split_a_line() {
        assert_eq!(
            raw(&grid(), true),
            "NS TYPE COMMAND\n4026531835 cgroup init\\x20splash\n7 net \n"
        );
    }
}
