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
    let program = match sys::fork_into(0) {
        Ok(Forked::Child) => {
            drop(report);
            let failure = inside.exec_now(Some(&status));
            child_failed(&status, failure);
        }
        Ok(Forked::Parent(pid)) => pid,
        Err(errno) => child_failed(
            &status,
            StepFailure {
                step: Step::InitFork,
                errno,
            },
        ),
    };
    // The parent learns that the exec worked when the program's copy closes.
    drop(status);
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
