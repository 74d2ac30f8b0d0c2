//! Which rows to print, in which order, and under which parent row in the
//! tree modes (lsns(8)'s rules).

use std::collections::HashMap;

use super::options::Tree;
use crate::scan::Scan;

/// One output line: a namespace, and the process it is shown with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// Index into `Scan::namespaces`.
    pub ns: usize,
    /// Index into `Scan::processes`: the lowest PID in the namespace, or the
    /// listed process when listing the processes of one namespace.
    pub proc: Option<usize>,
    /// The row this one hangs under in a tree.
    pub parent: Option<usize>,
}

/// Builds rows; `keep` is asked for every candidate (the -Q filter); a row it
/// refuses is left out and hangs nothing under it.
pub struct RowBuilder<'a> {
    scan: &'a Scan,
    tree: Tree,
    keep: &'a dyn Fn(&Row) -> bool,
    rows: Vec<Row>,
    /// The latest row of each process (process trees).
    proc_row: HashMap<usize, usize>,
    /// The row of each namespace (owner and parent trees).
    ns_row: HashMap<usize, usize>,
    /// Namespaces already visited (shown or refused).
    ns_done: Vec<bool>,
    parent_of: Vec<Option<usize>>,
}

impl std::fmt::Debug for RowBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowBuilder")
            .field("tree", &self.tree)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl<'a> RowBuilder<'a> {
    pub fn new(scan: &'a Scan, tree: Tree, keep: &'a dyn Fn(&Row) -> bool) -> RowBuilder<'a> {
        let parent_of = scan
            .processes
            .iter()
            .map(|p| p.ppid.and_then(|ppid| scan.process_index(ppid)))
            .collect();
        RowBuilder {
            scan,
            tree,
            keep,
            rows: Vec::new(),
            proc_row: HashMap::new(),
            ns_row: HashMap::new(),
            ns_done: vec![false; scan.namespaces.len()],
            parent_of,
        }
    }

    /// One row per namespace that `wanted` accepts, in inode order.
    pub fn namespaces(mut self, wanted: &dyn Fn(usize) -> bool) -> Vec<Row> {
        for ns in 0..self.scan.namespaces.len() {
            if wanted(ns) && !self.ns_done[ns] {
                self.show_namespace(ns);
            }
        }
        self.rows
    }

    fn show_namespace(&mut self, ns: usize) {
        self.ns_done[ns] = true;
        let up = self.related(ns);
        if let Some(up) = up {
            if !self.ns_done[up] {
                self.show_namespace(up);
            }
        }
        let proc = self.scan.namespaces[ns].procs.first().copied();
        let parent = match self.tree {
            Tree::None => None,
            Tree::Process => proc
                .and_then(|p| self.parent_of[p])
                .and_then(|pp| self.proc_row.get(&pp).copied()),
            Tree::Owner | Tree::Parent => up.and_then(|u| self.ns_row.get(&u).copied()),
        };
        if let Some(at) = self.push(Row { ns, proc, parent }) {
            self.ns_row.insert(ns, at);
            if let Some(p) = proc {
                self.proc_row.insert(p, at);
            }
        }
    }

    /// The namespace this one hangs under in an owner or parent tree.
    fn related(&self, ns: usize) -> Option<usize> {
        let namespace = &self.scan.namespaces[ns];
        let ino = match self.tree {
            Tree::Owner => namespace.owner,
            Tree::Parent if namespace.parent != 0 => namespace.parent,
            Tree::Parent => namespace.owner,
            _ => return None,
        };
        if ino == 0 || ino == namespace.ino {
            return None;
        }
        self.scan.namespace_index(ino)
    }

    /// One row per process in namespace `ns`, parents before children.
    pub fn processes(mut self, ns: usize) -> Vec<Row> {
        let procs = self.scan.namespaces[ns].procs.clone();
        let mut done = vec![false; self.scan.processes.len()];
        for p in procs {
            self.show_process(ns, p, &mut done);
        }
        self.rows
    }

    fn show_process(&mut self, ns: usize, p: usize, done: &mut [bool]) {
        if done[p] {
            return;
        }
        done[p] = true;
        let kind = self.scan.namespaces[ns].kind as usize;
        let same_ns_parent = self.parent_of[p]
            .filter(|&pp| self.scan.processes[pp].ns[kind] == self.scan.processes[p].ns[kind]);
        if self.tree == Tree::Process {
            if let Some(pp) = same_ns_parent {
                self.show_process(ns, pp, done);
            }
        }
        let parent = match self.tree {
            Tree::Process => same_ns_parent.and_then(|pp| self.proc_row.get(&pp).copied()),
            _ => None,
        };
        if let Some(at) = self.push(Row {
            ns,
            proc: Some(p),
            parent,
        }) {
            self.proc_row.insert(p, at);
        }
    }

    fn push(&mut self, row: Row) -> Option<usize> {
        if !(self.keep)(&row) {
            return None;
        }
        self.rows.push(row);
        Some(self.rows.len() - 1)
    }
}

/// The rows in print order (each parent followed by its subtree), with the
/// depth of each and whether it is the last child of its parent.
pub fn tree_order(rows: &[Row]) -> Vec<(usize, Vec<bool>)> {
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); rows.len()];
    let mut roots = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        match row.parent {
            Some(p) => children[p].push(i),
            None => roots.push(i),
        }
    }
    let mut order = Vec::with_capacity(rows.len());
    // (row, for each level: is this the last child at that level)
    let mut stack: Vec<(usize, Vec<bool>)> = roots.iter().rev().map(|&r| (r, Vec::new())).collect();
    while let Some((row, lasts)) = stack.pop() {
        let kids = &children[row];
        for (k, &child) in kids.iter().enumerate().rev() {
            let mut child_lasts = lasts.clone();
            child_lasts.push(k + 1 == kids.len());
            stack.push((child, child_lasts));
        }
        order.push((row, lasts));
    }
    order
}

/// The tree drawing before a cell: `│ ` or two spaces for each ancestor
/// level, then `├─` or `└─`; with `ascii` (a locale that is not UTF-8),
/// `| `, `|-` and `` `- ``, as util-linux draws it there.
pub fn tree_prefix(lasts: &[bool], ascii: bool) -> String {
    let (bar, branch, end) = if ascii {
        ("| ", "|-", "`-")
    } else {
        ("│ ", "├─", "└─")
    };
    let mut prefix = String::new();
    if let Some((own, ancestors)) = lasts.split_last() {
        for &last in ancestors {
            prefix.push_str(if last { "  " } else { bar });
        }
        prefix.push_str(if *own { end } else { branch });
    }
    prefix
}

/// The tree drawing on the extra lines of a row (its multi-line NSFS
/// cell), as libsmartcols draws it in an empty tree cell: `│ ` or two
/// spaces for each level down to the row's own, and one more `│ ` when the
/// row has children below it.
pub fn tree_continuation(lasts: &[bool], has_children: bool, ascii: bool) -> String {
    let bar = if ascii { "| " } else { "│ " };
    let mut art: String = lasts.iter().map(|&l| if l { "  " } else { bar }).collect();
    if has_children {
        art.push_str(bar);
    }
    art
}

/// Whether the locale's characters are UTF-8, as setlocale(LC_ALL, "")
/// would decide from LC_ALL, LC_CTYPE and LANG (the first one set).
pub fn utf8_locale() -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .is_some_and(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("utf-8") || l.contains("utf8")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(parent: Option<usize>) -> Row {
        Row {
            ns: 0,
            proc: None,
            parent,
        }
    }

    #[test]
    fn children_follow_their_parent_with_tree_drawing() {
        // 0 ─┬ 1 ── 3
        //    └ 4
        // 2
        let rows = [
            row(None),
            row(Some(0)),
            row(None),
            row(Some(1)),
            row(Some(0)),
        ];
        let order: Vec<(usize, String)> = tree_order(&rows)
            .into_iter()
            .map(|(r, lasts)| (r, tree_prefix(&lasts, false)))
            .collect();
        assert_eq!(
            order,
            vec![
                (0, String::new()),
                (1, "├─".into()),
                (3, "│ └─".into()),
                (4, "└─".into()),
                (2, String::new()),
            ]
        );
        assert_eq!(tree_prefix(&[false, true], true), "| `-");
        assert_eq!(tree_prefix(&[true, false], true), "  |-");
    }

    #[test]
    fn extra_lines_carry_the_bars_of_every_level_and_of_the_children() {
        assert_eq!(tree_continuation(&[], true, false), "│ ");
        assert_eq!(tree_continuation(&[false], true, false), "│ │ ");
        assert_eq!(tree_continuation(&[false, true], false, false), "│   ");
        assert_eq!(tree_continuation(&[true], false, true), "  ");
        assert_eq!(tree_continuation(&[false], false, true), "| ");
    }
}
