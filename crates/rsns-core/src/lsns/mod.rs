//! rs-lsns: list namespaces like lsns(8), from one linear scan (see
//! [`crate::scan`]).

pub mod cells;
pub mod columns;
pub mod filter;
pub mod options;
pub mod render;
pub mod rows;

use columns::{Column, UnknownColumn, ValueType};
use filter::{FilterError, Value};
use options::{Format, LsnsOptions, Tree};
use render::json::Node;
use render::table::Grid;
use rows::{Row, RowBuilder};

use crate::error::SysError;
use crate::ns::NsKind;
use crate::scan::{self, ProcNeeds, ScanNeeds};

#[derive(Debug, thiserror::Error)]
pub enum LsnsError {
    #[error(transparent)]
    UnknownColumn(#[from] UnknownColumn),
    #[error(transparent)]
    Filter(#[from] FilterError),
    #[error("no process with PID {0}")]
    NoSuchPid(i32),
    /// `--container=REF` that names no single container.
    #[error("{0}")]
    Container(String),
    #[error("no {kinds}namespace with inode {ino}")]
    NoSuchNamespace { ino: u64, kinds: String },
    #[error(transparent)]
    Scan(#[from] SysError),
}

/// The whole run: scan, pick rows, render. Returns the text for stdout.
pub fn run(opts: &LsnsOptions, term_width: Option<usize>) -> Result<String, LsnsError> {
    // `--container=REF` is `-p` with the container's first process.
    let task = match &opts.container {
        Some(reference) => {
            let finder = crate::containers::Finder::default();
            let found =
                crate::containers::resolve(&finder, reference).map_err(LsnsError::Container)?;
            Some(found.pid)
        }
        None => opts.task,
    };
    let filter = opts
        .filter
        .as_deref()
        .map(filter::Expr::parse)
        .transpose()?;
    let kinds: Vec<NsKind> = if opts.kinds.is_empty() {
        NsKind::ALL.to_vec()
    } else {
        NsKind::ALL
            .into_iter()
            .filter(|k| opts.kinds.contains(k))
            .collect()
    };
    let base = if opts.output_all {
        Column::ALL.to_vec()
    } else {
        opts.default_columns()
    };
    let columns = match opts.output.as_deref() {
        Some(list) => columns::parse_output_list(list, &base)?,
        None => base,
    };
    let tree = opts.effective_tree();
    // A thread's ID names that thread, whose namespaces may be its own (a
    // thread can setns or unshare alone), as /proc/TID/ns shows them.
    let thread = match task {
        Some(tid) => {
            let tgid = crate::process::thread_group(tid).ok_or(LsnsError::NoSuchPid(tid))?;
            if tgid != tid {
                tracing::debug!(tid, tgid, "-p names a thread: listing its own namespaces");
            }
            (tgid != tid).then_some((tid, tgid))
        }
        None => None,
    };

    let mut read = columns.clone();
    if let Some(filter) = &filter {
        filter.columns(&mut read);
    }
    let wants = |c: Column| read.contains(&c);
    let only_held = task.is_some() || opts.namespace.is_some();
    let needs = ScanNeeds {
        proc: ProcNeeds {
            uid: wants(Column::Uid) || wants(Column::User),
            stat: wants(Column::Ppid) || tree == Tree::Process,
            fds: !only_held,
            nsfs_dev: if only_held {
                0
            } else {
                scan::procfs::nsfs_dev()
            },
        },
        relations: wants(Column::Pns)
            || wants(Column::Ons)
            || matches!(tree, Tree::Owner | Tree::Parent),
        owner_uid: wants(Column::Uid) || wants(Column::User),
        netnsid: wants(Column::Netnsid),
        thread,
    };
    let scan = scan::scan(&kinds, needs)?;

    let cells = cells::Cells::new(
        &scan,
        opts.no_wrap || opts.format == Format::Raw,
        opts.namespace.is_some(),
    );
    let keep = |row: &Row| {
        filter
            .as_ref()
            .is_none_or(|f| f.matches(&|c| cells.value(row, c)))
    };
    let builder = RowBuilder::new(&scan, tree, &keep);
    let rows = match opts.namespace {
        Some(ino) => {
            let ns = scan
                .namespace_index(ino)
                .ok_or_else(|| LsnsError::NoSuchNamespace {
                    ino,
                    kinds: kinds_label(&opts.kinds),
                })?;
            builder.processes(ns)
        }
        None => {
            // The task's namespaces, by inode: a thread's are in the scan
            // under its own entry, or its process's where they are the same.
            let task_ns = match task {
                Some(tid) => {
                    let index = scan.process_index(tid).ok_or(LsnsError::NoSuchPid(tid))?;
                    Some(scan.processes[index].ns)
                }
                None => None,
            };
            builder.namespaces(&|ns| {
                let namespace = &scan.namespaces[ns];
                task_ns.is_none_or(|t| t[namespace.kind as usize] == namespace.ino)
                    && (!opts.persistent || namespace.procs.is_empty())
            })
        }
    };

    if columns.contains(&Column::Command) {
        cells.prefetch_commands(&rows);
    }
    Ok(match opts.format {
        Format::Json => json(&columns, &rows, &cells),
        Format::Table | Format::Raw => {
            let grid = grid(&columns, &rows, &cells, tree, opts.format == Format::Table);
            if opts.format == Format::Raw {
                render::table::raw(&grid, !opts.no_headings)
            } else {
                render::table::table(&grid, !opts.no_headings, term_width, !opts.no_truncate)
            }
        }
    })
}

fn kinds_label(kinds: &[NsKind]) -> String {
    kinds
        .iter()
        .map(|k| format!("{k} "))
        .collect::<Vec<_>>()
        .join("or ")
}

/// The column that carries the tree drawing.
fn tree_column(tree: Tree) -> Option<Column> {
    match tree {
        Tree::None => None,
        Tree::Process => Some(Column::Command),
        Tree::Owner | Tree::Parent => Some(Column::Ns),
    }
}

fn grid(
    columns: &[Column],
    rows: &[Row],
    cells: &cells::Cells<'_>,
    tree: Tree,
    draw: bool,
) -> Grid {
    let tree_col = tree_column(tree);
    let ascii = !rows::utf8_locale();
    let order = rows::tree_order(rows);
    // A row has children when the next one in print order is deeper.
    let art: Vec<String> = order
        .iter()
        .enumerate()
        .map(|(i, (_, lasts))| {
            let has_children = order.get(i + 1).is_some_and(|(_, n)| n.len() > lasts.len());
            rows::tree_continuation(lasts, has_children, ascii)
        })
        .collect();
    let lines = order
        .into_iter()
        .map(|(r, lasts)| {
            columns
                .iter()
                .map(|&c| {
                    let mut cell = cells.value(&rows[r], c).text();
                    // NSFS uses newlines to put each mount point on a line.
                    if draw && c == Column::Nsfs {
                        cell = cell
                            .split('\n')
                            .map(render::table::escape_controls)
                            .collect::<Vec<_>>()
                            .join("\n");
                    } else if draw {
                        cell = render::table::escape_controls(&cell);
                    }
                    if draw && Some(c) == tree_col {
                        rows::tree_prefix(&lasts, ascii) + &cell
                    } else {
                        cell
                    }
                })
                .collect()
        })
        .collect();
    Grid {
        headers: columns.iter().map(|c| c.name()).collect(),
        // The tree column reads left to right, also when it holds numbers.
        right: columns
            .iter()
            .map(|&c| c.right_aligned() && !(draw && Some(c) == tree_col))
            .collect(),
        hints: columns.iter().map(|c| c.width_hint()).collect(),
        truncate: columns.iter().position(|&c| c == Column::Command),
        lines,
        art: tree_col
            .filter(|_| draw)
            .and_then(|t| columns.iter().position(|&c| c == t))
            .map(|c| (c, art)),
    }
}

fn json(columns: &[Column], rows: &[Row], cells: &cells::Cells<'_>) -> String {
    let mut nodes: Vec<Option<Node>> = rows
        .iter()
        .map(|row| {
            Some(Node {
                values: columns.iter().map(|&c| cells.value(row, c)).collect(),
                children: Vec::new(),
            })
        })
        .collect();
    // Children come after their parent: attach from the end.
    for r in (0..rows.len()).rev() {
        if let Some(parent) = rows[r].parent {
            let node = nodes[r].take().expect("each row is attached once");
            nodes[parent]
                .as_mut()
                .expect("a parent comes before its children")
                .children
                .insert(0, node);
        }
    }
    let roots: Vec<Node> = nodes.into_iter().flatten().collect();
    let keys: Vec<String> = columns.iter().map(|c| c.json_key()).collect();
    render::json::render("namespaces", &keys, &roots)
}

/// `-H/--list-columns`: every column with its type and meaning.
pub fn list_columns(format: Format) -> String {
    let type_name = |c: Column| match c.value_type() {
        ValueType::Number => "<integer>",
        ValueType::String => "<string>",
    };
    match format {
        Format::Json => {
            let keys = ["holder", "type", "description"].map(String::from);
            let nodes: Vec<Node> = Column::ALL
                .into_iter()
                .map(|c| Node {
                    values: vec![
                        Value::String(c.name().into()),
                        Value::String(type_name(c).into()),
                        Value::String(c.help().into()),
                    ],
                    children: Vec::new(),
                })
                .collect();
            render::json::render("lsns-columns", &keys, &nodes)
        }
        Format::Table | Format::Raw => {
            let grid = Grid {
                headers: vec!["HOLDER", "TYPE", "DESCRIPTION"],
                right: vec![true, false, false],
                hints: Vec::new(),
                truncate: None,
                lines: Column::ALL
                    .into_iter()
                    .map(|c| vec![c.name().into(), type_name(c).into(), c.help().into()])
                    .collect(),
                art: None,
            };
            if format == Format::Raw {
                render::table::raw(&grid, false)
            } else {
                render::table::table(&grid, false, None, true)
            }
        }
    }
}
