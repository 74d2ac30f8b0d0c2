//! `--proc`: a new proc at /proc, with runc's defaults: some paths
//! read-only (the kernel's tunables, the sysrq trigger, irq and bus), some
//! masked (kcore, keys, timer_list and the like: /dev/null over a file, an
//! empty read-only tmpfs over a directory). Paths this kernel does not have
//! are skipped.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{SFlag, fstat};

use super::attach;
use super::dest::{At, Make, bind, mount_tmpfs, open_dir};
use crate::error::SysError;
use crate::pivot::PivotError;
use crate::pivot::host::PID_NS_INIT_INO;
use crate::pivot::lookup::openat2_retrying;

const READ_ONLY: [&str; 5] = ["bus", "fs", "irq", "sys", "sysrq-trigger"];
const MASKED: [&str; 9] = [
    "acpi",
    "asound",
    "kcore",
    "keys",
    "latency_stats",
    "sched_debug",
    "scsi",
    "timer_list",
    "timer_stats",
];

/// A proc shows the PID namespace of the process that mounts it: in the
/// host's, the box would see every process of the host.
pub(super) fn check_pid_namespace() -> Result<(), PivotError> {
    use std::os::unix::fs::MetadataExt;
    let ino = std::fs::metadata("/proc/self/ns/pid")
        .map(|m| m.ino())
        .map_err(|e| PivotError::Refused(format!("--proc: /proc/self/ns/pid: {e}")))?;
    if ino == PID_NS_INIT_INO {
        return Err(PivotError::Refused(
            "--proc needs a new PID namespace (run us as PID 1 of one: rs-unshare -pf ...); a proc \
             mounted in the host's would show every process of the host"
                .into(),
        ));
    }
    Ok(())
}

fn sys(what: String) -> impl FnOnce(Errno) -> PivotError {
    move |e| SysError::new(format!("--proc: {what}"), e).into()
}

/// `name` inside our new proc, opened from that mount's own descriptor
/// (nothing can rename in a proc), or None where this kernel has no such
/// path. Anything else that stops the open is an error, never a skip.
fn open_in_proc(proc: BorrowedFd<'_>, name: &str) -> Result<Option<OwnedFd>, PivotError> {
    let how = OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC)
        .resolve(
            ResolveFlag::RESOLVE_BENEATH
                | ResolveFlag::RESOLVE_NO_SYMLINKS
                | ResolveFlag::RESOLVE_NO_XDEV,
        );
    match openat2_retrying(proc, name, how) {
        Ok(fd) => Ok(Some(fd)),
        Err(Errno::ENOENT) => Ok(None),
        Err(e) => Err(sys(format!("open /proc/{name}"))(e)),
    }
}

/// A new proc, made detached and attached onto the image's /proc; the
/// read-only and masked paths are then made inside it through its own
/// descriptor. Returns that mount.
pub(super) fn mount_proc(
    root: BorrowedFd<'_>,
    null: BorrowedFd<'_>,
) -> Result<OwnedFd, PivotError> {
    let dir = open_dir(&At::named(root, "--proc", "proc"), &mut Make::No)?;
    let proc = attach::new_fs(
        "--proc",
        c"proc",
        &[],
        attach::NOSUID | attach::NODEV | attach::NOEXEC,
    )
    .map_err(|e| match e {
        PivotError::Sys(e) if e.errno == Errno::EPERM => PivotError::from(
            e.with_hint(Some(
                "in a user namespace, proc can be mounted only by a process whose user namespace \
             owns its PID namespace (rs-unshare -Upf), and only where the host's proc is not \
             partly hidden by mounts over it"
                    .to_string(),
            )),
        ),
        e => e,
    })?;
    attach::attach("--proc", proc.as_fd(), dir.as_fd())?;
    for name in READ_ONLY {
        let Some(fd) = open_in_proc(proc.as_fd(), name)? else {
            continue;
        };
        attach::bind_tree("--proc", fd.as_fd(), fd.as_fd(), attach::RDONLY)?;
    }
    for name in MASKED {
        let Some(fd) = open_in_proc(proc.as_fd(), name)? else {
            continue;
        };
        let st = fstat(fd.as_fd()).map_err(sys(format!("stat /proc/{name}")))?;
        if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR {
            mount_tmpfs("--proc", fd.as_fd(), "mode=0555", true)?;
        } else {
            bind("--proc", null, fd.as_fd())?;
        }
    }
    Ok(proc)
}
