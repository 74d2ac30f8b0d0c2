//! `--init`: PID 1 of a new PID namespace stays ours and the program runs as
//! its child. A program that is PID 1 ignores every signal it has no handler
//! for, even SIGTERM from the host, and never reaps the orphans the kernel
//! hands it. As init we reap them all, pass signals on to the program (the
//! supervisor's rules, SIGINT from kill(2) included), and exit as the program
//! did; the kernel then kills what is left in the namespace.
//!
//! An init cannot die by a signal it sends itself, so when the program was
//! killed we tell the parent over `report`, and the parent dies by that
//! signal in our place.

use std::os::fd::AsFd;

use crate::channel::{Msg, Sender};
use crate::process::Outcome;
use crate::supervise::{ForwardPolicy, supervise};
use crate::sys::{self, Forked};

use super::{Inside, Step, StepFailure, child_failed};

/// Runs as PID 1: the steps before exec (root, proc, credentials, session),
/// then forks the program and supervises it. Never returns.
pub(crate) fn run_as_init(inside: &mut Inside, status: Sender, report: Sender) -> ! {
    if let Err(failure) = inside.prepare_exec() {
        child_failed(&status, failure);
    }
    // The init outlives a pivot_root the program may make, which moves only
    // a working directory or root that is the old root itself: the init
    // goes to / and holds no descriptor of the old root, and the program
    // gets its working directory back by descriptor.
    let (cwd, ready) = match hold_nothing_of_the_old_root() {
        Ok(held) => held,
        Err(errno) => child_failed(
            &status,
            StepFailure {
                step: Step::Chdir,
                errno,
            },
        ),
    };
    let program = match sys::fork_into(0) {
        Ok(Forked::Child) => {
            drop(report);
            let (wait, go) = ready;
            drop(go);
            // The init has let go of the old root's directory once the
            // pipe is closed: only then may the program pivot.
            let _ = nix::unistd::read(&wait, &mut [0u8; 1]);
            drop(wait);
            if let Err(errno) = nix::unistd::fchdir(&cwd) {
                child_failed(
                    &status,
                    StepFailure {
                        step: Step::Chdir,
                        errno,
                    },
                );
            }
            drop(cwd);
            let failure = inside.exec_now(Some(&status));
            child_failed(&status, failure);
        }
        Ok(Forked::Parent(pid)) => {
            drop(cwd);
            drop(ready);
            drop(status);
            // Nor any descriptor it was handed: the program has its own
            // copies, and one of a host directory would outlive the pivot.
            if let Err(errno) = sys::close_all_from(3, report.as_fd()) {
                tracing::debug!(?errno, "close_range in the init");
            }
            pid
        }
        Err(errno) => child_failed(
            &status,
            StepFailure {
                step: Step::InitFork,
                errno,
            },
        ),
    };
    // The parent learned that the exec worked when the program's copy of
    // `status` closed (ours was closed above).
    let policy = ForwardPolicy {
        forward_sigint: true,
        pidns_init: false,
        reaper: true,
    };
    let outcome = match supervise(program, policy) {
        Ok(outcome) => outcome,
        Err(err) => {
            tracing::error!(%err, "init cannot supervise the program");
            Outcome::Exited(1)
        }
    };
    if let Outcome::Signaled(sig) = outcome {
        let _ = report.send(Msg::Killed { signal: sig as i32 });
    }
    sys::exit_now(outcome.shell_status())
}

/// The working directory, opened for the program, with the init moved to
/// `/`, and a pipe the program waits on until the init has closed it.
fn hold_nothing_of_the_old_root() -> Result<
    (
        std::os::fd::OwnedFd,
        (std::os::fd::OwnedFd, std::os::fd::OwnedFd),
    ),
    nix::errno::Errno,
> {
    use nix::fcntl::{OFlag, open};
    let cwd = open(
        c".",
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )?;
    nix::unistd::chdir(c"/")?;
    let ready = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
    Ok((cwd, ready))
}

/// In the parent, after the init ended with `ended`: the program's signal
/// if the init reported one.
pub(crate) fn program_outcome(ended: Outcome, report: &crate::channel::Receiver) -> Outcome {
    match (ended, report.recv()) {
        (Outcome::Exited(_), Ok(Some(Msg::Killed { signal }))) => {
            nix::sys::signal::Signal::try_from(signal).map_or(ended, Outcome::Signaled)
        }
        _ => ended,
    }
}
