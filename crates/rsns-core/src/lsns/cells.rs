//! The value of each cell, computed when first asked (a command line is read
//! only for the processes actually shown).

use std::cell::RefCell;
use std::collections::HashMap;

use super::columns::Column;
use super::filter::Value;
use super::rows::Row;
use crate::ns::NsKind;
use crate::scan::{Scan, procfs};
use crate::text::lossless;

fn lossless_path(p: &std::path::Path) -> String {
    lossless(std::os::unix::ffi::OsStrExt::as_bytes(p.as_os_str()))
}

#[derive(Debug)]
pub struct Cells<'a> {
    scan: &'a Scan,
    /// NSFS paths joined by newlines (table) or commas (--nowrap, raw).
    nsfs_separator: &'static str,
    /// Listing the processes of one namespace: PATH names each process's link.
    per_process_path: bool,
    commands: RefCell<HashMap<usize, Option<String>>>,
    users: RefCell<crate::userdb::UserNames>,
    /// CONTAINER: what runs, found at the first cell asked for (a read of
    /// every process's cgroup), and each container's label by engine and ID.
    containers: RefCell<Option<Containers>>,
}

#[derive(Debug)]
struct Containers {
    finder: crate::containers::Finder,
    all: Vec<crate::containers::Container>,
}

impl<'a> Cells<'a> {
    pub fn new(scan: &'a Scan, nowrap: bool, per_process_path: bool) -> Cells<'a> {
        Cells {
            scan,
            nsfs_separator: if nowrap { "," } else { "\n" },
            per_process_path,
            commands: RefCell::new(HashMap::new()),
            users: RefCell::new(crate::userdb::UserNames::new()),
            containers: RefCell::new(None),
        }
    }

    pub fn value(&self, row: &Row, column: Column) -> Value {
        let ns = &self.scan.namespaces[row.ns];
        let proc = row.proc.map(|p| &self.scan.processes[p]);
        let number = |n: Option<u64>| n.map_or(Value::Empty, |n| Value::Number(n as f64));
        let text = |s: Option<String>| s.map_or(Value::Empty, Value::String);
        let uid = proc.and_then(|p| p.uid).or(ns.owner_uid);
        match column {
            Column::Ns => number(Some(ns.ino)),
            Column::Type => Value::String(ns.kind.proc_name().to_string()),
            Column::Path => match (self.per_process_path, proc) {
                (true, Some(p)) => Value::String(format!("/proc/{}/ns/{}", p.pid, ns.kind)),
                _ => text(ns.path(&self.scan.processes).map(|p| lossless_path(&p))),
            },
            Column::Nprocs => number(Some(ns.procs.len() as u64)),
            Column::Pid => number(proc.map(|p| p.pid as u64)),
            Column::Ppid => number(proc.and_then(|p| p.ppid).map(|p| p as u64)),
            Column::Command => text(row.proc.and_then(|p| self.command(p))),
            Column::Uid => number(uid.map(u64::from)),
            Column::User => text(uid.map(|u| self.user(u))),
            Column::Netnsid => match ns.kind {
                NsKind::Net => text(ns.netnsid.map(|id| id.to_string())),
                _ => Value::Empty,
            },
            Column::Nsfs => text(self.scan.nsfs.get(&ns.ino).map(|paths| {
                let shown: Vec<String> = paths
                    .iter()
                    .map(|p| crate::text::lossless_line(p.as_os_str().as_encoded_bytes()))
                    .collect();
                shown.join(self.nsfs_separator)
            })),
            Column::Pns => number(Some(ns.parent)),
            Column::Ons => number(Some(ns.owner)),
            Column::Container => text(proc.and_then(|p| self.container(p.pid))),
        }
    }

    /// Reads the command lines of the rows' processes at once (in parallel
    /// on a big table) instead of one by one as cells are drawn.
    pub fn prefetch_commands(&self, rows: &[Row]) {
        let mut wanted: Vec<usize> = rows.iter().filter_map(|r| r.proc).collect();
        wanted.sort_unstable();
        wanted.dedup();
        wanted.retain(|p| !self.commands.borrow().contains_key(p));
        let read = crate::scan::parallel::filter_map(&wanted, |&p| {
            let process = &self.scan.processes[p];
            Some((p, procfs::command(process.pid, process.comm.as_deref())))
        });
        self.commands
            .borrow_mut()
            .extend(read.into_iter().flatten());
    }

    fn command(&self, p: usize) -> Option<String> {
        self.commands
            .borrow_mut()
            .entry(p)
            .or_insert_with(|| {
                let process = &self.scan.processes[p];
                procfs::command(process.pid, process.comm.as_deref())
            })
            .clone()
    }

    /// `ENGINE:NAME` of the container process `pid` is in; None for the
    /// host's.
    fn container(&self, pid: i32) -> Option<String> {
        let mut cache = self.containers.borrow_mut();
        let known = cache.get_or_insert_with(|| {
            let finder = crate::containers::Finder::default();
            let all = finder.all();
            Containers { finder, all }
        });
        known.finder.label_of(pid, &known.all)
    }

    /// The user name, or the number when the uid has none (as lsns(8));
    /// never through glibc's NSS (see [`crate::userdb`]).
    fn user(&self, uid: u32) -> String {
        self.users
            .borrow_mut()
            .name(uid)
            .map_or_else(|| uid.to_string(), |name| lossless(name.as_bytes()))
    }
}
