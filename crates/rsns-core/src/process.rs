//! How a program ended, and ending ourselves the same way so the caller's
//! shell sees what it would have seen without us.

use std::ffi::CStr;
use std::os::fd::OwnedFd;

use nix::fcntl::{OFlag, open, openat};
use nix::sys::resource::{Resource, setrlimit};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, kill, sigprocmask};
use nix::sys::stat::Mode;
use nix::sys::wait::WaitStatus;
use nix::unistd::{Pid, getpid};

use crate::sys;

/// The end of a program: an exit code or a fatal signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Exited(i32),
    Signaled(Signal),
}

impl Outcome {
    /// The outcome of a terminal wait status; `None` for stops and continues.
    pub fn from_wait(status: WaitStatus) -> Option<Outcome> {
        match status {
            WaitStatus::Exited(_, code) => Some(Outcome::Exited(code)),
            WaitStatus::Signaled(_, sig, _) => Some(Outcome::Signaled(sig)),
            _ => None,
        }
    }

    /// What `$?` shows in a shell: the code, or 128 + the signal number.
    pub fn shell_status(self) -> i32 {
        match self {
            Outcome::Exited(code) => code,
            Outcome::Signaled(sig) => 128 + sig as i32,
        }
    }

    /// Ends this process the same way: exits with the code, or dies by the
    /// same signal (without dumping a core of our own).
    pub fn exit(self) -> ! {
        match self {
            Outcome::Exited(code) => std::process::exit(code),
            Outcome::Signaled(sig) => die_by(sig),
        }
    }
}

/// The number /proc gives `pid` (a process we know by its PID in our own
/// PID namespace). /proc may belong to an ancestor PID namespace, as in a box
/// made with -p but without --mount-proc: there the process has another
/// number, which its pidfd's fdinfo shows. Falls back to `pid`.
pub fn pid_in_proc(pid: Pid) -> Pid {
    let shown = || -> Option<Pid> {
        let pidfd = sys::pidfd_open(pid).ok()?;
        let info = std::fs::read_to_string(format!(
            "/proc/self/fdinfo/{}",
            std::os::fd::AsRawFd::as_raw_fd(&pidfd)
        ))
        .ok()?;
        let number: i32 = info
            .lines()
            .find_map(|l| l.strip_prefix("Pid:"))?
            .trim()
            .parse()
            .ok()?;
        (number > 0).then_some(Pid::from_raw(number))
    };
    shown().unwrap_or(pid)
}

/// The process (thread group) that task `tid` belongs to, per
/// /proc/TID/status (a thread's directory is there, though not listed).
pub fn thread_group(tid: i32) -> Option<i32> {
    if tid <= 0 {
        return None;
    }
    let status = std::fs::read(format!("/proc/{tid}/status")).ok()?;
    let tgid = status
        .split(|&b| b == b'\n')
        .find_map(|l| l.strip_prefix(b"Tgid:"))?;
    std::str::from_utf8(tgid).ok()?.trim().parse().ok()
}

/// Whether /proc is a proc file system (in a chroot or a bare root it may
/// be an empty directory).
pub fn proc_mounted() -> bool {
    nix::sys::statfs::statfs("/proc")
        .is_ok_and(|fs| fs.filesystem_type() == nix::sys::statfs::PROC_SUPER_MAGIC)
}

/// /proc/PID as a directory descriptor: it keeps naming this process (and
/// fails with ESRCH once it is reaped), whatever later takes its number.
pub(crate) fn open_proc_dir(pid: Pid) -> Option<OwnedFd> {
    open(
        format!("/proc/{pid}").as_str(),
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .ok()
}

/// What became of a process that said it was about to exec, as a watcher
/// outside sees it once the process's end of a close-on-exec channel closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterExec {
    /// The exec happened and the program runs.
    Runs,
    /// The exec happened and the program already ended.
    Ended,
    /// The process died before the exec: it still has the name it took.
    DiedBefore,
    /// Reaped before we could look.
    Unknown,
}

/// Reads /proc/PID/stat through `proc_dir`: the command name tells whether
/// the exec happened (exec replaces `token`), the state whether it still runs.
pub(crate) fn after_exec(proc_dir: &OwnedFd, token: &CStr) -> AfterExec {
    let Ok(fd) = openat(
        proc_dir,
        c"stat",
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) else {
        return AfterExec::Unknown;
    };
    let mut buf = [0u8; 512];
    let Ok(len) = nix::unistd::read(&fd, &mut buf) else {
        return AfterExec::Unknown;
    };
    let Some((comm, state)) = comm_and_state(&buf[..len]) else {
        return AfterExec::Unknown;
    };
    if comm == token.to_bytes() {
        AfterExec::DiedBefore
    } else if matches!(state, b'Z' | b'X' | b'x') {
        AfterExec::Ended
    } else {
        AfterExec::Runs
    }
}

/// The raw command name and the state letter of a /proc/PID/stat text.
fn comm_and_state(stat: &[u8]) -> Option<(&[u8], u8)> {
    let open = stat.iter().position(|&b| b == b'(')?;
    let close = stat.iter().rposition(|&b| b == b')')?;
    let comm = stat.get(open + 1..close)?;
    let state = *stat.get(close + 2)?;
    Some((comm, state))
}

/// Re-raises `sig` on ourselves with its default action. The program already
/// dumped its core if it was going to; ours would only be noise.
pub fn die_by(sig: Signal) -> ! {
    let _ = setrlimit(Resource::RLIMIT_CORE, 0, 0);
    let _ = nix::sys::prctl::set_dumpable(false);
    let _ = sys::set_default_action(sig);
    let mut set = SigSet::empty();
    set.add(sig);
    let _ = sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&set), None);
    let _ = kill(getpid(), sig);
    // Only reached for signals whose default action is not to terminate.
    std::process::exit(128 + sig as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_statuses() {
        assert_eq!(Outcome::Exited(3).shell_status(), 3);
        assert_eq!(Outcome::Signaled(Signal::SIGKILL).shell_status(), 137);
        assert_eq!(Outcome::Signaled(Signal::SIGTERM).shell_status(), 143);
        let p = Pid::from_raw(1);
        assert_eq!(
            Outcome::from_wait(WaitStatus::Exited(p, 0)),
            Some(Outcome::Exited(0))
        );
        assert_eq!(
            Outcome::from_wait(WaitStatus::Signaled(p, Signal::SIGINT, false)),
            Some(Outcome::Signaled(Signal::SIGINT))
        );
        assert_eq!(Outcome::from_wait(WaitStatus::StillAlive), None);
    }

    #[test]
    fn the_name_and_state_come_from_the_raw_stat_line() {
        assert_eq!(
            comm_and_state(b"42 (a) b)) Z 1 2"),
            Some((&b"a) b)"[..], b'Z'))
        );
        assert_eq!(
            comm_and_state(b"7 (rsns\x01exec) R 1"),
            Some((&b"rsns\x01exec"[..], b'R'))
        );
        assert_eq!(comm_and_state(b"7 (x)"), None);
        assert_eq!(comm_and_state(b")("), None);
    }

    #[test]
    fn a_live_process_that_kept_its_name_died_before_its_exec() {
        let me = open_proc_dir(getpid()).unwrap();
        let mut name = std::fs::read("/proc/self/comm").unwrap();
        name.pop();
        let name = std::ffi::CString::new(name).unwrap();
        // Our own name is the "token": as if we never exec'ed.
        assert_eq!(after_exec(&me, &name), AfterExec::DiedBefore);
        assert_eq!(after_exec(&me, c"other"), AfterExec::Runs);
    }
}
