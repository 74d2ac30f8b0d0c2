//! Starting the program: the last steps before exec (shared by rs-unshare and
//! rs-nsenter), a forked child that reports how far it got, and waiting for
//! the exec to succeed before anything is made permanent.
//!
//! The child reports over a close-on-exec socket: `Exec` just before exec,
//! `Failed` with the step and errno. The socket closing after `Exec` means the
//! exec worked. Until the parent knows that, a [`ChildGuard`] kills and reaps
//! the child on any early return, so a failed run leaves no process.

mod failure;
mod init;
mod inside;

pub(crate) use failure::{create_hint, describe};
pub(crate) use init::{program_outcome, run_as_init};
pub(crate) use inside::{Binfmt, EXEC_TOKEN, Inside, Step, StepFailure};
pub use inside::{CgroupJoin, plain_inside};

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

use crate::channel::{Msg, Receiver, Sender, channel};
use crate::error::{Context, SysError, errno_text};
use crate::exec::exec_failure_status;
use crate::process::Outcome;
use crate::supervise::{ForwardPolicy, block_supervised};
use crate::sys::{self, Forked};

/// A step before exec failed, or the exec itself.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The program could not be executed; exit status 126 or 127.
    #[error("failed to execute {program}: {}", errno_text(*errno))]
    Exec { program: String, errno: Errno },
    #[error(transparent)]
    Step(#[from] SysError),
}

impl LaunchError {
    /// 127 for a program not found, 126 for one that cannot run, else 1.
    pub fn exit_status(&self) -> i32 {
        match self {
            LaunchError::Exec { errno, .. } => exec_failure_status(*errno),
            LaunchError::Step(_) => 1,
        }
    }
}

/// In a forked child: tell the parent which step failed and exit.
pub(crate) fn child_failed(status: &Sender, failure: StepFailure) -> ! {
    let _ = status.send(failure.msg());
    let code = match failure.step {
        Step::Exec => exec_failure_status(failure.errno),
        _ => 1,
    };
    sys::exit_now(code)
}

/// Kills and reaps the child unless released.
#[derive(Debug)]
pub(crate) struct ChildGuard(Option<Pid>);

impl ChildGuard {
    pub(crate) fn new(pid: Pid) -> ChildGuard {
        ChildGuard(Some(pid))
    }

    pub(crate) fn pid(&self) -> Option<Pid> {
        self.0
    }

    pub(crate) fn release(&mut self) {
        self.0 = None;
    }

    /// Waits for the child, which ended on its own, and returns how.
    pub(crate) fn reap(&mut self) -> Outcome {
        let pid = self.0.take().expect("reaped once");
        loop {
            match waitpid(pid, None) {
                Ok(status) => {
                    if let Some(outcome) = Outcome::from_wait(status) {
                        return outcome;
                    }
                }
                Err(Errno::EINTR) => continue,
                Err(_) => return Outcome::Exited(1),
            }
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            let _ = kill(pid, Signal::SIGKILL);
            self.reap();
        }
    }
}

/// How far the child got.
#[derive(Debug)]
pub(crate) enum Progress {
    /// It reached the point waited for.
    Reached,
    /// It died first (killed by a signal, most likely).
    Ended(Outcome),
}

/// Reads the child's reports until it reached `point` or failed. `Ready` is
/// reached with the message; `Exec` once the socket closes after it, as the
/// exec closed it, or as a SIGKILL on the way did: a caller about to make
/// something permanent tells the two apart with [`confirm_exec`]. A failed
/// step comes back described in `inside`'s terms.
pub(crate) fn wait_for(
    point: Msg,
    status: &Receiver,
    guard: &mut ChildGuard,
    inside: &Inside,
) -> Result<Progress, LaunchError> {
    let mut exec_seen = false;
    loop {
        match status.recv() {
            Ok(Some(Msg::Ready)) if point == Msg::Ready => return Ok(Progress::Reached),
            Ok(Some(Msg::Exec)) if point == Msg::Exec => exec_seen = true,
            Ok(Some(Msg::Failed { step, errno })) => {
                let failure = StepFailure {
                    step: Step::from_code(step),
                    errno: Errno::from_raw(errno),
                };
                return Err(describe(inside, failure));
            }
            Ok(None) if exec_seen => return Ok(Progress::Reached),
            Ok(None) => return Ok(Progress::Ended(guard.reap())),
            Ok(Some(other)) => {
                return Err(SysError::new(
                    format!("unexpected message {other:?} from the child"),
                    Errno::EPROTO,
                )
                .into());
            }
            Err(errno) => return Err(SysError::new("read from the child", errno).into()),
        }
    }
}

/// The channel closed after `Exec`: the exec happened, or the child died on
/// the way (a SIGKILL). Its name in /proc tells: the exec replaced the one
/// it took just before. Our child cannot be reaped by anyone else meanwhile.
/// Only for callers that make something permanent once the program runs (a
/// pid file, a bind): the look costs a program's start a few syscalls that
/// compete with it, and for everyone else a death before the exec ends the
/// same way as one after it.
pub(crate) fn confirm_exec(guard: &mut ChildGuard) -> Progress {
    let after = guard
        .pid()
        .and_then(|pid| crate::process::open_proc_dir(crate::process::pid_in_proc(pid)))
        .map(|dir| crate::process::after_exec(&dir, EXEC_TOKEN));
    match after {
        Some(crate::process::AfterExec::DiedBefore) => Progress::Ended(guard.reap()),
        _ => Progress::Reached,
    }
}

/// Forks a child that runs `inside`'s last steps and execs, then waits for
/// it, passing signals on. For a program that must be our child: one that
/// joined a PID namespace, for example.
pub(crate) fn fork_and_exec(
    inside: &mut Inside,
    policy: ForwardPolicy,
) -> Result<Outcome, LaunchError> {
    fork_and_exec_with(inside, policy, &mut || sys::fork_into(0), None)
}

/// [`fork_and_exec`] with another way to fork (into a cgroup, say).
pub(crate) fn fork_and_exec_with(
    inside: &mut Inside,
    policy: ForwardPolicy,
    fork: &mut dyn FnMut() -> Result<Forked, Errno>,
    watch: Option<crate::supervise::Watch<'_>>,
) -> Result<Outcome, LaunchError> {
    inside.signal_mask = Some(block_supervised()?);
    let (status_rx, status_tx) = channel().context(|| "socketpair".into())?;
    match fork().context(|| "fork".into())? {
        Forked::Child => {
            drop(status_rx);
            let failure = inside.finish(Some(&status_tx));
            child_failed(&status_tx, failure);
        }
        Forked::Parent(child) => {
            drop(status_tx);
            // The terminal's peer is the program's alone.
            let master = inside.pty.take().map(|pty| pty.master);
            let mut guard = ChildGuard::new(child);
            if let Progress::Ended(outcome) = wait_for(Msg::Exec, &status_rx, &mut guard, inside)? {
                return Ok(outcome);
            }
            guard.release();
            let mut relay = master.map(crate::pty::Relay::new);
            Ok(crate::supervise::supervise_watching(
                child,
                policy,
                watch,
                relay.as_mut(),
            )?)
        }
    }
}
