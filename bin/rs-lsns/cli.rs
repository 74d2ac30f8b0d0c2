//! rs-lsns's command line, spelled as lsns(8) (util-linux 2.40) spells it.

use std::ffi::OsString;

use clap::{ArgAction, Parser};
use rsns_core::lsns::options::{Format, LsnsOptions, Tree};
use rsns_core::ns::NsKind;

const EXAMPLES: &str = "\
Examples:
  rs-lsns -t net                                     network namespaces, their ids and files
  rs-lsns -Q 'TYPE == \"net\" && NPROCS == 0'          namespaces kept alive without a process
  rs-lsns -J -p $$ | jq -r '.namespaces[].ns'        the namespaces of this shell, for a script

Exit status: 0 on success, 1 on error.
Documentation: docs/rs-lsns.md";

#[derive(Parser, Debug)]
#[command(
    name = "rs-lsns",
    version,
    about = "List namespaces: held by processes, bind mounts or open descriptors",
    after_help = EXAMPLES,
    args_override_self = true
)]
pub struct Cli {
    /// Use JSON output format
    #[arg(short = 'J', long = "json", conflicts_with = "raw")]
    pub json: bool,
    /// Use list format output (no tree)
    #[arg(short = 'l', long = "list", conflicts_with = "tree")]
    pub list: bool,
    /// Don't print headings
    #[arg(short = 'n', long = "noheadings")]
    pub noheadings: bool,
    /// Output columns (see -H); +LIST appends to the default ones
    #[arg(short = 'o', long = "output", value_name = "LIST")]
    pub output: Option<String>,
    /// Output all columns
    #[arg(long = "output-all")]
    pub output_all: bool,
    /// Only namespaces without processes (kept by a bind mount or a descriptor)
    #[arg(short = 'P', long = "persistent", conflicts_with = "task")]
    pub persistent: bool,
    /// Only the namespaces of process PID
    #[arg(short = 'p', long = "task", value_name = "PID")]
    pub task: Option<i32>,
    /// Only the namespaces of container REF's first process (an ID, a unique ID prefix, or a
    /// name as podman, docker, containerd or CRI-O shows it): -p with that PID
    #[arg(long = "container", value_name = "REF", conflicts_with_all = ["task", "persistent", "namespace"])]
    pub container: Option<String>,
    /// Only rows for which EXPR is true, e.g. 'TYPE == "net" && NPROCS > 1'
    #[arg(short = 'Q', long = "filter", value_name = "EXPR")]
    pub filter: Option<String>,
    /// Use the raw output format
    #[arg(short = 'r', long = "raw")]
    pub raw: bool,
    /// Don't truncate text in columns
    #[arg(short = 'u', long = "notruncate")]
    pub notruncate: bool,
    /// Don't use multi-line cells (NSFS paths joined by commas)
    #[arg(short = 'W', long = "nowrap")]
    pub nowrap: bool,
    /// Namespace type: mnt, net, ipc, user, pid, uts, cgroup, time (repeatable)
    #[arg(short = 't', long = "type", value_name = "TYPE", value_parser = parse_kind, action = ArgAction::Append)]
    pub types: Vec<NsKind>,
    /// Tree format: by owner (default), parent or process
    #[arg(
        short = 'T',
        long = "tree",
        value_name = "REL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "owner",
        value_parser = parse_tree
    )]
    pub tree: Option<Tree>,
    /// List the available columns (with -J or -r: machine-readable)
    #[arg(short = 'H', long = "list-columns")]
    pub list_columns: bool,
    /// Log what is scanned on stderr (-vv: more)
    #[arg(short = 'v', long = "verbose", action = ArgAction::Count)]
    pub verbose: u8,
    /// List the processes in this namespace (an inode number)
    #[arg(value_name = "NAMESPACE", value_parser = parse_inode, conflicts_with = "task")]
    pub namespace: Option<u64>,
}

fn parse_kind(name: &str) -> Result<NsKind, String> {
    NsKind::from_proc_name(name).ok_or_else(|| {
        format!("unknown namespace type '{name}' (mnt, net, ipc, user, pid, uts, cgroup, time)")
    })
}

fn parse_tree(name: &str) -> Result<Tree, String> {
    match name {
        "owner" => Ok(Tree::Owner),
        "parent" => Ok(Tree::Parent),
        "process" => Ok(Tree::Process),
        _ => Err(format!(
            "unknown tree type '{name}' (owner, parent, process)"
        )),
    }
}

fn parse_inode(text: &str) -> Result<u64, String> {
    text.parse()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("not a namespace inode: '{text}'"))
}

/// `-Tparent` as lsns(8) spells it becomes `--tree=parent`.
pub fn expand_tree(args: Vec<OsString>) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut rest = args.into_iter();
    for arg in rest.by_ref() {
        if arg == "--" {
            out.push(arg);
            break;
        }
        match arg.to_str().and_then(|a| a.strip_prefix("-T")) {
            Some(rel) if !rel.is_empty() => {
                let rel = rel.strip_prefix('=').unwrap_or(rel);
                out.push(OsString::from(format!("--tree={rel}")));
            }
            _ => out.push(arg),
        }
    }
    out.extend(rest);
    out
}

impl Cli {
    pub fn into_options(self) -> LsnsOptions {
        let format = if self.json {
            Format::Json
        } else if self.raw {
            Format::Raw
        } else {
            Format::Table
        };
        LsnsOptions {
            kinds: self.types,
            output: self.output,
            output_all: self.output_all,
            format,
            list: self.list,
            tree: self.tree,
            no_headings: self.noheadings,
            no_truncate: self.notruncate,
            no_wrap: self.nowrap,
            task: self.task,
            container: self.container,
            persistent: self.persistent,
            namespace: self.namespace,
            filter: self.filter,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        let args = expand_tree(args.iter().map(OsString::from).collect());
        Cli::try_parse_from(args)
    }

    #[test]
    fn the_command_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn tree_spellings() {
        assert_eq!(parse(&["rs-lsns", "-T"]).unwrap().tree, Some(Tree::Owner));
        assert_eq!(
            parse(&["rs-lsns", "-Tparent"]).unwrap().tree,
            Some(Tree::Parent)
        );
        assert_eq!(
            parse(&["rs-lsns", "--tree=process"]).unwrap().tree,
            Some(Tree::Process)
        );
        let cli = parse(&["rs-lsns", "-T", "4026531835"]).unwrap();
        assert_eq!(
            (cli.tree, cli.namespace),
            (Some(Tree::Owner), Some(4026531835))
        );
        assert!(parse(&["rs-lsns", "-Tbogus"]).is_err());
    }

    #[test]
    fn types_repeat_and_conflicts_are_refused() {
        let cli = parse(&["rs-lsns", "-t", "net", "--type=uts"]).unwrap();
        assert_eq!(cli.types, vec![NsKind::Net, NsKind::Uts]);
        assert!(parse(&["rs-lsns", "-t", "bogus"]).is_err());
        assert!(parse(&["rs-lsns", "-J", "-r"]).is_err());
        assert!(parse(&["rs-lsns", "-l", "-T"]).is_err());
        assert!(parse(&["rs-lsns", "-P", "-p", "1"]).is_err());
        assert!(parse(&["rs-lsns", "-p", "abc"]).is_err());
    }
}
