//! Waiting for a forked program while passing signals on to it.
//!
//! The rules (docs/rs-unshare.md has the table):
//! - SIGTERM, SIGHUP and SIGQUIT sent to us are passed to the program, so they
//!   are never swallowed.
//! - SIGINT sent with kill(2) is ignored (as unshare(1) does) unless
//!   `forward_sigint` is set.
//! - A signal the terminal sent (Ctrl-C, Ctrl-\, hang-up) went to the whole
//!   foreground process group; if the program is in ours, it has its own copy
//!   and we do not send a second one.
//! - A PID-namespace init ignores every signal it has no handler for, even from
//!   the terminal. When the program is such an init and leaves a delivered
//!   signal at its default action (which would have ended it), we send SIGKILL
//!   so that it ends as the user asked, and report the signal the user sent
//!   (the status the shell would have seen without the PID namespace).
//! - SIGUSR1, SIGUSR2 and SIGWINCH are passed on too: their default action
//!   would end us (or, for SIGWINCH, do nothing) and leave the program alone.
//! - Job control passes through: when the program stops, we stop (so the shell
//!   sees the job stopped); when we are continued, we continue the program.
//! - As the init of a PID namespace (`--init`), we also reap every orphan that
//!   the kernel hands us, and we do not follow stops: an init cannot stop.

use nix::errno::Errno;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, kill, sigprocmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{Pid, getpgid, getpgrp, getpid};

use crate::error::{Context, SysError};
use crate::process::Outcome;

/// The signals a supervisor handles; blocked before forking so none is lost.
pub const SUPERVISED: [Signal; 8] = [
    Signal::SIGCHLD,
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];

/// `si_code` of a signal the kernel sent (the tty driver, for example).
const SI_KERNEL: i32 = 0x80;

pub fn supervised_set() -> SigSet {
    SUPERVISED.into_iter().collect()
}

/// Blocks the supervised signals; returns the previous mask, which the child
/// restores before exec so the program gets the mask our caller gave us.
/// SIGCHLD goes back to its default first: ignored, the kernel would reap the
/// child before we could wait for it.
pub fn block_supervised() -> Result<SigSet, SysError> {
    crate::sys::set_default_action(Signal::SIGCHLD).context(|| "reset SIGCHLD".into())?;
    let mut old = SigSet::empty();
    sigprocmask(
        SigmaskHow::SIG_BLOCK,
        Some(&supervised_set()),
        Some(&mut old),
    )
    .context(|| "block signals".into())?;
    Ok(old)
}

/// How signals reach the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ForwardPolicy {
    /// Pass on SIGINT sent with kill(2) (`--forward-signals`).
    pub forward_sigint: bool,
    /// The program is PID 1 of a PID namespace we made.
    pub pidns_init: bool,
    /// We are PID 1 ourselves (`--init`): reap every child, not only the program.
    pub reaper: bool,
}

/// Something else to wake for while waiting: a file polled for POLLPRI (a
/// cgroup interface file that changed), and what to do then, given the
/// child (still unreaped).
pub struct Watch<'a> {
    pub fd: std::os::fd::BorrowedFd<'a>,
    pub on_event: &'a mut dyn FnMut(Pid),
}

impl std::fmt::Debug for Watch<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch").field("fd", &self.fd).finish()
    }
}

/// Waits for `child` to end, passing signals on as the module describes.
/// The supervised signals must already be blocked.
pub fn supervise(child: Pid, policy: ForwardPolicy) -> Result<Outcome, SysError> {
    supervise_watching(child, policy, None, None)
}

/// [`supervise`], also calling `watch` each time its file changes, and
/// relaying between the program's terminal and ours (`--pty`).
pub fn supervise_watching(
    child: Pid,
    policy: ForwardPolicy,
    mut watch: Option<Watch<'_>>,
    mut relay: Option<&mut crate::pty::Relay>,
) -> Result<Outcome, SysError> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;
    let sigfd = SignalFd::with_flags(&supervised_set(), SfdFlags::SFD_CLOEXEC)
        .context(|| "signalfd".into())?;
    let mut escalated = None;
    let mut program_output = true;
    loop {
        if let Some(outcome) = reap(child, policy.reaper)? {
            if let Some(r) = relay.as_mut() {
                r.drain();
            }
            return Ok(match (outcome, escalated) {
                (Outcome::Signaled(Signal::SIGKILL), Some(sent)) => Outcome::Signaled(sent),
                (outcome, _) => outcome,
            });
        }
        if watch.is_some() || relay.is_some() {
            let stdin = std::io::stdin();
            let mut fds = vec![PollFd::new(sigfd.as_fd(), PollFlags::POLLIN)];
            let watch_at = watch.as_ref().map(|w| {
                fds.push(PollFd::new(w.fd, PollFlags::POLLPRI));
                fds.len() - 1
            });
            let (master_at, input_at) = match relay.as_ref() {
                Some(r) => {
                    let master_at = program_output.then(|| {
                        fds.push(PollFd::new(r.master(), PollFlags::POLLIN));
                        fds.len() - 1
                    });
                    let input_at = r.input_open().then(|| {
                        fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
                        fds.len() - 1
                    });
                    (master_at, input_at)
                }
                None => (None, None),
            };
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => return Err(SysError::new("poll", e)),
            }
            let ready = |at: Option<usize>, flags: PollFlags| {
                at.and_then(|i| fds[i].revents())
                    .is_some_and(|r| r.intersects(flags))
            };
            let changed = ready(watch_at, PollFlags::POLLPRI | PollFlags::POLLERR);
            let readable = PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR;
            let output = ready(master_at, readable);
            let input = ready(input_at, readable);
            let signalled = ready(Some(0), PollFlags::POLLIN);
            drop(fds);
            if changed && let Some(w) = watch.as_mut() {
                (w.on_event)(child);
            }
            if let Some(r) = relay.as_mut() {
                if output {
                    program_output = r.from_program();
                }
                if input {
                    r.from_us();
                }
            }
            if !signalled {
                continue;
            }
        }
        let info = match sigfd.read_signal() {
            Ok(Some(info)) => info,
            Ok(None) | Err(Errno::EINTR) => continue,
            Err(e) => return Err(SysError::new("read signalfd", e)),
        };
        let Ok(sig) = Signal::try_from(info.ssi_signo as i32) else {
            continue;
        };
        if sig == Signal::SIGCHLD {
            continue;
        }
        // With a terminal of its own, the program hears of our window's
        // size from that terminal, not from us.
        if sig == Signal::SIGWINCH
            && let Some(r) = relay.as_ref()
        {
            r.resize();
            continue;
        }
        let from_terminal = info.ssi_code == SI_KERNEL;
        let child_has_it = from_terminal && same_process_group(child);
        // SIGINT from kill(2) is the one unshare(1) leaves alone; from the
        // terminal it is Ctrl-C, which the program must see once.
        let wanted = sig != Signal::SIGINT || from_terminal || policy.forward_sigint;
        tracing::debug!(
            signal = sig.as_str(),
            sender = info.ssi_pid,
            from_terminal,
            child_has_it,
            wanted,
            "signal received"
        );
        if wanted && deliver(child, sig, child_has_it, policy.pidns_init) {
            escalated = Some(sig);
        }
    }
}

/// Reaps `child` if it has ended; follows it if it has stopped. As a
/// `reaper`, first reaps every other child that has ended.
fn reap(child: Pid, reaper: bool) -> Result<Option<Outcome>, SysError> {
    if reaper && let Some(outcome) = reap_orphans(child) {
        return Ok(Some(outcome));
    }
    let flags = if reaper {
        WaitPidFlag::WNOHANG
    } else {
        WaitPidFlag::WNOHANG | WaitPidFlag::WUNTRACED
    };
    loop {
        match waitpid(child, Some(flags)) {
            Ok(WaitStatus::StillAlive) => return Ok(None),
            Ok(WaitStatus::Stopped(_, sig)) => {
                tracing::debug!(%child, signal = sig.as_str(), "program stopped: stopping too");
                // We stop here until continued; then the program goes on too.
                let _ = kill(getpid(), Signal::SIGSTOP);
                let _ = kill(child, Signal::SIGCONT);
                return Ok(None);
            }
            Ok(status) => {
                if let Some(outcome) = Outcome::from_wait(status) {
                    tracing::debug!(%child, ?outcome, "program ended");
                    return Ok(Some(outcome));
                }
            }
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(SysError::new(format!("wait for PID {child}"), e)),
        }
    }
}

/// Reaps every child that has ended; returns `child`'s end if it was one.
/// Stops are not reported (no WUNTRACED), so this never consumes one.
fn reap_orphans(child: Pid) -> Option<Outcome> {
    let mut reaped = 0u32;
    let outcome = loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => break None,
            Ok(status) if status.pid() == Some(child) => {
                if let Some(outcome) = Outcome::from_wait(status) {
                    break Some(outcome);
                }
            }
            Ok(_) => reaped += 1,
            Err(Errno::EINTR) => continue,
            Err(_) => break None,
        }
    };
    if reaped > 0 {
        tracing::trace!(reaped, "reaped orphans");
    }
    outcome
}

/// Passes `sig` on; returns true if it had to send SIGKILL instead.
fn deliver(child: Pid, sig: Signal, child_has_it: bool, pidns_init: bool) -> bool {
    if !child_has_it {
        let _ = kill(child, sig);
    }
    if pidns_init && ends_by_default(sig) && left_at_default(child, sig) {
        tracing::debug!(%child, signal = sig.as_str(), "init has no handler: sending SIGKILL");
        return kill(child, Signal::SIGKILL).is_ok();
    }
    false
}

/// Signals whose default action ends a process (the rest are ignored).
fn ends_by_default(sig: Signal) -> bool {
    !matches!(
        sig,
        Signal::SIGCHLD | Signal::SIGWINCH | Signal::SIGURG | Signal::SIGCONT
    )
}

fn same_process_group(child: Pid) -> bool {
    getpgid(Some(child)).is_ok_and(|pg| pg == getpgrp())
}

/// True when `pid` neither catches nor ignores `sig`, per /proc/PID/status.
pub fn left_at_default(pid: Pid, sig: Signal) -> bool {
    // Bytes: the Name line holds whatever the program called itself.
    let Ok(status) = std::fs::read(format!("/proc/{pid}/status")) else {
        return false;
    };
    match signal_masks(&status) {
        Some((ignored, caught)) => {
            let bit = 1u64 << (sig as u32 - 1);
            (ignored | caught) & bit == 0
        }
        None => false,
    }
}

/// The SigIgn and SigCgt masks of a /proc/PID/status text (hexadecimal);
/// `None` unless both are there and well formed. Other lines may hold any
/// bytes (the Name line is the program's own choice).
pub fn signal_masks(status: &[u8]) -> Option<(u64, u64)> {
    let mask = |field: &[u8]| {
        status
            .split(|&b| b == b'\n')
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
    };
    Some((mask(b"SigIgn:")?, mask(b"SigCgt:")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_dispositions_are_read_from_proc() {
        // The test harness leaves SIGUSR2 at its default and ignores SIGPIPE.
        assert!(left_at_default(getpid(), Signal::SIGUSR2));
        assert!(!left_at_default(getpid(), Signal::SIGPIPE));
        assert!(!left_at_default(Pid::from_raw(i32::MAX), Signal::SIGTERM));
    }
}
