//! Keeping a namespace alive after its last process: bind-mount
//! /proc/PID/ns/KIND onto a file, and undo the binds when a run fails.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sys::statfs::{NSFS_MAGIC, statfs};
use nix::unistd::Pid;

use crate::error::SysError;
use crate::ns::NsKind;

/// A namespace to keep at a path (`--uts=FILE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistTarget {
    pub kind: NsKind,
    pub path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("--{option}={}: {reason}", path.display())]
    BadTarget {
        option: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("{0}")]
    Bind(SysError),
}

fn bad(target: &PersistTarget, reason: impl Into<String>) -> PersistError {
    PersistError::BadTarget {
        option: target.kind.option_name(),
        path: target.path.clone(),
        reason: reason.into(),
    }
}

/// Refuses targets a bind would misuse, before anything is created: a missing
/// file, a directory, a file with contents (the bind would hide them), a file
/// that already holds a namespace, or one path given for two namespaces.
pub fn check_targets(targets: &[PersistTarget]) -> Result<(), PersistError> {
    // (dev, inode) of each target checked so far, to find a file given twice.
    let mut seen: Vec<(u64, u64, NsKind)> = Vec::with_capacity(targets.len());
    for target in targets {
        let meta = std::fs::metadata(&target.path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => bad(
                target,
                "no such file; create an empty file first (touch FILE)",
            ),
            _ => bad(target, e.to_string()),
        })?;
        if !meta.is_file() {
            return Err(bad(
                target,
                "not a regular file; a namespace is bound onto an empty regular file (touch FILE)",
            ));
        }
        if statfs(&target.path).is_ok_and(|s| s.filesystem_type() == NSFS_MAGIC) {
            return Err(bad(
                target,
                format!(
                    "already holds a namespace (inode {}); unmount it first (umount FILE)",
                    meta.ino()
                ),
            ));
        }
        if meta.len() != 0 {
            return Err(bad(
                target,
                format!(
                    "not empty ({} bytes); binding a namespace over it would hide its contents",
                    meta.len()
                ),
            ));
        }
        if let Some(&(_, _, earlier)) = seen
            .iter()
            .find(|(dev, ino, _)| (*dev, *ino) == (meta.dev(), meta.ino()))
        {
            return Err(bad(
                target,
                format!(
                    "the same file is given for --{}; each namespace needs its own file",
                    earlier.option_name()
                ),
            ));
        }
        seen.push((meta.dev(), meta.ino(), target.kind));
    }
    Ok(())
}

/// Binds that are undone on drop unless [`Bound::keep`] is called, so a run
/// that fails after binding leaves no stray mount.
#[derive(Debug, Default)]
pub struct Bound {
    paths: Vec<PathBuf>,
}

impl Bound {
    /// The run succeeded: the binds stay.
    pub fn keep(mut self) {
        self.paths.clear();
    }
}

impl Drop for Bound {
    fn drop(&mut self) {
        for path in self.paths.drain(..).rev() {
            match umount2(&path, MntFlags::MNT_DETACH) {
                Ok(()) => tracing::debug!(path = %path.display(), "undid namespace bind"),
                Err(errno) => {
                    tracing::warn!(path = %path.display(), ?errno, "cannot undo namespace bind")
                }
            }
        }
    }
}

/// Binds the namespaces of `pid` onto their targets, all or none. PID and
/// time namespaces are taken from `*_for_children`, where a new one shows
/// first.
pub fn bind_namespaces(pid: Pid, targets: &[PersistTarget]) -> Result<Bound, PersistError> {
    let mut bound = Bound::default();
    for target in targets {
        let source = PathBuf::from(format!(
            "/proc/{pid}/ns/{}",
            target.kind.for_children_name()
        ));
        bind_one(&source, &target.path).map_err(|errno| {
            PersistError::Bind(
                SysError::new(
                    format!(
                        "cannot bind {} on {}",
                        source.display(),
                        target.path.display()
                    ),
                    errno,
                )
                .with_hint(bind_hint(target.kind, errno, &source)),
            )
        })?;
        tracing::debug!(source = %source.display(), path = %target.path.display(), "bound namespace");
        bound.paths.push(target.path.clone());
    }
    Ok(bound)
}

fn bind_one(source: &Path, target: &Path) -> Result<(), Errno> {
    let source = CString::new(source.as_os_str().as_bytes()).map_err(|_| Errno::EINVAL)?;
    let target = CString::new(target.as_os_str().as_bytes()).map_err(|_| Errno::EINVAL)?;
    mount(
        Some(source.as_c_str()),
        target.as_c_str(),
        None::<&std::ffi::CStr>,
        MsFlags::MS_BIND,
        None::<&std::ffi::CStr>,
    )
}

fn bind_hint(kind: NsKind, errno: Errno, source: &Path) -> Option<String> {
    match errno {
        Errno::EINVAL if kind == NsKind::Mount => Some(match mntns_ids(source) {
            Some((ours, theirs)) if ours >= theirs => format!(
                "the kernel binds a mount namespace only into an older one, judged by id, and \
                 this kernel hands out ids per CPU, so the new namespace got a lower id \
                 ({theirs}) than ours ({ours}); run again, or keep it from the initial mount \
                 namespace, whose id is the lowest"
            ),
            _ => "the file is on a mount that shares propagation with the new mount namespace, \
                  so the bind would reach into the namespace itself; keep the default \
                  --propagation=private, or put the file on a private mount (mount --bind DIR \
                  DIR; mount --make-private DIR; see findmnt -o+PROPAGATION)"
                .into(),
        }),
        Errno::EPERM | Errno::EACCES => Some(
            "binding needs CAP_SYS_ADMIN in the mount namespace that holds the file; an \
             unprivileged user cannot bind onto the host's file systems"
                .into(),
        ),
        _ => None,
    }
}

/// The ids of our mount namespace and of the one at `source` (Linux 6.9+).
fn mntns_ids(source: &Path) -> Option<(u64, u64)> {
    use std::os::fd::AsFd;
    let id = |path: &Path| {
        let file = std::fs::File::open(path).ok()?;
        crate::sys::mntns_id(file.as_fd()).ok()
    };
    Some((id(Path::new("/proc/self/ns/mnt"))?, id(source)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(kind: NsKind, path: &Path) -> PersistTarget {
        PersistTarget {
            kind,
            path: path.to_path_buf(),
        }
    }

    #[test]
    fn refuses_missing_dir_nonempty_and_duplicate_targets() {
        let dir = crate::testutil::scratch_dir("persist-checks");
        let empty = dir.join("empty");
        std::fs::write(&empty, b"").unwrap();
        let full = dir.join("full");
        std::fs::write(&full, b"data").unwrap();

        check_targets(&[target(NsKind::Uts, &empty)]).unwrap();

        let err = check_targets(&[target(NsKind::Uts, &dir.join("missing"))]).unwrap_err();
        assert!(err.to_string().starts_with("--uts="), "{err}");
        assert!(err.to_string().contains("no such file"), "{err}");

        let err = check_targets(&[target(NsKind::Net, &dir)]).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");

        let err = check_targets(&[target(NsKind::Mount, &full)]).unwrap_err();
        assert!(err.to_string().starts_with("--mount="), "{err}");
        assert!(err.to_string().contains("not empty (4 bytes)"), "{err}");

        let err =
            check_targets(&[target(NsKind::Uts, &empty), target(NsKind::Ipc, &empty)]).unwrap_err();
        assert!(err.to_string().contains("given for --uts"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn refuses_a_file_that_already_holds_a_namespace() {
        // /proc/self/ns/* are nsfs files themselves.
        let err =
            check_targets(&[target(NsKind::Uts, Path::new("/proc/self/ns/uts"))]).unwrap_err();
        assert!(
            err.to_string().contains("already holds a namespace"),
            "{err}"
        );
    }
}
