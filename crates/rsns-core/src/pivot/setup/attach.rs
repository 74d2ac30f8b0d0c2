//! Mounts made detached and attached by descriptor (the new mount API,
//! Linux 5.2), so every step after a mount works from that mount's own
//! descriptor: what fsmount(2) or open_tree(2) returned goes on naming the
//! mount once move_mount(2) has attached it. Nothing is looked up again by
//! name after a mount, so a directory swapped in the image (renameat2
//! RENAME_EXCHANGE) cannot redirect a later step.

use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;

use super::dest::{mount_error, remount_with};
use crate::error::SysError;
use crate::pivot::PivotError;
use crate::sys;

pub(super) const NOSUID: u64 = libc::MOUNT_ATTR_NOSUID;
pub(super) const NODEV: u64 = libc::MOUNT_ATTR_NODEV;
pub(super) const NOEXEC: u64 = libc::MOUNT_ATTR_NOEXEC;
pub(super) const RDONLY: u64 = libc::MOUNT_ATTR_RDONLY;

/// A new file system of `fstype` with `options` (`key=value`; an empty
/// value makes `key` a flag, as overlayfs's `userxattr`), as a detached
/// mount with `attrs` (MOUNT_ATTR_*) from the start.
pub(super) fn new_fs(
    option: &str,
    fstype: &CStr,
    options: &[(&str, &str)],
    attrs: u64,
) -> Result<OwnedFd, PivotError> {
    let what = || format!("mount a new {}", fstype.to_string_lossy());
    let fs = sys::fsopen(fstype).map_err(|e| mount_error(option, &what(), e))?;
    for (key, value) in options {
        let key = CString::new(*key).expect("no NUL in an option name");
        let value = CString::new(*value).expect("no NUL in an option value");
        let value = (!value.is_empty()).then_some(value.as_c_str());
        sys::fsconfig(fs.as_fd(), Some(&key), value).map_err(|e| {
            mount_error(
                option,
                &format!("{}: option {}", what(), key.to_string_lossy()),
                e,
            )
        })?;
    }
    sys::fsconfig(fs.as_fd(), None, None).map_err(|e| mount_error(option, &what(), e))?;
    sys::fsmount(fs.as_fd(), attrs).map_err(|e| mount_error(option, &what(), e))
}

/// Detaches the mount `mnt` names, with everything under it.
pub(super) fn detach(mnt: BorrowedFd<'_>) {
    use std::os::fd::AsRawFd;
    let path = format!("/proc/self/fd/{}", mnt.as_raw_fd());
    let _ = nix::mount::umount2(path.as_str(), nix::mount::MntFlags::MNT_DETACH);
}

/// Attaches the detached (or moves the attached) mount `mnt` onto `dst`.
pub(super) fn attach(
    option: &str,
    mnt: BorrowedFd<'_>,
    dst: BorrowedFd<'_>,
) -> Result<(), PivotError> {
    sys::move_mount(mnt, dst, c"")
        .map_err(|e| mount_error(option, "attach the mount (move_mount)", e))
}

/// A bind of `src` (with the mounts below it) onto `dst`: the copy is made
/// detached, given `attrs` (MOUNT_ATTR_RDONLY, _NOSUID, _NODEV) first, then
/// attached. Returns the bind.
pub(super) fn bind_tree(
    option: &str,
    src: BorrowedFd<'_>,
    dst: BorrowedFd<'_>,
    attrs: u64,
) -> Result<OwnedFd, PivotError> {
    let tree =
        sys::clone_tree(src, true).map_err(|e| mount_error(option, "bind mount (open_tree)", e))?;
    if attrs == 0 {
        attach(option, tree.as_fd(), dst)?;
        return Ok(tree);
    }
    match sys::mount_setattr(tree.as_fd(), true, attrs, 0) {
        Ok(()) => attach(option, tree.as_fd(), dst)?,
        // Before 5.12: attach, then remount each mount of the copy.
        Err(Errno::ENOSYS) => {
            attach(option, tree.as_fd(), dst)?;
            set_each(option, tree.as_fd(), attrs)?;
        }
        Err(e) => {
            return Err(mount_error(
                option,
                "set the mount's flags (mount_setattr)",
                e,
            ));
        }
    }
    Ok(tree)
}

/// Makes the attached mount `top`, and every mount below it, read-only.
pub(super) fn read_only_tree(option: &str, top: BorrowedFd<'_>) -> Result<(), PivotError> {
    match sys::mount_setattr(top, true, RDONLY, 0) {
        Ok(()) => Ok(()),
        Err(Errno::ENOSYS) => set_each(option, top, RDONLY),
        Err(e) => Err(mount_error(option, "make read-only (mount_setattr)", e)),
    }
}

/// Without mount_setattr (before Linux 5.12): remounts `top` with `attrs`
/// added, then each mount below it, each opened under `top` and checked to
/// be that very mount (its mount ID) before it is remounted, so a path
/// changed meanwhile is an error, not a remount of something else.
fn set_each(option: &str, top: BorrowedFd<'_>, attrs: u64) -> Result<(), PivotError> {
    remount_with(option, top, attrs)?;
    let top_id = sys::mount_of(top, c"")
        .map_err(|e| SysError::new(format!("{option}: statx of the mount"), e))?
        .mnt_id;
    let text = crate::mountinfo::read_own().map_err(|e| {
        SysError::new(
            format!("{option}: read mountinfo"),
            crate::error::io_errno(&e),
        )
    })?;
    let mounts = crate::mountinfo::parse(&text);
    let Some(top_mount) = mounts.iter().find(|m| m.id == top_id) else {
        return Err(PivotError::Refused(format!(
            "{option}: the mount is not in mountinfo"
        )));
    };
    // Every mount whose chain of parents reaches `top`, parents first.
    let below = |id: u64| {
        let mut at = id;
        for _ in 0..mounts.len() {
            let Some(m) = mounts.iter().find(|m| m.id == at) else {
                return false;
            };
            if m.parent == top_id {
                return true;
            }
            at = m.parent;
        }
        false
    };
    for m in mounts.iter().filter(|m| below(m.id)) {
        let Ok(rest) = m.mount_point.strip_prefix(&top_mount.mount_point) else {
            return Err(PivotError::Refused(format!(
                "{option}: a mount below it is not under its mount point"
            )));
        };
        let name = CString::new(std::os::unix::ffi::OsStrExt::as_bytes(rest.as_os_str()))
            .map_err(|_| PivotError::Refused(format!("{option}: a mount point holds a NUL")))?;
        let how = nix::fcntl::OpenHow::new()
            .flags(nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_CLOEXEC)
            .resolve(
                nix::fcntl::ResolveFlag::RESOLVE_BENEATH
                    | nix::fcntl::ResolveFlag::RESOLVE_NO_SYMLINKS,
            );
        let fd = crate::pivot::lookup::openat2_retrying(top, name.as_c_str(), how);
        let same = fd
            .as_ref()
            .ok()
            .and_then(|fd| sys::mount_of(fd.as_fd(), c"").ok())
            .is_some_and(|of| of.is_mount_root && of.mnt_id == m.id);
        match fd {
            Ok(fd) if same => remount_with(option, fd.as_fd(), attrs)?,
            _ => {
                return Err(PivotError::Refused(format!(
                    "{option}: the mount at '{}' changed while its flags were being set",
                    crate::text::safe_path(&m.mount_point)
                )));
            }
        }
    }
    Ok(())
}
