//! `rs-nsenter --same-privs`: a process's privileges, read from the kernel
//! and given to the program, so it holds what `podman exec` would give it:
//! the ids and groups, the five capability sets, no_new_privs, the seccomp
//! filters (copied as classic BPF), and the AppArmor profile where AppArmor
//! runs.
//!
//! Not copied, because no kernel interface shows them for another process:
//! securebits (ours stay as they are; no engine sets them) and a filter's
//! flags (TSYNC, LOG, SPEC_ALLOW), which do not change what it allows.

use nix::errno::Errno;
use nix::unistd::{Gid, Pid, Uid};

use crate::error::SysError;
use crate::sys::{self, CapSets, Ptrace};

/// What the program is given, right before exec.
pub struct Copied {
    /// Real, effective and saved uid and gid, in the terms of the user
    /// namespace the status was read from (the target's, once entered).
    pub uids: [u32; 3],
    pub gids: [u32; 3],
    pub groups: Vec<u32>,
    pub inheritable: u64,
    pub permitted: u64,
    pub effective: u64,
    pub bounding: u64,
    pub ambient: u64,
    pub nnp: bool,
    /// The seccomp filters, first installed first: loaded in this order.
    pub filters: Vec<Vec<libc::sock_filter>>,
    /// The AppArmor profile to exec into; none where it is unconfined or
    /// AppArmor is not running.
    pub apparmor: Option<String>,
}

impl std::fmt::Debug for Copied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "uids {:?} gids {:?} groups {:?} caps {:x}/{:x}/{:x}/{:x}/{:x} nnp {} filters {} apparmor {:?}",
            self.uids,
            self.gids,
            self.groups,
            self.inheritable,
            self.permitted,
            self.effective,
            self.bounding,
            self.ambient,
            self.nnp,
            self.filters.len(),
            self.apparmor
        )
    }
}

/// The `Seccomp:` mode of a /proc/PID/status text (0 none, 1 strict, 2
/// filter).
pub fn seccomp_mode(status: &str) -> u32 {
    field(status, "Seccomp:")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn field<'a>(status: &'a str, name: &str) -> Option<&'a str> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .map(str::trim)
}

impl Copied {
    /// The ids, groups, capability sets and no_new_privs of a
    /// /proc/PID/status text; the filters and profile come apart.
    pub fn from_status(status: &str) -> Result<Copied, String> {
        let ids = |name: &str| -> Result<[u32; 3], String> {
            let v: Vec<u32> = field(status, name)
                .ok_or_else(|| format!("no {name} line"))?
                .split_whitespace()
                .take(3)
                .map(|n| n.parse().map_err(|_| format!("a bad {name} line")))
                .collect::<Result<_, _>>()?;
            v.try_into().map_err(|_| format!("a short {name} line"))
        };
        let caps = |name: &str| -> Result<u64, String> {
            let v = field(status, name).ok_or_else(|| format!("no {name} line"))?;
            u64::from_str_radix(v, 16).map_err(|_| format!("a bad {name} line"))
        };
        let groups = field(status, "Groups:")
            .unwrap_or("")
            .split_whitespace()
            .map(|n| n.parse().map_err(|_| "a bad Groups: line".to_string()))
            .collect::<Result<_, _>>()?;
        Ok(Copied {
            uids: ids("Uid:")?,
            gids: ids("Gid:")?,
            groups,
            inheritable: caps("CapInh:")?,
            permitted: caps("CapPrm:")?,
            effective: caps("CapEff:")?,
            bounding: caps("CapBnd:")?,
            ambient: caps("CapAmb:")?,
            nnp: field(status, "NoNewPrivs:") == Some("1"),
            filters: Vec::new(),
            apparmor: None,
        })
    }

    /// Gives them to this process, which holds every capability (root,
    /// or root of the target's user namespace): the AppArmor profile for
    /// exec, the filters (while CAP_SYS_ADMIN lets them load without
    /// no_new_privs, as the runtime loaded them), the bounding set, the
    /// groups and ids (capabilities kept across), the other four sets,
    /// then no_new_privs. The kernel then treats exec as it treated the
    /// target's: a root program gets its bounding set.
    pub fn apply(&self) -> Result<(), SysError> {
        let fail = |what: &'static str| move |e: Errno| SysError::new(what, e);
        if let Some(profile) = &self.apparmor {
            let text = format!("exec {profile}");
            std::fs::write("/proc/self/attr/apparmor/exec", &text)
                .or_else(|_| std::fs::write("/proc/self/attr/exec", &text))
                .map_err(|e| {
                    SysError::new(
                        format!("cannot take the AppArmor profile {profile}"),
                        crate::error::io_errno(&e),
                    )
                })?;
        }
        for filter in &self.filters {
            sys::seccomp_load(filter, 0)
                .map_err(fail("cannot load the target's seccomp filter"))?;
        }
        let last = crate::caps::last_cap();
        for cap in 0..=last.min(63) {
            if self.bounding & (1 << cap) == 0
                && sys::prctl_int(sys::PrctlInt::CapBsetRead, cap.into()) == Ok(1)
            {
                sys::prctl_int(sys::PrctlInt::CapBsetDrop, cap.into())
                    .map_err(fail("cannot drop from the bounding set"))?;
            }
        }
        // Only where they differ: a user namespace an ordinary user made
        // denies setgroups, even to the groups already held.
        let groups: Vec<Gid> = self.groups.iter().map(|g| Gid::from_raw(*g)).collect();
        if nix::unistd::getgroups().ok().as_ref() != Some(&groups) {
            nix::unistd::setgroups(&groups).map_err(fail("cannot set the target's groups"))?;
        }
        let [r, e, s] = self.gids.map(Gid::from_raw);
        nix::unistd::setresgid(r, e, s).map_err(fail("cannot set the target's gids"))?;
        sys::prctl_int(sys::PrctlInt::SetKeepCaps, 1)
            .map_err(fail("cannot keep capabilities (PR_SET_KEEPCAPS)"))?;
        let [r, e, s] = self.uids.map(Uid::from_raw);
        nix::unistd::setresuid(r, e, s).map_err(fail("cannot set the target's uids"))?;
        sys::cap_set(CapSets {
            effective: self.effective,
            permitted: self.permitted,
            inheritable: self.inheritable,
        })
        .map_err(fail("cannot set the target's capabilities (capset)"))?;
        for cap in 0..=last.min(63) {
            if self.ambient & (1 << cap) != 0 {
                sys::ambient_raise(cap).map_err(fail("cannot raise an ambient capability"))?;
            }
        }
        sys::prctl_int(sys::PrctlInt::SetKeepCaps, 0)
            .map_err(fail("cannot clear PR_SET_KEEPCAPS"))?;
        if self.nnp {
            sys::prctl_int(sys::PrctlInt::SetNoNewPrivs, 1)
                .map_err(fail("cannot set no_new_privs"))?;
        }
        Ok(())
    }
}

/// The AppArmor profile in /proc/PID/attr/current's text (`name (mode)`),
/// none for `unconfined`.
pub fn apparmor_profile(current: &str) -> Option<String> {
    let text = current.trim_end_matches(['\n', '\0']);
    let name = text.rsplit_once(" (").map_or(text, |(n, _)| n);
    (!name.is_empty() && name != "unconfined").then(|| name.to_string())
}

/// The seccomp filters of `pid`, first installed first. The kernel hands
/// them only to a tracer holding the process stopped, with CAP_SYS_ADMIN
/// in the initial user namespace and no filter of its own: the process is
/// seized, stopped for the reading (microseconds) and let go.
pub fn read_filters(pid: Pid) -> Result<Vec<Vec<libc::sock_filter>>, SysError> {
    let what = |e: Errno| {
        let hint = match e {
            Errno::EPERM | Errno::EACCES => Some(
                "the kernel shows another process's seccomp filter only to root on the host, \
                 itself under none, that may trace it (PTRACE_SECCOMP_GET_FILTER)"
                    .to_string(),
            ),
            Errno::EINVAL => Some(
                "this kernel cannot show seccomp filters (CONFIG_CHECKPOINT_RESTORE)".to_string(),
            ),
            Errno::EMEDIUMTYPE => Some("the filter is not classic BPF".to_string()),
            _ => None,
        };
        SysError::new(
            format!("--same-privs: cannot read the seccomp filter of PID {pid}"),
            e,
        )
        .with_hint(hint)
    };
    sys::ptrace(Ptrace::Seize, pid).map_err(what)?;
    let read = stop_and_read(pid);
    let _ = sys::ptrace(Ptrace::Detach, pid);
    read.map_err(what)
}

fn stop_and_read(pid: Pid) -> Result<Vec<Vec<libc::sock_filter>>, Errno> {
    use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
    sys::ptrace(Ptrace::Interrupt, pid)?;
    loop {
        match waitpid(pid, Some(WaitPidFlag::__WALL)) {
            Ok(WaitStatus::PtraceEvent(..) | WaitStatus::Stopped(..)) => break,
            Ok(WaitStatus::Exited(..) | WaitStatus::Signaled(..)) => return Err(Errno::ESRCH),
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
    let mut filters = Vec::new();
    for index in 0.. {
        let len = match sys::ptrace_seccomp_filter(pid, index, None) {
            Ok(len) => len,
            Err(Errno::ENOENT) => break,
            Err(e) => return Err(e),
        };
        let blank = libc::sock_filter {
            code: 0,
            jt: 0,
            jf: 0,
            k: 0,
        };
        let mut filter = vec![blank; len];
        let got = sys::ptrace_seccomp_filter(pid, index, Some(&mut filter))?;
        filter.truncate(got);
        filters.push(filter);
    }
    Ok(filters)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Name:\tsleep\nUid:\t1000\t1001\t1002\t1003\nGid:\t5\t6\t7\t8\n\
        Groups:\t10 20 \nCapInh:\t0000000000000000\nCapPrm:\t00000000800405fb\n\
        CapEff:\t00000000800405fb\nCapBnd:\t00000000800405fb\nCapAmb:\t0000000000000400\n\
        NoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t1\n";

    #[test]
    fn status_fields() {
        let c = Copied::from_status(STATUS).unwrap();
        assert_eq!(c.uids, [1000, 1001, 1002]);
        assert_eq!(c.gids, [5, 6, 7]);
        assert_eq!(c.groups, [10, 20]);
        assert_eq!(c.permitted, 0x800405fb);
        assert_eq!(c.ambient, 0x400);
        assert!(c.nnp);
        assert_eq!(seccomp_mode(STATUS), 2);
        assert!(Copied::from_status("Uid:\t1\n").is_err());
    }

    #[test]
    fn apparmor_names() {
        assert_eq!(
            apparmor_profile("containers-default-0.50 (enforce)\n").as_deref(),
            Some("containers-default-0.50")
        );
        assert_eq!(apparmor_profile("unconfined\n"), None);
        assert_eq!(apparmor_profile(""), None);
    }
}
