//! Fork mode (`-f`, `--kill-child`, `--forward-signals`): we stay outside every
//! new namespace and clone the program's process straight into them, so it is
//! PID 1 of a new PID namespace without a second fork. From outside we write
//! its id maps, bind its namespaces and its pid file, then let it exec and
//! pass signals on until it ends.
//!
//! The child reports over a close-on-exec pipe: `Ready` after its first steps
//! (only when we bind files), `Exec` just before exec, `Failed` with the step
//! and errno. EOF after `Exec` means the exec worked. Until then any failure
//! kills and reaps the child and undoes the binds: nothing is left behind.
//!
//! With `--init` the child stays PID 1 and forks the program (launch/init.rs);
//! the `Exec` report then comes from the program, and a second channel tells
//! us whether the program died by a signal.

use nix::errno::Errno;
use nix::unistd::{Gid, Pid, Uid, getpid, getresgid, getresuid, setgroups, setresgid, setresuid};

use super::UnshareError;
use super::plan::Plan;
use crate::channel::{Msg, Receiver, Sender, channel};
use crate::error::{Context, SysError};
use crate::idmap::{ProcTarget, apply_map_plan};
use crate::launch::{
    ChildGuard, Progress, Step, StepFailure, child_failed, confirm_exec, create_hint,
    program_outcome, run_as_init, wait_for,
};
use crate::ns::NsKind;
use crate::persist::bind_namespaces;
use crate::pidfile::PidFile;
use crate::process::Outcome;
use crate::supervise::block_supervised;
use crate::sys::{self, Forked};

/// Which sync points the run needs; none at all for a plain `-pf`.
#[derive(Debug, Clone, Copy)]
struct Handshake {
    /// We bind namespaces: wait until the child made its time namespace and
    /// set its propagation (so the bind does not propagate into it).
    ready: bool,
    /// We write maps or bind files before the child may go on.
    go: bool,
}

pub(crate) fn run(mut plan: Plan) -> Result<Outcome, UnshareError> {
    let pid_file = plan.pid_file.as_deref().map(PidFile::prepare).transpose()?;
    plan.inside.signal_mask = Some(block_supervised()?);
    if plan.kill_child.is_some() {
        plan.inside.parent_pidfd =
            Some(sys::pidfd_open(getpid()).context(|| "pidfd_open(our own PID)".into())?);
    }
    // --info-fd: the namespaces are read once the child made its time
    // namespace, and written before the child may go on.
    let handshake = Handshake {
        ready: !plan.persist.is_empty() || plan.handoff.wanted(),
        go: !plan.maps.is_empty() || !plan.persist.is_empty() || plan.handoff.wanted(),
    };
    let (status_rx, status_tx) = channel().context(|| "pipe".into())?;
    let go = if handshake.go {
        Some(channel().context(|| "pipe".into())?)
    } else {
        None
    };
    let report = if plan.init {
        Some(channel().context(|| "pipe".into())?)
    } else {
        None
    };

    let saved_ids = plan.owner.map(assume_owner).transpose()?;
    let set = plan.clone_set();
    let forked = sys::fork_into(set.clone_flags());
    if let Ok(Forked::Child) = forked {
        let go_rx = go.map(|(rx, tx)| {
            drop(tx);
            rx
        });
        drop(status_rx);
        plan.handoff.close();
        let report_tx = report.map(|(rx, tx)| {
            drop(rx);
            tx
        });
        child(&mut plan, status_tx, go_rx.as_ref(), handshake, report_tx);
    }
    if let Some(saved) = saved_ids {
        saved.restore()?;
    }
    let child = forked.map_err(|errno| {
        SysError::new(format!("clone({set})"), errno).with_hint(create_hint(
            set,
            errno,
            nix::unistd::geteuid().as_raw(),
        ))
    })?;
    let Forked::Parent(child) = child else {
        unreachable!("the child never returns");
    };
    drop(status_tx);
    let go_tx = go.map(|(rx, tx)| {
        drop(rx);
        tx
    });
    let report_rx = report.map(|(rx, tx)| {
        drop(tx);
        rx
    });
    tracing::debug!(%child, flags = %set, init = plan.init, "cloned the program's process");
    let ended = parent(child, &mut plan, status_rx, go_tx, pid_file, handshake)?;
    let outcome = match report_rx {
        Some(report) => program_outcome(ended, &report),
        None => ended,
    };
    plan.handoff.ended(outcome.shell_status())?;
    Ok(outcome)
}

/// In the new namespaces: returns never; ends in exec or `_exit`, or as the
/// init (`report` given) that runs the program.
fn child(
    plan: &mut Plan,
    status: Sender,
    go: Option<&Receiver>,
    handshake: Handshake,
    report: Option<Sender>,
) -> ! {
    if let Err(failure) = child_steps(plan, &status, go, handshake) {
        child_failed(&status, failure)
    }
    match report {
        Some(report) => run_as_init(&mut plan.inside, status, report),
        None => {
            let failure = plan.inside.finish(Some(&status));
            child_failed(&status, failure)
        }
    }
}

/// The steps before the last ones: time namespace, propagation, handshake.
fn child_steps(
    plan: &mut Plan,
    status: &Sender,
    go: Option<&Receiver>,
    handshake: Handshake,
) -> Result<(), StepFailure> {
    if plan.namespaces.contains(NsKind::Time) {
        plan.inside.create_time_ns()?;
        plan.inside.write_time_offsets()?;
        plan.inside.enter_time_ns()?;
    }
    plan.inside.set_propagation()?;
    let sync = |errno: Errno| StepFailure {
        step: Step::Sync,
        errno,
    };
    if handshake.ready {
        status.send(Msg::Ready).map_err(sync)?;
    }
    if let Some(go) = go {
        match go.recv() {
            Ok(Some(Msg::Go)) => {}
            // The parent gave up and will report why.
            _ => crate::sys::exit_now(1),
        }
    }
    Ok(())
}

fn parent(
    child: Pid,
    plan: &mut Plan,
    status: Receiver,
    go: Option<Sender>,
    pid_file: Option<PidFile>,
    handshake: Handshake,
) -> Result<Outcome, UnshareError> {
    let mut guard = ChildGuard::new(child);
    // The terminal's peer is the program's alone.
    let master = plan.inside.pty.take().map(|pty| pty.master);
    // Ended before its first steps were done: a signal, most likely.
    if handshake.ready
        && let Progress::Ended(outcome) = wait_for(Msg::Ready, &status, &mut guard, &plan.inside)?
    {
        return Ok(outcome);
    }
    // Only runs that write maps or bind files name the child in /proc.
    let in_proc = if handshake.go {
        crate::process::pid_in_proc(child)
    } else {
        child
    };
    apply_map_plan(ProcTarget::Pid(in_proc), &plan.maps)?;
    let bound = bind_namespaces(in_proc, &plan.persist)?;
    plan.handoff.publish(child, &in_proc.to_string())?;
    if let Some(go) = go {
        go.send(Msg::Go)
            .context(|| "tell the child to go on".into())?;
    }
    if let Progress::Ended(outcome) = wait_for(Msg::Exec, &status, &mut guard, &plan.inside)? {
        return Ok(outcome);
    }
    if (pid_file.is_some() || !plan.persist.is_empty())
        && let Progress::Ended(outcome) = confirm_exec(&mut guard)
    {
        return Ok(outcome);
    }
    tracing::debug!(%child, program = plan.inside.exec.display(), "program runs");
    if let Some(pid_file) = pid_file {
        pid_file.publish(child)?;
    }
    bound.keep();
    guard.release();
    let mut relay = master.map(crate::pty::Relay::new);
    Ok(crate::supervise::supervise_watching(
        child,
        plan.policy,
        None,
        relay.as_mut(),
    )?)
}

/// Our ids before `--owner` borrowed them for the clone.
struct SavedIds {
    uid: nix::unistd::ResUid,
    gid: nix::unistd::ResGid,
}

/// The owner of a new user namespace is the creator's effective uid and gid.
/// For the clone we take the owner's real and effective ids but keep our saved
/// ids, so we can return to them (and keep our privileges) right after; the
/// child's saved ids become the owner's at its exec. Our supplementary groups
/// go for good, so the child does not carry them into the namespace.
fn assume_owner((uid, gid): (u32, u32)) -> Result<SavedIds, SysError> {
    let saved = SavedIds {
        uid: getresuid().context(|| "getresuid".into())?,
        gid: getresgid().context(|| "getresgid".into())?,
    };
    setgroups(&[]).context(|| "drop supplementary groups for --owner".into())?;
    let (uid, gid) = (Uid::from_raw(uid), Gid::from_raw(gid));
    setresgid(gid, gid, saved.gid.saved).context(|| format!("set gid to {gid} for --owner"))?;
    setresuid(uid, uid, saved.uid.saved).context(|| format!("set uid to {uid} for --owner"))?;
    Ok(saved)
}

impl SavedIds {
    fn restore(self) -> Result<(), SysError> {
        setresuid(self.uid.real, self.uid.effective, self.uid.saved)
            .context(|| "restore our uid after --owner".into())?;
        setresgid(self.gid.real, self.gid.effective, self.gid.saved)
            .context(|| "restore our gid after --owner".into())
    }
}
