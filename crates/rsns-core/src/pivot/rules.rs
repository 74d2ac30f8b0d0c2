//! pivot_root(2) as pivot_root(8) calls it, and its refusals translated
//! into the rule that was broken. The kernel answers EINVAL for half a dozen
//! different reasons; after a failure we look at the mounts (statx and
//! mountinfo) and name the first rule, in the order the kernel checks them.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::sys::stat::Mode;

use super::PivotError;
use crate::error::{errno_text, io_errno};
use crate::mountinfo::{self, Mount};
use crate::sys::{self, MountOf};
use crate::text::safe_path;

/// `pivot_root NEW_ROOT PUT_OLD`, nothing else; an error says which rule.
pub(super) fn pivot(new_root: &Path, put_old: &Path) -> Result<(), PivotError> {
    match nix::unistd::pivot_root(new_root, put_old) {
        Ok(()) => {
            tracing::debug!(?new_root, ?put_old, "pivot_root");
            Ok(())
        }
        Err(errno) => Err(PivotError::Refused(explain(errno, new_root, put_old))),
    }
}

/// The message for a failed pivot_root(NEW_ROOT, PUT_OLD).
pub(super) fn explain(errno: Errno, new_root: &Path, put_old: &Path) -> String {
    let new_name = format!("NEW_ROOT '{}'", safe_path(new_root));
    let old_name = format!("PUT_OLD '{}'", safe_path(put_old));
    let head = format!(
        "pivot_root {} {}: {}",
        safe_path(new_root),
        safe_path(put_old),
        errno_text(errno)
    );
    let why = match errno {
        Errno::ENOENT | Errno::ENOTDIR | Errno::EACCES | Errno::ELOOP | Errno::ENAMETOOLONG => {
            missing(&new_name, new_root).or_else(|| missing(&old_name, put_old))
        }
        Errno::EPERM => Some(
            "pivot_root needs CAP_SYS_ADMIN in the user namespace that owns this mount \
             namespace; run it under rs-unshare -Urm (unprivileged) or -m (as root)"
                .into(),
        ),
        Errno::EINVAL | Errno::EBUSY => Facts::gather(new_root, put_old)
            .and_then(|facts| facts.broken_rule(errno, &new_name, &old_name)),
        _ => None,
    };
    match why {
        Some(why) => format!("{head}: {why}"),
        None if errno == Errno::EINVAL => format!(
            "{head}: NEW_ROOT and PUT_OLD must be directories, NEW_ROOT a mount point other \
             than the current root, PUT_OLD at or under NEW_ROOT, and none of their mounts shared"
        ),
        None => head,
    }
}

/// The path's own problem, if it cannot be looked up as a directory.
fn missing(name: &str, path: &Path) -> Option<String> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => None,
        Ok(_) => Some(format!("{name} is not a directory")),
        Err(e) => Some(format!("{name}: {}", errno_text(io_errno(&e)))),
    }
}

/// What the kernel looked at, as far as we can see it.
#[derive(Debug, Clone)]
struct Facts {
    new_root: MountOf,
    put_old: MountOf,
    root: MountOf,
    new_root_path: PathBuf,
    put_old_path: PathBuf,
    mounts: Vec<Mount>,
    /// Mounts are locked only in namespaces of a user namespace other than
    /// the initial one.
    in_initial_user_ns: bool,
}

impl Facts {
    fn gather(new_root: &Path, put_old: &Path) -> Option<Facts> {
        let of = |path: &Path| -> Option<MountOf> {
            let fd = open(path, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty()).ok()?;
            sys::mount_of(fd.as_fd(), c"").ok()
        };
        let text = mountinfo::read_own().ok()?;
        Some(Facts {
            new_root: of(new_root)?,
            put_old: of(put_old)?,
            root: of(Path::new("/"))?,
            new_root_path: std::fs::canonicalize(new_root).ok()?,
            put_old_path: std::fs::canonicalize(put_old).ok()?,
            mounts: mountinfo::parse(&text),
            in_initial_user_ns: super::host::in_initial_user_ns(),
        })
    }

    fn put_old_under_new_root(&self) -> bool {
        self.put_old_path.starts_with(&self.new_root_path)
    }

    fn mount(&self, id: u64) -> Option<&Mount> {
        // The last line with an id wins: ids are unique, but be safe.
        self.mounts.iter().rev().find(|m| m.id == id)
    }

    fn shared(&self, id: u64) -> Option<(&Mount, u64)> {
        let m = self.mount(id)?;
        m.shared.map(|group| (m, group))
    }

    fn parent_of(&self, id: u64) -> Option<&Mount> {
        self.mount(self.mount(id)?.parent)
    }

    /// The first rule broken, in the kernel's order (fs/namespace.c,
    /// pivot_root). `None` when none can be seen from here.
    fn broken_rule(&self, errno: Errno, new_name: &str, old_name: &str) -> Option<String> {
        const PRIVATE: &str = "make it private first (mount --make-rprivate /, in a new mount \
                               namespace), or use rs-pivot --root, which does";
        if self.new_root_path == Path::new("/") {
            return Some(format!(
                "{new_name} is the current root itself; NEW_ROOT must be another mount point \
                 (the root file system of the box)"
            ));
        }
        if errno == Errno::EINVAL {
            if let Some((m, group)) = self.shared(self.put_old.mnt_id) {
                let name = if self.put_old.mnt_id == self.new_root.mnt_id {
                    new_name
                } else {
                    old_name
                };
                return Some(format!(
                    "{name} is on a shared mount ({}, shared:{group}); {PRIVATE}",
                    safe_path(&m.mount_point)
                ));
            }
            if let Some(parent) = self.parent_of(self.new_root.mnt_id)
                && let Some(group) = parent.shared
            {
                return Some(format!(
                    "{new_name} is mounted on a shared mount ({}, shared:{group}); {PRIVATE}",
                    safe_path(&parent.mount_point)
                ));
            }
            if let Some(parent) = self.parent_of(self.root.mnt_id)
                && let Some(group) = parent.shared
            {
                return Some(format!(
                    "the current root is mounted on a shared mount ({}, shared:{group}); {PRIVATE}",
                    safe_path(&parent.mount_point)
                ));
            }
            if self.mount(self.new_root.mnt_id).is_none() {
                return Some(format!("{new_name} is not in this mount namespace"));
            }
        }
        if errno == Errno::EBUSY {
            if !self.put_old_under_new_root() {
                return Some(format!("{old_name} is not at or under {new_name}"));
            }
            if self.new_root.mnt_id == self.root.mnt_id {
                return Some(format!(
                    "{new_name} is on the current root's mount; it must be a mount point of its \
                     own: bind it onto itself first (mount --bind DIR DIR), or use rs-pivot --root"
                ));
            }
            if self.put_old.mnt_id == self.root.mnt_id {
                return Some(format!("{old_name} is on the current root's mount"));
            }
            return None;
        }
        if !self.root.is_mount_root {
            return Some(
                "the current root is not a mount point (a chroot?); pivot_root works on the \
                 root of a mount namespace"
                    .into(),
            );
        }
        if self
            .mount(self.root.mnt_id)
            .is_some_and(|m| m.fstype == "rootfs")
        {
            return Some(
                "the current root is the initramfs (rootfs), which cannot be pivoted; use \
                 switch_root(8)"
                    .into(),
            );
        }
        if !self.new_root.is_mount_root {
            return Some(format!(
                "{new_name} is not a mount point: bind it onto itself first (mount --bind DIR \
                 DIR), or use rs-pivot --root, which does"
            ));
        }
        if !self.put_old_under_new_root() {
            return Some(format!("{old_name} is not at or under {new_name}"));
        }
        if errno == Errno::EINVAL && !self.in_initial_user_ns {
            return Some(format!(
                "{new_name} is a mount point copied from a more privileged mount namespace, \
                 which is locked: bind it onto itself first (mount --bind DIR DIR), or use \
                 rs-pivot --root, which does"
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mount(id: u64, parent: u64, mount_point: &str, shared: Option<u64>) -> Mount {
        Mount {
            id,
            parent,
            root: b"/".to_vec(),
            mount_point: mount_point.into(),
            shared,
            fstype: "ext4".into(),
        }
    }

    fn at(mnt_id: u64, is_mount_root: bool) -> MountOf {
        MountOf {
            mnt_id,
            is_mount_root,
        }
    }

    /// `/` is mount 1; NEW_ROOT /new is mount 2 on it; PUT_OLD /new/old.
    fn facts() -> Facts {
        Facts {
            new_root: at(2, true),
            put_old: at(2, false),
            root: at(1, true),
            new_root_path: "/new".into(),
            put_old_path: "/new/old".into(),
            mounts: vec![mount(1, 0, "/", None), mount(2, 1, "/new", None)],
            in_initial_user_ns: true,
        }
    }

    fn rule(f: &Facts, errno: Errno) -> String {
        f.broken_rule(errno, "NEW_ROOT 'n'", "PUT_OLD 'o'")
            .unwrap_or_default()
    }

    #[test]
    fn a_shared_new_root_is_named_as_new_root() {
        let mut f = facts();
        f.mounts[1].shared = Some(7);
        assert!(
            rule(&f, Errno::EINVAL)
                .starts_with("NEW_ROOT 'n' is on a shared mount (/new, shared:7)")
        );
        f.mounts[1].shared = None;
        f.mounts[0].shared = Some(1);
        assert!(
            rule(&f, Errno::EINVAL)
                .starts_with("NEW_ROOT 'n' is mounted on a shared mount (/, shared:1)")
        );
    }

    #[test]
    fn put_old_outside_new_root() {
        let mut f = facts();
        f.put_old_path = "/elsewhere".into();
        f.put_old = at(2, false);
        assert_eq!(
            rule(&f, Errno::EINVAL),
            "PUT_OLD 'o' is not at or under NEW_ROOT 'n'"
        );
        // A sibling whose name starts the same is not under it either.
        f.put_old_path = "/newer".into();
        assert_eq!(
            rule(&f, Errno::EINVAL),
            "PUT_OLD 'o' is not at or under NEW_ROOT 'n'"
        );
    }

    #[test]
    fn not_a_mount_point_chroot_and_initramfs() {
        let mut f = facts();
        f.new_root = at(2, false);
        assert!(rule(&f, Errno::EINVAL).contains("is not a mount point"));
        let mut f = facts();
        f.root = at(1, false);
        assert!(rule(&f, Errno::EINVAL).contains("a chroot?"));
        let mut f = facts();
        f.mounts[0].fstype = "rootfs".into();
        assert!(rule(&f, Errno::EINVAL).contains("switch_root"));
    }

    #[test]
    fn busy_means_the_current_roots_mount() {
        let mut f = facts();
        f.new_root = at(1, false);
        assert!(rule(&f, Errno::EBUSY).contains("on the current root's mount"));
        // PUT_OLD outside NEW_ROOT on the root's mount is EBUSY too: say why.
        let mut f = facts();
        f.put_old = at(1, false);
        f.put_old_path = "/tmp".into();
        assert_eq!(
            rule(&f, Errno::EBUSY),
            "PUT_OLD 'o' is not at or under NEW_ROOT 'n'"
        );
        assert_eq!(rule(&facts(), Errno::EBUSY), "");
    }

    #[test]
    fn the_current_root_as_new_root_is_named_as_such() {
        let mut f = facts();
        f.new_root = at(1, true);
        f.new_root_path = "/".into();
        f.put_old_path = "/tmp".into();
        for errno in [Errno::EBUSY, Errno::EINVAL] {
            assert!(rule(&f, errno).contains("is the current root itself"));
        }
    }

    #[test]
    fn nothing_seen_gives_no_rule() {
        assert_eq!(rule(&facts(), Errno::EINVAL), "");
    }

    #[test]
    fn in_a_user_namespace_the_last_guess_is_a_locked_mount() {
        let mut f = facts();
        f.in_initial_user_ns = false;
        assert!(rule(&f, Errno::EINVAL).contains("locked"));
    }
}
