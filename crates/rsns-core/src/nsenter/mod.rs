//! rs-nsenter: run a program in the namespaces of a running process or of
//! namespace files, as nsenter(1) does, without the PID-reuse race.
//!
//! The order: open the target (pidfd, then its checked /proc directory); pick
//! the namespaces; open what must be taken from here (root, working
//! directory, environment, cgroup); become non-dumpable; enter (join.rs); then
//! cgroup, root and directory; then, after a fork when a PID namespace was
//! entered, credentials and exec.

mod by_id;
mod error;
mod host_tools;
mod join;
mod options;
mod refusal;
mod sources;

pub use error::NsenterError;
pub use host_tools::TARGET_ROOT;
pub use options::{IdChoice, NsenterOptions};

use std::ffi::{CString, OsString};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use nix::unistd::{Gid, Uid, chroot, fchdir, getpid};

use crate::error::{Context, SysError};
use crate::exec::{ExecPlan, ProgramEnv};
use crate::launch::LaunchError;
use crate::launch::{self, Inside};
use crate::ns::NsKind;
use crate::process::Outcome;
use crate::supervise::ForwardPolicy;
use crate::target::{Target, TargetError};

/// Runs the program as `opts` asks. Without a fork this returns only on error;
/// with one it returns how the program ended.
pub fn run(mut opts: NsenterOptions) -> Result<Outcome, NsenterError> {
    // --host-tools with no namespace named enters them all (but the mount
    // namespace), as -a.
    if opts.host_tools
        && opts.namespaces.is_empty()
        && opts.net_socket.is_none()
        && !opts.user_parent
    {
        opts.all = true;
    }
    check_usage(&opts)?;
    let target = match &opts.container {
        Some(reference) => Some(container_target(reference)?),
        None => opts.target.map(Target::open).transpose()?,
    };
    let need_target = |what: &str| {
        target.as_ref().ok_or_else(|| {
            NsenterError::Usage(format!("{what} needs a target (-t PID or --container=REF)"))
        })
    };
    let mut sources = sources::choose(&opts, target.as_ref())?;
    // --host-tools: the target's mount namespace is not entered but cloned
    // from, so it is opened now, through the checked /proc directory.
    let host_tools = match (&target, opts.host_tools) {
        (Some(t), true) => {
            sources.retain(|s| s.kind != NsKind::Mount);
            Some(sources::open_target_ns(t, NsKind::Mount)?)
        }
        _ => None,
    };
    let entering = |kind: NsKind| sources.iter().any(|s| s.kind == kind);
    let (entering_user, entering_pid, entering_mnt) = (
        entering(NsKind::User),
        entering(NsKind::Pid),
        entering(NsKind::Mount),
    );
    tracing::debug!(
        target = %opts.target.as_ref().map_or("none".to_string(), |t| t.to_string()),
        namespaces = %sources.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", "),
        "plan"
    );

    // Taken before entering: they name things here, or the target's through
    // its checked /proc directory.
    let root_fd = match &opts.root {
        None => None,
        Some(Some(dir)) => Some(open_dir(dir, "--root")?),
        Some(None) => {
            Some(need_target("-r")?.open_at("root", OFlag::O_RDONLY | OFlag::O_DIRECTORY)?)
        }
    };
    let wd_fd = match &opts.wd {
        None => None,
        Some(Some(dir)) => Some(open_dir(dir, "--wd")?),
        Some(None) => {
            Some(need_target("-w")?.open_at("cwd", OFlag::O_RDONLY | OFlag::O_DIRECTORY)?)
        }
    };
    // A rootless container's environment is readable only from inside its
    // user namespace (its processes run as ids we are not): when entering
    // it, a refusal now means read it again once in.
    let mut environ_inside = false;
    let mut vars = None;
    if opts.env_from_target {
        match need_target("-e")?.read_at("environ") {
            Ok(data) => vars = Some(parse_environ(&data)),
            Err(TargetError::Proc {
                errno: Errno::EACCES | Errno::EPERM,
                ..
            }) if entering_user => environ_inside = true,
            Err(e) => return Err(e.into()),
        }
    }
    let cgroup_procs = if opts.join_cgroup {
        Some(cgroup_procs(need_target("-c")?)?)
    } else {
        None
    };
    if host_tools.is_some() {
        vars = Some(host_tools::environment(vars));
    }
    let plan = |vars: Option<&[(OsString, OsString)]>| {
        let env = vars.map_or(ProgramEnv::Inherit, ProgramEnv::Only);
        if opts.command.is_empty() {
            let shell = crate::exec::default_shell(
                std::env::var_os("SHELL"),
                nix::unistd::getuid().as_raw(),
            );
            ExecPlan::login_shell(&shell, env)
        } else {
            ExecPlan::command(&opts.command, env)
        }
        .map_err(|e| NsenterError::Usage(e.to_string()))
    };
    // Checked now (a bad command line fails before anything is entered).
    let mut exec = plan(vars.as_deref())?;

    // Entering a user namespace sets uid and gid (0 unless given), as
    // nsenter(1) does; our supplementary groups go while we still can.
    let (uid, gid) = if entering_user && !opts.preserve_credentials && !opts.same_privs {
        let _ = nix::unistd::setgroups(&[]);
        (
            Some(opts.setuid.unwrap_or(IdChoice::Id(0))),
            Some(opts.setgid.unwrap_or(IdChoice::Id(0))),
        )
    } else {
        (opts.setuid, opts.setgid)
    };
    if (uid == Some(IdChoice::Follow) || gid == Some(IdChoice::Follow)) && target.is_none() {
        return Err(NsenterError::Usage(
            "-S follow and -G follow need a target (-t PID)".into(),
        ));
    }

    // --same-privs: the filters are read now, while we are root on the
    // host (the kernel shows them to no one else); the rest once in the
    // target's user namespace, so the ids are in its terms.
    let filters = match (&target, opts.same_privs) {
        (Some(t), true) => Some(same_privs_filters(t)?),
        _ => None,
    };

    // --pty: our /proc/self/fd, while /proc still shows us.
    let fd_dir = opts.pty.then(crate::pty::FdDir::open).transpose()?;
    // Half-way in, nothing inside may ptrace us or read our memory.
    nix::sys::prctl::set_dumpable(false).context(|| "prctl(PR_SET_DUMPABLE)".into())?;
    join::enter(target.as_ref(), sources)?;
    if environ_inside {
        let data = need_target("-e")?.read_at("environ")?;
        vars = Some(parse_environ(&data));
        if host_tools.is_some() {
            vars = Some(host_tools::environment(vars));
        }
        exec = plan(vars.as_deref())?;
    }
    if let Some(target_mnt) = host_tools {
        host_tools::prepare(target_mnt)?;
    }

    let (uid, gid) = resolve_follow(uid, gid, target.as_ref())?;
    let same_privs = match (filters, &target) {
        (Some((filters, apparmor)), Some(t)) => {
            let status = String::from_utf8_lossy(&t.read_at("status")?).into_owned();
            let mut privs = crate::privs::copied::Copied::from_status(&status).map_err(|e| {
                NsenterError::Sys(SysError::new(
                    format!("--same-privs: cannot read PID {}'s status: {e}", t.pid),
                    Errno::EIO,
                ))
            })?;
            privs.filters = filters;
            privs.apparmor = apparmor;
            tracing::debug!(?privs, "same privileges");
            Some(privs)
        }
        _ => None,
    };
    if let Some(procs) = cgroup_procs {
        let pid = getpid().to_string();
        nix::unistd::write(procs.as_fd(), pid.as_bytes())
            .context(|| "cannot join the target's cgroup (write cgroup.procs)".into())?;
    }
    // -r alone keeps the working directory, unless a mount namespace was
    // entered: setns then left us at its root, outside the new root, and "/"
    // of the new root is the useful place (nsenter(1) leaves you outside it).
    let keep_cwd = match (&root_fd, &wd_fd, &opts.wdns, entering_mnt) {
        (Some(_), None, None, false) => Some(open_dir(Path::new("."), "the working directory")?),
        _ => None,
    };
    if let Some(root) = root_fd {
        fchdir(root.as_fd()).context(|| "cannot change to the new root directory".into())?;
        chroot(c".").context(|| "cannot change root (chroot)".into())?;
        nix::unistd::chdir(c"/").context(|| "cannot change directory to /".into())?;
    }
    if let Some(wd) = wd_fd.or(keep_cwd) {
        fchdir(wd.as_fd()).context(|| "cannot change the working directory".into())?;
    }
    if let Some(dir) = &opts.wdns {
        let c = CString::new(dir.as_os_str().as_bytes())
            .map_err(|_| NsenterError::Usage("--wdns contains a NUL byte".into()))?;
        nix::unistd::chdir(c.as_c_str())
            .context(|| format!("cannot change directory to {} (--wdns)", dir.display()))?;
    }

    let mut inside = Inside {
        setgid: gid.map(Gid::from_raw),
        setuid: uid.map(Uid::from_raw),
        keep_caps: opts.keep_caps.then(crate::caps::last_cap),
        unmapped_id_hint: Some(
            "entering a user namespace sets uid and gid 0 unless told otherwise: keep yours with \
             --preserve-credentials, or choose mapped ones with -S and -G",
        ),
        new_session: opts.new_session || opts.pty,
        same_privs,
        // From /dev/ptmx as we now see it: the target's devpts when its
        // mount namespace was entered.
        pty: fd_dir.as_ref().map(crate::pty::open).transpose()?,
        ..crate::launch::plain_inside(exec)
    };
    if opts.host_tools {
        inside.wd = Some(CString::new(TARGET_ROOT).expect("no NUL"));
        // Mounted by the child, in the target's PID namespace, so /proc
        // shows that namespace's processes.
        inside.proc_mount = entering_pid.then(|| c"/proc".to_owned());
    }
    // A PID namespace applies to children: fork so the program is inside it.
    // A new session needs a child too: a process group leader cannot have one.
    let launched = if (entering_pid && !opts.no_fork) || opts.new_session || opts.pty {
        launch::fork_and_exec(&mut inside, ForwardPolicy::default())
    } else {
        let failure = inside.finish(None);
        Err(launch::describe(&inside, failure))
    };
    // In another root (the target's mount namespace, or -r): say what is
    // missing there, and how to run the host's program instead.
    let other_root = (entering_mnt || opts.root.is_some()) && !opts.host_tools;
    launched.map_err(|e| match e {
        LaunchError::Exec {
            program,
            errno: nix::errno::Errno::ENOENT,
        } if other_root => {
            let why = crate::exec_missing::why_missing(&program, inside.exec.candidates());
            let what = if opts.command.is_empty() {
                format!("no shell in the target's root ({program}: {why}); name a program")
            } else {
                format!("failed to execute {program} in the target's root: {why}")
            };
            NsenterError::Missing(format!(
                "{what}; to run the host's, add --host-tools (the target's root is then at {TARGET_ROOT})"
            ))
        }
        e => e.into(),
    })
}

fn check_usage(opts: &NsenterOptions) -> Result<(), NsenterError> {
    let usage = |text: &str| Err(NsenterError::Usage(text.into()));
    // Joining the target's cgroup is a thing to do on its own, and so is
    // taking its root or working directory (nsenter -t PID -r -w: a chroot
    // into the target's root, our namespaces kept).
    let asked = opts.all
        || !opts.namespaces.is_empty()
        || opts.net_socket.is_some()
        || opts.user_parent
        || opts.join_cgroup
        || opts.root.is_some()
        || opts.wd.is_some()
        || opts.wdns.is_some();
    if !asked {
        return usage(
            "no namespace to enter: use -a, or name one (-m -u -i -n -p -U -C -T, --net-socket, --user-parent), -c to join the target's cgroup, or -r/-w to take its root or directory",
        );
    }
    if opts.pty && opts.no_fork {
        return usage("--pty needs a fork (the program's session is new): drop --no-fork");
    }
    if opts.new_session && opts.no_fork {
        return usage(
            "--new-session needs a fork (setsid fails in a process group leader): drop --no-fork",
        );
    }
    if opts.host_tools {
        if opts.target.is_none() && opts.container.is_none() {
            return usage("--host-tools needs a target (-t PID or --container=REF)");
        }
        if opts.namespaces.iter().any(|(k, _)| *k == NsKind::Mount) {
            return usage(
                "--host-tools keeps a copy of our mount namespace: drop -m (the target's root is at /run/rsns/target)",
            );
        }
        if opts.root.is_some() || opts.wd.is_some() || opts.wdns.is_some() {
            return usage(
                "--host-tools sets the root (ours) and the working directory (/run/rsns/target): drop -r, -w and -W",
            );
        }
    }
    if opts.same_privs {
        if opts.target.is_none() && opts.container.is_none() {
            return usage("--same-privs needs a target (-t PID or --container=REF)");
        }
        if opts.setuid.is_some()
            || opts.setgid.is_some()
            || opts.preserve_credentials
            || opts.keep_caps
        {
            return usage(
                "--same-privs takes the target's ids and capabilities: drop -S, -G, --preserve-credentials and --keep-caps",
            );
        }
    }
    if opts.wd.is_some() && opts.wdns.is_some() {
        return usage("--wd and --wdns cannot be used together");
    }
    let user_possible =
        opts.all || opts.user_parent || opts.namespaces.iter().any(|(k, _)| *k == NsKind::User);
    if opts.keep_caps && !user_possible {
        return usage("--keep-caps needs a user namespace to enter (-U, -a or --user-parent)");
    }
    if opts.preserve_credentials && !user_possible {
        return usage(
            "--preserve-credentials needs a user namespace to enter (-U, -a or --user-parent)",
        );
    }
    Ok(())
}

fn open_dir(dir: &Path, what: &str) -> Result<OwnedFd, NsenterError> {
    nix::fcntl::open(
        dir,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .context(|| format!("cannot open {what} {}", dir.display()))
    .map_err(NsenterError::from)
}

/// /proc/PID/environ: NUL-separated `KEY=VALUE` entries.
fn parse_environ(data: &[u8]) -> Vec<(OsString, OsString)> {
    data.split(|b| *b == 0)
        .filter_map(|entry| {
            let eq = entry.iter().position(|b| *b == b'=')?;
            (eq > 0).then(|| {
                (
                    OsString::from_vec(entry[..eq].to_vec()),
                    OsString::from_vec(entry[eq + 1..].to_vec()),
                )
            })
        })
        .collect()
}

/// `--container=REF`: the container's first process, found from the
/// cgroups and the engines' state, then pinned by a pidfd as `-t` pins it
/// and checked, through that pidfd's /proc directory, to have the start
/// time it had when found (a PID reused meanwhile is refused, not entered).
fn container_target(reference: &str) -> Result<Target, NsenterError> {
    let finder = crate::containers::Finder::default();
    let found = crate::containers::resolve(&finder, reference).map_err(NsenterError::Usage)?;
    let target = Target::open(crate::target::TargetSpec {
        pid: found.pid,
        inode: None,
    })?;
    let stat = String::from_utf8_lossy(&target.read_at("stat")?).into_owned();
    if found.start.is_none() || crate::containers::start_time(&stat) != found.start {
        return Err(NsenterError::Usage(format!(
            "--container={reference}: its process {} left it while we were joining",
            found.pid
        )));
    }
    tracing::debug!(container = %found.label(), id = %found.id, pid = found.pid, "container");
    Ok(target)
}

/// `--same-privs`, before entering: the target's seccomp filters (read by
/// tracing it, which only root on the host may) and its AppArmor profile
/// where AppArmor runs.
fn same_privs_filters(
    target: &Target,
) -> Result<(Vec<Vec<libc::sock_filter>>, Option<String>), NsenterError> {
    use crate::privs::copied;
    let status = String::from_utf8_lossy(&target.read_at("status")?).into_owned();
    let filters = match copied::seccomp_mode(&status) {
        0 => Vec::new(),
        2 => copied::read_filters(target.pid)?,
        mode => {
            return Err(NsenterError::Usage(format!(
                "--same-privs: PID {} runs in seccomp mode {mode} (strict), which cannot be copied",
                target.pid
            )));
        }
    };
    target.ensure_alive()?;
    let apparmor = if Path::new("/sys/kernel/security/apparmor").exists() {
        target
            .read_at("attr/current")
            .ok()
            .and_then(|t| copied::apparmor_profile(&String::from_utf8_lossy(&t)))
    } else {
        None
    };
    Ok((filters, apparmor))
}

/// `-S follow`/`-G follow`: the target's effective ids, read now that we are
/// in its user namespace, so they are in its terms.
fn resolve_follow(
    uid: Option<IdChoice>,
    gid: Option<IdChoice>,
    target: Option<&Target>,
) -> Result<(Option<u32>, Option<u32>), NsenterError> {
    let follows = uid == Some(IdChoice::Follow) || gid == Some(IdChoice::Follow);
    let status = match (follows, target) {
        (true, Some(t)) => String::from_utf8_lossy(&t.read_at("status")?).into_owned(),
        _ => String::new(),
    };
    let effective = |field: &str| -> Result<u32, NsenterError> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| {
                NsenterError::Sys(SysError::new(
                    format!("cannot read the target's {field} line"),
                    Errno::EIO,
                ))
            })
    };
    let pick = |choice: Option<IdChoice>, field: &str| -> Result<Option<u32>, NsenterError> {
        match choice {
            None => Ok(None),
            Some(IdChoice::Id(id)) => Ok(Some(id)),
            Some(IdChoice::Follow) => effective(field).map(Some),
        }
    };
    Ok((pick(uid, "Uid:")?, pick(gid, "Gid:")?))
}

/// `-c`: the target's cgroup v2 `cgroup.procs`, opened before entering.
fn cgroup_procs(target: &Target) -> Result<OwnedFd, NsenterError> {
    let mount = crate::cgroup::v2_mount().ok_or_else(|| {
        NsenterError::Usage("--join-cgroup needs a cgroup v2 hierarchy, and none is mounted".into())
    })?;
    let membership = target.read_at("cgroup")?;
    let path = crate::cgroup::v2_membership(&membership).ok_or_else(|| {
        NsenterError::Usage(format!("PID {} is in no cgroup v2 group", target.pid))
    })?;
    let procs = crate::cgroup::group_dir(&mount, path).join("cgroup.procs");
    let fd = nix::fcntl::open(
        procs.as_path(),
        OFlag::O_WRONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .context(|| format!("cannot open {}", crate::text::safe_path(&procs)))?;
    // On a hybrid host, say what joining the v2 group alone leaves out.
    let ours = std::fs::read("/proc/self/cgroup").unwrap_or_default();
    let missed = crate::cgroup::v1_groups_not_in(&membership, &ours);
    if !missed.is_empty() {
        eprintln!(
            "rs-nsenter: note: -c joins the cgroup v2 group only; PID {} is also in cgroup v1 \
             groups the program stays out of ({})",
            target.pid,
            missed.join(" ")
        );
    }
    Ok(fd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environ_entries() {
        let vars = parse_environ(b"A=1\0B=x=y\0\0=skip\0NOEQ\0C=\0");
        let pairs: Vec<(String, String)> = vars
            .into_iter()
            .map(|(k, v)| (k.into_string().unwrap(), v.into_string().unwrap()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("A".into(), "1".into()),
                ("B".into(), "x=y".into()),
                ("C".into(), "".into())
            ]
        );
    }

    #[test]
    fn usage_errors() {
        let err = check_usage(&NsenterOptions::default()).unwrap_err();
        assert!(err.to_string().starts_with("no namespace to enter"));
        let opts = NsenterOptions {
            all: true,
            wd: Some(None),
            wdns: Some("/x".into()),
            ..NsenterOptions::default()
        };
        assert!(
            check_usage(&opts)
                .unwrap_err()
                .to_string()
                .contains("--wdns")
        );
        let opts = NsenterOptions {
            namespaces: vec![(NsKind::Net, None)],
            keep_caps: true,
            ..NsenterOptions::default()
        };
        assert!(
            check_usage(&opts)
                .unwrap_err()
                .to_string()
                .contains("--keep-caps")
        );
    }
}
