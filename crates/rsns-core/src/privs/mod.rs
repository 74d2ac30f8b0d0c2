//! Privileges as setpriv(1) sets them, right before exec: ids and groups,
//! the capability sets, securebits, no_new_privs, the parent-death signal,
//! the Yama ptracer, an LSM label, a seccomp filter and Landlock, applied in
//! setpriv's order. rs-setpriv is a thin front for [`run`].

pub mod capnames;
pub mod copied;
mod dump;
mod env;
pub mod landlock;
pub mod seccomp;
pub mod securebits;

use std::ffi::OsString;
use std::path::PathBuf;

use nix::errno::Errno;

pub use dump::dump;
pub use landlock::LandlockPlan;

use crate::error::SysError;
use crate::exec::{ExecPlan, ProgramEnv, exec_failure_status};
use crate::ids::PasswdEntry;
use crate::sys::{self, CapSets, PrctlInt};

/// setpriv's status for a privilege it could not set.
pub const PRIV_FAILURE: i32 = 127;

/// What to do with the supplementary groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Groups {
    #[default]
    Unchanged,
    Keep,
    Clear,
    /// initgroups(3) for the `--ruid` user, from /etc/group.
    Init,
    Set(Vec<u32>),
}

/// `--pdeathsig`: keep (set again after the uid change, which clears it),
/// clear, or a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pdeathsig {
    Clear,
    Signal(i32),
}

#[derive(Debug, Clone, Default)]
pub struct PrivPlan {
    pub nnp: bool,
    pub ruid: Option<u32>,
    pub euid: Option<u32>,
    pub rgid: Option<u32>,
    pub egid: Option<u32>,
    /// The user `--ruid`/`--reuid` named, when the system knows it.
    pub user: Option<PasswdEntry>,
    pub groups: Groups,
    pub inheritable: Option<Vec<capnames::Change>>,
    pub ambient: Option<Vec<capnames::Change>>,
    pub bounding: Option<Vec<capnames::Change>>,
    /// `--caps`: the bounding, permitted, effective and inheritable sets
    /// become this set (what we hold of it), and the ambient set is cleared.
    pub caps: Option<u64>,
    pub securebits: Option<i32>,
    pub pdeathsig: Option<Pdeathsig>,
    /// PR_SET_PTRACER's argument: a PID, 0 (none) or -1 (any).
    pub ptracer: Option<i64>,
    pub selinux_label: Option<String>,
    pub apparmor_profile: Option<String>,
    pub landlock: LandlockPlan,
    pub seccomp_filter: Option<PathBuf>,
    /// `--seccomp`: a profile, compiled for the capabilities the program
    /// will hold and loaded after the ids change, before the sets narrow.
    pub seccomp: Option<seccomp::Source>,
    pub reset_env: bool,
    pub command: Vec<OsString>,
}

#[derive(Debug, thiserror::Error)]
pub enum PrivError {
    /// A bad command line: status 1.
    #[error("{0}")]
    Usage(String),
    /// A privilege the kernel would not set: status 127, as setpriv.
    #[error(transparent)]
    Failed(#[from] SysError),
    /// The program could not be run: 126 or 127.
    #[error("{message}")]
    Exec { message: String, status: i32 },
}

impl PrivError {
    pub fn exit_status(&self) -> i32 {
        match self {
            PrivError::Usage(_) => 1,
            PrivError::Failed(_) => PRIV_FAILURE,
            PrivError::Exec { status, .. } => *status,
        }
    }
}

/// Checks the plan as setpriv does before it changes anything.
fn check(plan: &PrivPlan) -> Result<(), PrivError> {
    let usage = |text: &str| Err(PrivError::Usage(text.into()));
    if plan.command.is_empty() {
        return usage("No program specified");
    }
    if (plan.rgid.is_some() || plan.egid.is_some()) && plan.groups == Groups::Unchanged {
        return usage(
            "--[re]gid requires --keep-groups, --clear-groups, --init-groups, or --groups",
        );
    }
    if plan.groups == Groups::Init {
        match (&plan.ruid, &plan.user) {
            (None, _) => return usage("--init-groups requires --ruid or --reuid"),
            (Some(uid), None) => {
                return Err(PrivError::Usage(format!(
                    "uid {uid} not found, --init-groups requires an user that can be found on \
                     the system"
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Applies the plan and runs the program; returns only with an error.
pub fn run(plan: PrivPlan) -> Result<std::convert::Infallible, PrivError> {
    check(&plan)?;
    // Opened now: a missing path is an error before anything changes.
    let landlock_paths = plan.landlock.open_paths().map_err(PrivError::Usage)?;
    let filter = match &plan.seccomp_filter {
        Some(path) => Some(read_filter(path)?),
        None => None,
    };
    let profile = match &plan.seccomp {
        Some(source) => {
            let last = crate::caps::last_cap();
            let held = plan.caps.unwrap_or_else(|| {
                let now = bounding_set(last);
                plan.bounding
                    .as_ref()
                    .map_or(now, |c| capnames::apply_changes(now, c, last))
            });
            Some(seccomp::prepare(source, held).map_err(PrivError::Usage)?)
        }
        None => None,
    };
    let vars = plan.reset_env.then(|| {
        let me = nix::unistd::getuid().as_raw();
        let user = plan.user.clone().or_else(|| crate::ids::passwd_by_uid(me));
        env::login_env(&user.unwrap_or(PasswdEntry {
            name: String::new(),
            uid: me,
            gid: 0,
            home: String::new(),
            shell: String::new(),
        }))
    });
    let env = vars
        .as_deref()
        .map_or(ProgramEnv::Inherit, ProgramEnv::Only);
    let mut exec =
        ExecPlan::command(&plan.command, env).map_err(|e| PrivError::Usage(e.to_string()))?;

    let fail = |what: &str| {
        let what = what.to_string();
        move |errno: Errno| PrivError::Failed(SysError::new(what, errno))
    };
    if plan.nnp {
        sys::prctl_int(PrctlInt::SetNoNewPrivs, 1)
            .map_err(fail("disallow granting new privileges failed"))?;
        tracing::info!("no_new_privs set");
    }
    if let Some(label) = &plan.selinux_label {
        lsm_label(label)?;
    }
    if let Some(profile) = &plan.apparmor_profile {
        apparmor_profile(profile)?;
    }
    if let Some(filter) = &filter {
        load_filter(filter)?;
        tracing::info!(instructions = filter.len(), "seccomp filter loaded");
    }
    apply_ids_and_caps(&plan, profile.as_ref())?;
    tracing::info!(
        ruid = ?plan.ruid,
        euid = ?plan.euid,
        rgid = ?plan.rgid,
        egid = ?plan.egid,
        "ids, groups and capabilities set"
    );
    if let Some(sig) = plan.pdeathsig {
        let arg = match sig {
            Pdeathsig::Clear => 0,
            Pdeathsig::Signal(n) => n as libc::c_ulong,
        };
        sys::prctl_int(PrctlInt::SetPdeathsig, arg)
            .map_err(fail("set parent death signal failed"))?;
    }
    if let Some(pid) = plan.ptracer {
        sys::prctl_int(PrctlInt::SetPtracer, pid as libc::c_ulong).map_err(|e| {
            PrivError::Failed(
                SysError::new("set ptracer", e).with_hint(
                    (e == Errno::EINVAL)
                        .then(|| "Yama is not active here (no /proc/sys/kernel/yama)".into()),
                ),
            )
        })?;
    }
    plan.landlock.apply(&landlock_paths)?;
    if !plan.landlock.is_empty() {
        tracing::info!(rules = landlock_paths.len(), "Landlock ruleset in force");
    }
    tracing::info!(program = exec.display(), "exec");
    let errno = exec.exec();
    Err(PrivError::Exec {
        // setpriv's words exactly (its tests compare them).
        message: format!("failed to execute {}: {}", exec.display(), errno.desc()),
        status: exec_failure_status(errno),
    })
}

/// Ids, groups, securebits and the capability sets, in setpriv's order:
/// keep the capabilities across the uid change, then change the ids and
/// groups, then narrow the sets.
fn apply_ids_and_caps(
    plan: &PrivPlan,
    profile: Option<&seccomp::Compiled>,
) -> Result<(), PrivError> {
    let fail =
        |what: &'static str| move |errno: Errno| PrivError::Failed(SysError::new(what, errno));
    let last = crate::caps::last_cap();
    sys::prctl_int(PrctlInt::SetKeepCaps, 1).map_err(fail("keep process capabilities failed"))?;
    let mut sets = sys::cap_get().map_err(fail("capget failed"))?;
    // CAP_SETPCAP, CAP_SETUID and CAP_SETGID effective where permitted.
    let wanted = (1u64 << 8) | (1 << 7) | (1 << 6);
    sets.effective |= sets.permitted & wanted;
    sys::cap_set(sets).map_err(fail("activate capabilities"))?;
    if plan.ruid.is_some() || plan.euid.is_some() {
        let ids = nix::unistd::getresuid().map_err(fail("getresuid failed"))?;
        let ruid = plan.ruid.map_or(ids.real, nix::unistd::Uid::from_raw);
        let euid = plan.euid.map_or(ids.effective, nix::unistd::Uid::from_raw);
        nix::unistd::setresuid(ruid, euid, euid).map_err(fail("setresuid failed"))?;
        // keep-caps keeps the permitted set, not the effective one.
        sys::cap_set(sets).map_err(fail("reactivate capabilities"))?;
    }
    if plan.rgid.is_some() || plan.egid.is_some() {
        let ids = nix::unistd::getresgid().map_err(fail("getresgid failed"))?;
        let rgid = plan.rgid.map_or(ids.real, nix::unistd::Gid::from_raw);
        let egid = plan.egid.map_or(ids.effective, nix::unistd::Gid::from_raw);
        nix::unistd::setresgid(rgid, egid, egid).map_err(fail("setresgid failed"))?;
    }
    let groups: Option<Vec<u32>> = match &plan.groups {
        Groups::Set(list) => Some(list.clone()),
        Groups::Init => plan
            .user
            .as_ref()
            .map(|u| crate::ids::groups_of(&u.name, u.gid)),
        Groups::Clear => Some(Vec::new()),
        Groups::Keep | Groups::Unchanged => None,
    };
    if let Some(list) = groups {
        let gids: Vec<nix::unistd::Gid> =
            list.into_iter().map(nix::unistd::Gid::from_raw).collect();
        nix::unistd::setgroups(&gids).map_err(fail("setgroups failed"))?;
    }
    if let Some(bits) = plan.securebits {
        sys::prctl_int(PrctlInt::SetSecurebits, bits as libc::c_ulong)
            .map_err(fail("set process securebits failed"))?;
    }
    if let Some(changes) = &plan.bounding {
        for cap in 0..=last.min(63) {
            let keep = capnames::apply_changes(u64::MAX, changes, last) & (1 << cap) != 0;
            let has = sys::prctl_int(PrctlInt::CapBsetRead, cap.into()) == Ok(1);
            if has && !keep {
                sys::prctl_int(PrctlInt::CapBsetDrop, cap.into())
                    .map_err(fail("apply bounding set"))?;
            }
        }
    }
    if let Some(changes) = &plan.inheritable {
        let new = CapSets {
            inheritable: capnames::apply_changes(sets.inheritable, changes, last),
            ..sets
        };
        sys::cap_set(new).map_err(fail("apply capabilities"))?;
    }
    if let Some(changes) = &plan.ambient {
        for change in changes {
            let caps: Vec<u32> = change.cap.map_or_else(|| (0..=last).collect(), |c| vec![c]);
            for cap in caps {
                let result = if change.add {
                    sys::ambient_raise(cap)
                } else {
                    sys::prctl_int(PrctlInt::AmbientLower, cap.into()).map(drop)
                };
                result.map_err(|errno| {
                    PrivError::Failed(SysError::new(
                        format!(
                            "cannot {} ambient capability {}",
                            if change.add { "raise" } else { "lower" },
                            capnames::name(cap)
                        ),
                        errno,
                    ).with_hint((errno == Errno::EPERM).then(|| {
                        "an ambient capability must be permitted and inheritable (--inh-caps) first".into()
                    })))
                })?;
            }
        }
    }
    // While CAP_SYS_ADMIN may still be held: then no no_new_privs is needed.
    if let Some(profile) = profile {
        seccomp::load(profile)?;
    }
    if let Some(set) = plan.caps {
        narrow_to(set, last)?;
    }
    Ok(())
}

/// The bounding set now.
fn bounding_set(last: u32) -> u64 {
    dump::per_cap(PrctlInt::CapBsetRead, last).unwrap_or(0)
}

/// The drop a box makes right before exec, after its root is set up
/// (rs-pivot's `--user`, `--caps`, `--nnp`): pivot_root needs CAP_SYS_ADMIN,
/// so it comes last, in the same process, as bubblewrap does it.
#[derive(Debug, Clone, Default)]
pub struct BoxDrop {
    /// uid and gid; the supplementary groups are cleared.
    pub ids: Option<(u32, u32)>,
    pub caps: Option<u64>,
    pub nnp: bool,
    /// Compiled beforehand (see [`seccomp::prepare`]).
    pub seccomp: Option<seccomp::Compiled>,
}

impl BoxDrop {
    pub fn is_empty(&self) -> bool {
        self.ids.is_none() && self.caps.is_none() && !self.nnp && self.seccomp.is_none()
    }

    /// The capabilities the program will hold: `--caps`, else the bounding
    /// set now.
    pub fn caps_held(caps: Option<u64>) -> u64 {
        caps.unwrap_or_else(|| bounding_set(crate::caps::last_cap()))
    }
}

/// Applies `drop`: groups, gid and uid (keeping the capabilities across
/// the change when `--caps` narrows them next), the capability sets, then
/// no_new_privs.
pub fn drop_before_exec(drop: &BoxDrop) -> Result<(), SysError> {
    let fail = |what: &'static str| move |errno: Errno| SysError::new(what, errno);
    let unmapped = |what: String| {
        move |e: Errno| {
            SysError::new(what, e).with_hint(
                (e == Errno::EINVAL)
                    .then(|| "that id is not mapped in the box's user namespace".into()),
            )
        }
    };
    if let Some((uid, gid)) = drop.ids {
        if drop.caps.is_some() || drop.seccomp.is_some() {
            sys::prctl_int(PrctlInt::SetKeepCaps, 1)
                .map_err(fail("keep capabilities (PR_SET_KEEPCAPS)"))?;
        }
        nix::unistd::setgroups(&[]).map_err(fail("--user: clear the supplementary groups"))?;
        let g = nix::unistd::Gid::from_raw(gid);
        nix::unistd::setresgid(g, g, g)
            .map_err(unmapped(format!("--user: set gid {gid} (setresgid)")))?;
        let u = nix::unistd::Uid::from_raw(uid);
        nix::unistd::setresuid(u, u, u)
            .map_err(unmapped(format!("--user: set uid {uid} (setresuid)")))?;
    }
    if drop.ids.is_some() && (drop.caps.is_some() || drop.seccomp.is_some()) {
        // The uid change emptied the effective set: CAP_SETPCAP is needed
        // again to drop from the bounding set, CAP_SYS_ADMIN to load a
        // filter without no_new_privs.
        let sets = sys::cap_get().map_err(fail("capget"))?;
        sys::cap_set(CapSets {
            effective: sets.permitted,
            ..sets
        })
        .map_err(fail("capset"))?;
    }
    if let Some(profile) = &drop.seccomp {
        seccomp::load(profile)?;
    }
    if let Some(set) = drop.caps {
        narrow_to(set, crate::caps::last_cap())?;
    }
    if drop.nnp {
        sys::prctl_int(PrctlInt::SetNoNewPrivs, 1).map_err(fail("--nnp (PR_SET_NO_NEW_PRIVS)"))?;
    }
    Ok(())
}

/// Every capability set narrowed to `set`: the bounding set first (so
/// nothing can come back at exec), then permitted, effective and
/// inheritable to what we hold of `set`, and no ambient capability.
fn narrow_to(set: u64, last: u32) -> Result<(), SysError> {
    let fail = |what: &'static str| move |errno: Errno| SysError::new(what, errno);
    for cap in 0..=last.min(63) {
        if set & (1 << cap) == 0 && sys::prctl_int(PrctlInt::CapBsetRead, cap.into()) == Ok(1) {
            sys::prctl_int(PrctlInt::CapBsetDrop, cap.into())
                .map_err(fail("--caps: drop from the bounding set"))?;
        }
    }
    let held = sys::cap_get().map_err(fail("capget failed"))?.permitted & set;
    sys::cap_set(CapSets {
        effective: held,
        permitted: held,
        inheritable: held,
    })
    .map_err(fail("--caps: capset"))?;
    match sys::prctl_int(PrctlInt::AmbientClearAll, 0) {
        Ok(_) | Err(Errno::EINVAL) => Ok(()),
        Err(e) => Err(fail("--caps: clear the ambient set")(e)),
    }
}

/// A raw classic-BPF filter file (8 bytes per instruction, as enosys
/// --dump writes it).
fn read_filter(path: &std::path::Path) -> Result<Vec<libc::sock_filter>, PrivError> {
    let shown = crate::text::safe_path(path);
    let bytes = std::fs::read(path).map_err(|e| {
        PrivError::Failed(SysError::new(
            format!("cannot open {shown}"),
            crate::error::io_errno(&e),
        ))
    })?;
    if bytes.is_empty() || bytes.len() % 8 != 0 {
        return Err(PrivError::Failed(SysError::new(
            format!("{shown}: invalid filter (not a whole number of 8-byte instructions)"),
            Errno::EINVAL,
        )));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| libc::sock_filter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect())
}

fn load_filter(filter: &[libc::sock_filter]) -> Result<(), PrivError> {
    if sys::prctl_int(PrctlInt::GetSeccomp, 0) == Err(Errno::EINVAL) {
        return Err(SysError::new("Seccomp non-functional", Errno::EINVAL).into());
    }
    sys::prctl_int(PrctlInt::SetNoNewPrivs, 1)
        .map_err(|e| SysError::new("Could not run prctl(PR_SET_NO_NEW_PRIVS)", e))?;
    // SPEC_ALLOW, as setpriv loads it.
    const SECCOMP_FILTER_FLAG_SPEC_ALLOW: u32 = 1 << 2;
    sys::seccomp_load(filter, SECCOMP_FILTER_FLAG_SPEC_ALLOW)
        .map_err(|e| SysError::new("Could not load seccomp filter", e))?;
    Ok(())
}

/// `--selinux-label`: the label the program gets at exec.
fn lsm_label(label: &str) -> Result<(), PrivError> {
    if !std::path::Path::new("/sys/fs/selinux").exists() {
        return Err(SysError::new("SELinux is not running", Errno::ENOENT).into());
    }
    std::fs::write("/proc/self/attr/exec", label).map_err(|e| {
        SysError::new(
            "write failed: /proc/self/attr/exec",
            crate::error::io_errno(&e),
        )
        .into()
    })
}

/// `--apparmor-profile`: the profile the program gets at exec.
fn apparmor_profile(profile: &str) -> Result<(), PrivError> {
    if !std::path::Path::new("/sys/kernel/security/apparmor").exists() {
        return Err(SysError::new("AppArmor is not running", Errno::ENOENT).into());
    }
    let text = format!("exec {profile}");
    std::fs::write("/proc/self/attr/apparmor/exec", &text)
        .or_else(|_| std::fs::write("/proc/self/attr/exec", &text))
        .map_err(|e| {
            SysError::new(
                "write failed: /proc/self/attr/exec",
                crate::error::io_errno(&e),
            )
            .into()
        })
}

/// A signal's name as util-linux prints it (`TERM`), else its number.
pub fn signal_name(signal: i32) -> String {
    nix::sys::signal::Signal::try_from(signal)
        .map(|s| s.as_str().trim_start_matches("SIG").to_string())
        .unwrap_or_else(|_| signal.to_string())
}

/// A signal given as `TERM`, `SIGTERM`, `term` or a number.
pub fn parse_signal(text: &str) -> Option<i32> {
    if let Ok(n) = text.parse::<i32>() {
        return nix::sys::signal::Signal::try_from(n).ok().map(|s| s as i32);
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse::<nix::sys::signal::Signal>()
        .ok()
        .map(|s| s as i32)
}

/// `--list-caps`: every capability this kernel knows, one per line.
pub fn list_caps() -> String {
    (0..=crate::caps::last_cap())
        .map(|c| capnames::name(c) + "\n")
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_read_and_print_as_util_linux_does() {
        assert_eq!(parse_signal("TERM"), Some(15));
        assert_eq!(parse_signal("sigkill"), Some(9));
        assert_eq!(parse_signal("1"), Some(1));
        assert_eq!(parse_signal("bogus"), None);
        assert_eq!(signal_name(15), "TERM");
    }

    #[test]
    fn usage_is_checked_first() {
        let plan = PrivPlan::default();
        assert_eq!(
            check(&plan).unwrap_err().to_string(),
            "No program specified"
        );
        let plan = PrivPlan {
            rgid: Some(1),
            command: vec!["true".into()],
            ..PrivPlan::default()
        };
        assert!(
            check(&plan)
                .unwrap_err()
                .to_string()
                .starts_with("--[re]gid requires")
        );
    }
}
