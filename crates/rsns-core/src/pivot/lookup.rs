//! Finding the command inside the new root before anything changes, with
//! the kernel resolving every path as if the new root were `/` (openat2
//! RESOLVE_IN_ROOT), so an absolute symlink in the image cannot point at the
//! host's files.

use std::ffi::{CStr, OsString};
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, OpenHow, ResolveFlag, openat2};
use nix::sys::stat::{SFlag, fstat};
use nix::unistd::{AccessFlags, faccessat};

use crate::ids::parse_passwd_line;

/// openat2(2), again while it answers EAGAIN: with RESOLVE_IN_ROOT or
/// RESOLVE_BENEATH and a `..` in the path, the kernel gives up when any
/// rename or mount anywhere raced with the lookup, and asks us to retry.
pub(in crate::pivot) fn openat2_retrying<P: ?Sized + nix::NixPath>(
    dir: BorrowedFd<'_>,
    path: &P,
    how: OpenHow,
) -> Result<OwnedFd, Errno> {
    let mut tries = 0;
    loop {
        match openat2(dir, path, how) {
            Err(Errno::EAGAIN) if tries < 1000 => tries += 1,
            other => return other,
        }
    }
}

/// Opens `path` inside `root` as if `root` were `/`.
pub(super) fn open_in_root(
    root: BorrowedFd<'_>,
    path: &CStr,
    flags: OFlag,
) -> Result<OwnedFd, Errno> {
    let how = OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    openat2_retrying(root, path, how)
}

/// Like execvp(3) will after the pivot: the first candidate that is an
/// executable regular file wins; a missing one moves on; one that exists
/// but cannot run is remembered (EACCES).
pub(super) fn find_executable(root: BorrowedFd<'_>, candidates: &[&CStr]) -> Result<(), Errno> {
    let mut saw_eacces = false;
    let mut last = Errno::ENOENT;
    for candidate in candidates {
        match executable(root, candidate) {
            Ok(()) => return Ok(()),
            Err(Errno::EACCES) => saw_eacces = true,
            Err(e @ (Errno::ENOENT | Errno::ENOTDIR)) => last = e,
            Err(other) => return Err(other),
        }
    }
    Err(if saw_eacces { Errno::EACCES } else { last })
}

fn executable(root: BorrowedFd<'_>, path: &CStr) -> Result<(), Errno> {
    let fd = open_in_root(root, path, OFlag::O_PATH)?;
    let st = fstat(fd.as_fd())?;
    if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFREG {
        return Err(Errno::EACCES);
    }
    // The effective ids, which are the ones exec will check; a noexec
    // mount answers EACCES here too.
    faccessat(
        fd.as_fd(),
        c"",
        AccessFlags::X_OK,
        AtFlags::AT_EMPTY_PATH | AtFlags::AT_EACCESS,
    )
}

/// The shell to run when no command is given: $SHELL, else `uid`'s login
/// shell in the new root's /etc/passwd, else /bin/sh.
pub(super) fn shell_in_root(
    root: BorrowedFd<'_>,
    env_shell: Option<OsString>,
    uid: u32,
) -> PathBuf {
    if let Some(shell) = env_shell.filter(|s| !s.is_empty()) {
        return PathBuf::from(shell);
    }
    login_shell_in_root(root, uid).unwrap_or_else(|| PathBuf::from("/bin/sh"))
}

fn login_shell_in_root(root: BorrowedFd<'_>, uid: u32) -> Option<PathBuf> {
    let fd = open_in_root(root, c"/etc/passwd", OFlag::O_RDONLY).ok()?;
    let mut text = String::new();
    std::fs::File::from(fd).read_to_string(&mut text).ok()?;
    text.lines()
        .filter_map(parse_passwd_line)
        .find(|e| e.uid == uid)
        .map(|e| PathBuf::from(e.shell))
        .filter(|s| s != Path::new(""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    fn root_with(files: &[(&str, u32)]) -> (PathBuf, OwnedFd) {
        let dir = std::env::temp_dir().join(format!(
            "rsns-lookup-{}-{}",
            std::process::id(),
            files.len()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        for (name, mode) in files {
            let path = dir.join(name);
            std::fs::write(&path, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(*mode)).unwrap();
        }
        let fd = nix::fcntl::open(
            &dir,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .unwrap();
        (dir, fd)
    }

    #[test]
    fn finds_like_execvp_inside_the_root_only() {
        let (dir, fd) = root_with(&[("bin/run", 0o755), ("bin/data", 0o644)]);
        // An absolute symlink resolves inside the root, not on the host.
        symlink("/bin/run", dir.join("bin/link")).unwrap();
        symlink("/usr/bin/env", dir.join("bin/host")).unwrap();
        let root = fd.as_fd();
        assert_eq!(find_executable(root, &[c"/nope/run", c"/bin/run"]), Ok(()));
        assert_eq!(find_executable(root, &[c"/bin/link"]), Ok(()));
        assert_eq!(find_executable(root, &[c"/bin/host"]), Err(Errno::ENOENT));
        assert_eq!(
            find_executable(root, &[c"/bin/data", c"/x"]),
            Err(Errno::EACCES)
        );
        assert_eq!(find_executable(root, &[c"/bin"]), Err(Errno::EACCES));
        assert_eq!(find_executable(root, &[c"/bin/run/x"]), Err(Errno::ENOTDIR));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn the_shell_comes_from_the_new_roots_passwd() {
        let (dir, fd) = root_with(&[]);
        std::fs::write(
            dir.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/ash\nu:x:7:7::/:\n",
        )
        .unwrap();
        let root = fd.as_fd();
        assert_eq!(shell_in_root(root, None, 0), PathBuf::from("/bin/ash"));
        assert_eq!(shell_in_root(root, None, 7), PathBuf::from("/bin/sh"));
        assert_eq!(shell_in_root(root, None, 8), PathBuf::from("/bin/sh"));
        assert_eq!(
            shell_in_root(root, Some("/bin/zsh".into()), 0),
            PathBuf::from("/bin/zsh")
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
