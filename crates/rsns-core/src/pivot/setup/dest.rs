//! Opening mount destinations inside the new root, and mounting onto the
//! descriptors, never onto paths the kernel would walk again.

use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag, open};
use nix::mount::{MsFlags, mount};
use nix::sys::stat::{Mode, SFlag, fstat};
use nix::sys::statvfs::{FsFlags, fstatvfs};

use crate::error::{SysError, errno_text};
use crate::pivot::PivotError;
use crate::pivot::lookup::openat2_retrying;

use super::journal::Journal;

/// The path through which the kernel reaches what `fd` is open on:
/// /proc/self/fd/N, a "magic link" that names that exact file.
pub(super) fn fd_path(fd: BorrowedFd<'_>) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// Mounting by descriptor goes through /proc/self/fd: it must be there.
pub(super) fn need_proc_self_fd() -> Result<(), PivotError> {
    let fd = open(c"/", OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())
        .map_err(|e| SysError::new("open /", e))?;
    let link = fd_path(fd.as_fd());
    match std::fs::read_link(&link) {
        Ok(_) => Ok(()),
        Err(e) => Err(PivotError::Refused(format!(
            "{}: {e}; mounting inside the new root needs /proc mounted (as the host's /proc)",
            link.display()
        ))),
    }
}

/// `dst` as a path relative to the new root: no `..` (a destination is
/// named as it lies in the new root), not the new root itself.
pub(super) fn normalized(dst: &Path) -> Result<PathBuf, &'static str> {
    let mut rel = PathBuf::new();
    for c in dst.components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(name) => rel.push(name),
            Component::ParentDir | Component::Prefix(_) => {
                return Err("names '..'; name the path inside the new root without it");
            }
        }
    }
    if rel.as_os_str().is_empty() {
        return Err("is the new root itself (--ro makes the image read-only)");
    }
    Ok(rel)
}

pub(super) fn refused(option: &str, dst: &Path, why: &str) -> PivotError {
    PivotError::Refused(format!("{option}: '{}' {why}", dst.display()))
}

/// Where a destination is looked up: `rel` under `base` (the new root, or
/// a mount of ours in it); `option` and `shown` name it in messages.
pub(super) struct At<'a> {
    pub base: BorrowedFd<'a>,
    pub rel: &'a Path,
    pub option: &'a str,
    pub shown: &'a Path,
}

impl<'a> At<'a> {
    /// One of the fixed destinations (dev, proc, sys) in the new root.
    pub fn named(base: BorrowedFd<'a>, option: &'a str, rel: &'static str) -> At<'a> {
        let shown: &'static Path = match rel {
            "dev" => Path::new("/dev"),
            "proc" => Path::new("/proc"),
            _ => Path::new("/sys"),
        };
        At {
            base,
            rel: Path::new(rel),
            option,
            shown,
        }
    }

    pub(super) fn refused(&self, why: &str) -> PivotError {
        refused(self.option, self.shown, why)
    }
}

/// The openat2 rules for a destination: `..` stops at `base`, a symlink
/// anywhere on the path is refused (it could point at a file system a
/// mount there would change, such as /proc's).
fn how() -> OpenHow {
    OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC)
        .resolve(
            ResolveFlag::RESOLVE_IN_ROOT
                | ResolveFlag::RESOLVE_NO_SYMLINKS
                | ResolveFlag::RESOLVE_NO_MAGICLINKS,
        )
}

fn c_path(at: &At<'_>, rel: &Path) -> Result<CString, PivotError> {
    if rel.as_os_str().is_empty() {
        return Ok(c".".to_owned());
    }
    CString::new(rel.as_os_str().as_bytes()).map_err(|_| at.refused("contains a NUL byte"))
}

/// How a missing destination is made.
pub(super) enum Make<'j> {
    /// Not at all: it must exist.
    No,
    /// In a tmpfs of ours: made, and gone with the tmpfs.
    Ours,
    /// Where it outlives the box (the image, an overlay's upper directory):
    /// made, and recorded to be taken back if the box is not made.
    Recorded(&'j mut Journal),
}

impl Make<'_> {
    fn any(&self) -> bool {
        !matches!(self, Make::No)
    }
}

/// Opens the destination as the image sees it; unless `make` is
/// [`Make::No`], makes what is missing first: directories on the way, and
/// the last component a directory (`dir`) or an empty file.
pub(super) fn open_in(at: &At<'_>, make: &mut Make<'_>, dir: bool) -> Result<OwnedFd, PivotError> {
    open_or(
        at,
        make,
        dir,
        "does not exist in the new root, and no mount point is made inside a bind, /proc or /sys",
    )
}

/// [`open_in`], saying `missing` when it is not there.
pub(super) fn open_or(
    at: &At<'_>,
    make: &mut Make<'_>,
    dir: bool,
    missing: &str,
) -> Result<OwnedFd, PivotError> {
    let name = c_path(at, at.rel)?;
    let mut opened = openat2_retrying(at.base, name.as_c_str(), how());
    if make.any() && matches!(opened, Err(Errno::ENOENT)) {
        make_path(at, dir, make)?;
        opened = openat2_retrying(at.base, name.as_c_str(), how());
    }
    let fd = opened.map_err(|e| match e {
        Errno::ELOOP => {
            at.refused("goes through a symlink in the new root; name the real path (no symlinks)")
        }
        Errno::ENOENT => at.refused(missing),
        Errno::ENOTDIR => at.refused("goes through a file that is not a directory"),
        Errno::ENOSYS => PivotError::Refused(format!(
            "{}: resolving paths inside the new root needs openat2 (Linux 5.6)",
            at.option
        )),
        e => at.refused(&format!("cannot be opened: {}", errno_text(e))),
    })?;
    // O_NOFOLLOW opened a symlink at the end of the path as itself.
    let st = fstat(fd.as_fd()).map_err(|e| SysError::new("fstat", e))?;
    if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFLNK {
        return Err(
            at.refused("is a symlink in the new root; refusing to use it (name the real path)")
        );
    }
    Ok(fd)
}

/// Makes `at.rel` under `at.base`, one component at a time, by
/// descriptor, never through a symlink; records what it made.
fn make_path(at: &At<'_>, dir: bool, make: &mut Make<'_>) -> Result<(), PivotError> {
    let parts: Vec<&std::ffi::OsStr> = at.rel.iter().collect();
    let mut cur: Option<OwnedFd> = None;
    for (i, part) in parts.iter().enumerate() {
        let here = cur.as_ref().map_or(at.base, |f| f.as_fd());
        let last = i + 1 == parts.len();
        let is_dir = !last || dir;
        let made = if is_dir {
            nix::sys::stat::mkdirat(here, *part, Mode::from_bits_truncate(0o755))
        } else {
            nix::fcntl::openat(
                here,
                *part,
                OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_CLOEXEC,
                Mode::from_bits_truncate(0o644),
            )
            .map(drop)
        };
        match made {
            Ok(()) => {
                if let Make::Recorded(journal) = make {
                    let dir = here
                        .try_clone_to_owned()
                        .map_err(|e| SysError::new("dup", crate::error::io_errno(&e)))?;
                    journal.made(dir, part.to_os_string(), is_dir);
                }
            }
            Err(Errno::EEXIST) => {}
            Err(e) => return Err(at.refused(&format!("cannot be made: {}", errno_text(e)))),
        }
        if !last {
            let how = OpenHow::new()
                .flags(OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC)
                .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_SYMLINKS);
            let next = openat2_retrying(here, *part, how)
                .map_err(|e| at.refused(&format!("cannot be made: {}", errno_text(e))))?;
            cur = Some(next);
        }
    }
    Ok(())
}

/// The directory `at.rel` is in (made if missing, as `make` says), and its
/// last component: where a file, symlink or directory of ours is made.
pub(super) fn open_parent(
    at: &At<'_>,
    make: &mut Make<'_>,
) -> Result<(OwnedFd, std::ffi::OsString), PivotError> {
    let name = at
        .rel
        .file_name()
        .ok_or_else(|| at.refused("has no last component"))?
        .to_os_string();
    let parent = at.rel.parent().unwrap_or(Path::new(""));
    let parent_at = At {
        base: at.base,
        rel: parent,
        option: at.option,
        shown: at.shown.parent().unwrap_or(at.shown),
    };
    Ok((open_dir(&parent_at, make)?, name))
}

pub(super) fn is_dir(fd: BorrowedFd<'_>) -> Result<bool, PivotError> {
    let st = fstat(fd).map_err(|e| SysError::new("fstat", e))?;
    Ok(SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR)
}

/// A directory in the new root.
pub(super) fn open_dir(at: &At<'_>, make: &mut Make<'_>) -> Result<OwnedFd, PivotError> {
    let fd = open_in(at, make, true)?;
    if !is_dir(fd.as_fd())? {
        return Err(at.refused("is not a directory in the new root"));
    }
    Ok(fd)
}

/// A destination of the kind a bind's source is (`src_dir`): a directory
/// for a directory, a file (not a directory) for anything else.
pub(super) fn open_like(
    at: &At<'_>,
    make: &mut Make<'_>,
    src_dir: bool,
) -> Result<OwnedFd, PivotError> {
    let fd = open_in(at, make, src_dir)?;
    match (src_dir, is_dir(fd.as_fd())?) {
        (true, false) => Err(at.refused("is not a directory, and the source is one")),
        (false, true) => Err(at.refused("is a directory, and the source is not")),
        _ => Ok(fd),
    }
}

/// A bind's source on the host, opened once (symlinks on the host side are
/// the user's own and are followed).
/// A bind's source on the host; None for a missing one that is `optional`.
pub(super) fn open_source(
    option: &str,
    src: &Path,
    optional: bool,
) -> Result<Option<OwnedFd>, PivotError> {
    match open(src, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty()) {
        Ok(fd) => Ok(Some(fd)),
        Err(Errno::ENOENT) if optional => Ok(None),
        Err(e) => Err(PivotError::Refused(format!(
            "{option}: source '{}': {}",
            src.display(),
            errno_text(e)
        ))),
    }
}

pub(super) fn mount_error(option: &str, what: &str, errno: Errno) -> PivotError {
    let hint = match errno {
        Errno::EPERM => Some(
            "mounting needs CAP_SYS_ADMIN over this mount namespace: run us in a new one (rs-unshare -m, or -Urm as an ordinary user)"
                .to_string(),
        ),
        _ => None,
    };
    SysError::new(format!("{option}: {what}"), errno)
        .with_hint(hint)
        .into()
}

/// mount(2) of a new file system onto `dst` (a descriptor).
pub(super) fn mount_fs(
    fstype: &CStr,
    dst: BorrowedFd<'_>,
    flags: MsFlags,
    data: Option<&CStr>,
) -> Result<(), Errno> {
    mount(Some(fstype), &fd_path(dst), Some(fstype), flags, data)
}

/// A tmpfs on `dst`.
pub(super) fn mount_tmpfs(
    option: &str,
    dst: BorrowedFd<'_>,
    data: &str,
    read_only: bool,
) -> Result<(), PivotError> {
    let mut flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    if read_only {
        flags |= MsFlags::MS_RDONLY;
    }
    let data = CString::new(data).expect("no NUL in tmpfs options");
    mount_fs(c"tmpfs", dst, flags, Some(data.as_c_str()))
        .map_err(|e| mount_error(option, "mount a tmpfs", e))
}

/// A recursive bind of `src` onto `dst`, both descriptors.
pub(super) fn bind(
    option: &str,
    src: BorrowedFd<'_>,
    dst: BorrowedFd<'_>,
) -> Result<(), PivotError> {
    mount(
        Some(&fd_path(src)),
        &fd_path(dst),
        None::<&CStr>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&CStr>,
    )
    .map_err(|e| mount_error(option, "bind mount", e))
}

/// Remounts the mount whose root `top` is with the MOUNT_ATTR_* `attrs`
/// added, keeping its other flags (the kernel refuses to clear flags locked
/// by a user namespace).
pub(super) fn remount_with(
    option: &str,
    top: BorrowedFd<'_>,
    attrs: u64,
) -> Result<(), PivotError> {
    let have = fstatvfs(top)
        .map_err(|e| SysError::new(format!("{option}: statvfs"), e))?
        .flags();
    let mut flags = MsFlags::MS_REMOUNT | MsFlags::MS_BIND;
    for (attr, ms) in [
        (super::attach::RDONLY, MsFlags::MS_RDONLY),
        (super::attach::NOSUID, MsFlags::MS_NOSUID),
        (super::attach::NODEV, MsFlags::MS_NODEV),
        (super::attach::NOEXEC, MsFlags::MS_NOEXEC),
    ] {
        if attrs & attr != 0 {
            flags |= ms;
        }
    }
    // What the mount has stays: a user namespace may not clear a flag it
    // inherited locked.
    for (st, ms) in [
        (FsFlags::ST_RDONLY, MsFlags::MS_RDONLY),
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ] {
        if have.contains(st) {
            flags |= ms;
        }
    }
    mount(
        None::<&CStr>,
        &fd_path(top),
        None::<&CStr>,
        flags,
        None::<&CStr>,
    )
    .map_err(|e| mount_error(option, "remount (bind, with the flags asked)", e))
}
