//! A running process to join, named without the PID-reuse race.
//!
//! A pidfd is opened first: it names one process for as long as we hold it.
//! `PID:INODE` (the pidfd's inode, unique per process on Linux 6.9+) refuses a
//! PID that now belongs to another process. /proc/PID is opened after the
//! pidfd and checked against it (the pidfd's process was still alive after
//! the open), so everything read through that directory (ns/*, root, cwd,
//! environ, status) is the target's, not a newcomer's with a recycled PID.

use std::ffi::CString;
use std::fmt;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::str::FromStr;

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, openat};
use nix::sys::stat::{Mode, fstatat};
use nix::unistd::Pid;

use crate::error::{errno_text, io_errno};
use crate::ns::NsKind;
use crate::sys;

/// `PID` or `PID:INODE` as given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetSpec {
    pub pid: i32,
    /// The inode of a pidfd for the process, when given.
    pub inode: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a PID (a positive number), nor PID:INODE")]
pub struct BadTargetSpec(pub String);

impl FromStr for TargetSpec {
    type Err = BadTargetSpec;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadTargetSpec(text.to_string());
        let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let (pid, inode) = match text.split_once(':') {
            Some((pid, inode)) if numeric(inode) => (pid, Some(inode.parse().map_err(|_| bad())?)),
            Some(_) => return Err(bad()),
            None => (text, None),
        };
        if !numeric(pid) {
            return Err(bad());
        }
        match pid.parse::<i32>() {
            Ok(pid) if pid > 0 => Ok(TargetSpec { pid, inode }),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for TargetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inode {
            Some(inode) => write!(f, "{}:{inode}", self.pid),
            None => write!(f, "{}", self.pid),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("no process with PID {0}")]
    NoSuchProcess(i32),
    #[error(
        "PID {pid} is another process now (its pidfd inode is {found}, not {wanted}); the one you meant has exited"
    )]
    Reused { pid: i32, wanted: u64, found: u64 },
    #[error("PID {0} exited while we were joining it")]
    Exited(i32),
    #[error("/proc is not mounted here, and joining a process needs it (mount -t proc proc /proc)")]
    NoProc,
    /// Before pidfs (Linux 6.9) every pidfd shares one inode: INODE would
    /// match any process, so it is refused rather than trusted.
    #[error(
        "-t {0}:INODE needs Linux 6.9 or later (pidfs), where a pidfd's inode names one process; \
         this kernel gives every pidfd the same inode, so it cannot tell a reused PID (use -t {0})"
    )]
    NoPidfs(i32),
    #[error("cannot open {what} of PID {pid}: {}", errno_text(*errno))]
    Proc {
        what: String,
        pid: i32,
        errno: Errno,
    },
}

/// Whether this pidfd lives on pidfs (Linux 6.9+), where its inode is the
/// process's own; before, pidfds were anonymous inodes, one for all.
fn pidfd_has_own_inode(pidfd: &OwnedFd) -> bool {
    const PID_FS_MAGIC: libc::c_long = 0x5049_4446;
    nix::sys::statfs::fstatfs(pidfd)
        .is_ok_and(|fs| fs.filesystem_type().0 as libc::c_long == PID_FS_MAGIC)
}

/// A process (or one thread of it) held by a pidfd, with its checked /proc
/// directory.
#[derive(Debug)]
pub struct Target {
    pub pid: Pid,
    pub pidfd: OwnedFd,
    /// Whether setns(pidfd) enters this task's namespaces: not so for a
    /// thread on a kernel without PIDFD_THREAD (before 6.9), where the pidfd
    /// is its process's and the namespaces come from the thread's /proc
    /// files instead.
    pub setns_by_pidfd: bool,
    proc_dir: OwnedFd,
}

impl Target {
    pub fn open(spec: TargetSpec) -> Result<Target, TargetError> {
        let pid = Pid::from_raw(spec.pid);
        let pidfd_error = |errno| match errno {
            Errno::ESRCH => TargetError::NoSuchProcess(spec.pid),
            errno => TargetError::Proc {
                what: "a pidfd".into(),
                pid: spec.pid,
                errno,
            },
        };
        // A thread's ID is not a process's: pidfd_open refuses it (ENOENT,
        // or EINVAL before 6.9). Its namespaces may be its own.
        let (pidfd, thread_of, setns_by_pidfd) = match sys::pidfd_open(pid) {
            Ok(fd) => (fd, None, true),
            Err(errno @ (Errno::ENOENT | Errno::EINVAL)) => {
                match crate::process::thread_group(spec.pid).filter(|&g| g != spec.pid) {
                    Some(tgid) => {
                        let (fd, own) = Self::thread_pidfd(pid, tgid).map_err(pidfd_error)?;
                        (fd, Some(tgid), own)
                    }
                    None => return Err(pidfd_error(errno)),
                }
            }
            Err(errno) => return Err(pidfd_error(errno)),
        };
        if spec.inode.is_some() && !pidfd_has_own_inode(&pidfd) {
            return Err(TargetError::NoPidfs(spec.pid));
        }
        if let Some(wanted) = spec.inode {
            let found = std::fs::File::from(pidfd.try_clone().map_err(|e| TargetError::Proc {
                what: "a pidfd".into(),
                pid: spec.pid,
                errno: io_errno(&e),
            })?)
            .metadata()
            .map(|m| m.ino())
            .unwrap_or(0);
            if found != wanted {
                return Err(TargetError::Reused {
                    pid: spec.pid,
                    wanted,
                    found,
                });
            }
        }
        // A thread's own directory: its namespaces, root, directory.
        let path = match thread_of {
            Some(tgid) => format!("/proc/{tgid}/task/{}", spec.pid),
            None => format!("/proc/{}", spec.pid),
        };
        let path = CString::new(path).expect("digits");
        let proc_dir = nix::fcntl::open(
            path.as_c_str(),
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| match e {
            Errno::ENOENT if !crate::process::proc_mounted() => TargetError::NoProc,
            Errno::ENOENT => TargetError::Exited(spec.pid),
            errno => TargetError::Proc {
                what: "/proc/PID".into(),
                pid: spec.pid,
                errno,
            },
        })?;
        let target = Target {
            pid,
            pidfd,
            setns_by_pidfd,
            proc_dir,
        };
        // Alive after /proc/PID was opened: that directory is this process's.
        target.ensure_alive()?;
        Ok(target)
    }

    /// A pidfd for thread `tid` of process `tgid`: the thread's own
    /// (PIDFD_THREAD, Linux 6.9+), else its process's, which keeps the
    /// thread's number from being given to another process's thread while
    /// we hold it only as long as the process lives (checked after the
    /// thread's directory is opened, as for a process).
    /// Says whether the pidfd is the thread's own.
    fn thread_pidfd(tid: Pid, tgid: i32) -> Result<(OwnedFd, bool), Errno> {
        match sys::pidfd_open_with(tid, sys::PIDFD_THREAD) {
            Ok(fd) => Ok((fd, true)),
            Err(Errno::EINVAL) => Ok((sys::pidfd_open(Pid::from_raw(tgid))?, false)),
            Err(errno) => Err(errno),
        }
    }

    /// Fails with `Exited` if the process is gone.
    pub fn ensure_alive(&self) -> Result<(), TargetError> {
        match sys::pidfd_probe(self.pidfd.as_fd()) {
            Ok(()) | Err(Errno::EPERM) => Ok(()),
            Err(_) => Err(TargetError::Exited(self.pid.as_raw())),
        }
    }

    /// Opens a file under /proc/PID (`ns/net`, `root`, `environ`, ...).
    pub fn open_at(&self, name: &str, flags: OFlag) -> Result<OwnedFd, TargetError> {
        let name_c = CString::new(name).expect("proc file names have no NUL");
        openat(
            self.proc_dir.as_fd(),
            name_c.as_c_str(),
            flags | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|errno| self.proc_error(name, errno))
    }

    /// Reads a whole file under /proc/PID.
    pub fn read_at(&self, name: &str) -> Result<Vec<u8>, TargetError> {
        use std::io::Read;
        let fd = self.open_at(name, OFlag::O_RDONLY)?;
        let mut data = Vec::new();
        std::fs::File::from(fd)
            .read_to_end(&mut data)
            .map_err(|e| self.proc_error(name, io_errno(&e)))?;
        Ok(data)
    }

    /// The inode of the target's namespace of `kind`.
    pub fn ns_inode(&self, kind: NsKind) -> Result<u64, TargetError> {
        let name = format!("ns/{}", kind.proc_name());
        let name_c = CString::new(name.clone()).expect("no NUL");
        fstatat(self.proc_dir.as_fd(), name_c.as_c_str(), AtFlags::empty())
            .map(|st| st.st_ino)
            .map_err(|errno| self.proc_error(&name, errno))
    }

    /// The owner of /proc/PID: the target's effective uid and gid, as seen here.
    pub fn owner(&self) -> Option<(u32, u32)> {
        nix::sys::stat::fstat(self.proc_dir.as_fd())
            .ok()
            .map(|st| (st.st_uid, st.st_gid))
    }

    fn proc_error(&self, name: &str, errno: Errno) -> TargetError {
        match (errno, self.ensure_alive()) {
            (_, Err(gone)) => gone,
            (errno, Ok(())) => TargetError::Proc {
                what: format!("/proc/{}/{name}", self.pid),
                pid: self.pid.as_raw(),
                errno,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inode of a pidfd for `pid`: what `PID:INODE` wants.
    fn pidfd_inode(pid: Pid) -> Result<u64, Errno> {
        let pidfd = sys::pidfd_open(pid)?;
        std::fs::File::from(pidfd)
            .metadata()
            .map(|m| m.ino())
            .map_err(|e| io_errno(&e))
    }

    #[test]
    fn specs_parse_and_name_bad_values() {
        assert_eq!(
            "42".parse(),
            Ok(TargetSpec {
                pid: 42,
                inode: None
            })
        );
        assert_eq!(
            "42:301309".parse(),
            Ok(TargetSpec {
                pid: 42,
                inode: Some(301309)
            })
        );
        for bad in [
            "",
            "0",
            "-1",
            "abc",
            "42:",
            ":5",
            "42:x",
            "1:2:3",
            "99999999999",
        ] {
            let err = bad.parse::<TargetSpec>().unwrap_err();
            assert_eq!(err.0, bad);
        }
        assert_eq!(
            TargetSpec {
                pid: 7,
                inode: Some(9)
            }
            .to_string(),
            "7:9"
        );
    }

    #[test]
    fn our_own_process_as_a_target() {
        let me = std::process::id() as i32;
        let inode = pidfd_inode(Pid::from_raw(me)).unwrap();
        let pidfd = sys::pidfd_open(Pid::from_raw(me)).unwrap();
        if !pidfd_has_own_inode(&pidfd) {
            // Before pidfs every pidfd has this inode: INODE is refused.
            let err = Target::open(TargetSpec {
                pid: me,
                inode: Some(inode),
            })
            .unwrap_err();
            assert!(
                matches!(err, TargetError::NoPidfs(pid) if pid == me),
                "{err}"
            );
            return;
        }
        let target = Target::open(TargetSpec {
            pid: me,
            inode: Some(inode),
        })
        .unwrap();
        let ours = std::fs::metadata("/proc/self/ns/uts").unwrap().ino();
        assert_eq!(target.ns_inode(NsKind::Uts).unwrap(), ours);
        assert!(!target.read_at("environ").unwrap().is_empty() || std::env::vars_os().count() == 0);
        let err = Target::open(TargetSpec {
            pid: me,
            inode: Some(inode + 1),
        })
        .unwrap_err();
        assert!(matches!(err, TargetError::Reused { .. }), "{err}");
    }

    #[test]
    fn a_pid_that_does_not_exist() {
        let err = Target::open(TargetSpec {
            pid: i32::MAX,
            inode: None,
        })
        .unwrap_err();
        assert_eq!(err.to_string(), format!("no process with PID {}", i32::MAX));
    }
}
