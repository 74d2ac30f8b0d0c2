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

mod attach;
mod dest;
mod dev;
mod overlay;
mod procfs;
mod sysfs;

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use super::PivotError;
pub use overlay::OverlayUpper;

/// What to mount in the new root besides the image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RootSetup {
    /// A fresh minimal /dev.
    pub dev: bool,
    /// A new proc at /proc, with runc's read-only and masked paths.
    pub proc: bool,
    /// /sys read-only.
    pub sys: bool,
    /// `--tmpfs`, the binds and the overlays, in command-line order.
    pub mounts: Vec<ExtraMount>,
    /// The image itself read-only.
    pub read_only: bool,
    /// `--remount-ro`: mounts in the new root made read-only, after the
    /// mounts above.
    pub remount_ro: Vec<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtraMount {
    /// A tmpfs of this mode (default 1777, as docker's and podman's) and
    /// size (`--perms`, `--size` before it).
    Tmpfs {
        dst: PathBuf,
        mode: u32,
        size: Option<String>,
    },
    /// nosuid always; nodev unless `devices` (`--dev-bind`), as bubblewrap.
    /// `optional` (`--bind-try` and friends): a missing source is skipped.
    Bind {
        src: PathBuf,
        dst: PathBuf,
        read_only: bool,
        devices: bool,
        optional: bool,
    },
    /// `--overlay`, `--tmp-overlay`, `--ro-overlay`: the `--overlay-src`
    /// layers before it (lowest first) joined by overlayfs at DST.
    Overlay {
        layers: Vec<PathBuf>,
        upper: OverlayUpper,
        dst: PathBuf,
    },
}

impl ExtraMount {
    /// The option as the user gave it, for messages.
    pub fn option(&self) -> String {
        match self {
            ExtraMount::Tmpfs { dst, .. } => format!("--tmpfs={}", dst.display()),
            ExtraMount::Bind {
                src,
                dst,
                read_only,
                devices,
                optional,
            } => format!(
                "--{}bind{}={}:{}",
                match (*read_only, *devices) {
                    (true, _) => "ro-",
                    (false, true) => "dev-",
                    (false, false) => "",
                },
                if *optional { "-try" } else { "" },
                src.display(),
                dst.display()
            ),
            ExtraMount::Overlay { upper, dst, .. } => match upper {
                OverlayUpper::Dirs { upper, work } => format!(
                    "--overlay={}:{}:{}",
                    upper.display(),
                    work.display(),
                    dst.display()
                ),
                OverlayUpper::Tmp => format!("--tmp-overlay={}", dst.display()),
                OverlayUpper::ReadOnly => format!("--ro-overlay={}", dst.display()),
            },
        }
    }
}

impl ExtraMount {
    /// Where it goes, as the user named it.
    fn dst(&self) -> &Path {
        match self {
            ExtraMount::Tmpfs { dst, .. }
            | ExtraMount::Bind { dst, .. }
            | ExtraMount::Overlay { dst, .. } => dst,
        }
    }
}

impl RootSetup {
    pub fn is_empty(&self) -> bool {
        *self == RootSetup::default()
    }
}

/// The overlay that is the new root (an overlay at / without --root), as
/// the image is: no nosuid or nodev of ours.
pub(super) struct RootOverlay {
    /// What the checks read: the overlay itself, made detached; for
    /// `--tmp-overlay` (whose tmpfs must be attached first, so not before
    /// the namespace may change) its layers alone, as the overlay starts.
    pub view: OwnedFd,
    /// The overlay, when made already.
    pub made: bool,
    /// The lowest layer: the overlay is attached over it.
    pub anchor: OwnedFd,
    layers: overlay::Layers,
}

pub(super) fn root_overlay(m: &ExtraMount) -> Result<RootOverlay, PivotError> {
    let ExtraMount::Overlay { layers, upper, .. } = m else {
        unreachable!("only an overlay is a root overlay")
    };
    let option = m.option();
    let opened = overlay::open_layers(&option, layers, upper)?;
    let anchor =
        overlay::open_layers(&option, &layers[..1], &OverlayUpper::ReadOnly)?.into_lowest();
    let (view, made) = match upper {
        OverlayUpper::Tmp if layers.len() == 1 => (
            nix::unistd::dup(anchor.as_fd()).map_err(|e| crate::error::SysError::new("dup", e))?,
            false,
        ),
        OverlayUpper::Tmp => {
            let ro = overlay::open_layers(&option, layers, &OverlayUpper::ReadOnly)?;
            (
                overlay::mount(&option, &ro, &OverlayUpper::ReadOnly, 0, None)?.0,
                false,
            )
        }
        _ => (overlay::mount(&option, &opened, upper, 0, None)?.0, true),
    };
    Ok(RootOverlay {
        view,
        made,
        anchor,
        layers: opened,
    })
}

/// Attaches the root overlay over its lowest layer (making it now, for
/// `--tmp-overlay`, with its tmpfs attached there first); returns its
/// descriptor, and the tmpfs's. Only once the mount namespace is private;
/// a failure leaves nothing attached.
pub(super) fn attach_root_overlay(
    m: &ExtraMount,
    root: RootOverlay,
) -> Result<(OwnedFd, Option<OwnedFd>), PivotError> {
    let ExtraMount::Overlay { upper, .. } = m else {
        unreachable!("only an overlay is a root overlay")
    };
    let option = m.option();
    let (mnt, tmp) = if root.made {
        (root.view, None)
    } else {
        overlay::mount(&option, &root.layers, upper, 0, Some(root.anchor.as_fd()))?
    };
    if let Err(e) = attach::attach(&option, mnt.as_fd(), root.anchor.as_fd()) {
        if let Some(t) = &tmp {
            attach::detach(t.as_fd());
        }
        return Err(e);
    }
    Ok((mnt, tmp))
}

/// What [`check`] found: the host's side, opened once (the device nodes,
/// the bind sources), so a host path swapped later does not matter.
pub(super) struct Checked {
    dev_nodes: Vec<(&'static str, OwnedFd)>,
    null: Option<OwnedFd>,
    sources: Vec<Option<OwnedFd>>,
    /// An overlay's layers, at its index in `mounts`.
    layers: Vec<Option<overlay::Layers>>,
}

/// The destinations mounted before the `i`th extra mount, in order, as
/// paths relative to the new root.
fn earlier(setup: &RootSetup, i: usize) -> Vec<PathBuf> {
    let mut dsts: Vec<PathBuf> = [(setup.dev, "dev"), (setup.proc, "proc"), (setup.sys, "sys")]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, d)| PathBuf::from(d))
        .collect();
    dsts.extend(
        setup.mounts[..i]
            .iter()
            .filter_map(|m| dest::normalized(m.dst()).ok()),
    );
    dsts
}

/// Every check that can be made before the mount namespace changes: the
/// destinations exist in the image (no symlinks), the sources on the host,
/// the host's device nodes are what they claim, --proc has a PID namespace.
/// A destination inside an earlier mount is checked when it is mounted.
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
                ExtraMount::Bind { src, optional, .. } => {
                    dest::open_source(&m.option(), src, *optional)
                }
                ExtraMount::Tmpfs { .. } | ExtraMount::Overlay { .. } => Ok(None),
            })
            .collect::<Result<_, _>>()?,
        layers: setup
            .mounts
            .iter()
            .map(|m| match m {
                ExtraMount::Overlay { layers, upper, .. } => {
                    overlay::open_layers(&m.option(), layers, upper).map(Some)
                }
                _ => Ok(None),
            })
            .collect::<Result<_, _>>()?,
    };
    for dst in &setup.remount_ro {
        let option = format!("--remount-ro={}", dst.display());
        dest::normalized(dst).map_err(|why| dest::refused(&option, dst, why))?;
    }
    if setup.dev {
        dest::open_dir(&dest::At::named(root, "--dev", "dev"), false)?;
    }
    if setup.proc {
        procfs::check_pid_namespace()?;
        dest::open_dir(&dest::At::named(root, "--proc", "proc"), false)?;
    }
    if setup.sys {
        dest::open_dir(&dest::At::named(root, "--sys", "sys"), false)?;
    }
    for (i, (m, src)) in setup.mounts.iter().zip(&checked.sources).enumerate() {
        if skipped(m, src.as_ref()) {
            continue;
        }
        let rel =
            dest::normalized(m.dst()).map_err(|why| dest::refused(&m.option(), m.dst(), why))?;
        if earlier(setup, i).iter().any(|d| rel.starts_with(d)) {
            continue;
        }
        dest_of(root, false, m, &rel, src.as_ref())?;
    }
    Ok(checked)
}

/// A `--bind-try` whose source was missing: nothing to mount.
fn skipped(m: &ExtraMount, src: Option<&OwnedFd>) -> bool {
    matches!((m, src), (ExtraMount::Bind { .. }, None))
}

/// Opens a mount's destination under `base` (the new root, or an earlier
/// mount of ours), of the kind its source needs; in a tmpfs of ours
/// (`make`), what is missing is made.
fn dest_of(
    base: BorrowedFd<'_>,
    make: bool,
    m: &ExtraMount,
    rel: &Path,
    src: Option<&OwnedFd>,
) -> Result<OwnedFd, PivotError> {
    let at = dest::At {
        base,
        rel,
        option: &m.option(),
        shown: m.dst(),
    };
    match (m, src) {
        (ExtraMount::Tmpfs { .. } | ExtraMount::Overlay { .. }, _) => dest::open_dir(&at, make),
        (ExtraMount::Bind { .. }, Some(src)) => dest::open_like(&at, make, src.as_fd()),
        (ExtraMount::Bind { .. }, None) => unreachable!("a bind's source is opened in check"),
    }
}

/// A mount of ours in the new root: where (relative to the new root), its
/// own descriptor, and whether it is a fresh tmpfs we may make paths in.
struct Placed {
    dst: PathBuf,
    mnt: OwnedFd,
    ours: bool,
}

/// Where a destination is opened from: the innermost mount of ours that
/// holds it (the last one made wins), by that mount's own descriptor, with
/// the rest of the path; else the new root.
fn base_for<'a>(
    root: BorrowedFd<'a>,
    placed: &'a [Placed],
    dst: &Path,
) -> Result<(BorrowedFd<'a>, bool, PathBuf), &'static str> {
    let rel = dest::normalized(dst)?;
    let inner = placed
        .iter()
        .enumerate()
        .filter(|(_, p)| rel.starts_with(&p.dst))
        .max_by_key(|(i, p)| (p.dst.components().count(), *i));
    Ok(match inner {
        Some((_, p)) => (
            p.mnt.as_fd(),
            p.ours,
            rel.strip_prefix(&p.dst).expect("a prefix").to_path_buf(),
        ),
        None => (root, false, rel),
    })
}

/// Mounts everything under `root` (the descriptor of the new root's own
/// bind), in order: the image read-only, /dev, /proc, /sys, the extra
/// mounts. Each mount is made detached and attached onto its destination's
/// descriptor; what comes after it works from its descriptor. The caller
/// detaches the new root's bind if this fails.
pub(super) fn apply(
    root: BorrowedFd<'_>,
    setup: &RootSetup,
    checked: &Checked,
) -> Result<(), PivotError> {
    if setup.read_only {
        // First, so it holds for the image's own mounts, not for ours.
        attach::read_only_tree("--ro", root)?;
    }
    let mut placed = Vec::new();
    if setup.dev {
        let mnt = dev::mount_dev(root, &checked.dev_nodes)?;
        placed.push(Placed {
            dst: "dev".into(),
            mnt,
            ours: true,
        });
    }
    let null = checked.null.as_ref().map(|n| n.as_fd());
    if setup.proc {
        let mnt = procfs::mount_proc(root, null.expect("opened in check"))?;
        placed.push(Placed {
            dst: "proc".into(),
            mnt,
            ours: false,
        });
    }
    if setup.sys {
        let mnt = sysfs::mount_sys(root)?;
        placed.push(Placed {
            dst: "sys".into(),
            mnt,
            ours: false,
        });
    }
    for (i, (m, src)) in setup.mounts.iter().zip(&checked.sources).enumerate() {
        if skipped(m, src.as_ref()) {
            tracing::debug!(option = %m.option(), "source missing: skipped");
            continue;
        }
        let option = m.option();
        let (base, make, rest) =
            base_for(root, &placed, m.dst()).map_err(|why| dest::refused(&option, m.dst(), why))?;
        let dst = dest_of(base, make, m, &rest, src.as_ref())?;
        let (mnt, ours) = match (m, src) {
            (ExtraMount::Tmpfs { mode, size, .. }, _) => {
                let mode = format!("{mode:o}");
                let mut options = vec![("mode", mode.as_str())];
                if let Some(size) = size {
                    options.push(("size", size.as_str()));
                }
                let mnt =
                    attach::new_fs(&option, c"tmpfs", &options, attach::NOSUID | attach::NODEV)?;
                attach::attach(&option, mnt.as_fd(), dst.as_fd())?;
                (mnt, true)
            }
            (
                ExtraMount::Bind {
                    read_only, devices, ..
                },
                Some(src),
            ) => {
                // As bubblewrap's binds: never setuid, devices only if asked.
                let mut attrs = attach::NOSUID;
                if !devices {
                    attrs |= attach::NODEV;
                }
                if *read_only {
                    attrs |= attach::RDONLY;
                }
                let mnt = attach::bind_tree(&option, src.as_fd(), dst.as_fd(), attrs)?;
                (mnt, false)
            }
            (ExtraMount::Overlay { upper, .. }, _) => {
                let layers = checked.layers[i].as_ref().expect("opened in check");
                // As a bind's: never setuid, no devices.
                // A tmp overlay's tmpfs goes under it, at DST: detached with
                // the new root's bind if anything fails later.
                let (mnt, _tmp) = overlay::mount(
                    &option,
                    layers,
                    upper,
                    attach::NOSUID | attach::NODEV,
                    Some(dst.as_fd()),
                )?;
                attach::attach(&option, mnt.as_fd(), dst.as_fd())?;
                (mnt, false)
            }
            (ExtraMount::Bind { .. }, None) => unreachable!("a bind's source is opened in check"),
        };
        placed.push(Placed {
            dst: dest::normalized(m.dst()).expect("checked above"),
            mnt,
            ours,
        });
    }
    for dst in &setup.remount_ro {
        remount_ro(root, &placed, dst)?;
    }
    Ok(())
}

/// `--remount-ro=DST`: the mount at DST (one of ours, or one the image
/// had), and every mount below it, read-only. Found from the innermost
/// mount of ours above it, by descriptor, and checked to be a mount's root.
fn remount_ro(root: BorrowedFd<'_>, placed: &[Placed], dst: &Path) -> Result<(), PivotError> {
    let option = format!("--remount-ro={}", dst.display());
    let (base, _, rest) =
        base_for(root, placed, dst).map_err(|why| dest::refused(&option, dst, why))?;
    let opened;
    let fd = if rest.as_os_str().is_empty() {
        base
    } else {
        let at = dest::At {
            base,
            rel: &rest,
            option: &option,
            shown: dst,
        };
        opened = dest::open_dir(&at, false)?;
        opened.as_fd()
    };
    let is_mount = crate::sys::mount_of(fd, c"").is_ok_and(|m| m.is_mount_root);
    if !is_mount {
        return Err(dest::refused(
            &option,
            dst,
            "is not a mount point in the new root (--remount-ro changes a mount: a --tmpfs, a \
             --bind, /dev, /proc, /sys or one in the image)",
        ));
    }
    attach::read_only_tree(&option, fd)
}
