//! `--dev`: a fresh minimal /dev. A tmpfs with null, zero, full, random,
//! urandom and tty bound from the host's nodes (mknod is refused in a user
//! namespace; a bind is not), a new devpts instance with /dev/ptmx pointing
//! into it, a tmpfs at /dev/shm, and the fd, stdin, stdout and stderr links.
//! No other device of the host is there.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use nix::fcntl::{OFlag, open, openat};
use nix::mount::MsFlags;
use nix::sys::stat::{Mode, SFlag, fstat, major, minor, mkdirat};
use nix::unistd::symlinkat;

use super::attach;
use super::dest::{self, bind, mount_fs, mount_tmpfs};
use crate::error::SysError;
use crate::pivot::PivotError;

/// The nodes, with the device numbers they must have on the host.
const NODES: [(&str, u64, u64); 6] = [
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

/// The host's /dev/NAME, checked to be the character device it claims.
pub(super) fn host_node(name: &'static str) -> Result<OwnedFd, PivotError> {
    let (_, want_major, want_minor) = NODES
        .iter()
        .copied()
        .find(|(n, _, _)| *n == name)
        .expect("a known node");
    let path = Path::new("/dev").join(name);
    let fd = open(
        &path,
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| SysError::new(format!("--dev: open the host's {}", path.display()), e))?;
    let st = fstat(fd.as_fd()).map_err(|e| SysError::new("fstat", e))?;
    let is_char = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFCHR;
    if !is_char || (major(st.st_rdev), minor(st.st_rdev)) != (want_major, want_minor) {
        return Err(PivotError::Refused(format!(
            "the host's {} is not the {name} device ({want_major}:{want_minor}); refusing to bind it",
            path.display()
        )));
    }
    Ok(fd)
}

pub(super) fn host_nodes() -> Result<Vec<(&'static str, OwnedFd)>, PivotError> {
    NODES
        .iter()
        .map(|(name, _, _)| Ok((*name, host_node(name)?)))
        .collect()
}

fn sys(what: String) -> impl FnOnce(nix::errno::Errno) -> PivotError {
    move |e| SysError::new(format!("--dev: {what}"), e).into()
}

/// A new directory in our /dev tmpfs, opened to mount onto.
fn subdir(dev: BorrowedFd<'_>, name: &str, mode: u32) -> Result<OwnedFd, PivotError> {
    mkdirat(dev, name, Mode::from_bits_truncate(mode))
        .map_err(sys(format!("mkdir /dev/{name}")))?;
    openat(
        dev,
        name,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(sys(format!("open /dev/{name}")))
}

/// The new /dev, made as a detached tmpfs, attached onto the image's /dev,
/// then filled through its own descriptor. Returns that mount.
pub(super) fn mount_dev(
    root: BorrowedFd<'_>,
    nodes: &[(&'static str, OwnedFd)],
) -> Result<OwnedFd, PivotError> {
    let dev_dir = dest::open_dir(&dest::At::named(root, "--dev", "dev"), &mut dest::Make::No)?;
    let mnt = attach::new_fs("--dev", c"tmpfs", &[("mode", "0755")], attach::NOSUID)?;
    attach::attach("--dev", mnt.as_fd(), dev_dir.as_fd())?;
    // The mount's own root, as a directory to make things in.
    let dev = openat(
        mnt.as_fd(),
        ".",
        OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(sys("open the new /dev".into()))?;
    for (name, host) in nodes {
        let file = openat(
            dev.as_fd(),
            *name,
            OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o666),
        )
        .map_err(sys(format!("create /dev/{name}")))?;
        bind("--dev", host.as_fd(), file.as_fd())?;
    }
    let pts = subdir(dev.as_fd(), "pts", 0o755)?;
    mount_fs(
        c"devpts",
        pts.as_fd(),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some(c"newinstance,ptmxmode=0666,mode=0620"),
    )
    .map_err(sys("mount a new devpts instance on /dev/pts".into()))?;
    symlinkat("pts/ptmx", dev.as_fd(), "ptmx").map_err(sys("link /dev/ptmx".into()))?;
    let shm = subdir(dev.as_fd(), "shm", 0o1777)?;
    mount_tmpfs("--dev", shm.as_fd(), "mode=1777", false)?;
    for (link, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        symlinkat(target, dev.as_fd(), link).map_err(sys(format!("link /dev/{link}")))?;
    }
    Ok(mnt)
}
