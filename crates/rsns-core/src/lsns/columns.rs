//! The columns of rs-lsns, with lsns(8)'s names and meanings.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Ns,
    Type,
    Path,
    Nprocs,
    Pid,
    Ppid,
    Command,
    Uid,
    User,
    Netnsid,
    Nsfs,
    Pns,
    Ons,
    Container,
}

/// How a column's values compare in filters and print in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    Number,
    String,
}

impl Column {
    pub const ALL: [Column; 14] = [
        Column::Ns,
        Column::Type,
        Column::Path,
        Column::Nprocs,
        Column::Pid,
        Column::Ppid,
        Column::Command,
        Column::Uid,
        Column::User,
        Column::Netnsid,
        Column::Nsfs,
        Column::Pns,
        Column::Ons,
        Column::Container,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Column::Ns => "NS",
            Column::Type => "TYPE",
            Column::Path => "PATH",
            Column::Nprocs => "NPROCS",
            Column::Pid => "PID",
            Column::Ppid => "PPID",
            Column::Command => "COMMAND",
            Column::Uid => "UID",
            Column::User => "USER",
            Column::Netnsid => "NETNSID",
            Column::Nsfs => "NSFS",
            Column::Pns => "PNS",
            Column::Ons => "ONS",
            Column::Container => "CONTAINER",
        }
    }

    pub fn help(self) -> &'static str {
        match self {
            Column::Ns => "namespace identifier (inode number)",
            Column::Type => "kind of namespace",
            Column::Path => "path to the namespace",
            Column::Nprocs => "number of processes in the namespace",
            Column::Pid => "lowest PID in the namespace",
            Column::Ppid => "PPID of the PID",
            Column::Command => "command line of the PID",
            Column::Uid => "UID of the PID",
            Column::User => "username of the PID",
            Column::Netnsid => "namespace ID as used by network subsystem",
            Column::Nsfs => "nsfs mountpoint (usually used network subsystem)",
            Column::Pns => "parent namespace identifier (inode number)",
            Column::Ons => "owner namespace identifier (inode number)",
            Column::Container => "engine and name (or short ID) of the container the PID is in",
        }
    }

    pub fn value_type(self) -> ValueType {
        match self {
            Column::Ns
            | Column::Nprocs
            | Column::Pid
            | Column::Ppid
            | Column::Uid
            | Column::Pns
            | Column::Ons => ValueType::Number,
            _ => ValueType::String,
        }
    }

    /// lsns(8)'s width hint (see `render::table::Grid::hints`).
    pub fn width_hint(self) -> usize {
        match self {
            Column::Ns => 10,
            Column::Type | Column::Nprocs | Column::Pid | Column::Ppid => 5,
            _ => 0,
        }
    }

    /// Numbers line up on the right, as in lsns(8).
    pub fn right_aligned(self) -> bool {
        self.value_type() == ValueType::Number || self == Column::Netnsid
    }

    /// The key in JSON output.
    pub fn json_key(self) -> String {
        self.name().to_ascii_lowercase()
    }

    /// A column name in any case, as lsns(8) accepts it.
    pub fn from_name(name: &str) -> Option<Column> {
        Column::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A column list that names something other than our columns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnknownColumn {
    #[error("unknown column: '{0}' (see --list-columns)")]
    Name(String),
    /// `-o ''`, `-o NS,` or `-o NS,,TYPE`: lsns(8) refuses them too.
    #[error("-o '{0}': a column name is missing (see --list-columns)")]
    Empty(String),
}

/// `-o LIST`: replaces `defaults`; `-o +LIST` appends to them.
pub fn parse_output_list(list: &str, defaults: &[Column]) -> Result<Vec<Column>, UnknownColumn> {
    let (mut columns, names) = match list.strip_prefix('+') {
        Some(rest) => (defaults.to_vec(), rest),
        None => (Vec::new(), list),
    };
    for name in names.split(',') {
        if name.is_empty() {
            return Err(UnknownColumn::Empty(list.to_string()));
        }
        columns.push(Column::from_name(name).ok_or_else(|| UnknownColumn::Name(name.to_string()))?);
    }
    Ok(columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_lists_replace_or_append() {
        let defaults = [Column::Ns, Column::Type];
        assert_eq!(
            parse_output_list("pid,COMMAND", &defaults),
            Ok(vec![Column::Pid, Column::Command])
        );
        assert_eq!(
            parse_output_list("+PATH", &defaults),
            Ok(vec![Column::Ns, Column::Type, Column::Path])
        );
        assert_eq!(
            parse_output_list("NS,BOGUS", &defaults),
            Err(UnknownColumn::Name("BOGUS".into()))
        );
        for empty in ["", "+", "NS,", ",NS", "NS,,TYPE"] {
            assert_eq!(
                parse_output_list(empty, &defaults),
                Err(UnknownColumn::Empty(empty.into()))
            );
        }
    }

    #[test]
    fn every_name_round_trips() {
        for column in Column::ALL {
            assert_eq!(Column::from_name(&column.json_key()), Some(column));
        }
    }
}
