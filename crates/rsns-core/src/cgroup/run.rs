//! rs-cgroup: a new cgroup v2 group with limits, the program started inside
//! it (clone3 CLONE_INTO_CGROUP, so not one instruction runs outside), and a
//! clean end: whatever the program left running is killed and the group
//! removed.

use std::cell::Cell;
use std::ffi::OsString;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::sys::signal::Signal;
use nix::sys::stat::Mode;

use super::group::{Group, controllers, enable_controllers};
use super::limits::Limit;
use super::stats::{Stats, StatsFormat};
use crate::error::SysError;
use crate::exec::{ExecPlan, ProgramEnv};
use crate::launch::{CgroupJoin, LaunchError, fork_and_exec_with, plain_inside};
use crate::process::Outcome;
use crate::supervise::ForwardPolicy;
use crate::sys;
use crate::text::safe_path;

#[derive(Debug, Clone, Default)]
pub struct CgroupOptions {
    /// Interface files to write, in order.
    pub limits: Vec<Limit>,
    /// `--parent`: the group to create ours under.
    pub parent: Option<PathBuf>,
    /// `--name`: default `rsns-PID`.
    pub name: Option<String>,
    /// `--join`: run in this existing group (no limits, nothing removed).
    pub join: Option<PathBuf>,
    /// `--keep`: leave the group and what runs in it.
    pub keep: bool,
    pub stats: Option<StatsFormat>,
    /// `--stats-file`: the stats go to this file instead of stderr.
    pub stats_file: Option<PathBuf>,
    /// `--devices`, `--device-allow`: the device policy's rules, in order.
    pub devices: Option<Vec<super::devices::DeviceRule>>,
    pub command: Vec<OsString>,
}

#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Sys(#[from] SysError),
    #[error(transparent)]
    Launch(#[from] LaunchError),
}

impl CgroupError {
    pub fn exit_status(&self) -> i32 {
        match self {
            CgroupError::Launch(e) => e.exit_status(),
            _ => 1,
        }
    }
}

/// The default parent for root: `rsns` at the top of the hierarchy, a group
/// with no processes of its own, so controllers can pass through it (the
/// top itself is exempt from the no-internal-processes rule).
const DEFAULT_PARENT: &str = "rsns";

/// `dir` (for `option`) as a group of the cgroup2 hierarchy at `mount`,
/// named in any of the forms people copy: a full path under the mount, a
/// path as /proc/PID/cgroup prints it (`/libpod_parent/x`, or the whole
/// `0::/libpod_parent/x` line), or a path relative to the mount. Then: named
/// without `..`, resolved by the kernel beneath the mount without symlinks,
/// and a cgroup2 directory. Returned as the clean path every later step
/// uses, so nothing we write can land outside the hierarchy (a lexical
/// prefix is not enough: `mount/../mount/x`).
fn within(mount: &Path, option: &str, dir: &Path) -> Result<PathBuf, CgroupError> {
    use std::os::fd::AsFd;
    use std::os::unix::ffi::OsStrExt;
    use std::path::Component;
    let bad = |why: &str| {
        CgroupError::Usage(format!(
            "{option}={}: {why} (a group of the cgroup v2 hierarchy mounted at {})",
            safe_path(dir),
            safe_path(mount)
        ))
    };
    let bytes = dir.as_os_str().as_bytes();
    let named = Path::new(std::ffi::OsStr::from_bytes(
        bytes.strip_prefix(b"0::").unwrap_or(bytes),
    ));
    let rel = named
        .strip_prefix(mount)
        .or_else(|_| named.strip_prefix("/"))
        .unwrap_or(named);
    let mut clean = PathBuf::new();
    for c in rel.components() {
        match c {
            Component::Normal(n) => clean.push(n),
            Component::CurDir => {}
            _ => return Err(bad("names '..'; give the group's own path")),
        }
    }
    let top = open(
        mount,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| SysError::new(format!("open {}", safe_path(mount)), e))?;
    let target = if clean.as_os_str().is_empty() {
        Path::new(".")
    } else {
        clean.as_path()
    };
    let how = nix::fcntl::OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC)
        .resolve(
            nix::fcntl::ResolveFlag::RESOLVE_BENEATH
                | nix::fcntl::ResolveFlag::RESOLVE_NO_SYMLINKS
                | nix::fcntl::ResolveFlag::RESOLVE_NO_XDEV,
        );
    let fd = nix::fcntl::openat2(top.as_fd(), target, how).map_err(|e| match e {
        Errno::ELOOP => bad("goes through a symlink"),
        Errno::EXDEV => bad("is not a group of that hierarchy"),
        e => bad(&crate::error::errno_text(e)),
    })?;
    let is_cgroup2 = nix::sys::statfs::fstatfs(fd.as_fd())
        .is_ok_and(|fs| fs.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC);
    if !is_cgroup2 {
        return Err(bad("not a cgroup v2 group"));
    }
    Ok(mount.join(clean))
}

/// `--devices`: the policy's BPF program, loaded and attached to the group
/// before the program starts in it; it goes when the group does.
fn attach_device_policy(
    dir: &Path,
    rules: &[super::devices::DeviceRule],
) -> Result<(), CgroupError> {
    let program = super::devices::program(rules);
    let prog = sys::bpf_load_device_program(&program).map_err(|(errno, log)| {
        let hint = match errno {
            Errno::EPERM | Errno::EACCES => {
                "loading a BPF program takes CAP_SYS_ADMIN (or CAP_BPF): run as root".to_string()
            }
            Errno::ENOSYS => "this kernel has no BPF (CONFIG_BPF_SYSCALL)".into(),
            _ => format!(
                "the verifier said: {}",
                log.lines().last().unwrap_or("nothing")
            ),
        };
        SysError::new(
            "--devices: load the device policy (bpf BPF_PROG_LOAD)",
            errno,
        )
        .with_hint(Some(hint))
    })?;
    let group = open(
        dir,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| SysError::new(format!("open {}", safe_path(dir)), e))?;
    sys::bpf_attach_device_program(group.as_fd(), prog.as_fd()).map_err(|e| {
        SysError::new(
            format!(
                "--devices: attach the device policy to {} (bpf BPF_PROG_ATTACH)",
                safe_path(dir)
            ),
            e,
        )
    })?;
    tracing::info!(rules = rules.len(), "device policy attached");
    Ok(())
}

/// Whether the hierarchy at `mount` treats cgroup namespaces as delegation
/// boundaries (mounted with nsdelegate, as systemd does): only then does
/// the kernel refuse a move out of the namespace's root.
fn ns_delegate(mount: &Path) -> bool {
    let Ok(text) = crate::mountinfo::read_own() else {
        return false;
    };
    text.split(|&b| b == b'\n').any(|line| {
        let line = String::from_utf8_lossy(line);
        let mut fields = line.split(' ');
        fields.nth(4).is_some_and(|p| Path::new(p) == mount)
            && line
                .split(" - ")
                .nth(1)
                .and_then(|rest| rest.split(' ').nth(2))
                .is_some_and(|opts| opts.split(',').any(|o| o == "nsdelegate"))
    })
}

/// Whether we hold CAP_SYS_ADMIN, which a new cgroup namespace needs.
fn can_make_cgroup_ns() -> bool {
    const CAP_SYS_ADMIN: u32 = 21;
    sys::cap_get().is_ok_and(|c| c.effective & (1 << CAP_SYS_ADMIN) != 0)
}

/// Removes a group we made unless disarmed: a failure leaves nothing.
struct Cleanup<'a>(Option<&'a Group>);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        if let Some(group) = self.0 {
            let _ = group.empty();
            let _ = group.remove();
        }
    }
}

/// Runs the program as `opts` asks and returns how it ended (after the
/// group was emptied and removed).
pub fn run(opts: CgroupOptions) -> Result<Outcome, CgroupError> {
    let mount = super::v2_mount().ok_or_else(|| {
        CgroupError::Usage(
            "no cgroup2 file system is mounted (rs-cgroup manages cgroup v2 only; mount one \
             with: mount -t cgroup2 none /sys/fs/cgroup)"
                .into(),
        )
    })?;
    let exec = ExecPlan::command(&opts.command, ProgramEnv::Inherit)
        .map_err(|e| CgroupError::Usage(e.to_string()))?;
    // Everything is checked before the first change to any group.
    if let Some(file) = &opts.stats_file {
        check_stats_file(file)?;
    }
    if opts.join.is_some() && !opts.limits.is_empty() {
        return Err(CgroupError::Usage(
            "--join runs the program in an existing group as it is: limits and --set apply \
             only to a group rs-cgroup makes (drop --join, or set the group's files yourself)"
                .into(),
        ));
    }
    if let Some(name) = &opts.name
        && (name.is_empty() || name.contains('/') || name == "." || name == "..")
    {
        return Err(CgroupError::Usage(format!(
            "--name={}: a group name is one path component",
            safe_path(Path::new(name))
        )));
    }
    let group = match &opts.join {
        Some(dir) => Group {
            dir: within(&mount, "--join", dir)?,
            owned: false,
        },
        None => make_group(&mount, &opts)?,
    };
    if !group.owned
        && let Some(note) = super::hybrid_note("rs-cgroup", "--join")
    {
        eprintln!("{note}");
    }
    let mut cleanup = Cleanup(group.owned.then_some(&group));
    group.apply(&opts.limits)?;
    if let Some(rules) = &opts.devices {
        attach_device_policy(&group.dir, rules)?;
    }

    let mut inside = plain_inside(exec);
    // A cgroup namespace rooted at the group: the program can name no group
    // outside it, and the kernel refuses to move a process to a group
    // outside its namespace's root. It needs CAP_SYS_ADMIN; an ordinary
    // user's program runs without (docs/rs-cgroup.md says what that leaves).
    inside.cgroup_ns = group.owned && can_make_cgroup_ns();
    // Only worth a read of mountinfo when someone will see the note.
    if inside.cgroup_ns && tracing::enabled!(tracing::Level::INFO) && !ns_delegate(&mount) {
        tracing::info!(
            mount = %safe_path(&mount),
            "the cgroup2 mount lacks nsdelegate: the cgroup namespace hides other groups, but a \
             privileged program can still move itself out (see docs/rs-cgroup.md)"
        );
    }
    let dir_fd = open(
        group.dir.as_path(),
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| SysError::new(format!("open {}", safe_path(&group.dir)), e))?;
    let procs = group.dir.join("cgroup.procs");
    let needed = Rc::new(Cell::new(false));
    inside.join_cgroup = Some(CgroupJoin {
        procs: open(
            procs.as_path(),
            OFlag::O_WRONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| SysError::new(format!("open {}", safe_path(&procs)), e))?,
        needed: Rc::clone(&needed),
    });
    let mut fork = || match sys::fork_into_cgroup(dir_fd.as_fd()) {
        Err(Errno::ENOSYS | Errno::E2BIG | Errno::EINVAL) => {
            tracing::debug!("no CLONE_INTO_CGROUP: the child joins before exec");
            needed.set(true);
            sys::fork_into(0)
        }
        other => other,
    };
    let policy = ForwardPolicy {
        forward_sigint: true,
        ..ForwardPolicy::default()
    };
    // OOM kills the program lives through are not its own death: each time
    // memory.events changes while it runs, the count is taken as seen
    // alive, unless the program dies moments later (the OOM killer's SIGKILL
    // landing on it).
    let events = group
        .owned
        .then(|| std::fs::File::open(group.dir.join("memory.events")).ok())
        .flatten();
    let seen_alive = Cell::new(0u64);
    let mut on_event = |child: nix::unistd::Pid| {
        let Some(file) = &events else { return };
        let now = oom_kills_in(file);
        if !dies_soon(child) {
            seen_alive.set(now);
        }
    };
    let watch = events.as_ref().map(|f| crate::supervise::Watch {
        fd: f.as_fd(),
        on_event: &mut on_event,
    });
    let start = Instant::now();
    let outcome = fork_and_exec_with(&mut inside, policy, &mut fork, watch);
    let wall = start.elapsed();
    let outcome = outcome?;
    // Read only what will be shown: every file read costs, and a plain run
    // shows nothing but, after a SIGKILL, whether the OOM killer sent it.
    let killed = outcome == Outcome::Signaled(Signal::SIGKILL);
    let stats = match opts.stats {
        Some(_) => Stats::read(&group, wall),
        None => Stats {
            wall,
            oom_kills: killed
                .then(|| group.stat("memory.events", "oom_kill"))
                .flatten(),
            ..Stats::default()
        },
    };
    tracing::debug!(?outcome, ?stats, "program ended");
    cleanup.0 = None;
    if group.owned && !opts.keep {
        group.empty()?;
        group.remove()?;
    }
    if let Some(format) = opts.stats {
        let text = stats.render(format);
        match (&opts.stats_file, format) {
            (Some(file), _) => write_stats_file(file, &text)?,
            // One JSON object alone on its line, for jq in a stream.
            (None, StatsFormat::Json) => eprintln!("{text}"),
            (None, StatsFormat::Text) => eprintln!("rs-cgroup: {text}"),
        }
    }
    if killed && stats.oom_kills.is_some_and(|n| n > seen_alive.get()) {
        let limit = opts
            .limits
            .iter()
            .find(|l| l.file == "memory.max")
            .map_or(String::new(), |l| format!(" ({} bytes)", l.value));
        eprintln!(
            "rs-cgroup: {}: killed by the OOM killer: the group ran out of memory at its \
             limit{limit}",
            crate::text::safe(inside.exec.display().as_bytes())
        );
    }
    Ok(outcome)
}

/// `--stats-file`: a regular file (made if missing, replaced if there), in
/// a directory that exists; never a symlink, device or FIFO.
fn check_stats_file(file: &Path) -> Result<(), CgroupError> {
    let bad = |why: &str| CgroupError::Usage(format!("--stats-file={}: {why}", safe_path(file)));
    match std::fs::symlink_metadata(file) {
        Ok(m) if m.file_type().is_symlink() => Err(bad("is a symlink; name the file itself")),
        Ok(m) if !m.file_type().is_file() => Err(bad("is not a regular file")),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let dir = file
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            if dir.is_dir() {
                Ok(())
            } else {
                Err(bad("its directory does not exist"))
            }
        }
        Err(e) => Err(bad(&e.to_string())),
    }
}

fn write_stats_file(file: &Path, text: &str) -> Result<(), CgroupError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(file)
        .and_then(|mut f| writeln!(f, "{text}"))
        .map_err(|e| {
            SysError::new(
                format!("cannot write the stats to {}", safe_path(file)),
                crate::error::io_errno(&e),
            )
            .into()
        })
}

/// memory.events's `oom_kill`, read again from the start (which also
/// re-arms the file's change notification).
fn oom_kills_in(mut file: &std::fs::File) -> u64 {
    use std::io::{Read, Seek};
    let mut text = String::with_capacity(256);
    let _ = file.rewind().and_then(|_| file.read_to_string(&mut text));
    text.lines()
        .find_map(|l| l.strip_prefix("oom_kill "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Whether `child` (ours, not yet reaped) ends within a moment: a process
/// the OOM killer took dies at once; one it spared goes on.
fn dies_soon(child: nix::unistd::Pid) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let Ok(pidfd) = sys::pidfd_open(child) else {
        return true;
    };
    let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
    matches!(poll(&mut fds, PollTimeout::from(200u16)), Ok(n) if n > 0)
}

/// Creates the group under `--parent` (or the default), with the
/// controllers its limits need enabled on the way down.
fn make_group(mount: &Path, opts: &CgroupOptions) -> Result<Group, CgroupError> {
    let parent = match &opts.parent {
        Some(p) => p.clone(),
        None if nix::unistd::geteuid().is_root() => {
            let p = mount.join(DEFAULT_PARENT);
            match std::fs::create_dir(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    return Err(SysError::new(
                        format!("cannot create the cgroup {}", safe_path(&p)),
                        crate::error::io_errno(&e),
                    )
                    .into());
                }
            }
            p
        }
        None => {
            return Err(CgroupError::Usage(
                "as an ordinary user, give --parent a cgroup delegated to you (for example the \
                 one `systemd-run --user --scope -p Delegate=yes sh` puts its shell in)"
                    .into(),
            ));
        }
    };
    let parent = within(mount, "--parent", &parent)?;
    let mut wanted: Vec<&str> = opts.limits.iter().filter_map(Limit::controller).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let (available, top) = if wanted.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        (controllers(&parent), controllers(mount))
    };
    for c in &wanted {
        if !available.iter().any(|a| a == c) && !top.iter().any(|a| a == c) {
            let msg = if super::group::bound_to_v1(c) {
                format!(
                    "the {c} controller is bound to cgroup v1 on this machine, not to the cgroup \
                     v2 hierarchy at {}: rs-cgroup manages cgroup v2 only",
                    safe_path(mount)
                )
            } else {
                format!(
                    "the {c} controller is not available under {} (see its cgroup.controllers)",
                    safe_path(&parent)
                )
            };
            return Err(CgroupError::Usage(msg));
        }
    }
    enable_controllers(mount, &parent, &wanted)?;
    let name = opts
        .name
        .clone()
        .unwrap_or_else(|| format!("rsns-{}", std::process::id()));
    Ok(Group::create(&parent, &name)?)
}
