//! The last steps before exec, inside the namespaces: root, directory, proc,
//! credentials, capabilities, signals, exec. They often run in a freshly forked
//! child, so every step makes raw calls only on data built beforehand: no
//! allocation, no locks, no logging. A failure is a [`StepFailure`], small
//! enough to cross a socket.

use std::cell::Cell;
use std::ffi::CString;
use std::os::fd::{AsFd, OwnedFd};
use std::rc::Rc;

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sched::{CloneFlags, unshare};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use nix::sys::stat::Mode;
use nix::unistd::{Gid, Uid, chdir, chroot, setgroups, setresgid, setresuid, write};

use crate::caps;
use crate::channel::{Msg, Sender};
use crate::exec::ExecPlan;
use crate::mount::{self, Propagation};

/// Which step failed; the numbers travel over a pipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Step {
    TimeNs = 1,
    TimeOffsets,
    Propagation,
    Chroot,
    Chdir,
    ProcPrivate,
    MountProc,
    SetGroups,
    SetGid,
    SetUid,
    KeepCaps,
    DeathSignal,
    SignalMask,
    Exec,
    Sync,
    NewSession,
    InitFork,
    TimeEnter,
    JoinCgroup,
    MountBinfmt,
    LoadInterp,
    CgroupNs,
    Hostname,
    BlockFd,
    SamePrivs,
    Pty,
}

impl Step {
    const ALL: [Step; 26] = [
        Step::TimeNs,
        Step::TimeOffsets,
        Step::Propagation,
        Step::Chroot,
        Step::Chdir,
        Step::ProcPrivate,
        Step::MountProc,
        Step::SetGroups,
        Step::SetGid,
        Step::SetUid,
        Step::KeepCaps,
        Step::DeathSignal,
        Step::SignalMask,
        Step::Exec,
        Step::Sync,
        Step::NewSession,
        Step::InitFork,
        Step::TimeEnter,
        Step::JoinCgroup,
        Step::MountBinfmt,
        Step::LoadInterp,
        Step::CgroupNs,
        Step::Hostname,
        Step::BlockFd,
        Step::SamePrivs,
        Step::Pty,
    ];

    pub(crate) fn from_code(code: u8) -> Step {
        Step::ALL
            .into_iter()
            .find(|s| *s as u8 == code)
            .unwrap_or(Step::Sync)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StepFailure {
    pub step: Step,
    pub errno: Errno,
}

impl StepFailure {
    pub(crate) fn msg(self) -> Msg {
        Msg::Failed {
            step: self.step as u8,
            errno: self.errno as i32,
        }
    }
}

fn at(step: Step) -> impl Fn(Errno) -> StepFailure {
    move |errno| StepFailure { step, errno }
}

/// Everything the inside steps need, prepared before any fork.
#[derive(Debug)]
pub struct Inside {
    /// Text for /proc/self/timens_offsets, when offsets were given.
    pub time_offsets: Option<CString>,
    /// For a new mount namespace; `unchanged` does nothing.
    pub propagation: Option<Propagation>,
    pub root: Option<CString>,
    pub wd: Option<CString>,
    pub proc_mount: Option<CString>,
    /// Make the proc mount point private first: with shared or slave
    /// propagation and no new root, a new proc on /proc would reach the host.
    pub proc_private_first: bool,
    /// `--mount-binfmt`: a binfmt_misc instance (the user namespace's own).
    pub binfmt: Option<Binfmt>,
    pub setgid: Option<Gid>,
    pub setuid: Option<Uid>,
    /// `--keep-caps`: the highest capability number of the kernel.
    pub keep_caps: Option<u32>,
    pub death_signal: Option<Signal>,
    /// What to do about an unmapped -S/-G id, in the tool's terms (the
    /// default speaks of rs-unshare's --map-* options).
    pub unmapped_id_hint: Option<&'static str>,
    /// Our parent, checked after setting the death signal (fork mode).
    pub parent_pidfd: Option<OwnedFd>,
    /// The mask to restore before exec (fork mode blocks signals).
    pub signal_mask: Option<SigSet>,
    /// `--new-session`: setsid(), so the program has no controlling terminal
    /// to push input into (TIOCSTI). Only in a forked child, which never
    /// leads a process group, so setsid cannot fail with EPERM.
    pub new_session: bool,
    /// A cgroup the child moves itself into first, where the kernel could
    /// not start it inside with clone3.
    pub join_cgroup: Option<CgroupJoin>,
    /// Once in its cgroup: a new cgroup namespace rooted there, so the
    /// program cannot name, and so cannot move to, any group outside it.
    pub cgroup_ns: bool,
    /// `--hostname`: set first, in the new UTS namespace.
    pub hostname: Option<std::ffi::OsString>,
    /// `--block-fd`: read one byte (or the end) from it last, so whoever
    /// sets the box up from outside decides when the program starts.
    pub block_fd: Option<OwnedFd>,
    /// `rs-nsenter --same-privs`: the target's privileges, given last.
    pub same_privs: Option<crate::privs::copied::Copied>,
    /// `--pty`: the program's terminal (the child takes the peer as its
    /// controlling terminal and its 0 to 2, after setsid).
    pub pty: Option<crate::pty::Pty>,
    pub exec: ExecPlan,
}

/// A cgroup's cgroup.procs, and whether the child must write itself there:
/// only where clone3 could not place it (before 5.7). Even a write that moves
/// nothing takes the kernel's cgroup_threadgroup_rwsem for writing, which
/// waits for an RCU grace period (milliseconds to tens of them).
#[derive(Debug)]
pub struct CgroupJoin {
    pub procs: OwnedFd,
    /// Set by the fork that fell back to a plain fork.
    pub needed: Rc<Cell<bool>>,
}

/// `--mount-binfmt` and `--load-interp`, prepared before any fork.
#[derive(Debug)]
pub struct Binfmt {
    /// Where to mount binfmt_misc.
    pub dir: CString,
    /// `DIR/register`.
    pub register: CString,
    /// Definitions to write to it, one write each.
    pub rules: Vec<CString>,
}

/// The last steps for a program run as it is: no root, ids or namespaces.
pub fn plain_inside(exec: ExecPlan) -> Inside {
    Inside {
        time_offsets: None,
        propagation: None,
        root: None,
        wd: None,
        proc_mount: None,
        proc_private_first: false,
        binfmt: None,
        setgid: None,
        setuid: None,
        keep_caps: None,
        death_signal: None,
        unmapped_id_hint: None,
        parent_pidfd: None,
        signal_mask: None,
        new_session: false,
        join_cgroup: None,
        cgroup_ns: false,
        hostname: None,
        block_fd: None,
        same_privs: None,
        pty: None,
        exec,
    }
}

/// Our command name between "about to exec" and the exec. Exec sets the
/// name to the program file's base name, which never holds a control byte
/// in practice.
pub(crate) const EXEC_TOKEN: &std::ffi::CStr = c"rsns\x01exec";

impl Inside {
    /// Fork mode: the child makes its own time namespace so it can still set
    /// the offsets (impossible once a process is inside); exec enters it.
    pub(crate) fn create_time_ns(&self) -> Result<(), StepFailure> {
        unshare(CloneFlags::from_bits_retain(libc::CLONE_NEWTIME)).map_err(at(Step::TimeNs))
    }

    /// After unshare(CLONE_NEWTIME) only our children would be in the new
    /// time namespace (and, since Linux 6.x, what we exec); setns into it
    /// puts this process there itself, on every kernel with time
    /// namespaces (5.6+), once its offsets are written.
    pub(crate) fn enter_time_ns(&self) -> Result<(), StepFailure> {
        let fd = open(
            c"/proc/self/ns/time_for_children",
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(at(Step::TimeEnter))?;
        nix::sched::setns(fd, CloneFlags::from_bits_retain(libc::CLONE_NEWTIME))
            .map_err(at(Step::TimeEnter))
    }

    pub(crate) fn write_time_offsets(&self) -> Result<(), StepFailure> {
        let Some(text) = &self.time_offsets else {
            return Ok(());
        };
        let fd = open(
            c"/proc/self/timens_offsets",
            OFlag::O_WRONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(at(Step::TimeOffsets))?;
        write(fd.as_fd(), text.as_bytes())
            .map(drop)
            .map_err(at(Step::TimeOffsets))
    }

    pub(crate) fn set_propagation(&self) -> Result<(), StepFailure> {
        match self.propagation.and_then(Propagation::flags) {
            Some(flags) => mount::set_propagation(flags).map_err(at(Step::Propagation)),
            None => Ok(()),
        }
    }

    /// Root, directory, proc, credentials, capabilities, then exec. Returns
    /// only on failure. `marker` hears [`Msg::Exec`] just before the exec.
    pub(crate) fn finish(&mut self, marker: Option<&Sender>) -> StepFailure {
        match self.prepare_exec() {
            Err(failure) => failure,
            Ok(()) => self.exec_now(marker),
        }
    }

    /// The caller's signal mask back, then exec. Returns only on failure.
    pub(crate) fn exec_now(&mut self, marker: Option<&Sender>) -> StepFailure {
        if let Some(mask) = &self.signal_mask
            && let Err(errno) = sigprocmask(SigmaskHow::SIG_SETMASK, Some(mask), None)
        {
            return at(Step::SignalMask)(errno);
        }
        let chosen = match self.exec.resolve() {
            Ok(chosen) => chosen,
            Err(errno) => return at(Step::Exec)(errno),
        };
        // Exec replaces the name; a watcher that finds it unchanged on a
        // dead process knows we died before the exec (a SIGKILL on the way).
        let _ = nix::sys::prctl::set_name(EXEC_TOKEN);
        if let Some(marker) = marker
            && let Err(errno) = marker.send(Msg::Exec)
        {
            return at(Step::Sync)(errno);
        }
        at(Step::Exec)(self.exec.exec_resolved(chosen))
    }

    /// Every step before exec but the signal mask (an init keeps its own).
    pub(crate) fn prepare_exec(&self) -> Result<(), StepFailure> {
        if let Some(join) = self.join_cgroup.as_ref().filter(|j| j.needed.get()) {
            write(join.procs.as_fd(), b"0").map_err(at(Step::JoinCgroup))?;
        }
        if self.cgroup_ns {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWCGROUP)
                .map_err(at(Step::CgroupNs))?;
        }
        if let Some(name) = &self.hostname {
            nix::unistd::sethostname(name).map_err(at(Step::Hostname))?;
        }
        if let Some(root) = &self.root {
            chroot(root.as_c_str()).map_err(at(Step::Chroot))?;
            chdir(c"/").map_err(at(Step::Chroot))?;
        }
        if let Some(wd) = &self.wd {
            chdir(wd.as_c_str()).map_err(at(Step::Chdir))?;
        }
        if let Some(dir) = &self.proc_mount {
            if self.proc_private_first {
                // EINVAL: not a mount point yet, so there is nothing to leak.
                match mount::make_private(dir) {
                    Ok(()) | Err(Errno::EINVAL) => {}
                    Err(e) => return Err(at(Step::ProcPrivate)(e)),
                }
            }
            mount::mount_proc(dir).map_err(at(Step::MountProc))?;
        }
        if let Some(binfmt) = &self.binfmt {
            mount::mount_binfmt(&binfmt.dir).map_err(at(Step::MountBinfmt))?;
            for rule in &binfmt.rules {
                mount::register_binfmt(&binfmt.register, rule).map_err(at(Step::LoadInterp))?;
            }
        }
        if let Some(gid) = self.setgid {
            drop_supplementary_groups()?;
            setresgid(gid, gid, gid).map_err(at(Step::SetGid))?;
        }
        if let Some(uid) = self.setuid {
            if self.keep_caps.is_some() {
                nix::sys::prctl::set_keepcaps(true).map_err(at(Step::KeepCaps))?;
            }
            setresuid(uid, uid, uid).map_err(at(Step::SetUid))?;
        }
        if let Some(last_cap) = self.keep_caps {
            caps::permitted_to_ambient(last_cap).map_err(at(Step::KeepCaps))?;
        }
        if let Some(privs) = &self.same_privs {
            privs.apply().map_err(|e| at(Step::SamePrivs)(e.errno))?;
        }
        // After the credentials: changing them clears the death signal.
        if let Some(sig) = self.death_signal {
            nix::sys::prctl::set_pdeathsig(sig).map_err(at(Step::DeathSignal))?;
            if let Some(pidfd) = &self.parent_pidfd
                && parent_has_exited(pidfd)
            {
                // Nobody is left to report to or to kill us later.
                crate::sys::exit_now(1);
            }
        }
        if self.new_session {
            nix::unistd::setsid().map_err(at(Step::NewSession))?;
        }
        if let Some(pty) = &self.pty {
            crate::sys::set_controlling_tty(pty.peer.as_fd()).map_err(at(Step::Pty))?;
            nix::unistd::dup2_stdin(&pty.peer).map_err(at(Step::Pty))?;
            nix::unistd::dup2_stdout(&pty.peer).map_err(at(Step::Pty))?;
            nix::unistd::dup2_stderr(&pty.peer).map_err(at(Step::Pty))?;
        }
        if let Some(fd) = &self.block_fd {
            wait_for_byte(fd)?;
        }
        Ok(())
    }
}

/// setgroups(0) for `-G`. Where the user namespace denies setgroups (as after
/// `-r`), the groups cannot be dropped: that is not an error. Holding
/// CAP_SETGID, EPERM can only mean that denial; asking the capability instead
/// of /proc/self/setgroups also works after a chroot hid /proc.
fn drop_supplementary_groups() -> Result<(), StepFailure> {
    match setgroups(&[]) {
        Ok(()) => Ok(()),
        Err(Errno::EPERM) if caps::is_effective(caps::CAP_SETGID) => Ok(()),
        Err(e) => Err(at(Step::SetGroups)(e)),
    }
}

/// `--block-fd`: one byte, or the end of the file (the writer closed it).
fn wait_for_byte(fd: &OwnedFd) -> Result<(), StepFailure> {
    loop {
        match nix::unistd::read(fd, &mut [0u8; 1]) {
            Ok(_) => return Ok(()),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(at(Step::BlockFd)(e)),
        }
    }
}

/// A pidfd polls readable once its process has exited.
fn parent_has_exited(pidfd: &OwnedFd) -> bool {
    let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
    matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_codes_round_trip() {
        for step in Step::ALL {
            assert_eq!(Step::from_code(step as u8), step);
        }
        assert_eq!(Step::from_code(0), Step::Sync);
        assert_eq!(Step::from_code(200), Step::Sync);
    }
}
