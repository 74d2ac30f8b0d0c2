//! The namespace table behind rs-lsns: every namespace reachable from /proc
//! (processes, their open descriptors), from nsfs bind mounts, and from the
//! parents and owners the nsfs ioctls name.
//!
//! Built to stay linear in the number of processes: each /proc/PID is opened
//! once and read only for what the caller asked; namespaces are grouped by
//! inode in a hash map.

pub mod mountinfo;
pub mod netnsid;
pub mod parallel;
pub mod procfs;
mod relations;

use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

use nix::errno::Errno;

use crate::error::{SysError, io_errno};
use crate::ns::NsKind;
pub use netnsid::NetNsId;
pub use procfs::{HeldFd, ProcNeeds, Process};

/// What the caller wants to know; everything else is not read.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScanNeeds {
    pub proc: ProcNeeds,
    /// PNS and ONS (and the namespaces only they lead to).
    pub relations: bool,
    /// The owner uid of namespaces no process is in (USER, UID).
    pub owner_uid: bool,
    pub netnsid: bool,
    /// A thread (TID, and its process's PID) to read as if it were a
    /// process where its namespaces are not its process's (`-p TID`).
    pub thread: Option<(i32, i32)>,
}

/// How a namespace was found, which is also how to open it again.
#[derive(Debug)]
pub enum Holder {
    /// Processes are in it: /proc/PID/ns/KIND of the lowest PID.
    Process,
    /// An nsfs bind mount.
    Mount(PathBuf),
    /// An open descriptor of a process: /proc/PID/fd/FD.
    Fd { pid: i32, fd: i32 },
    /// Reached only through an ioctl (a parent or owner, or the network
    /// namespace of a socket); we keep the descriptor the kernel gave us.
    Ghost(OwnedFd),
}

/// One namespace and what is known about it.
#[derive(Debug)]
pub struct Namespace {
    pub ino: u64,
    pub kind: NsKind,
    /// Indices into [`Scan::processes`], in ascending PID order.
    pub procs: Vec<usize>,
    pub holder: Holder,
    /// The parent namespace (PID and user namespaces), 0 when none is visible.
    pub parent: u64,
    /// The user namespace that owns it (for a user namespace: its parent).
    pub owner: u64,
    /// The uid that owns its user namespace, for namespaces no process is in.
    pub owner_uid: Option<u32>,
    pub netnsid: Option<NetNsId>,
}

impl Namespace {
    fn new(ino: u64, kind: NsKind, holder: Holder) -> Namespace {
        Namespace {
            ino,
            kind,
            procs: Vec::new(),
            holder,
            parent: 0,
            owner: 0,
            owner_uid: None,
            netnsid: None,
        }
    }

    /// A path that names this namespace, if there is one.
    pub fn path(&self, processes: &[Process]) -> Option<PathBuf> {
        match &self.holder {
            Holder::Process => self.procs.first().map(|&i| {
                format!("/proc/{}/ns/{}", processes[i].pid, self.kind.proc_name()).into()
            }),
            Holder::Mount(path) => Some(path.clone()),
            Holder::Fd { pid, fd } => Some(format!("/proc/{pid}/fd/{fd}").into()),
            Holder::Ghost(_) => None,
        }
    }

    /// Opens the namespace (read-only, close-on-exec).
    fn open(&self, processes: &[Process]) -> Result<OwnedFd, Errno> {
        match &self.holder {
            Holder::Ghost(fd) => fd.try_clone().map_err(|_| Errno::EMFILE),
            _ => {
                let path = self.path(processes).ok_or(Errno::ENOENT)?;
                let fd = nix::fcntl::open(
                    path.as_path(),
                    nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
                    nix::sys::stat::Mode::empty(),
                )?;
                // The PID may have been reused, or the mount replaced: only
                // the same inode is the same namespace.
                if nix::sys::stat::fstat(fd.as_fd())?.st_ino != self.ino {
                    return Err(Errno::ESRCH);
                }
                Ok(fd)
            }
        }
    }
}

/// Everything one scan found.
#[derive(Debug, Default)]
pub struct Scan {
    /// In ascending PID order.
    pub processes: Vec<Process>,
    /// In ascending inode order.
    pub namespaces: Vec<Namespace>,
    /// nsfs mount points by namespace inode (the NSFS column).
    pub nsfs: HashMap<u64, Vec<PathBuf>>,
    /// How many /proc files we were not allowed to read.
    pub denied: usize,
}

impl Scan {
    /// The position of a process in [`Scan::processes`].
    pub fn process_index(&self, pid: i32) -> Option<usize> {
        self.processes.binary_search_by_key(&pid, |p| p.pid).ok()
    }

    /// The position of the namespace with this inode in [`Scan::namespaces`].
    pub fn namespace_index(&self, ino: u64) -> Option<usize> {
        self.namespaces.binary_search_by_key(&ino, |n| n.ino).ok()
    }
}

/// Scans the machine for namespaces of `kinds`.
pub fn scan(kinds: &[NsKind], needs: ScanNeeds) -> Result<Scan, SysError> {
    let proc_dir =
        std::fs::File::open("/proc").map_err(|e| SysError::new("open /proc", io_errno(&e)))?;
    let mut scan = Scan::default();
    let mut held = Vec::new();
    let pids: Vec<i32> = std::fs::read_dir("/proc")
        .map_err(|e| SysError::new("read /proc", io_errno(&e)))?
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    let dir = proc_dir.as_fd();
    let reads = parallel::filter_map(&pids, |&pid| {
        let read = procfs::read_process(dir, pid, kinds, needs.proc);
        if read.is_none() {
            tracing::trace!(pid, "process gone while scanning");
        }
        read
    });
    scan.processes.reserve_exact(pids.len());
    for read in reads.into_iter().flatten() {
        scan.denied += read.denied;
        let pid = read.process.pid;
        held.extend(read.fds.into_iter().map(|fd| (pid, fd)));
        scan.processes.push(read.process);
    }
    // The thread counts where its process is not: in a namespace it
    // entered alone, it is the one holder of its own.
    let mut thread_alone = [false; 8];
    if let Some((tid, tgid)) = needs.thread
        && let Some(read) =
            procfs::read_task(dir, &format!("{tgid}/task/{tid}"), tid, kinds, needs.proc)
        && !scan.processes.iter().any(|p| p.pid == tid)
    {
        let process = scan.processes.iter().find(|p| p.pid == tgid);
        for &kind in kinds {
            let k = kind as usize;
            thread_alone[k] = process.is_none_or(|p| p.ns[k] != read.process.ns[k]);
        }
        scan.processes.push(read.process);
    }
    scan.processes.sort_unstable_by_key(|p| p.pid);
    if scan.denied > 0 {
        tracing::debug!(denied = scan.denied, "skipped /proc files we may not read");
    }

    let mut index: HashMap<u64, usize> = HashMap::with_capacity(scan.processes.len() * 2);
    for (i, process) in scan.processes.iter().enumerate() {
        let thread = needs.thread.is_some_and(|(tid, _)| tid == process.pid);
        for &kind in kinds {
            let ino = process.ns[kind as usize];
            if ino == 0 || (thread && !thread_alone[kind as usize]) {
                continue;
            }
            let at = *index.entry(ino).or_insert_with(|| {
                scan.namespaces
                    .push(Namespace::new(ino, kind, Holder::Process));
                scan.namespaces.len() - 1
            });
            scan.namespaces[at].procs.push(i);
        }
    }

    let mut table = Table {
        scan: &mut scan,
        index,
        kinds,
    };
    table.add_mounts()?;
    table.add_held(&held);
    if needs.relations {
        relations::follow(&mut table, 0);
    } else {
        // Namespaces no process is in are few: always show what owns them.
        let first_unheld = table
            .scan
            .namespaces
            .iter()
            .position(|n| n.procs.is_empty());
        if let Some(first) = first_unheld {
            relations::follow(&mut table, first);
        }
    }
    if needs.owner_uid {
        relations::owner_uids(&mut table);
    }
    if needs.netnsid {
        add_netnsids(&mut scan);
    }
    scan.namespaces.sort_unstable_by_key(|n| n.ino);
    Ok(scan)
}

/// The scan under construction, with its inode index.
struct Table<'a> {
    scan: &'a mut Scan,
    index: HashMap<u64, usize>,
    kinds: &'a [NsKind],
}

impl Table<'_> {
    fn wanted(&self, kind: NsKind) -> bool {
        self.kinds.contains(&kind)
    }

    /// Adds a namespace no process is in, unless it is known or not asked for.
    /// Returns its index when it was added.
    fn add_unheld(&mut self, ino: u64, kind: NsKind, holder: Holder) -> Option<usize> {
        if ino == 0 || !self.wanted(kind) || self.index.contains_key(&ino) {
            return None;
        }
        self.scan.namespaces.push(Namespace::new(ino, kind, holder));
        let at = self.scan.namespaces.len() - 1;
        self.index.insert(ino, at);
        Some(at)
    }

    fn add_mounts(&mut self) -> Result<(), SysError> {
        let text = crate::mountinfo::read_own()
            .map_err(|e| SysError::new("read /proc/self/mountinfo", io_errno(&e)))?;
        for mount in mountinfo::nsfs_mounts(&text) {
            let paths = self.scan.nsfs.entry(mount.ino).or_default();
            if !paths.contains(&mount.path) {
                paths.push(mount.path.clone());
            }
            self.add_unheld(mount.ino, mount.kind, Holder::Mount(mount.path));
        }
        Ok(())
    }

    fn add_held(&mut self, held: &[(i32, HeldFd)]) {
        for &(pid, fd) in held {
            match fd {
                HeldFd::Namespace { fd, kind, ino } => {
                    self.add_unheld(ino, kind, Holder::Fd { pid, fd });
                }
                HeldFd::Socket { fd } if self.wanted(NsKind::Net) => {
                    if let Some((ino, ns)) = relations::socket_netns(pid, fd) {
                        self.add_unheld(ino, NsKind::Net, Holder::Ghost(ns));
                    }
                }
                HeldFd::Socket { .. } => {}
            }
        }
    }
}

fn add_netnsids(scan: &mut Scan) {
    let mut ids = match netnsid::NetNsIds::open() {
        Ok(ids) => ids,
        Err(errno) => {
            tracing::debug!(?errno, "no netlink socket: NETNSID stays empty");
            return;
        }
    };
    for at in 0..scan.namespaces.len() {
        if scan.namespaces[at].kind != NsKind::Net {
            continue;
        }
        let Ok(fd) = scan.namespaces[at].open(&scan.processes) else {
            continue;
        };
        match ids.lookup(fd.as_fd()) {
            Ok(id) => scan.namespaces[at].netnsid = Some(id),
            Err(errno) => tracing::debug!(ino = scan.namespaces[at].ino, ?errno, "RTM_GETNSID"),
        }
    }
}
