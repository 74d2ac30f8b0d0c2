//! Why the kernel refused to let us into a target's namespaces, found by
//! asking it again one step at a time, so the hint names the real cause:
//! the ptrace access check on /proc/PID/ns (nsenter(1) reports that one as
//! "cannot open /proc/PID/ns/uts: Permission denied"), or CAP_SYS_ADMIN in
//! the user namespace that owns the namespace, and then whose that is.

use std::os::fd::AsFd;

use nix::errno::Errno;
use nix::fcntl::OFlag;

use super::NsenterError;
use crate::error::SysError;
use crate::ns::NsKind;
use crate::sys;
use crate::target::{Target, TargetError};

/// The error for a refused entry (EPERM or EACCES) into `kinds` of `target`;
/// `what` names the refused step, for when no better cause shows.
pub(crate) fn explain(
    target: &Target,
    kinds: &[NsKind],
    what: String,
    errno: Errno,
) -> NsenterError {
    for &kind in kinds {
        let name = format!("ns/{}", kind.proc_name());
        match target.open_at(&name, OFlag::O_RDONLY) {
            Err(TargetError::Proc {
                errno: e @ (Errno::EACCES | Errno::EPERM),
                ..
            }) => {
                let what = format!("cannot open /proc/{}/{name}", target.pid);
                return SysError::new(what, e)
                    .with_hint(Some(ptrace_hint(target, kinds.len() > 1)))
                    .into();
            }
            Err(gone @ TargetError::Exited(_)) => return gone.into(),
            Err(_) => continue,
            Ok(fd) => {
                if let Some(hint) = owner_hint(target, kind, &fd) {
                    return SysError::new(what, errno).with_hint(Some(hint)).into();
                }
            }
        }
    }
    let hint = match kinds.first() {
        Some(&kind) if !in_the_initial_user_namespace() => sandbox_hint(kind, target.pid),
        _ => "entering a namespace needs CAP_SYS_ADMIN in the user namespace that owns it (and \
              CAP_SYS_CHROOT for a mount namespace)"
            .into(),
    };
    SysError::new(what, errno).with_hint(Some(hint)).into()
}

/// We are in a user namespace of our own, and the namespace is not ours.
fn sandbox_hint(kind: NsKind, pid: nix::unistd::Pid) -> String {
    format!(
        "the {kind} namespace of PID {pid} belongs to a user namespace outside yours: you are \
         in a user namespace of your own (a sandbox's or container's), and capabilities there \
         reach only the namespaces it owns"
    )
}

/// /proc/PID/ns refused us: the kernel's ptrace access check (read mode).
fn ptrace_hint(target: &Target, several: bool) -> String {
    let me = nix::unistd::geteuid().as_raw();
    let pid = target.pid;
    let cause = match target.owner() {
        Some((uid, _)) if uid != me => format!(
            "PID {pid} runs as uid {uid} and you are uid {me}: the kernel opens another user's \
             namespaces only to a process with CAP_SYS_PTRACE over it (root)"
        ),
        _ if !in_the_initial_user_namespace() => format!(
            "you are in a user namespace of your own (a sandbox's or container's) and PID \
             {pid} is most likely outside it: uid {me} there is not the host's, and \
             capabilities in a user namespace reach only the processes in it or below it"
        ),
        _ => format!(
            "PID {pid} runs as your uid, yet the kernel's ptrace access check refused: it is in \
             a user namespace where you hold no capabilities, it is not dumpable, or an LSM \
             (Yama's ptrace_scope, AppArmor, SELinux) forbids it"
        ),
    };
    if several {
        format!("{cause}; -a cannot tell which of its namespaces you already share")
    } else {
        cause
    }
}

/// The namespace opened but setns refused: CAP_SYS_ADMIN is missing in the
/// user namespace that owns it. Says whose that is, and the way in.
fn owner_hint(target: &Target, kind: NsKind, ns: &std::os::fd::OwnedFd) -> Option<String> {
    let pid = target.pid;
    let owner_ns = if kind == NsKind::User {
        None
    } else {
        match sys::ns_get_userns(ns.as_fd()) {
            Ok(fd) => Some(fd),
            // Its owner is outside our user namespace (EPERM; 5.10 in a VM
            // gave us a descriptor that is no namespace at all): a sandbox.
            Err(_) if !in_the_initial_user_namespace() => return Some(sandbox_hint(kind, pid)),
            Err(_) => return None,
        }
    };
    let owner_ns = owner_ns.as_ref().unwrap_or(ns);
    let owner_ino = nix::sys::stat::fstat(owner_ns.as_fd()).ok()?.st_ino;
    let ours = std::fs::metadata("/proc/self/ns/user")
        .ok()
        .map(|m| std::os::unix::fs::MetadataExt::ino(&m));
    let creator = sys::ns_get_owner_uid(owner_ns.as_fd()).ok();
    let me = nix::unistd::geteuid().as_raw();
    let chroot = if kind == NsKind::Mount {
        " (and CAP_SYS_CHROOT)"
    } else {
        ""
    };
    Some(if ours == Some(owner_ino) {
        format!(
            "the {kind} namespace of PID {pid} belongs to your own user namespace, where you \
             have no CAP_SYS_ADMIN{chroot}: run as root, or make the box with -U so that you own it"
        )
    } else if creator == Some(me) && kind != NsKind::User {
        format!(
            "the {kind} namespace of PID {pid} belongs to user namespace {owner_ino}, which you \
             created: enter that one too (add -U)"
        )
    } else {
        let by = creator.map_or(String::new(), |uid| format!(", created by uid {uid}"));
        format!(
            "the {kind} namespace of PID {pid} belongs to user namespace {owner_ino}{by}; \
             entering it needs CAP_SYS_ADMIN{chroot} there: root, or its creator with -U"
        )
    })
}

/// Whether we are in the initial user namespace: its uid_map maps all ids
/// onto themselves (`0 0 4294967295`), which no other user namespace can.
fn in_the_initial_user_namespace() -> bool {
    std::fs::read_to_string("/proc/self/uid_map")
        .is_ok_and(|map| map.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"])
}
