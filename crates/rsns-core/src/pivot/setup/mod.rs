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
mod files;
mod journal;
mod overlay;
mod procfs;
mod sysfs;

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use super::PivotError;
use dest::Make;
pub(super) use journal::Journal;
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
    /// `--bind-data`, `--ro-bind-data`: what descriptor `fd` holds, in a
    /// file of ours of this mode, bound on DST (nosuid, nodev).
    BindData {
        fd: i32,
        dst: PathBuf,
        mode: u32,
        read_only: bool,
    },
    /// `--dir`: a directory of this mode, unless one is there.
    Dir { dst: PathBuf, mode: u32 },
    /// `--symlink=TARGET:DST`.
    Symlink { target: PathBuf, dst: PathBuf },
    /// `--file=FD:DST`: a new file of this mode with what `fd` holds.
    File { fd: i32, dst: PathBuf, mode: u32 },
    /// `--chmod=MODE:DST`: the mode of what is at DST.
    Chmod { mode: u32, dst: PathBuf },
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
            ExtraMount::BindData {
                fd, dst, read_only, ..
            } => format!(
                "--{}bind-data={fd}:{}",
                if *read_only { "ro-" } else { "" },
                dst.display()
            ),
            ExtraMount::Dir { dst, .. } => format!("--dir={}", dst.display()),
            ExtraMount::Symlink { target, dst } => {
                format!("--symlink={}:{}", target.display(), dst.display())
            }
            ExtraMount::File { fd, dst, .. } => format!("--file={fd}:{}", dst.display()),
            ExtraMount::Chmod { mode, dst } => format!("--chmod={mode:o}:{}", dst.display()),
        }
    }

    /// `--dir`, `--symlink`, `--file`, `--chmod`: a file made (or
    /// changed) in the new root, with no mount.
    pub fn is_file(&self) -> bool {
        matches!(
            self,
            ExtraMount::Dir { .. }
                | ExtraMount::Symlink { .. }
                | ExtraMount::File { .. }
                | ExtraMount::Chmod { .. }
        )
    }

    /// Whether it is a mount that later steps can land in (a data bind
    /// is a file: nothing goes below it).
    pub fn is_mount(&self) -> bool {
        matches!(
            self,
            ExtraMount::Tmpfs { .. } | ExtraMount::Bind { .. } | ExtraMount::Overlay { .. }
        )
    }
}

impl ExtraMount {
    /// Where it goes, as the user named it.
    fn dst(&self) -> &Path {
        match self {
            ExtraMount::Tmpfs { dst, .. }
            | ExtraMount::Bind { dst, .. }
            | ExtraMount::Overlay { dst, .. }
            | ExtraMount::BindData { dst, .. }
            | ExtraMount::Dir { dst, .. }
            | ExtraMount::Symlink { dst, .. }
            | ExtraMount::File { dst, .. }
            | ExtraMount::Chmod { dst, .. } => dst,
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
    /// What each `--file` and `--bind-data` descriptor held, read once.
    data: Vec<Option<Vec<u8>>>,
    /// What was made in the image (and the overlays' upper directories),
    /// to be taken back if the box is not made.
    pub journal: Journal,
    /// Whether the image's own steps are done (by [`check`], for an image
    /// that is a directory; by [`apply`] in a root overlay).
    image_done: bool,
}

/// The mount destinations made before the `i`th step, in order, as paths
/// relative to the new root.
fn earlier(setup: &RootSetup, i: usize) -> Vec<PathBuf> {
    let mut dsts: Vec<PathBuf> = [(setup.dev, "dev"), (setup.proc, "proc"), (setup.sys, "sys")]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, d)| PathBuf::from(d))
        .collect();
    dsts.extend(
        setup.mounts[..i]
            .iter()
            .filter(|m| m.is_mount())
            .filter_map(|m| dest::normalized(m.dst()).ok()),
    );
    dsts
}

/// Every check that can be made before the mount namespace changes: the
/// destinations are named inside the new root, the sources on the host
/// open, the host's device nodes what they claim, --proc has a PID
/// namespace, the data descriptors read. With `image_now` (an image that
/// is a directory), the steps in the image itself are made here too, before
/// `--ro` can apply: missing mount points, `--dir`, `--symlink`, `--file`,
/// `--chmod`; a failure takes them back. Steps inside an earlier mount are
/// made as it is mounted.
pub(super) fn check(
    root: BorrowedFd<'_>,
    setup: &RootSetup,
    image_now: bool,
) -> Result<Checked, PivotError> {
    dest::need_proc_self_fd()?;
    let need_null = setup.dev || setup.proc;
    for (i, m) in setup.mounts.iter().enumerate() {
        dest::normalized(m.dst()).map_err(|why| dest::refused(&m.option(), m.dst(), why))?;
        let fd = data_fd(m);
        if fd.is_some() && setup.mounts[..i].iter().any(|e| data_fd(e) == fd) {
            return Err(PivotError::Refused(format!(
                "{}: descriptor {} is given twice (it is read once, to its end)",
                m.option(),
                fd.unwrap_or_default()
            )));
        }
    }
    for dst in &setup.remount_ro {
        let option = format!("--remount-ro={}", dst.display());
        dest::normalized(dst).map_err(|why| dest::refused(&option, dst, why))?;
    }
    if setup.proc {
        procfs::check_pid_namespace()?;
    }
    let mut checked = Checked {
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
                _ => Ok(None),
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
        data: setup
            .mounts
            .iter()
            .map(|m| {
                data_fd(m)
                    .map(|fd| files::read_data(&m.option(), fd))
                    .transpose()
            })
            .collect::<Result<_, _>>()?,
        journal: Journal::default(),
        image_done: false,
    };
    if image_now {
        in_image(root, setup, &mut checked)?;
    }
    Ok(checked)
}

fn data_fd(m: &ExtraMount) -> Option<i32> {
    match m {
        ExtraMount::File { fd, .. } | ExtraMount::BindData { fd, .. } => Some(*fd),
        _ => None,
    }
}

/// The steps in the image itself (not inside an earlier mount), in
/// order: /dev, /proc and /sys and every mount point made if missing, and
/// the files. What is made is recorded; a failure takes it back.
fn in_image(
    root: BorrowedFd<'_>,
    setup: &RootSetup,
    checked: &mut Checked,
) -> Result<(), PivotError> {
    checked.image_done = true;
    let mut journal = std::mem::take(&mut checked.journal);
    let done = (|| {
        for (on, option, rel) in [
            (setup.dev, "--dev", "dev"),
            (setup.proc, "--proc", "proc"),
            (setup.sys, "--sys", "sys"),
        ] {
            if on {
                let at = dest::At::named(root, option, rel);
                dest::open_dir(&at, &mut Make::Recorded(&mut journal))?;
            }
        }
        for (i, m) in setup.mounts.iter().enumerate() {
            if skipped(m, checked.sources[i].as_ref()) {
                continue;
            }
            let rel = dest::normalized(m.dst()).expect("checked");
            if earlier(setup, i).iter().any(|d| rel.starts_with(d)) {
                continue;
            }
            let option = m.option();
            let at = dest::At {
                base: root,
                rel: &rel,
                option: &option,
                shown: m.dst(),
            };
            step(
                &at,
                &mut Make::Recorded(&mut journal),
                m,
                checked.sources[i].as_ref(),
                checked.data[i].as_deref(),
            )?;
        }
        Ok(())
    })();
    match done {
        Ok(()) => {
            checked.journal = journal;
            Ok(())
        }
        Err(e) => {
            journal.undo();
            Err(e)
        }
    }
}

/// A `--bind-try` whose source was missing: nothing to mount.
fn skipped(m: &ExtraMount, src: Option<&OwnedFd>) -> bool {
    matches!((m, src), (ExtraMount::Bind { .. }, None))
}

/// One step at `at`: a file is made (`--dir`, `--symlink`, `--file`,
/// `--chmod`: None); a mount's destination is opened, of the kind its
/// source needs, made if missing as `make` allows, and returned.
fn step(
    at: &dest::At<'_>,
    make: &mut Make<'_>,
    m: &ExtraMount,
    src: Option<&OwnedFd>,
    data: Option<&[u8]>,
) -> Result<Option<OwnedFd>, PivotError> {
    Ok(match (m, src) {
        (ExtraMount::Tmpfs { .. } | ExtraMount::Overlay { .. }, _) => {
            Some(dest::open_dir(at, make)?)
        }
        (ExtraMount::Bind { .. }, Some(src)) => {
            Some(dest::open_like(at, make, dest::is_dir(src.as_fd())?)?)
        }
        (ExtraMount::Bind { .. }, None) => unreachable!("a bind's source is opened in check"),
        (ExtraMount::BindData { .. }, _) => Some(dest::open_like(at, make, false)?),
        (ExtraMount::Dir { mode, .. }, _) => {
            files::dir(at, make, *mode)?;
            None
        }
        (ExtraMount::Symlink { target, .. }, _) => {
            files::symlink(at, make, target)?;
            None
        }
        (ExtraMount::File { mode, .. }, _) => {
            files::file(at, make, data.expect("read in check"), *mode)?;
            None
        }
        (ExtraMount::Chmod { mode, .. }, _) => {
            files::chmod(at, make, *mode)?;
            None
        }
    })
}

/// What a mount of ours holds, for what is made inside it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Holds {
    /// A fresh tmpfs: anything may be made, and goes with it.
    Ours,
    /// An overlay: made in its upper directory, recorded.
    Layers,
    /// The host's (a bind) or the kernel's (/proc, /sys): files asked for
    /// are made there, recorded; a mount point must be there already.
    Host,
}

/// A mount of ours in the new root: where (relative to the new root), its
/// own descriptor, and what it holds.
struct Placed {
    dst: PathBuf,
    mnt: OwnedFd,
    holds: Holds,
}

/// Where a destination is opened from: the innermost mount of ours that
/// holds it (the last one made wins), by that mount's own descriptor, with
/// the rest of the path; else the new root (None).
fn base_for<'a>(
    root: BorrowedFd<'a>,
    placed: &'a [Placed],
    dst: &Path,
) -> Result<(BorrowedFd<'a>, Option<Holds>, PathBuf), &'static str> {
    let rel = dest::normalized(dst)?;
    let inner = placed
        .iter()
        .enumerate()
        .filter(|(_, p)| rel.starts_with(&p.dst))
        .max_by_key(|(i, p)| (p.dst.components().count(), *i));
    Ok(match inner {
        Some((_, p)) => (
            p.mnt.as_fd(),
            Some(p.holds),
            rel.strip_prefix(&p.dst).expect("a prefix").to_path_buf(),
        ),
        None => (root, None, rel),
    })
}

/// Mounts everything under `root` (the descriptor of the new root's own
/// bind), in order: the image read-only, /dev, /proc, /sys, the extra
/// mounts and files. Each mount is made detached and attached onto its
/// destination's descriptor; what comes after it works from its
/// descriptor. The caller detaches the new root's bind, and takes back
/// `checked.journal`, if this fails.
pub(super) fn apply(
    root: BorrowedFd<'_>,
    setup: &RootSetup,
    checked: &mut Checked,
) -> Result<(), PivotError> {
    if !checked.image_done {
        in_image(root, setup, checked)?;
    }
    if setup.read_only {
        // After the image's own steps, before our mounts: it holds for the
        // image's own mounts, not for ours.
        attach::read_only_tree("--ro", root)?;
    }
    let mut placed = Vec::new();
    if setup.dev {
        let mnt = dev::mount_dev(root, &checked.dev_nodes)?;
        placed.push(Placed {
            dst: "dev".into(),
            mnt,
            holds: Holds::Ours,
        });
    }
    let null = checked.null.as_ref().map(|n| n.as_fd());
    if setup.proc {
        let mnt = procfs::mount_proc(root, null.expect("opened in check"))?;
        placed.push(Placed {
            dst: "proc".into(),
            mnt,
            holds: Holds::Host,
        });
    }
    if setup.sys {
        let mnt = sysfs::mount_sys(root)?;
        placed.push(Placed {
            dst: "sys".into(),
            mnt,
            holds: Holds::Host,
        });
    }
    for (i, m) in setup.mounts.iter().enumerate() {
        let src = checked.sources[i].as_ref();
        if skipped(m, src) {
            tracing::debug!(option = %m.option(), "source missing: skipped");
            continue;
        }
        let option = m.option();
        let (base, holds, rest) =
            base_for(root, &placed, m.dst()).map_err(|why| dest::refused(&option, m.dst(), why))?;
        if holds.is_none() && m.is_file() {
            // A file in the image itself: made already.
            continue;
        }
        let at = dest::At {
            base,
            rel: &rest,
            option: &option,
            shown: m.dst(),
        };
        let mut make = match holds {
            None => Make::No,
            Some(Holds::Ours) => Make::Ours,
            Some(Holds::Layers) => Make::Recorded(&mut checked.journal),
            // Inside the host's: only what was asked for by name.
            Some(Holds::Host) if m.is_file() => Make::Recorded(&mut checked.journal),
            Some(Holds::Host) => Make::No,
        };
        let data = checked.data[i].as_deref();
        let Some(dst) = step(&at, &mut make, m, src, data)? else {
            continue;
        };
        let (mnt, holds) = match (m, src) {
            (ExtraMount::Tmpfs { mode, size, .. }, _) => {
                let mode = format!("{mode:o}");
                let mut options = vec![("mode", mode.as_str())];
                if let Some(size) = size {
                    options.push(("size", size.as_str()));
                }
                let mnt =
                    attach::new_fs(&option, c"tmpfs", &options, attach::NOSUID | attach::NODEV)?;
                attach::attach(&option, mnt.as_fd(), dst.as_fd())?;
                (mnt, Holds::Ours)
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
                (mnt, Holds::Host)
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
                (mnt, Holds::Layers)
            }
            (
                ExtraMount::BindData {
                    mode, read_only, ..
                },
                _,
            ) => {
                // A file: nothing is placed under it.
                let data = data.expect("read in check");
                files::bind_data(&at, root, dst.as_fd(), data, *mode, *read_only)?;
                continue;
            }
            _ => unreachable!("files are made by step, a bind's source opened in check"),
        };
        placed.push(Placed {
            dst: dest::normalized(m.dst()).expect("checked above"),
            mnt,
            holds,
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
        opened = dest::open_dir(&at, &mut Make::No)?;
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
