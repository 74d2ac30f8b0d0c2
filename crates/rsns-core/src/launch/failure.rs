//! Messages for the steps before exec: what failed, on which value, and the
//! well-known causes.

use nix::errno::Errno;

use super::{Inside, LaunchError, Step, StepFailure};
use crate::error::SysError;
use crate::idmap::IdKind;
use crate::ns::{NsKind, NsSet};

/// Why creating namespaces failed, when the cause is well known.
pub(crate) fn create_hint(set: NsSet, errno: Errno, euid: u32) -> Option<String> {
    let text = match errno {
        Errno::EPERM if set.contains(NsKind::User) => {
            "creating a user namespace was refused: check sysctl user.max_user_namespaces, \
             kernel.unprivileged_userns_clone and kernel.apparmor_restrict_unprivileged_userns \
             (a process in a chroot cannot create one either)"
        }
        Errno::EPERM if euid != 0 => {
            "namespaces other than user need CAP_SYS_ADMIN; add -r (or -U) to create a user \
             namespace that grants it"
        }
        Errno::ENOSPC | Errno::EUSERS => {
            "a namespace limit was reached: see /proc/sys/user/max_*_namespaces, and user \
             namespaces nest at most 32 deep"
        }
        Errno::EINVAL if set.contains(NsKind::Time) && !time_ns_supported() => {
            "time namespaces need Linux 5.6 or later, built with CONFIG_TIME_NS; this kernel has \
             none"
        }
        Errno::EINVAL => {
            "the kernel refused the flags: a multi-threaded caller cannot create user or mount \
             namespaces, and this kernel may lack a namespace type (CONFIG_*_NS)"
        }
        Errno::ENOMEM if set.contains(NsKind::Pid) => {
            "the PID namespace of the caller has no init left (its PID 1 exited)"
        }
        _ => return None,
    };
    Some(text.to_string())
}

/// Whether this kernel has time namespaces: every process then shows one.
fn time_ns_supported() -> bool {
    std::path::Path::new("/proc/self/ns/time").exists()
}

/// The error for a failed step, with the values `inside` used.
pub(crate) fn describe(inside: &Inside, failure: StepFailure) -> LaunchError {
    let show = |c: &Option<std::ffi::CString>| {
        c.as_ref()
            .map(|c| c.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let errno = failure.errno;
    let fixed = |text: &str| Some(text.to_string());
    let (what, hint): (String, Option<String>) = match failure.step {
        Step::Exec => {
            return LaunchError::Exec {
                program: inside.exec.display().to_string(),
                errno,
            };
        }
        Step::TimeNs => (
            "unshare(CLONE_NEWTIME)".into(),
            create_hint(
                [NsKind::Time].into_iter().collect(),
                errno,
                nix::unistd::geteuid().as_raw(),
            ),
        ),
        Step::JoinCgroup => (
            "cannot move into the cgroup (write cgroup.procs)".into(),
            None,
        ),
        Step::Hostname => (
            format!(
                "cannot set the hostname to '{}' (sethostname)",
                inside
                    .hostname
                    .as_deref()
                    .map_or(String::new(), |n| crate::text::safe(n.as_encoded_bytes()))
            ),
            None,
        ),
        Step::Pty => (
            "--pty: cannot make the new terminal the program's (TIOCSCTTY, dup2)".into(),
            None,
        ),
        Step::SamePrivs => (
            "cannot give the program the target's privileges (--same-privs)".into(),
            None,
        ),
        Step::BlockFd => (
            "cannot read --block-fd before starting the program".into(),
            None,
        ),
        Step::CgroupNs => (
            "cannot start the program in a cgroup namespace of its group (unshare \
             CLONE_NEWCGROUP)"
                .into(),
            None,
        ),
        Step::TimeEnter => (
            "cannot enter the new time namespace (setns time_for_children)".into(),
            None,
        ),
        Step::TimeOffsets => (
            format!(
                "cannot write '{}' to /proc/self/timens_offsets",
                show(&inside.time_offsets).trim_end().replace('\n', ", ")
            ),
            match errno {
                Errno::EINVAL | Errno::ERANGE => {
                    Some(offset_range_hint(&show(&inside.time_offsets)))
                }
                _ => fixed("offsets can be set only before any process enters the time namespace"),
            },
        ),
        Step::Propagation => (
            format!(
                "cannot make / and the mounts below {}",
                inside.propagation.unwrap_or_default()
            ),
            match errno {
                Errno::EINVAL => fixed(
                    "/ is not a mount point here (inside a chroot?); try --propagation=unchanged",
                ),
                Errno::EPERM => fixed(
                    "changing mounts needs CAP_SYS_ADMIN in the user namespace that owns the \
                     mount namespace; add -r (or -U) so the new user namespace owns it",
                ),
                _ => None,
            },
        ),
        Step::Chroot => (
            format!("cannot change root to {}", show(&inside.root)),
            match errno {
                Errno::EPERM => fixed("chroot needs CAP_SYS_CHROOT; add -r (or -U) to gain it"),
                _ => None,
            },
        ),
        Step::Chdir => (
            format!("cannot change directory to {}", show(&inside.wd)),
            None,
        ),
        Step::ProcPrivate => (
            format!("cannot make {} private", show(&inside.proc_mount)),
            None,
        ),
        Step::MountBinfmt => (
            format!(
                "cannot mount binfmt_misc on {}",
                show(&inside.binfmt.as_ref().map(|b| b.dir.clone()))
            ),
            match errno {
                Errno::EPERM | Errno::ENODEV => fixed(
                    "a binfmt_misc instance of a user namespace's own needs Linux 6.7 (and \
                     CONFIG_BINFMT_MISC)",
                ),
                Errno::ENOENT => fixed("the mount point does not exist (inside the new root?)"),
                _ => None,
            },
        ),
        Step::LoadInterp => (
            "cannot register the --load-interp definition".to_string(),
            match errno {
                Errno::EINVAL => fixed(
                    "the kernel refused it: it must be :name:type:offset:magic:mask:interpreter:flags \
                     (type M or E; see the kernel's admin-guide/binfmt-misc)",
                ),
                Errno::EEXIST => fixed("a definition of that name is registered already"),
                Errno::ENOENT => fixed(
                    "the interpreter was not found (with flag F it is opened now, in the new root \
                     if there is one)",
                ),
                _ => None,
            },
        ),
        Step::MountProc => (
            format!("cannot mount proc on {}", show(&inside.proc_mount)),
            match errno {
                Errno::EPERM => fixed(
                    "in a user namespace proc can be mounted only for a PID namespace it owns \
                     (-p with -f), only where /proc is fully visible (nothing mounted over parts \
                     of it), and mounts inherited from a more privileged mount namespace are \
                     locked: they can be covered, not changed",
                ),
                Errno::ENOENT => fixed("the mount point does not exist (inside the new root?)"),
                _ => None,
            },
        ),
        Step::SetGroups => ("cannot drop supplementary groups (setgroups)".into(), None),
        Step::SetGid => (
            format!(
                "cannot set gid to {} (setresgid)",
                inside.setgid.map(|g| g.as_raw()).unwrap_or_default()
            ),
            id_hint(errno, IdKind::Gid, inside.unmapped_id_hint),
        ),
        Step::SetUid => (
            format!(
                "cannot set uid to {} (setresuid)",
                inside.setuid.map(|u| u.as_raw()).unwrap_or_default()
            ),
            id_hint(errno, IdKind::Uid, inside.unmapped_id_hint),
        ),
        Step::KeepCaps => (
            "cannot keep capabilities across exec (ambient set)".into(),
            None,
        ),
        Step::DeathSignal => ("cannot set the parent-death signal (prctl)".into(), None),
        Step::SignalMask => ("cannot restore the signal mask".into(), None),
        Step::Sync => ("lost contact with the child process".into(), None),
        Step::NewSession => ("cannot start a new session (setsid)".into(), None),
        Step::InitFork => (
            "--init: cannot fork the program from PID 1".into(),
            match errno {
                Errno::EAGAIN => fixed("a process limit was reached (ulimit -u, pids cgroup)"),
                _ => None,
            },
        ),
    };
    LaunchError::Step(SysError::new(what, errno).with_hint(hint))
}

/// The kernel keeps a clock of a time namespace between 0 and half of
/// KTIME_MAX in seconds (kernel/time/namespace.c), whatever the offset.
const TIMENS_SECONDS_MAX: i64 = i64::MAX / 1_000_000_000 / 2;

/// Why offsets (`monotonic N 0` lines) were out of range.
fn offset_range_hint(lines: &str) -> String {
    let offsets: Vec<i64> = lines
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1)?.parse().ok())
        .collect();
    if offsets.iter().any(|&o| o > 0) && offsets.iter().all(|&o| o >= 0) {
        format!(
            "the offset is out of range: a clock of a time namespace may run at most \
             {TIMENS_SECONDS_MAX} seconds (about 146 years)"
        )
    } else {
        "the offset is out of range: a clock cannot go below zero (a negative offset may be at \
         most the clock's current value, see /proc/uptime), nor beyond about 146 years"
            .into()
    }
}

fn id_hint(errno: Errno, kind: IdKind, tool_hint: Option<&str>) -> Option<String> {
    match errno {
        Errno::EINVAL => Some(match tool_hint {
            Some(hint) => format!("that {kind} is not mapped in the user namespace; {hint}"),
            None => format!(
                "that {kind} is not mapped in the new user namespace; map it with --map-{0} or --map-{0}s",
                if kind == IdKind::Uid { "user" } else { "group" }
            ),
        }),
        Errno::EPERM => Some(
            "changing ids needs CAP_SETUID and CAP_SETGID in the user namespace (add -r)".into(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_hints_say_which_end_was_passed() {
        assert!(
            offset_range_hint("monotonic 9223372036854775807 0\n")
                .contains("at most 4611686018 seconds")
        );
        assert!(offset_range_hint("monotonic -100000000 0\n").contains("cannot go below zero"));
        assert!(offset_range_hint("boottime 5 0\nmonotonic -5 0\n").contains("below zero"));
    }

    #[test]
    fn hints_for_namespace_creation() {
        let user: NsSet = [NsKind::User].into_iter().collect();
        let net: NsSet = [NsKind::Net].into_iter().collect();
        assert!(
            create_hint(user, Errno::EPERM, 1000)
                .unwrap()
                .contains("user.max_user_namespaces")
        );
        assert!(
            create_hint(net, Errno::EPERM, 1000)
                .unwrap()
                .contains("add -r")
        );
        assert!(create_hint(net, Errno::EPERM, 0).is_none());
        assert!(
            create_hint(net, Errno::EINVAL, 0)
                .unwrap()
                .contains("multi-threaded")
        );
    }
}
