//! Reading one /proc/PID entry: only the files the asked-for columns need,
//! each relative to one directory descriptor, so the PID is looked up once.

use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, openat, readlinkat};
use nix::sys::stat::{Mode, fstat, fstatat};

use super::mountinfo::parse_ns_name;
use crate::ns::NsKind;

/// What to read from each process.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcNeeds {
    /// The owner of /proc/PID (UID, USER).
    pub uid: bool,
    /// /proc/PID/stat: the parent PID and the command name.
    pub stat: bool,
    /// /proc/PID/fd: namespaces held by open descriptors.
    pub fds: bool,
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
    let dir = openat(
        proc_dir,
        pid.to_string().as_str(),
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
    for &kind in kinds {
        let name = format!("ns/{}", kind.proc_name());
        match fstatat(dir.as_fd(), name.as_str(), AtFlags::empty()) {
            Ok(st) => {
                read.process.ns[kind as usize] = st.st_ino;
                found = true;
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
        match held_fds(dir.as_fd()) {
            Ok(fds) => read.fds = fds,
            Err(Errno::EACCES) => read.denied += 1,
            Err(_) => {}
        }
    }
    Some(read)
}

/// The descriptors of a process that name a namespace or are sockets.
fn held_fds(dir: BorrowedFd<'_>) -> Result<Vec<HeldFd>, Errno> {
    let mut fd_dir = Dir::openat(
        dir,
        "fd",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    // Names first: the directory is borrowed while iterating.
    let names: Vec<std::ffi::CString> = fd_dir
        .iter()
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_owned())
        .collect();
    let mut held = Vec::new();
    for name in names {
        let Some(fd) = name.to_str().ok().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(target) = readlinkat(fd_dir.as_fd(), name.as_c_str()) else {
            continue;
        };
        let target = target.to_string_lossy();
        if let Some((kind, ino)) = parse_ns_name(&target) {
            held.push(HeldFd::Namespace { fd, kind, ino });
        } else if target.starts_with("socket:[") {
            held.push(HeldFd::Socket { fd });
        }
    }
    Ok(held)
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
    if let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) {
        let trimmed = cmdline.strip_suffix(b"\0").unwrap_or(&cmdline);
        if !trimmed.is_empty() {
            let joined: Vec<u8> = trimmed
                .iter()
                .map(|&b| if b == 0 { b' ' } else { b })
                .collect();
            return Some(String::from_utf8_lossy(&joined).into_owned());
        }
    }
    if let Some(comm) = comm {
        return Some(comm.to_string());
    }
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(comm.trim_end_matches('\n').to_string())
}

fn read_small(dir: BorrowedFd<'_>, name: &str) -> Result<Vec<u8>, Errno> {
    let fd: OwnedFd = openat(dir, name, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())?;
    let mut file = std::fs::File::from(fd);
    let mut buf = Vec::with_capacity(512);
    file.read_to_end(&mut buf)
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))?;
    Ok(buf)
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
