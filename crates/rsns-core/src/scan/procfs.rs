//! Reading one /proc/PID entry: only the files the asked-for columns need,
//! each relative to one directory descriptor, so the PID is looked up once.

use std::ffi::CStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{OFlag, openat};
use nix::sys::stat::{Mode, fstat};

use super::mountinfo::parse_ns_name;
use crate::ns::NsKind;
use crate::sys;

/// What to read from each process.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcNeeds {
    /// The owner of /proc/PID (UID, USER).
    pub uid: bool,
    /// /proc/PID/stat: the parent PID and the command name.
    pub stat: bool,
    /// /proc/PID/fd: namespaces held by open descriptors.
    pub fds: bool,
    /// The device of nsfs (0: unknown). A descriptor opened through a
    /// bind-mounted namespace file reads as that file's path, not as
    /// `net:[N]`; stat tells it is a namespace by this device.
    pub nsfs_dev: u64,
}

/// The device number of nsfs, where every namespace file lives.
pub fn nsfs_dev() -> u64 {
    nix::sys::stat::stat("/proc/self/ns/user").map_or(0, |st| st.st_dev)
}

/// One process, as far as it was read.
#[derive(Debug, Clone, Default)]
pub struct Process {
    pub pid: i32,
    pub ppid: Option<i32>,
    pub uid: Option<u32>,
    /// The command name from /proc/PID/stat, when it was read.
    pub comm: Option<String>,
    /// The namespace inode of each kind (indexed by `NsKind as usize`); 0 when
    /// not asked for or not readable.
    pub ns: [u64; 8],
}

/// A descriptor of a process that names a namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldFd {
    /// An nsfs file (`/proc/PID/fd/N` opens the namespace itself).
    Namespace { fd: i32, kind: NsKind, ino: u64 },
    /// A socket: its network namespace is asked with SIOCGSKNS.
    Socket { fd: i32 },
}

/// The links in /proc/PID, indexed by `NsKind as usize`.
const NS_LINKS: [&CStr; 8] = [
    c"ns/user",
    c"ns/mnt",
    c"ns/uts",
    c"ns/ipc",
    c"ns/net",
    c"ns/pid",
    c"ns/cgroup",
    c"ns/time",
];

/// What reading a process found.
#[derive(Debug, Default)]
pub struct ProcRead {
    pub process: Process,
    pub fds: Vec<HeldFd>,
    /// Files we were not allowed to read (EACCES), for the debug log.
    pub denied: usize,
}

/// Reads /proc/PID. None when the process is gone (it ended between readdir
/// and now): that is never an error, processes come and go while we scan.
pub fn read_process(
    proc_dir: BorrowedFd<'_>,
    pid: i32,
    kinds: &[NsKind],
    needs: ProcNeeds,
) -> Option<ProcRead> {
    read_task(proc_dir, &pid.to_string(), pid, kinds, needs)
}

/// Reads the task at `path` under /proc (`PID`, or `TGID/task/TID` for a
/// thread with namespaces of its own) as the process `pid`.
pub fn read_task(
    proc_dir: BorrowedFd<'_>,
    path: &str,
    pid: i32,
    kinds: &[NsKind],
    needs: ProcNeeds,
) -> Option<ProcRead> {
    let dir = openat(
        proc_dir,
        path,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let mut read = ProcRead {
        process: Process {
            pid,
            ..Process::default()
        },
        ..ProcRead::default()
    };
    if needs.uid {
        read.process.uid = Some(fstat(dir.as_fd()).ok()?.st_uid);
    }
    if needs.stat {
        let stat = read_small(dir.as_fd(), "stat").ok()?;
        let (comm, ppid) = parse_stat(&stat)?;
        read.process.comm = Some(comm);
        read.process.ppid = Some(ppid);
    }
    let mut found = false;
    let mut link = [0u8; 64];
    for &kind in kinds {
        // readlink is half the price of stat here: the kernel prints the
        // inode number without setting up an nsfs file for it.
        match read_link(dir.as_fd(), NS_LINKS[kind as usize], &mut link) {
            Ok(target) => {
                if let Some((_, ino)) = std::str::from_utf8(target).ok().and_then(parse_ns_name) {
                    read.process.ns[kind as usize] = ino;
                    found = true;
                }
            }
            Err(Errno::EACCES) => read.denied += 1,
            Err(_) => {}
        }
    }
    if !found && read.denied == 0 && !kinds.is_empty() {
        // Every link vanished: the process ended (or is a zombie, which is in
        // no namespace any more).
        return None;
    }
    if needs.fds {
        match held_fds(dir.as_fd(), needs.nsfs_dev) {
            Ok(fds) => read.fds = fds,
            Err(Errno::EACCES) => read.denied += 1,
            Err(_) => {}
        }
    }
    Some(read)
}

/// The descriptors of a process that name a namespace or are sockets.
fn held_fds(dir: BorrowedFd<'_>, nsfs_dev: u64) -> Result<Vec<HeldFd>, Errno> {
    let fd_dir = openat(
        dir,
        "fd",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    let mut held = Vec::new();
    let mut buf = [0u8; 4096];
    let mut link = [0u8; 64];
    loop {
        let len = sys::getdents64(fd_dir.as_fd(), &mut buf)?;
        for name in dirent_names(&buf[..len]) {
            let Some(fd) = std::str::from_utf8(name.to_bytes())
                .ok()
                .and_then(|n| n.parse().ok())
            else {
                continue;
            };
            let Ok(target) = read_link(fd_dir.as_fd(), name, &mut link) else {
                continue;
            };
            if let Some((kind, ino)) = std::str::from_utf8(target).ok().and_then(parse_ns_name) {
                held.push(HeldFd::Namespace { fd, kind, ino });
            } else if target.starts_with(b"socket:[") {
                held.push(HeldFd::Socket { fd });
            } else if target.starts_with(b"/")
                && nsfs_dev != 0
                && let Some((kind, ino)) = namespace_behind(fd_dir.as_fd(), name, nsfs_dev)
            {
                held.push(HeldFd::Namespace { fd, kind, ino });
            }
        }
        // procfs fills the buffer while records fit: room left for a record
        // of the longest name means the listing is complete.
        if len == 0 || len + DIRENT_MAX <= buf.len() {
            break;
        }
    }
    Ok(held)
}

/// A descriptor that shows a path may be a namespace file opened through a
/// bind mount (`ip netns` files, `rs-unshare --net=FILE`), even one mounted
/// only in another mount namespace or unmounted since: stat says nsfs, the
/// nsfs ioctl says which kind.
fn namespace_behind(fd_dir: BorrowedFd<'_>, name: &CStr, nsfs_dev: u64) -> Option<(NsKind, u64)> {
    let st = nix::sys::stat::fstatat(fd_dir, name, nix::fcntl::AtFlags::empty()).ok()?;
    if st.st_dev != nsfs_dev {
        return None;
    }
    let fd = openat(
        fd_dir,
        name,
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let flag = sys::ns_get_nstype(fd.as_fd()).ok()?;
    let kind = NsKind::ALL.into_iter().find(|k| k.clone_flag() == flag)?;
    Some((kind, st.st_ino))
}

/// The largest linux_dirent64 record: header, NAME_MAX bytes and a NUL,
/// aligned to 8.
const DIRENT_MAX: usize = (19 + 255 + 1 + 7) & !7;

/// The names in a buffer of linux_dirent64 records.
fn dirent_names(records: &[u8]) -> impl Iterator<Item = &CStr> {
    let mut at = 0;
    std::iter::from_fn(move || {
        while at + 19 <= records.len() {
            let reclen = usize::from(u16::from_ne_bytes([records[at + 16], records[at + 17]]));
            let record = records.get(at..at + reclen)?;
            at += reclen.max(1);
            if let Ok(name) = CStr::from_bytes_until_nul(record.get(19..)?) {
                return Some(name);
            }
        }
        None
    })
}

/// readlinkat into `buf`; the target's bytes.
fn read_link<'b>(dir: BorrowedFd<'_>, name: &CStr, buf: &'b mut [u8]) -> Result<&'b [u8], Errno> {
    let len = sys::readlinkat(dir, name, buf)?;
    Ok(&buf[..len])
}

/// `PID (COMM) STATE PPID ...`: the command name and the parent PID. COMM may
/// hold spaces and parentheses, so it ends at the last `)`.
pub fn parse_stat(stat: &[u8]) -> Option<(String, i32)> {
    let open = stat.iter().position(|&b| b == b'(')?;
    let close = stat.iter().rposition(|&b| b == b')')?;
    if close < open {
        return None;
    }
    let comm = String::from_utf8_lossy(&stat[open + 1..close]).into_owned();
    let rest = std::str::from_utf8(stat.get(close + 1..)?).ok()?;
    let mut fields = rest.split_ascii_whitespace();
    let _state = fields.next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((comm, ppid))
}

/// The command line of `pid` with its arguments joined by spaces, or its
/// command name when the command line is empty (kernel threads, zombies).
/// None when the process is gone.
pub fn command(pid: i32, comm: Option<&str>) -> Option<String> {
    if let Ok(cmdline) = read_proc_file(&format!("/proc/{pid}/cmdline"), 4096) {
        let trimmed = cmdline.strip_suffix(b"\0").unwrap_or(&cmdline);
        if !trimmed.is_empty() {
            let joined: Vec<u8> = trimmed
                .iter()
                .map(|&b| if b == 0 { b' ' } else { b })
                .collect();
            return Some(crate::text::lossless(&joined));
        }
    }
    if let Some(comm) = comm {
        return Some(crate::text::lossless(comm.as_bytes()));
    }
    let comm = read_proc_file(&format!("/proc/{pid}/comm"), 64).ok()?;
    Some(crate::text::lossless(
        comm.strip_suffix(b"\n").unwrap_or(&comm),
    ))
}

/// Reads a /proc file. procfs hands out all it has up to the size asked, so
/// a short read is the end: no extra read(2) for EOF, no stat for a size.
fn read_proc_file(path: &str, chunk: usize) -> Result<Vec<u8>, Errno> {
    let fd = nix::fcntl::open(path, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())?;
    read_all(fd, chunk)
}

fn read_all(fd: OwnedFd, chunk: usize) -> Result<Vec<u8>, Errno> {
    let mut out = vec![0u8; chunk];
    let mut len = 0;
    loop {
        let n = nix::unistd::read(&fd, &mut out[len..])?;
        len += n;
        if n == 0 || len < out.len() {
            break;
        }
        out.resize(out.len() * 2, 0);
    }
    out.truncate(len);
    Ok(out)
}

fn read_small(dir: BorrowedFd<'_>, name: &str) -> Result<Vec<u8>, Errno> {
    let fd: OwnedFd = openat(dir, name, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())?;
    read_all(fd, 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_spaces_and_parentheses_in_the_name() {
        let line = b"4242 (my (odd) name) S 17 4242 4242 0 -1 4194560 ...";
        assert_eq!(parse_stat(line), Some(("my (odd) name".to_string(), 17)));
        assert_eq!(parse_stat(b"1 (init) S"), None);
        assert_eq!(parse_stat(b"garbage"), None);
        assert_eq!(parse_stat(b"1 )x( S 0"), None);
    }

    #[test]
    fn our_own_entry_reads_back_what_the_kernel_says() {
        let proc_dir = std::fs::File::open("/proc").unwrap();
        let me = std::process::id() as i32;
        let needs = ProcNeeds {
            uid: true,
            stat: true,
            fds: true,
            nsfs_dev: nsfs_dev(),
        };
        let held = std::fs::File::open("/proc/self/ns/uts").unwrap();
        let read = read_process(proc_dir.as_fd(), me, &NsKind::ALL, needs).unwrap();
        assert_eq!(read.process.ppid, Some(nix::unistd::getppid().as_raw()));
        assert_eq!(read.process.uid, Some(nix::unistd::geteuid().as_raw()));
        use std::os::unix::fs::MetadataExt;
        let uts = std::fs::metadata("/proc/self/ns/uts").unwrap().ino();
        assert_eq!(read.process.ns[NsKind::Uts as usize], uts);
        use std::os::fd::AsRawFd;
        let expected = HeldFd::Namespace {
            fd: held.as_raw_fd(),
            kind: NsKind::Uts,
            ino: uts,
        };
        assert!(read.fds.contains(&expected), "{:?}", read.fds);
    }

    #[test]
    fn a_pid_that_does_not_exist_is_gone_not_an_error() {
        let proc_dir = std::fs::File::open("/proc").unwrap();
        assert!(
            read_process(
                proc_dir.as_fd(),
                i32::MAX,
                &NsKind::ALL,
                ProcNeeds::default()
            )
            .is_none()
        );
    }
}
