//! `--host-tools`: the program runs in the target's namespaces but the mount
//! namespace, which is a private copy of ours, so the host's programs and
//! their libraries work in a container that has none (distroless images).
//! The target's root file system is at [`TARGET_ROOT`], cloned from inside
//! its own mount namespace (open_tree(OPEN_TREE_CLONE) there, not a walk of
//! /proc/PID/root); the forked child mounts a proc showing the target's PID
//! namespace on /proc.
//!
//! Our /run is covered by a tmpfs of ours that holds rsns/target and, bound
//! back one by one, every entry of the /run it covers, so the host's
//! sockets and state stay where its programs look for them. Everything is
//! made in our own mount namespace, private from its root down: the
//! container sees none of it and it goes with the program.
//!
//! What this does not protect against: the target's tree is the
//! container's, and its symlinks resolve in our view (a `cat` of
//! /run/rsns/target/etc/x, where the image made x a link to /etc/shadow,
//! reads the host's). The program is as privileged as the credentials it
//! runs with; treat paths under the target's root as the container's.

use std::ffi::{CStr, CString, OsString};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, openat};
use nix::mount::MsFlags;
use nix::sched::{CloneFlags, setns, unshare};
use nix::sys::stat::{Mode, SFlag, fstatat, mkdirat};

use super::NsenterError;
use crate::error::SysError;
use crate::sys;

/// Where the program finds the target's root file system (also in
/// `$RSNS_TARGET_ROOT`), and its working directory.
pub const TARGET_ROOT: &str = "/run/rsns/target";

/// Makes our mount namespace: a private copy of ours with the target's root
/// at [`TARGET_ROOT`]. `target_mnt` is the target's mount namespace, opened
/// before anything was entered; every other namespace is entered already (a
/// user namespace first, so the copy is owned by it and ours to change).
pub(crate) fn prepare(target_mnt: OwnedFd) -> Result<(), NsenterError> {
    let fail = |what: &str| {
        let what = format!("--host-tools: cannot {what}");
        move |e: Errno| NsenterError::Sys(SysError::new(what, e))
    };
    unshare(CloneFlags::CLONE_NEWNS).map_err(fail("make a mount namespace (unshare)"))?;
    crate::mount::set_propagation(MsFlags::MS_REC | MsFlags::MS_PRIVATE)
        .map_err(fail("make our mount namespace private"))?;
    let ours = open(None, c"/proc/self/ns/mnt", OFlag::O_RDONLY)
        .map_err(fail("open our mount namespace"))?;

    // The target's root, cloned from inside its mount namespace; setns
    // leaves us at that namespace's root.
    setns(target_mnt.as_fd(), CloneFlags::CLONE_NEWNS)
        .map_err(fail("enter the target's mount namespace"))?;
    let tree = open(None, c"/", OFlag::O_PATH | OFlag::O_DIRECTORY)
        .and_then(|root| sys::clone_tree(root.as_fd(), true));
    // Back to our copy whatever happened, before saying what.
    setns(ours.as_fd(), CloneFlags::CLONE_NEWNS).map_err(fail("return to our mount namespace"))?;
    let tree = tree.map_err(fail("clone the target's root (open_tree)"))?;

    let run = open(
        None,
        c"/run",
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW,
    )
    .map_err(fail("open /run"))?;
    let ours_run = cover_run(run.as_fd()).map_err(fail("put a tmpfs of ours on /run"))?;
    let rsns = make_dir(ours_run.as_fd(), c"rsns").map_err(fail("make /run/rsns"))?;
    let spot = make_dir(rsns.as_fd(), c"target").map_err(fail("make /run/rsns/target"))?;
    sys::move_mount(tree.as_fd(), spot.as_fd(), c"")
        .map_err(fail("mount the target's root on /run/rsns/target"))?;
    // Its mounts may be shared with the container's: what the program mounts
    // there stays here.
    let target_root = CString::new(TARGET_ROOT).expect("no NUL");
    crate::mount::make_private(&target_root)
        .map_err(fail("make the target's root private here"))?;
    Ok(())
}

/// A tmpfs on `run` with each of `run`'s entries made again in it: a
/// symlink copied, anything else bound from `run` (with the mounts below).
/// Returns the tmpfs.
fn cover_run(run: BorrowedFd<'_>) -> Result<OwnedFd, Errno> {
    let listing = open(Some(run), c".", OFlag::O_RDONLY | OFlag::O_DIRECTORY)?;
    let names: Vec<CString> = std::fs::read_dir(fd_path(listing.as_fd()))
        .map_err(|e| crate::error::io_errno(&e))?
        .filter_map(|entry| entry.ok())
        .map(|entry| CString::new(entry.file_name().as_bytes()).expect("no NUL in a name"))
        .filter(|name| name.as_bytes() != b"rsns")
        .collect();
    let fs = sys::fsopen(c"tmpfs")?;
    sys::fsconfig(fs.as_fd(), Some(c"mode"), Some(c"755"))?;
    sys::fsconfig(fs.as_fd(), None, None)?;
    let tmpfs = sys::fsmount(fs.as_fd(), libc::MOUNT_ATTR_NOSUID | libc::MOUNT_ATTR_NODEV)?;
    sys::move_mount(tmpfs.as_fd(), run, c"")?;
    for name in &names {
        let st = match fstatat(run, name.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(Errno::ENOENT) => continue,
            Err(e) => return Err(e),
        };
        let kind = SFlag::from_bits_truncate(st.st_mode & libc::S_IFMT);
        if kind == SFlag::S_IFLNK {
            let mut buf = [0u8; libc::PATH_MAX as usize];
            let len = sys::readlinkat(run, name, &mut buf)?;
            let link = CString::new(&buf[..len]).map_err(|_| Errno::EINVAL)?;
            nix::unistd::symlinkat(link.as_c_str(), tmpfs.as_fd(), name.as_c_str())?;
            continue;
        }
        let spot = if kind == SFlag::S_IFDIR {
            make_dir(tmpfs.as_fd(), name)?
        } else {
            let flags = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_NOFOLLOW;
            drop(openat(
                tmpfs.as_fd(),
                name.as_c_str(),
                flags,
                Mode::from_bits_truncate(0o600),
            )?);
            open(Some(tmpfs.as_fd()), name, OFlag::O_PATH | OFlag::O_NOFOLLOW)?
        };
        let src = open(Some(run), name, OFlag::O_PATH | OFlag::O_NOFOLLOW)?;
        let bind = sys::clone_tree(src.as_fd(), true)?;
        sys::move_mount(bind.as_fd(), spot.as_fd(), c"")?;
    }
    Ok(tmpfs)
}

/// A new directory `name` in `dir` (mode 755), opened.
fn make_dir(dir: BorrowedFd<'_>, name: &CStr) -> Result<OwnedFd, Errno> {
    mkdirat(dir, name, Mode::from_bits_truncate(0o755))?;
    open(
        Some(dir),
        name,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW,
    )
}

fn open(dir: Option<BorrowedFd<'_>>, name: &CStr, flags: OFlag) -> Result<OwnedFd, Errno> {
    let flags = flags | OFlag::O_CLOEXEC;
    match dir {
        Some(dir) => openat(dir, name, flags, Mode::empty()),
        None => nix::fcntl::open(name, flags, Mode::empty()),
    }
}

fn fd_path(fd: BorrowedFd<'_>) -> String {
    use std::os::fd::AsRawFd;
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

/// The program's environment: `vars` (ours when `None`), with
/// `RSNS_TARGET_ROOT` naming the target's root.
pub(crate) fn environment(vars: Option<Vec<(OsString, OsString)>>) -> Vec<(OsString, OsString)> {
    let mut vars = vars.unwrap_or_else(|| std::env::vars_os().collect());
    vars.retain(|(k, _)| k != "RSNS_TARGET_ROOT");
    vars.push(("RSNS_TARGET_ROOT".into(), TARGET_ROOT.into()));
    vars
}
