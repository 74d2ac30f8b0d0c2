//! Is this the host's initial mount namespace? Kernels that give initial
//! namespaces fixed inodes (Linux 6.18) say so directly; we know the kernel
//! does when any of our namespaces has such an inode (seen, not a version
//! compared). Otherwise we rule it out from the user namespace, or compare
//! with PID 1's when /proc lets us.

use nix::errno::Errno;

use super::PivotError;
use crate::error::{errno_text, io_errno};

/// Fixed inode numbers of initial namespaces (include/linux/proc_ns.h).
const USER_NS_INIT_INO: u64 = 0xEFFF_FFFD;
pub(super) const PID_NS_INIT_INO: u64 = 0xEFFF_FFFC;
/// Since Linux 6.18; before, the initial mount and network namespaces had
/// dynamic ones (allocated from 0xF0000000 up, so never these).
const MNT_NS_INIT_INO: u64 = 0xEFFF_FFF8;
const NET_NS_INIT_INO: u64 = 0xEFFF_FFF9;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verdict {
    Initial,
    NotInitial,
    /// Cannot tell, and why.
    Unknown(String),
}

/// What the verdict is drawn from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Facts {
    mnt: Result<u64, Errno>,
    user: Option<u64>,
    pid: Option<u64>,
    /// PID 1's mount namespace, when readable.
    init_mnt: Result<u64, Errno>,
    /// Our network namespace: the initial one shows whether this kernel
    /// gives initial namespaces fixed inodes.
    net: Option<u64>,
    /// The parent mount ID of `/`, from mountinfo.
    root_parent: Option<u64>,
}

fn decide(f: &Facts) -> Verdict {
    let mnt = match f.mnt {
        Ok(ino) => ino,
        Err(e) => {
            return Verdict::Unknown(format!("/proc/self/ns/mnt: {}", errno_text(e)));
        }
    };
    if mnt == MNT_NS_INIT_INO {
        return Verdict::Initial;
    }
    // This kernel has fixed initial inodes, and ours is not the mount one.
    if f.net == Some(NET_NS_INIT_INO) {
        return Verdict::NotInitial;
    }
    // The initial mount namespace belongs to the initial user namespace.
    if f.user.is_some_and(|u| u != USER_NS_INIT_INO) {
        return Verdict::NotInitial;
    }
    let why = match f.init_mnt {
        Ok(init) if init == mnt => return Verdict::Initial,
        Ok(_) if f.pid == Some(PID_NS_INIT_INO) => return Verdict::NotInitial,
        Ok(_) => "PID 1 here is not the host's init".to_string(),
        Err(e) => format!("/proc/1/ns/mnt: {}", errno_text(e)),
    };
    // The root of the initial mount namespace sits on the kernel's first
    // mount, rootfs, which has mount ID 1 and never goes away; a new mount
    // namespace has a copy of rootfs under its root, with another ID.
    match f.root_parent {
        Some(ROOTFS_MOUNT_ID) => Verdict::Initial,
        Some(_) => Verdict::NotInitial,
        None => Verdict::Unknown(format!("{why}, and / is not in /proc/self/mountinfo")),
    }
}

/// The mount ID of rootfs, the first mount the kernel makes.
const ROOTFS_MOUNT_ID: u64 = 1;

/// The parent mount ID of `/` in our mountinfo (the topmost mount there).
fn root_parent() -> Option<u64> {
    let text = crate::mountinfo::read_own().ok()?;
    crate::mountinfo::parse(&text)
        .into_iter()
        .rev()
        .find(|m| m.mount_point == std::path::Path::new("/"))
        .map(|m| m.parent)
}

fn ns_inode(path: &str) -> Result<u64, Errno> {
    let link = std::fs::read_link(path).map_err(|e| io_errno(&e))?;
    crate::scan::mountinfo::parse_ns_name(&link.to_string_lossy())
        .map(|(_, ino)| ino)
        .ok_or(Errno::EINVAL)
}

/// True unless /proc shows a user namespace other than the initial one.
pub(super) fn in_initial_user_ns() -> bool {
    ns_inode("/proc/self/ns/user")
        .ok()
        .is_none_or(|ino| ino == USER_NS_INIT_INO)
}

/// Whether we are in the host's initial mount namespace.
fn mount_ns_verdict() -> Verdict {
    decide(&Facts {
        mnt: ns_inode("/proc/self/ns/mnt"),
        user: ns_inode("/proc/self/ns/user").ok(),
        pid: ns_inode("/proc/self/ns/pid").ok(),
        init_mnt: ns_inode("/proc/1/ns/mnt"),
        net: ns_inode("/proc/self/ns/net").ok(),
        root_parent: root_parent(),
    })
}

/// Refuses (unless `force`) when this is, or may be, the host's namespace.
pub(super) fn refuse_initial(force: bool) -> Result<(), PivotError> {
    let verdict = mount_ns_verdict();
    tracing::debug!(?verdict, force, "initial mount namespace check");
    if force {
        return Ok(());
    }
    match verdict {
        Verdict::NotInitial => Ok(()),
        Verdict::Initial => Err(PivotError::Refused(
            "refusing to pivot the root of the host's initial mount namespace; \
             run it in a new one (rs-unshare -m, or -Urm unprivileged), or add --force"
                .into(),
        )),
        Verdict::Unknown(why) => Err(PivotError::Refused(format!(
            "cannot tell whether this is the host's initial mount namespace ({why}); \
             run it in a new one (rs-unshare -m), or add --force"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            mnt: Ok(4026532177),
            user: Some(USER_NS_INIT_INO),
            pid: Some(PID_NS_INIT_INO),
            init_mnt: Err(Errno::EACCES),
            net: Some(4026532008),
            root_parent: None,
        }
    }

    #[test]
    fn the_fixed_inode_is_the_initial_namespace() {
        let f = Facts {
            mnt: Ok(MNT_NS_INIT_INO),
            net: Some(NET_NS_INIT_INO),
            ..facts()
        };
        assert_eq!(decide(&f), Verdict::Initial);
    }

    #[test]
    fn with_fixed_initial_inodes_any_other_mount_inode_is_not() {
        let f = Facts {
            net: Some(NET_NS_INIT_INO),
            ..facts()
        };
        assert_eq!(decide(&f), Verdict::NotInitial);
    }

    #[test]
    fn older_kernels_use_the_user_namespace_then_pid_1() {
        let f = Facts {
            user: Some(4026532300),
            ..facts()
        };
        assert_eq!(decide(&f), Verdict::NotInitial);
        let same = Facts {
            init_mnt: Ok(4026532177),
            ..facts()
        };
        assert_eq!(decide(&same), Verdict::Initial);
        let other = Facts {
            init_mnt: Ok(4026531840),
            ..facts()
        };
        assert_eq!(decide(&other), Verdict::NotInitial);
        let boxed_pid_1 = Facts {
            pid: Some(4026532400),
            ..other
        };
        assert!(matches!(decide(&boxed_pid_1), Verdict::Unknown(_)));
        assert!(matches!(decide(&facts()), Verdict::Unknown(w) if w.contains("EACCES")));
        // Then the mount under /: rootfs (ID 1) only in the initial namespace.
        let on_rootfs = Facts {
            root_parent: Some(1),
            ..boxed_pid_1.clone()
        };
        assert_eq!(decide(&on_rootfs), Verdict::Initial);
        let on_a_copy = Facts {
            root_parent: Some(71),
            ..boxed_pid_1
        };
        assert_eq!(decide(&on_a_copy), Verdict::NotInitial);
    }

    #[test]
    fn without_proc_nothing_can_be_told() {
        let f = Facts {
            mnt: Err(Errno::ENOENT),
            ..facts()
        };
        assert!(matches!(decide(&f), Verdict::Unknown(w) if w.contains("/proc/self/ns/mnt")));
    }
}
