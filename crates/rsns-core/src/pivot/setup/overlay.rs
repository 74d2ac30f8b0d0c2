//! `--overlay-src`, then `--overlay`, `--tmp-overlay` or `--ro-overlay`:
//! image layers joined by overlayfs, bubblewrap's options.
//!
//! The layers (and an upper and work directory) are the user's host
//! directories, opened once before anything changes, like a bind's source;
//! overlayfs is then handed /proc/self/fd/N for each, so what was opened is
//! what gets used, whatever happens to the paths meanwhile. `--tmp-overlay`
//! puts the upper and work directories in a tmpfs of ours attached at the
//! overlay's destination, which the overlay then covers: the writes are
//! seen through the overlay only and go with it.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{OFlag, open, openat};
use nix::sys::stat::{Mode, fstat, mkdirat};

use super::attach;
use super::dest::fd_path;
use crate::error::{SysError, errno_text};
use crate::pivot::PivotError;

/// Where an overlay's writes go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OverlayUpper {
    /// `--overlay=UPPER:WORK:DST`: the host's UPPER keeps them.
    Dirs { upper: PathBuf, work: PathBuf },
    /// `--tmp-overlay`: a tmpfs of ours, gone with the box.
    Tmp,
    /// `--ro-overlay`: none; the overlay is read-only.
    ReadOnly,
}

/// The host's side of an overlay, opened in the check.
#[derive(Debug)]
pub(super) struct Layers {
    /// Lowest first, as given.
    lower: Vec<OwnedFd>,
    upper: Option<(OwnedFd, OwnedFd)>,
}

fn open_host_dir(option: &str, what: &str, path: &Path) -> Result<OwnedFd, PivotError> {
    let refuse =
        |why: String| PivotError::Refused(format!("{option}: {what} '{}': {why}", path.display()));
    let fd = open(
        path,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| match e {
        Errno::ENOTDIR => refuse("not a directory".into()),
        e => refuse(errno_text(e)),
    })?;
    Ok(fd)
}

impl Layers {
    /// The lowest layer's descriptor.
    pub(super) fn into_lowest(self) -> OwnedFd {
        self.lower.into_iter().next().expect("one layer at least")
    }
}

/// Opens the layers and, for `--overlay`, UPPER and WORK.
pub(super) fn open_layers(
    option: &str,
    layers: &[PathBuf],
    upper: &OverlayUpper,
) -> Result<Layers, PivotError> {
    let lower = layers
        .iter()
        .map(|l| open_host_dir(option, "layer", l))
        .collect::<Result<Vec<_>, _>>()?;
    let upper = match upper {
        OverlayUpper::Dirs { upper, work } => Some((
            open_host_dir(option, "upper directory", upper)?,
            open_host_dir(option, "work directory", work)?,
        )),
        OverlayUpper::Tmp | OverlayUpper::ReadOnly => None,
    };
    Ok(Layers { lower, upper })
}

/// The overlay, made detached. `attrs`: MOUNT_ATTR_* for it (nosuid and
/// nodev inside the new root, as binds; none when it is the root).
pub(super) fn mount(
    option: &str,
    layers: &Layers,
    upper: &OverlayUpper,
    attrs: u64,
    tmp_at: Option<BorrowedFd<'_>>,
) -> Result<(OwnedFd, Option<OwnedFd>), PivotError> {
    // overlayfs lists the top layer first; ours are given lowest first.
    let lowerdir = layers
        .lower
        .iter()
        .rev()
        .map(|fd| fd_path(fd.as_fd()).display().to_string())
        .collect::<Vec<_>>()
        .join(":");
    let tmp_dirs = match upper {
        OverlayUpper::Tmp => {
            let at = tmp_at.expect("a tmp overlay is given where its tmpfs goes");
            Some(tmp_upper(
                option,
                layers.lower.last().expect("one layer at least"),
                at,
            )?)
        }
        _ => None,
    };
    let (up, work) = match (&tmp_dirs, &layers.upper) {
        (Some((_, u, w)), _) | (None, Some((u, w))) => (Some(u.as_fd()), Some(w.as_fd())),
        (None, None) => (None, None),
    };
    let paths = [up, work].map(|fd| fd.map(|f| fd_path(f).display().to_string()));
    let read_only = up.is_none();
    let mut options = vec![("lowerdir", lowerdir.as_str())];
    if let [Some(u), Some(w)] = &paths {
        options.push(("upperdir", u.as_str()));
        options.push(("workdir", w.as_str()));
    }
    // In a user namespace the trusted.* xattrs overlayfs keeps its state in
    // are out of reach: user.* ones instead (Linux 5.11, as unprivileged
    // overlayfs itself).
    if !crate::pivot::host::in_initial_user_ns() {
        options.push(("userxattr", ""));
    }
    let attrs = if read_only {
        attrs | attach::RDONLY
    } else {
        attrs
    };
    // The upper and work descriptors stay open until overlayfs has looked
    // their /proc/self/fd paths up.
    let made = attach::new_fs(option, c"overlay", &options, attrs);
    let tmp = tmp_dirs.map(|(t, _, _)| t);
    match made {
        Ok(mnt) => Ok((mnt, tmp)),
        Err(e) => {
            // The tmpfs attached for it goes again.
            if let Some(t) = &tmp {
                attach::detach(t.as_fd());
            }
            Err(explain(option, e))
        }
    }
}

/// `--tmp-overlay`'s upper and work directories, in a fresh tmpfs
/// attached at `at` (the overlay's own destination, which the overlay then
/// covers: overlayfs before Linux 6.15 takes no layer from a detached
/// mount). The upper one takes the top layer's mode and owner, so the
/// overlay's root looks as the image's does.
fn tmp_upper(
    option: &str,
    top: &OwnedFd,
    at: BorrowedFd<'_>,
) -> Result<(OwnedFd, OwnedFd, OwnedFd), PivotError> {
    let tmp = attach::new_fs(
        option,
        c"tmpfs",
        &[("mode", "755")],
        attach::NOSUID | attach::NODEV,
    )?;
    attach::attach(option, tmp.as_fd(), at)?;
    let st = fstat(top.as_fd()).map_err(|e| SysError::new(format!("{option}: fstat"), e))?;
    let dir = |name: &str, mode: u32| -> Result<OwnedFd, PivotError> {
        let fail = |e| {
            PivotError::from(SysError::new(
                format!("{option}: make {name} in its tmpfs"),
                e,
            ))
        };
        mkdirat(tmp.as_fd(), name, Mode::from_bits_truncate(mode)).map_err(fail)?;
        openat(
            tmp.as_fd(),
            name,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(fail)
    };
    let upper = dir("upper", st.st_mode & 0o7777)?;
    let work = dir("work", 0o700)?;
    // O_PATH descriptors take fchmodat/fchownat through /proc/self/fd.
    let upper_path = fd_path(upper.as_fd());
    let _ = nix::sys::stat::fchmodat(
        nix::fcntl::AT_FDCWD,
        &upper_path,
        Mode::from_bits_truncate(st.st_mode & 0o7777),
        nix::sys::stat::FchmodatFlags::FollowSymlink,
    );
    // An owner this user namespace cannot name stays ours: the box still
    // works, the root's owner is what differs.
    if let Err(e) = nix::unistd::fchownat(
        nix::fcntl::AT_FDCWD,
        &upper_path,
        Some(nix::unistd::Uid::from_raw(st.st_uid)),
        Some(nix::unistd::Gid::from_raw(st.st_gid)),
        nix::fcntl::AtFlags::empty(),
    ) {
        tracing::debug!(%e, "the top layer's owner cannot be given to the tmp overlay's upper directory");
    }
    Ok((tmp, upper, work))
}

/// What overlayfs's refusals most often mean.
fn explain(option: &str, e: PivotError) -> PivotError {
    match e {
        PivotError::Sys(err)
            if err.errno == Errno::EPERM && !crate::pivot::host::in_initial_user_ns() =>
        {
            SysError::new(format!("{option}: mount an overlay"), Errno::EPERM)
                .with_hint(Some(
                    "overlayfs in a user namespace needs Linux 5.11 or later; as root, run us \
                     under rs-unshare -m instead of -Urm"
                        .into(),
                ))
                .into()
        }
        other => other,
    }
}
