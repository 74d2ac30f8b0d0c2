//! `rs-pivot --root` with `--dev`, `--proc`, `--sys`, `--tmpfs`, `--bind`,
//! `--ro-bind` and `--ro`: the rest of a container's root, mounted before
//! the pivot.
//!
//! No image can redirect a mount: every destination is opened inside the
//! new root with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS), so `..`
//! stops at the new root and a symlink anywhere on the path is refused, and
//! the mount is made onto that descriptor (its /proc/self/fd link), never
//! onto a path the kernel would walk again. Everything is checked before the
//! first change ([`check`]), and checked again as it is mounted ([`apply`]):
//! the new root is always a bind of its own here, so a failure anywhere is
//! undone by detaching that one bind.

mod dest;
mod dev;
mod procfs;
mod sysfs;

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use super::PivotError;

pub(super) use dest::open_root;

/// What to mount in the new root besides the image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RootSetup {
    /// A fresh minimal /dev.
    pub dev: bool,
    /// A new proc at /proc, with runc's read-only and masked paths.
    pub proc: bool,
    /// /sys read-only.
    pub sys: bool,
    /// `--tmpfs`, `--bind` and `--ro-bind`, in command-line order.
    pub mounts: Vec<ExtraMount>,
    /// The image itself read-only.
    pub read_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtraMount {
    Tmpfs(PathBuf),
    Bind {
        src: PathBuf,
        dst: PathBuf,
        read_only: bool,
    },
}

impl ExtraMount {
    /// The option as the user gave it, for messages.
    fn option(&self) -> String {
        match self {
            ExtraMount::Tmpfs(dst) => format!("--tmpfs={}", dst.display()),
            ExtraMount::Bind {
                src,
                dst,
                read_only,
            } => format!(
                "--{}bind={}:{}",
                if *read_only { "ro-" } else { "" },
                src.display(),
                dst.display()
            ),
        }
    }
}

impl RootSetup {
    pub fn is_empty(&self) -> bool {
        *self == RootSetup::default()
    }
}

/// What [`check`] found: the host's side, opened once (the device nodes,
/// the bind sources), so a host path swapped later does not matter.
pub(super) struct Checked {
    dev_nodes: Vec<(&'static str, OwnedFd)>,
    null: Option<OwnedFd>,
    sources: Vec<Option<OwnedFd>>,
}

/// Every check that can be made before the mount namespace changes: the
/// destinations exist in the image (no symlinks), the sources on the host,
/// the host's device nodes are what they claim, --proc has a PID namespace.
pub(super) fn check(root: BorrowedFd<'_>, setup: &RootSetup) -> Result<Checked, PivotError> {
    dest::need_proc_self_fd()?;
    let need_null = setup.dev || setup.proc;
    let checked = Checked {
        dev_nodes: if setup.dev {
            dev::host_nodes()?
        } else {
            Vec::new()
        },
        null: if need_null {
            Some(dev::host_node("null")?)
        } else {
            None
        },
        sources: setup
            .mounts
            .iter()
            .map(|m| match m {
                ExtraMount::Bind { src, .. } => dest::open_source(&m.option(), src).map(Some),
                ExtraMount::Tmpfs(_) => Ok(None),
            })
            .collect::<Result<_, _>>()?,
    };
    if setup.dev {
        dest::open_dir(root, "--dev", Path::new("/dev"))?;
    }
    if setup.proc {
        procfs::check_pid_namespace()?;
        dest::open_dir(root, "--proc", Path::new("/proc"))?;
    }
    if setup.sys {
        dest::open_dir(root, "--sys", Path::new("/sys"))?;
    }
    for (m, src) in setup.mounts.iter().zip(&checked.sources) {
        dest_of(root, m, src.as_ref())?;
    }
    Ok(checked)
}

/// Opens a mount's destination, of the kind its source needs.
fn dest_of(
    root: BorrowedFd<'_>,
    m: &ExtraMount,
    src: Option<&OwnedFd>,
) -> Result<OwnedFd, PivotError> {
    match (m, src) {
        (ExtraMount::Tmpfs(dst), _) => dest::open_dir(root, &m.option(), dst),
        (ExtraMount::Bind { dst, .. }, Some(src)) => {
            dest::open_like(root, &m.option(), dst, src.as_fd())
        }
        (ExtraMount::Bind { .. }, None) => unreachable!("a bind's source is opened in check"),
    }
}

/// Mounts everything under `root` (a descriptor of the new root's own bind),
/// in order: /dev, /proc, /sys, the extra mounts, then the image read-only.
/// The caller detaches the new root's bind if this fails.
pub(super) fn apply(
    root: BorrowedFd<'_>,
    setup: &RootSetup,
    checked: &Checked,
) -> Result<(), PivotError> {
    if setup.dev {
        dev::mount_dev(root, &checked.dev_nodes)?;
    }
    let null = checked.null.as_ref().map(|n| n.as_fd());
    if setup.proc {
        procfs::mount_proc(root, null.expect("opened in check"))?;
    }
    if setup.sys {
        sysfs::mount_sys(root)?;
    }
    for (m, src) in setup.mounts.iter().zip(&checked.sources) {
        let dst = dest_of(root, m, src.as_ref())?;
        match (m, src) {
            (ExtraMount::Tmpfs(_), _) => {
                dest::mount_tmpfs(&m.option(), dst.as_fd(), "mode=0755", false)?
            }
            (
                ExtraMount::Bind {
                    read_only,
                    dst: path,
                    ..
                },
                Some(src),
            ) => {
                dest::bind(&m.option(), src.as_fd(), dst.as_fd())?;
                if *read_only {
                    let top = dest::open_dir_or_file(root, &m.option(), path)?;
                    dest::read_only_tree(&m.option(), top.as_fd())?;
                }
            }
            (ExtraMount::Bind { .. }, None) => unreachable!("a bind's source is opened in check"),
        }
    }
    if setup.read_only {
        dest::remount_read_only("--ro", root)?;
    }
    Ok(())
}
