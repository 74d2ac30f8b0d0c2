//! From options to a plan: implied options applied, conflicts refused, id maps
//! resolved, and every string the child needs built before anything forks.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::sys::signal::Signal;
use nix::unistd::{Gid, Uid};

use super::UnshareError;
use super::handoff::{self, Handoff};
use super::options::{SingleMap, UnshareOptions};
use crate::exec::{EnvPolicy, ExecPlan, ProgramEnv};
use crate::idmap::{
    IdKind, IdMap, IdMapError, IdRange, MapPlan, MapWriter, RangeSpec, Setgroups, find_subid_range,
};
use crate::launch::{Binfmt, Inside};
use crate::mount::Propagation;
use crate::ns::{NsKind, NsSet};
use crate::persist::{PersistTarget, check_targets};
use crate::supervise::ForwardPolicy;

/// Who runs rs-unshare; a parameter so the plan can be tested for anyone.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub uid: u32,
    pub euid: u32,
    pub egid: u32,
    pub cap_setuid: bool,
    pub cap_setgid: bool,
    /// $SHELL, for the default program.
    pub shell: Option<OsString>,
}

impl Caller {
    pub(crate) fn current() -> Caller {
        let effective = crate::sys::cap_get().map(|s| s.effective).unwrap_or(0);
        let has = |cap: u32| effective & (1u64 << cap) != 0;
        Caller {
            uid: nix::unistd::getuid().as_raw(),
            euid: nix::unistd::geteuid().as_raw(),
            egid: nix::unistd::getegid().as_raw(),
            cap_setuid: has(crate::caps::CAP_SETUID),
            cap_setgid: has(crate::caps::CAP_SETGID),
            shell: std::env::var_os("SHELL"),
        }
    }
}

/// Fork (`-f`): we stay outside and the program is our child, cloned straight
/// into the new namespaces. Exec: we unshare and become the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Fork,
    Exec,
}

#[derive(Debug)]
pub(crate) struct Plan {
    pub mode: Mode,
    pub namespaces: NsSet,
    pub maps: MapPlan,
    /// The ids that own the new user namespace and that maps call "ours".
    pub ns_ids: (u32, u32),
    /// `--owner`, when it differs from who we are.
    pub owner: Option<(u32, u32)>,
    pub persist: Vec<PersistTarget>,
    pub pid_file: Option<PathBuf>,
    pub kill_child: Option<Signal>,
    /// `--init`: the cloned child stays PID 1 and forks the program.
    pub init: bool,
    pub policy: ForwardPolicy,
    /// `--info-fd` and `--json-status-fd`.
    pub handoff: Handoff,
    pub inside: Inside,
}

impl Plan {
    /// The flags of the fork-mode clone: all but time, which the child makes
    /// itself so it can still set the offsets.
    pub(crate) fn clone_set(&self) -> NsSet {
        let mut set = self.namespaces;
        set.remove(NsKind::Time);
        set
    }

    /// In exec mode, must another process write the maps? A process inside
    /// the new user namespace may only map its own ids, one line each, and
    /// (unprivileged) only after denying setgroups. After `--owner` changed
    /// our ids we are no longer dumpable, so our /proc files belong to root
    /// and only the helper, which kept our privileges, can write them.
    pub(crate) fn maps_need_outside_writer(&self) -> bool {
        if self.maps.is_empty() {
            return false;
        }
        if self.owner.is_some() {
            return true;
        }
        let (uid, gid) = self.ns_ids;
        let allow_with_single_gid = self.maps.setgroups == Some(Setgroups::Allow)
            && self
                .maps
                .gid
                .as_ref()
                .is_some_and(|(m, _)| m.is_single_of(gid));
        self.maps.needs_outside_writer(uid, gid) || allow_with_single_gid
    }
}

fn usage(text: impl Into<String>) -> UnshareError {
    UnshareError::Usage(text.into())
}

fn c_path(path: &Path, option: &str) -> Result<CString, UnshareError> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| usage(format!("{option}={}: contains a NUL byte", path.display())))
}

/// `--mount-proc=DIR` with shared (or unchanged) propagation: a DIR that is
/// a mount point is made private before the proc goes on it, but a DIR that
/// is not lies on a mount the new namespace shares with the host's, and a
/// proc mounted there would appear in the host's mount table too (and stay
/// after we exit). Refused before anything is made.
fn refuse_proc_that_would_propagate(
    dir: &std::path::Path,
    root: Option<&std::path::Path>,
    propagation: Propagation,
) -> Result<(), UnshareError> {
    use std::os::fd::AsFd;
    if matches!(propagation, Propagation::Private | Propagation::Slave) {
        return Ok(());
    }
    let path = match root {
        Some(r) => r.join(dir.strip_prefix("/").unwrap_or(dir)),
        None => dir.to_path_buf(),
    };
    let Ok(fd) = nix::fcntl::open(
        &path,
        nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    ) else {
        // Missing: the mount itself will say so.
        return Ok(());
    };
    let Ok(of) = crate::sys::mount_of(fd.as_fd(), c"") else {
        return Ok(());
    };
    if of.is_mount_root {
        return Ok(());
    }
    let shared = propagation == Propagation::Shared
        || crate::mountinfo::read_own().is_ok_and(|text| {
            crate::mountinfo::parse(&text)
                .iter()
                .any(|m| m.id == of.mnt_id && m.shared.is_some())
        });
    if shared {
        return Err(usage(format!(
            "--mount-proc={}: not a mount point, and the mount it is on is shared with the \
             host's mount namespace (--propagation={propagation}): the new proc would appear in \
             the host's mount table; mount it on a mount point (bind the directory onto itself \
             first), or use --propagation=private or slave",
            crate::text::safe_path(dir)
        )));
    }
    Ok(())
}

/// A hostname the kernel takes: 1 to 64 bytes (HOST_NAME_MAX), no NUL.
fn check_hostname(name: &std::ffi::OsStr) -> Result<(), UnshareError> {
    use std::os::unix::ffi::OsStrExt;
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() > 64 || bytes.contains(&0) {
        return Err(usage(format!(
            "--hostname={}: a hostname is 1 to 64 bytes",
            crate::text::safe(bytes)
        )));
    }
    Ok(())
}

pub(crate) fn build(opts: UnshareOptions, caller: &Caller) -> Result<Plan, UnshareError> {
    let mut ns = opts.namespaces;
    for target in &opts.persist {
        ns.insert(target.kind);
    }
    if opts.mount_proc.is_some() {
        ns.insert(NsKind::Mount);
    }
    // Never the host's name: the hostname is set in a UTS namespace of ours.
    if let Some(name) = &opts.hostname {
        check_hostname(name)?;
        ns.insert(NsKind::Uts);
    }
    let binfmt_dir = match (&opts.mount_binfmt, opts.load_interp.is_empty()) {
        (Some(dir), _) => Some(dir.clone()),
        (None, false) => Some(PathBuf::from(DEFAULT_BINFMT_DIR)),
        (None, true) => None,
    };
    if binfmt_dir.is_some() {
        ns.insert(NsKind::Mount);
    }
    let maps_given = opts.map_user.is_some()
        || opts.map_group.is_some()
        || !opts.map_users.is_empty()
        || !opts.map_groups.is_empty();
    if maps_given || opts.owner.is_some() {
        ns.insert(NsKind::User);
    }
    // --json-status-fd: someone must stay to see the program end.
    let fork = opts.fork
        || opts.kill_child.is_some()
        || opts.forward_signals
        || opts.init
        || opts.new_session
        || opts.pty
        || opts.json_status_fd.is_some();

    if opts.init && !ns.contains(NsKind::Pid) {
        return Err(usage(
            "--init needs a new PID namespace (-p): it stays that namespace's PID 1",
        ));
    }

    if (opts.monotonic.is_some() || opts.boottime.is_some()) && !ns.contains(NsKind::Time) {
        return Err(usage(
            "--monotonic and --boottime need a new time namespace (-T)",
        ));
    }
    if binfmt_dir.is_some() && !ns.contains(NsKind::User) {
        return Err(usage(
            "--mount-binfmt and --load-interp need a new user namespace (-U, -r, ...): without \
             one, binfmt_misc is the host's, and a definition would apply to the whole machine",
        ));
    }
    let binfmt_rules = opts
        .load_interp
        .iter()
        .map(|spec| check_binfmt_rule(spec))
        .collect::<Result<Vec<_>, _>>()?;
    if opts.propagation.is_some() && !ns.contains(NsKind::Mount) {
        return Err(usage(
            "--propagation needs a new mount namespace (-m or --mount-proc)",
        ));
    }
    if opts.setgroups.is_some() && !ns.contains(NsKind::User) {
        return Err(usage("--setgroups needs a new user namespace (-U)"));
    }
    if opts.keep_caps && !ns.contains(NsKind::User) {
        return Err(usage(
            "--keep-caps needs a new user namespace (-U, -r, -c or a --map-* option)",
        ));
    }
    if !fork && opts.persist.iter().any(|t| t.kind == NsKind::Pid) {
        return Err(usage(
            "--pid=FILE needs --fork: a PID namespace exists only once its first process does",
        ));
    }
    let privileged = caller.cap_setuid && caller.cap_setgid;
    let owner = opts.owner.filter(|o| *o != (caller.euid, caller.egid));
    if let Some((uid, gid)) = owner
        && !privileged
    {
        return Err(usage(format!(
            "--owner={uid}:{gid} needs CAP_SETUID and CAP_SETGID (root) to create a namespace for another user"
        )));
    }
    check_targets(&opts.persist)?;
    let mut persist = opts.persist.clone();
    // The mount namespace bind is the one the kernel refuses most (a target on
    // a shared mount): make it last so a failure has the fewest binds to undo.
    persist.sort_by_key(|t| t.kind == NsKind::Mount);

    let ns_ids = owner.unwrap_or((caller.euid, caller.egid));
    let maps = map_plan(&opts, caller, ns_ids)?;

    let propagation = opts.propagation.unwrap_or_default();
    let root = opts
        .root
        .as_deref()
        .map(|p| c_path(p, "--root"))
        .transpose()?;
    let wd = opts.wd.as_deref().map(|p| c_path(p, "--wd")).transpose()?;
    let proc_mount = opts
        .mount_proc
        .as_deref()
        .map(|p| c_path(p, "--mount-proc"))
        .transpose()?;
    if let Some(dir) = &opts.mount_proc {
        refuse_proc_that_would_propagate(dir, opts.root.as_deref(), propagation)?;
    }
    let time_offsets = time_offsets_text(opts.monotonic, opts.boottime);
    let binfmt = binfmt_dir
        .map(|dir| -> Result<Binfmt, UnshareError> {
            Ok(Binfmt {
                dir: c_path(&dir, "--mount-binfmt")?,
                register: c_path(&dir.join("register"), "--mount-binfmt")?,
                rules: binfmt_rules,
            })
        })
        .transpose()?;

    // Our own environment goes to execve untouched; only a filtered one is copied.
    let vars = match &opts.env {
        EnvPolicy::Inherit => None,
        policy => Some(policy.apply(std::env::vars_os().collect())),
    };
    let env = vars
        .as_deref()
        .map_or(ProgramEnv::Inherit, ProgramEnv::Only);
    let exec = if opts.command.is_empty() {
        ExecPlan::login_shell(
            &crate::exec::default_shell(caller.shell.clone(), caller.uid),
            env,
        )
    } else {
        ExecPlan::command(&opts.command, env)
    }
    .map_err(|e| usage(e.to_string()))?;

    // Last: taken over only once every other check passed.
    let (block_fd, handoff) = handoff::take(opts.block_fd, opts.info_fd, opts.json_status_fd)?;
    let pty = if opts.pty {
        Some(crate::pty::open(&crate::pty::FdDir::open()?)?)
    } else {
        None
    };
    let inside = Inside {
        time_offsets,
        propagation: ns.contains(NsKind::Mount).then_some(propagation),
        proc_private_first: propagation != Propagation::Private,
        root,
        wd,
        proc_mount,
        binfmt,
        setgid: opts.setgid.map(Gid::from_raw),
        setuid: opts.setuid.map(Uid::from_raw),
        keep_caps: opts.keep_caps.then(crate::caps::last_cap),
        death_signal: opts.kill_child,
        new_session: opts.new_session || opts.pty,
        hostname: opts.hostname.clone(),
        block_fd,
        pty,
        ..crate::launch::plain_inside(exec)
    };
    Ok(Plan {
        mode: if fork { Mode::Fork } else { Mode::Exec },
        namespaces: ns,
        maps,
        ns_ids,
        owner,
        persist,
        pid_file: opts.pid_file,
        kill_child: opts.kill_child,
        init: opts.init,
        policy: ForwardPolicy {
            // Our init passes every signal on; it would otherwise be lost.
            forward_sigint: opts.forward_signals || opts.init,
            pidns_init: fork && ns.contains(NsKind::Pid) && !opts.init,
            reaper: false,
        },
        handoff,
        inside,
    })
}

/// Where binfmt_misc lives, as util-linux mounts it by default.
const DEFAULT_BINFMT_DIR: &str = "/proc/sys/fs/binfmt_misc";

/// A binfmt_misc definition, `:name:type:offset:magic:mask:interpreter:flags`
/// (the first character is the separator, `:` by convention): checked for
/// its shape here, so a typo is named before anything starts; the kernel
/// checks the rest.
fn check_binfmt_rule(spec: &str) -> Result<CString, UnshareError> {
    let bad = |why: &str| {
        usage(format!(
            "--load-interp='{spec}': {why} (the form is :name:type:offset:magic:mask:interpreter:flags)"
        ))
    };
    let mut chars = spec.chars();
    let Some(sep) = chars.next() else {
        return Err(bad("empty"));
    };
    let fields: Vec<&str> = chars.as_str().split(sep).collect();
    if fields.len() != 7 {
        return Err(bad(&format!("{} fields, not 7", fields.len())));
    }
    let (name, kind, interpreter) = (fields[0], fields[1], fields[5]);
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err(bad("the name must be non-empty, without '/'"));
    }
    if kind != "M" && kind != "E" {
        return Err(bad(&format!(
            "type '{kind}' is neither M (magic) nor E (extension)"
        )));
    }
    if interpreter.is_empty() {
        return Err(bad("no interpreter"));
    }
    CString::new(spec).map_err(|_| bad("contains a NUL byte"))
}

/// The lines for /proc/self/timens_offsets: clock id, seconds, nanoseconds.
fn time_offsets_text(monotonic: Option<i64>, boottime: Option<i64>) -> Option<CString> {
    let mut text = String::new();
    if let Some(secs) = monotonic {
        text.push_str(&format!("{} {secs} 0\n", libc::CLOCK_MONOTONIC));
    }
    if let Some(secs) = boottime {
        text.push_str(&format!("{} {secs} 0\n", libc::CLOCK_BOOTTIME));
    }
    (!text.is_empty()).then(|| CString::new(text).expect("digits and spaces only"))
}

fn map_plan(
    opts: &UnshareOptions,
    caller: &Caller,
    (ns_uid, ns_gid): (u32, u32),
) -> Result<MapPlan, UnshareError> {
    let single = |m: Option<SingleMap>, own: u32| {
        m.map(|m| match m {
            SingleMap::Current => (own, own),
            SingleMap::Id(inner) => (inner, own),
        })
    };
    let uid_map = one_map(
        IdKind::Uid,
        single(opts.map_user, ns_uid),
        &opts.map_users,
        ns_uid,
    )?;
    let gid_map = one_map(
        IdKind::Gid,
        single(opts.map_group, ns_gid),
        &opts.map_groups,
        ns_uid,
    )?;
    // Anyone may write a single mapping of their own id; the rest takes
    // privilege in our namespace or the set-uid helpers.
    let writer = |map: &IdMap, own: u32, privileged: bool| {
        if privileged || map.is_single_of(own) {
            MapWriter::Direct
        } else {
            MapWriter::Helper
        }
    };
    let gid_single_only = opts.map_group.is_some() && opts.map_groups.is_empty();
    // A lone --map-group implies deny, as in unshare(1): unprivileged, the
    // kernel takes gid_map only after setgroups is denied.
    let setgroups = opts
        .setgroups
        .or(gid_single_only.then_some(Setgroups::Deny));
    if setgroups == Some(Setgroups::Allow) && gid_single_only && !caller.cap_setgid {
        return Err(usage(
            "--setgroups=allow cannot go with a single group mapping without CAP_SETGID: the \
             kernel takes an unprivileged gid_map only after setgroups is denied; map groups \
             with --map-groups (through newgidmap) instead",
        ));
    }
    Ok(MapPlan {
        setgroups,
        uid: uid_map.map(|m| {
            let w = writer(&m, ns_uid, caller.cap_setuid);
            (m, w)
        }),
        gid: gid_map.map(|m| {
            let w = writer(&m, ns_gid, caller.cap_setgid);
            (m, w)
        }),
    })
}

fn one_map(
    kind: IdKind,
    single: Option<(u32, u32)>,
    specs: &[RangeSpec],
    ns_uid: u32,
) -> Result<Option<IdMap>, UnshareError> {
    if single.is_none() && specs.is_empty() {
        return Ok(None);
    }
    let mut ranges = Vec::new();
    for spec in specs {
        match spec {
            RangeSpec::Range(r) => ranges.push(*r),
            RangeSpec::Auto | RangeSpec::SubIds => {
                let sub = subid_range(kind, ns_uid)?;
                let inner = if *spec == RangeSpec::Auto { 0 } else { sub.0 };
                ranges.push(IdRange {
                    inner,
                    outer: sub.0,
                    count: sub.1,
                });
            }
            RangeSpec::All => ranges.extend(our_ids(kind)?),
        }
    }
    Ok(Some(IdMap::build(kind, single, &ranges)?))
}

/// The first range of the namespace's user in /etc/subuid or /etc/subgid
/// (both are keyed by user).
fn subid_range(kind: IdKind, uid: u32) -> Result<(u32, u32), UnshareError> {
    let path = Path::new(kind.subid_file());
    let content = std::fs::read_to_string(path).map_err(|source| IdMapError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let name = crate::ids::user_name(uid).unwrap_or_else(|| uid.to_string());
    let range = find_subid_range(&content, path, &name, uid)?;
    let end_ok = IdRange::new(0, range.start, range.count).is_ok();
    if !end_ok {
        return Err(UnshareError::Usage(format!(
            "the range {}:{} in {} reaches past the largest id",
            range.start,
            range.count,
            path.display()
        )));
    }
    Ok((range.start, range.count))
}

/// `all`: every id mapped in our own namespace, passed through unchanged.
fn our_ids(kind: IdKind) -> Result<Vec<IdRange>, UnshareError> {
    let path = PathBuf::from(format!("/proc/self/{}", kind.map_file()));
    let content = std::fs::read_to_string(&path).map_err(|source| IdMapError::Read {
        path: path.clone(),
        source,
    })?;
    Ok(content
        .lines()
        .filter_map(|line| {
            let mut f = line.split_whitespace().map(|n| n.parse::<u32>());
            match (f.next(), f.next(), f.next()) {
                (Some(Ok(first)), Some(Ok(_)), Some(Ok(count))) => {
                    IdRange::new(first, first, count).ok()
                }
                _ => None,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> Caller {
        Caller {
            uid: 0,
            euid: 0,
            egid: 0,
            cap_setuid: true,
            cap_setgid: true,
            shell: None,
        }
    }

    fn user() -> Caller {
        Caller {
            uid: 1000,
            euid: 1000,
            egid: 1000,
            cap_setuid: false,
            cap_setgid: false,
            ..root()
        }
    }

    fn opts(ns: &[NsKind]) -> UnshareOptions {
        UnshareOptions {
            namespaces: ns.iter().copied().collect(),
            command: vec!["true".into()],
            ..UnshareOptions::default()
        }
    }

    fn usage_text(result: Result<Plan, UnshareError>) -> String {
        match result {
            Err(UnshareError::Usage(text)) => text,
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn map_root_user_unprivileged_is_direct_with_setgroups_denied() {
        let mut o = opts(&[]);
        o.map_user = Some(SingleMap::Id(0));
        o.map_group = Some(SingleMap::Id(0));
        let plan = build(o, &user()).unwrap();
        assert!(plan.namespaces.contains(NsKind::User), "maps imply -U");
        assert_eq!(plan.maps.setgroups, Some(Setgroups::Deny));
        let (uid, w) = plan.maps.uid.as_ref().unwrap();
        assert_eq!(uid.kernel_text(), "0 1000 1\n");
        assert_eq!(*w, MapWriter::Direct);
        assert_eq!(plan.mode, Mode::Exec);
        assert!(!plan.maps_need_outside_writer());
    }

    #[test]
    fn ranges_go_through_helpers_when_unprivileged_and_direct_as_root() {
        let mut o = opts(&[NsKind::User]);
        o.map_users = vec![RangeSpec::Range(IdRange::new(0, 100000, 65536).unwrap())];
        o.map_user = Some(SingleMap::Id(0));
        let plan = build(o.clone(), &user()).unwrap();
        let (map, w) = plan.maps.uid.as_ref().unwrap();
        assert_eq!(map.kernel_text(), "0 1000 1\n1 100000 65535\n");
        assert_eq!(*w, MapWriter::Helper);
        assert!(plan.maps_need_outside_writer());
        // No lone --map-group: setgroups is left alone.
        assert_eq!(plan.maps.setgroups, None);

        let plan = build(o, &root()).unwrap();
        assert_eq!(plan.maps.uid.as_ref().unwrap().1, MapWriter::Direct);
        assert!(
            plan.maps_need_outside_writer(),
            "a process inside cannot map ranges"
        );
    }

    #[test]
    fn map_current_user_maps_own_ids_and_owner_changes_them() {
        let mut o = opts(&[]);
        o.map_user = Some(SingleMap::Current);
        o.map_group = Some(SingleMap::Current);
        let plan = build(o.clone(), &user()).unwrap();
        assert_eq!(
            plan.maps.uid.as_ref().unwrap().0.kernel_text(),
            "1000 1000 1\n"
        );

        o.owner = Some((1234, 5678));
        let plan = build(o, &root()).unwrap();
        assert_eq!(plan.owner, Some((1234, 5678)));
        assert_eq!(
            plan.maps.uid.as_ref().unwrap().0.kernel_text(),
            "1234 1234 1\n"
        );
        assert_eq!(
            plan.maps.gid.as_ref().unwrap().0.kernel_text(),
            "5678 5678 1\n"
        );
    }

    #[test]
    fn implied_options() {
        let mut o = opts(&[]);
        o.mount_proc = Some("/proc".into());
        o.kill_child = Some(Signal::SIGTERM);
        let plan = build(o, &root()).unwrap();
        assert!(plan.namespaces.contains(NsKind::Mount));
        assert_eq!(plan.mode, Mode::Fork);
        assert_eq!(plan.inside.death_signal, Some(Signal::SIGTERM));

        let mut o = opts(&[NsKind::Pid]);
        o.forward_signals = true;
        let plan = build(o, &root()).unwrap();
        assert_eq!(plan.mode, Mode::Fork);
        assert!(plan.policy.forward_sigint);
        assert!(plan.policy.pidns_init);
        let mut clone = plan.namespaces;
        clone.insert(NsKind::Time);
        let plan = Plan {
            namespaces: clone,
            ..plan
        };
        assert!(!plan.clone_set().contains(NsKind::Time));
    }

    #[test]
    fn conflicts_are_usage_errors() {
        let mut o = opts(&[]);
        o.monotonic = Some(5);
        assert!(usage_text(build(o, &root())).contains("-T"));

        let mut o = opts(&[NsKind::Uts]);
        o.propagation = Some(Propagation::Shared);
        assert!(usage_text(build(o, &root())).contains("--propagation"));

        let mut o = opts(&[NsKind::Mount]);
        o.setgroups = Some(Setgroups::Deny);
        assert!(usage_text(build(o, &root())).contains("--setgroups"));

        let mut o = opts(&[NsKind::Net]);
        o.keep_caps = true;
        assert!(usage_text(build(o, &root())).contains("--keep-caps"));

        let mut o = opts(&[]);
        o.persist = vec![PersistTarget {
            kind: NsKind::Pid,
            path: "/nonexistent".into(),
        }];
        assert!(usage_text(build(o, &root())).contains("--fork"));

        let mut o = opts(&[]);
        o.owner = Some((0, 0));
        assert!(usage_text(build(o, &user())).contains("--owner=0:0"));

        let mut o = opts(&[]);
        o.map_group = Some(SingleMap::Id(0));
        o.setgroups = Some(Setgroups::Allow);
        assert!(usage_text(build(o.clone(), &user())).contains("--setgroups=allow"));
        // With CAP_SETGID it works, written from outside.
        let plan = build(o, &root()).unwrap();
        assert!(plan.maps_need_outside_writer());
    }

    #[test]
    fn time_offsets_are_kernel_lines() {
        let mut o = opts(&[NsKind::Time]);
        o.monotonic = Some(-5);
        o.boottime = Some(86400);
        let plan = build(o, &root()).unwrap();
        let text = plan.inside.time_offsets.unwrap();
        assert_eq!(text.to_str().unwrap(), "1 -5 0\n7 86400 0\n");
    }

    #[test]
    fn proc_is_made_private_first_unless_everything_is_private() {
        let mut o = opts(&[]);
        o.mount_proc = Some("/proc".into());
        assert!(!build(o.clone(), &root()).unwrap().inside.proc_private_first);
        o.propagation = Some(Propagation::Shared);
        assert!(build(o.clone(), &root()).unwrap().inside.proc_private_first);
        // With --root too: the new root's /proc may be on a shared mount.
        o.root = Some("/".into());
        assert!(build(o, &root()).unwrap().inside.proc_private_first);
    }

    #[test]
    fn no_command_runs_a_login_shell_from_shell_variable() {
        let mut caller = root();
        caller.shell = Some("/bin/dash".into());
        let mut o = opts(&[]);
        o.command.clear();
        let plan = build(o, &caller).unwrap();
        assert_eq!(plan.inside.exec.display(), "/bin/dash");
        assert_eq!(plan.inside.exec.argv()[0].to_str().unwrap(), "-dash");
    }
}
