//! What rs-lsns was asked, already checked by the command line.

use super::columns::Column;
use crate::ns::NsKind;

/// `-T/--tree[=owner|parent|process]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tree {
    #[default]
    None,
    Process,
    Owner,
    Parent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    Raw,
    Json,
}

#[derive(Debug, Default)]
pub struct LsnsOptions {
    /// `-t`: the kinds to list; empty means all.
    pub kinds: Vec<NsKind>,
    /// `-o LIST` (`+LIST` appends to the defaults).
    pub output: Option<String>,
    /// `--output-all`.
    pub output_all: bool,
    pub format: Format,
    /// `-l`: a flat list even where lsns(8) draws a process tree.
    pub list: bool,
    pub tree: Option<Tree>,
    pub no_headings: bool,
    pub no_truncate: bool,
    pub no_wrap: bool,
    /// `-p PID`: only the namespaces of this process.
    pub task: Option<i32>,
    /// `--container=REF`: `-p` with the container's first process.
    pub container: Option<String>,
    /// `-P`: only namespaces no process is in.
    pub persistent: bool,
    /// The positional inode: list the processes in this namespace.
    pub namespace: Option<u64>,
    /// `-Q EXPR`, parsed when the run starts.
    pub filter: Option<String>,
}

impl LsnsOptions {
    /// The columns lsns(8) shows by default.
    pub fn default_columns(&self) -> Vec<Column> {
        if self.namespace.is_some() {
            return vec![Column::Pid, Column::Ppid, Column::User, Column::Command];
        }
        let mut columns = vec![
            Column::Ns,
            Column::Type,
            Column::Nprocs,
            Column::Pid,
            Column::User,
        ];
        if self.kinds.contains(&NsKind::Net) {
            columns.extend([Column::Netnsid, Column::Nsfs]);
        }
        columns.push(Column::Command);
        columns
    }

    /// The tree mode in effect: lsns(8) draws the process tree unless -l, -T
    /// or --output-all says otherwise.
    pub fn effective_tree(&self) -> Tree {
        match self.tree {
            Some(tree) => tree,
            None if self.list || self.output_all => Tree::None,
            None => Tree::Process,
        }
    }
}
