//! `--dir`, `--symlink`, `--file`, `--chmod` and `--bind-data`: files a box
//! needs, made in the new root by descriptor (the directory they go in is
//! opened with RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS, the last component
//! made with *at calls relative to it, never following a symlink).

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{OFlag, openat};
use nix::sys::stat::{Mode, SFlag, fchmod, fstat};

use super::attach;
use super::dest::{At, Make, open_or, open_parent};
use super::journal::chmod_fd;
use crate::error::{SysError, errno_text};
use crate::pivot::PivotError;

/// What a `--file` or `--bind-data` descriptor holds, read to its end
/// before anything changes (a pipe gives it once).
pub(super) fn read_data(option: &str, fd: i32) -> Result<Vec<u8>, PivotError> {
    let bad = |why: String| PivotError::Refused(format!("{option}: descriptor {fd}: {why}"));
    // 0, 1 and 2 stay open for the command; any other is ours alone.
    let owned = if fd <= 2 {
        crate::sys::dup_named_fd(fd)
    } else {
        crate::sys::adopt_fd(fd)
    }
    .map_err(|e| bad(errno_text(e)))?;
    let mut data = Vec::new();
    std::fs::File::from(owned)
        .read_to_end(&mut data)
        .map_err(|e| bad(format!("cannot be read: {e}")))?;
    Ok(data)
}

/// Records `name` in `dir` as made, where it outlives the box.
fn record(make: &mut Make<'_>, dir: BorrowedFd<'_>, name: &OsStr, is_dir: bool) {
    if let Make::Recorded(journal) = make
        && let Ok(dir) = dir.try_clone_to_owned()
    {
        journal.made(dir, name.to_os_string(), is_dir);
    }
}

/// The O_PATH descriptor of `name` in `dir` as it is (a symlink as itself).
fn open_entry(dir: BorrowedFd<'_>, name: &OsStr) -> Result<OwnedFd, Errno> {
    openat(
        dir,
        name,
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

fn file_type(fd: BorrowedFd<'_>) -> Result<SFlag, PivotError> {
    let st = fstat(fd).map_err(|e| SysError::new("fstat", e))?;
    Ok(SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT)
}

/// `--dir=DST`: a new directory of `mode` (parents 755); one that is
/// there already stays as it is, as bubblewrap's (`--chmod` changes it).
pub(super) fn dir(at: &At<'_>, make: &mut Make<'_>, mode: u32) -> Result<(), PivotError> {
    let (parent, name) = open_parent(at, make)?;
    match nix::sys::stat::mkdirat(
        parent.as_fd(),
        name.as_os_str(),
        Mode::from_bits_truncate(0o700),
    ) {
        Ok(()) => {
            record(make, parent.as_fd(), &name, true);
            // Made 700 and then given its mode: the umask does not apply.
            let made = open_entry(parent.as_fd(), &name)
                .map_err(|e| at.refused(&format!("cannot be opened: {}", errno_text(e))))?;
            chmod_fd(&made, mode).map_err(|e| {
                at.refused(&format!("cannot be given mode {mode:o}: {}", errno_text(e)))
            })
        }
        Err(Errno::EEXIST) => {
            let there = open_entry(parent.as_fd(), &name)
                .map_err(|e| at.refused(&format!("cannot be opened: {}", errno_text(e))))?;
            match file_type(there.as_fd())? {
                SFlag::S_IFDIR => Ok(()),
                SFlag::S_IFLNK => Err(at.refused("is a symlink in the new root (never followed)")),
                _ => Err(at.refused("exists, and is not a directory")),
            }
        }
        Err(e) => Err(at.refused(&format!("cannot be made: {}", errno_text(e)))),
    }
}

/// `--symlink=TARGET:DST`: a symlink to TARGET (never resolved by us); one
/// there already with that very target is kept, as bubblewrap's.
pub(super) fn symlink(at: &At<'_>, make: &mut Make<'_>, target: &Path) -> Result<(), PivotError> {
    let (parent, name) = open_parent(at, make)?;
    match nix::unistd::symlinkat(target, parent.as_fd(), name.as_os_str()) {
        Ok(()) => {
            record(make, parent.as_fd(), &name, false);
            Ok(())
        }
        Err(Errno::EEXIST) => match nix::fcntl::readlinkat(parent.as_fd(), name.as_os_str()) {
            Ok(have) if have == target.as_os_str() => Ok(()),
            Ok(have) => Err(at.refused(&format!(
                "is a symlink to '{}' already",
                Path::new(&have).display()
            ))),
            Err(_) => Err(at.refused("exists, and is not a symlink")),
        },
        Err(e) => Err(at.refused(&format!("cannot be made: {}", errno_text(e)))),
    }
}

/// `--file=FD:DST`: a new file of `mode` holding `data`. A file there
/// already is refused, not overwritten: it may be the image's own.
pub(super) fn file(
    at: &At<'_>,
    make: &mut Make<'_>,
    data: &[u8],
    mode: u32,
) -> Result<(), PivotError> {
    let (parent, name) = open_parent(at, make)?;
    let fd = openat(
        parent.as_fd(),
        name.as_os_str(),
        OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(0o600),
    )
    .map_err(|e| match e {
        Errno::EEXIST => at.refused(
            "exists already; --file makes a new file (--ro-bind-data puts contents over one)",
        ),
        e => at.refused(&format!("cannot be made: {}", errno_text(e))),
    })?;
    record(make, parent.as_fd(), &name, false);
    write_all(at, fd, data, mode)
}

/// Gives the new file `fd` its mode (not bent by the umask) and `data`.
fn write_all(at: &At<'_>, fd: OwnedFd, data: &[u8], mode: u32) -> Result<(), PivotError> {
    fchmod(fd.as_fd(), Mode::from_bits_truncate(mode))
        .map_err(|e| at.refused(&format!("cannot be given mode {mode:o}: {}", errno_text(e))))?;
    std::fs::File::from(fd)
        .write_all(data)
        .map_err(|e| at.refused(&format!("cannot be written: {e}")))
}

/// `--chmod=MODE:DST`: the mode of what DST is (never a symlink's
/// target); the mode it had is recorded where the change outlives the box.
pub(super) fn chmod(at: &At<'_>, make: &mut Make<'_>, mode: u32) -> Result<(), PivotError> {
    let fd = open_or(at, &mut Make::No, false, "does not exist in the new root")?;
    let had = fstat(fd.as_fd())
        .map_err(|e| SysError::new("fstat", e))?
        .st_mode
        & 0o7777;
    chmod_fd(&fd, mode)
        .map_err(|e| at.refused(&format!("cannot be changed: {}", errno_text(e))))?;
    if let Make::Recorded(journal) = make {
        journal.mode(fd, had);
    }
    Ok(())
}

/// `--bind-data`, `--ro-bind-data`: `data` in a file of `mode` on a tmpfs
/// of ours, bound on `dst` (nosuid, nodev, read-only if asked); returns
/// the bind. The tmpfs is attached over `root` (a file can only be bound
/// from a mount in our namespace) for as long as the bind takes, then
/// detached: the bind keeps the file, nothing else reaches it.
pub(super) fn bind_data(
    at: &At<'_>,
    root: BorrowedFd<'_>,
    dst: BorrowedFd<'_>,
    data: &[u8],
    mode: u32,
    read_only: bool,
) -> Result<OwnedFd, PivotError> {
    let scratch = attach::new_fs(
        at.option,
        c"tmpfs",
        &[("mode", "700")],
        attach::NOSUID | attach::NODEV,
    )?;
    let fd = openat(
        scratch.as_fd(),
        "data",
        OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(0o600),
    )
    .map_err(|e| SysError::new(format!("{}: make its file", at.option), e))?;
    write_all(at, fd, data, mode)?;
    attach::attach(at.option, scratch.as_fd(), root)?;
    let bound = open_entry(scratch.as_fd(), OsStr::new("data"))
        .map_err(|e| SysError::new(format!("{}: open its file", at.option), e).into())
        .and_then(|file| {
            let mut attrs = attach::NOSUID | attach::NODEV;
            if read_only {
                attrs |= attach::RDONLY;
            }
            attach::bind_tree(at.option, file.as_fd(), dst, attrs)
        });
    attach::detach(scratch.as_fd());
    bound
}
