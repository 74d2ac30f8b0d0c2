//! How a program ended, and ending ourselves the same way so the caller's
//! shell sees what it would have seen without us.

use nix::sys::resource::{Resource, setrlimit};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, kill, sigprocmask};
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
}
