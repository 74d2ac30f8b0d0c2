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

/// Opens the new root as a directory (O_PATH).
pub(in crate::pivot) fn open_root(new_root: &Path) -> Result<OwnedFd, PivotError> {
    open(
        new_root,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| SysError::new(format!("open {}", new_root.display()), e).into())
}

/// `dst` relative to the new root, for openat2.
fn relative(option: &str, dst: &Path) -> Result<CString, PivotError> {
    let rel: PathBuf = dst
        .components()
        .filter(|c| !matches!(c, Component::RootDir | Component::CurDir))
        .collect();
    if rel.as_os_str().is_empty() {
        return Err(refused(
            option,
            dst,
            "is the new root itself (--ro makes the image read-only)",
        ));
    }
    CString::new(rel.as_os_str().as_bytes())
        .map_err(|_| refused(option, dst, "contains a NUL byte"))
}

fn refused(option: &str, dst: &Path, why: &str) -> PivotError {
    PivotError::Refused(format!("{option}: '{}' {why}", dst.display()))
}

/// Opens `dst` inside the new root as the image sees it: `..` stops at the
/// new root, and a symlink anywhere on the path is refused (it could point
/// at a file system a mount there would change, such as /proc's).
fn open_in_root(root: BorrowedFd<'_>, option: &str, dst: &Path) -> Result<OwnedFd, PivotError> {
    let name = relative(option, dst)?;
    let how = OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC)
        .resolve(
            ResolveFlag::RESOLVE_IN_ROOT
                | ResolveFlag::RESOLVE_NO_SYMLINKS
                | ResolveFlag::RESOLVE_NO_MAGICLINKS,
        );
    let fd = openat2_retrying(root, name.as_c_str(), how).map_err(|e| match e {
        Errno::ELOOP => refused(
            option,
            dst,
            "goes through a symlink in the new root; name the real path (no symlinks)",
        ),
        Errno::ENOENT => refused(
            option,
            dst,
            "does not exist in the new root; create it in the image first",
        ),
        Errno::ENOTDIR => refused(option, dst, "goes through a file that is not a directory"),
        Errno::ENOSYS => PivotError::Refused(format!(
            "{option}: resolving paths inside the new root needs openat2 (Linux 5.6)"
        )),
        e => refused(option, dst, &format!("cannot be opened: {}", errno_text(e))),
    })?;
    // O_NOFOLLOW opened a symlink at the end of the path as itself.
    let st = fstat(fd.as_fd()).map_err(|e| SysError::new("fstat", e))?;
    if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFLNK {
        return Err(refused(
            option,
            dst,
            "is a symlink in the new root; refusing to mount over it (name the real path)",
        ));
    }
    Ok(fd)
}

fn is_dir(fd: BorrowedFd<'_>) -> Result<bool, PivotError> {
    let st = fstat(fd).map_err(|e| SysError::new("fstat", e))?;
    Ok(SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR)
}

/// A directory in the new root.
pub(super) fn open_dir(
    root: BorrowedFd<'_>,
    option: &str,
    dst: &Path,
) -> Result<OwnedFd, PivotError> {
    let fd = open_in_root(root, option, dst)?;
    if !is_dir(fd.as_fd())? {
        return Err(refused(option, dst, "is not a directory in the new root"));
    }
    Ok(fd)
}

/// Whatever `dst` is in the new root (a bind onto a file, reopened).
pub(super) fn open_dir_or_file(
    root: BorrowedFd<'_>,
    option: &str,
    dst: &Path,
) -> Result<OwnedFd, PivotError> {
    open_in_root(root, option, dst)
}

/// A destination of the same kind as the bind's source: a directory for a
/// directory, a file (not a directory) for anything else.
pub(super) fn open_like(
    root: BorrowedFd<'_>,
    option: &str,
    dst: &Path,
    src: BorrowedFd<'_>,
) -> Result<OwnedFd, PivotError> {
    let fd = open_in_root(root, option, dst)?;
    match (is_dir(src)?, is_dir(fd.as_fd())?) {
        (true, false) => Err(refused(
            option,
            dst,
            "is not a directory, and the source is one",
        )),
        (false, true) => Err(refused(
            option,
            dst,
            "is a directory, and the source is not",
        )),
        _ => Ok(fd),
    }
}

/// A bind's source on the host, opened once (symlinks on the host side are
/// the user's own and are followed).
pub(super) fn open_source(option: &str, src: &Path) -> Result<OwnedFd, PivotError> {
    open(src, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty()).map_err(|e| {
        PivotError::Refused(format!(
            "{option}: source '{}': {}",
            src.display(),
            errno_text(e)
        ))
    })
}

fn mount_error(option: &str, what: &str, errno: Errno) -> PivotError {
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

/// Makes the mount whose root `top` is read-only, and every mount below it
/// (mount_setattr, Linux 5.12); before 5.12, the top mount only.
pub(super) fn read_only_tree(option: &str, top: BorrowedFd<'_>) -> Result<(), PivotError> {
    match crate::sys::make_tree_read_only(top) {
        Ok(()) => Ok(()),
        Err(Errno::ENOSYS) => remount_read_only(option, top),
        Err(e) => Err(mount_error(option, "make read-only (mount_setattr)", e)),
    }
}

/// Remounts the mount whose root `top` is read-only, keeping its other
/// flags (the kernel refuses to clear flags locked by a user namespace).
pub(super) fn remount_read_only(option: &str, top: BorrowedFd<'_>) -> Result<(), PivotError> {
    let have = fstatvfs(top)
        .map_err(|e| SysError::new(format!("{option}: statvfs"), e))?
        .flags();
    let mut flags = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY;
    for (st, ms) in [
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
    .map_err(|e| mount_error(option, "remount read-only", e))
}
