//! Exec mode (no `-f`): we unshare and become the program, keeping our PID,
//! as unshare(1) does.
//!
//! What must happen from outside the new namespaces (binding namespace files,
//! maps other than our own single ids, the pid file) is done by a helper we
//! fork before unsharing. It is double-forked so it is not left as a child of
//! the program. The helper waits for `Go`, does its work, answers `Ready` (or
//! `Failed` and a message), then watches us: `Exec` followed by EOF means the
//! exec happened or we died on the way (a SIGKILL), which our command name
//! in /proc tells apart: the exec replaces the name we took just before it.
//! If the program runs, the pid file is published and the binds stay; if we
//! failed or died first, it undoes its binds and drops its unnamed pid file
//! before it closes its answer channel, which we wait for before exiting.

use std::convert::Infallible;

use nix::sched::{CloneFlags, unshare};
use nix::sys::signal::Signal;
use nix::sys::wait::waitpid;
use nix::unistd::{Gid, Pid, Uid, getpid, setgroups, setresgid, setresuid};

use super::UnshareError;
use super::plan::Plan;
use crate::channel::{Msg, Receiver, Sender, channel};
use crate::error::{Context, SysError};
use crate::idmap::{ProcTarget, apply_map_plan};
use crate::launch::{EXEC_TOKEN, create_hint, describe};
use crate::persist::{Bound, bind_namespaces};
use crate::pidfile::PidFile;
use crate::process::{AfterExec, after_exec};
use crate::sys::{self, Forked};

pub(crate) fn run(mut plan: Plan) -> Result<Infallible, UnshareError> {
    sys::set_default_action(Signal::SIGCHLD).context(|| "reset SIGCHLD".into())?;
    let outside_maps = plan.maps_need_outside_writer();
    let mut helper = if outside_maps || !plan.persist.is_empty() || plan.pid_file.is_some() {
        Some(Helper::start(&plan, outside_maps)?)
    } else {
        None
    };
    let err = match setup(&mut plan, helper.as_mut(), outside_maps) {
        Ok(never) => match never {},
        Err(err) => err,
    };
    if let Some(helper) = helper {
        helper.abort();
    }
    Err(err)
}

fn setup(
    plan: &mut Plan,
    helper: Option<&mut Helper>,
    outside_maps: bool,
) -> Result<Infallible, UnshareError> {
    if let Some((uid, gid)) = plan.owner {
        become_owner(uid, gid)?;
    }
    let set = plan.namespaces;
    if !set.is_empty() {
        unshare(CloneFlags::from_bits_retain(set.clone_flags())).map_err(|errno| {
            SysError::new(format!("unshare({set})"), errno).with_hint(create_hint(
                set,
                errno,
                nix::unistd::geteuid().as_raw(),
            ))
        })?;
        tracing::debug!(flags = %set, "unshared");
    }
    plan.inside
        .write_time_offsets()
        .map_err(|f| UnshareError::from(describe(&plan.inside, f)))?;
    if set.contains(crate::ns::NsKind::Time) {
        plan.inside
            .enter_time_ns()
            .map_err(|f| UnshareError::from(describe(&plan.inside, f)))?;
    }
    plan.inside
        .set_propagation()
        .map_err(|f| UnshareError::from(describe(&plan.inside, f)))?;
    let marker = match helper {
        Some(helper) => {
            helper.go()?;
            Some(&helper.to)
        }
        None => None,
    };
    if !outside_maps {
        apply_map_plan(ProcTarget::Current, &plan.maps)?;
    }
    // We become the program: our PID is the box's.
    plan.handoff.publish(getpid(), "self")?;
    let failure = plan.inside.finish(marker);
    Err(describe(&plan.inside, failure).into())
}

/// `--owner` in exec mode: we become the owner for good before unsharing; the
/// helper, forked earlier, keeps our privilege to write the maps.
fn become_owner(uid: u32, gid: u32) -> Result<(), SysError> {
    let (uid, gid) = (Uid::from_raw(uid), Gid::from_raw(gid));
    setgroups(&[]).context(|| "drop supplementary groups for --owner".into())?;
    setresgid(gid, gid, gid).context(|| format!("set gid to {gid} for --owner"))?;
    setresuid(uid, uid, uid).context(|| format!("set uid to {uid} for --owner"))
}

/// Our ends of the helper's two channels.
struct Helper {
    to: Sender,
    from: Receiver,
}

impl Helper {
    fn start(plan: &Plan, write_maps: bool) -> Result<Helper, UnshareError> {
        let pid_file = plan.pid_file.as_deref().map(PidFile::prepare).transpose()?;
        let target = getpid();
        let (to_rx, to_tx) = channel().context(|| "socketpair".into())?;
        let (from_rx, from_tx) = channel().context(|| "socketpair".into())?;
        match sys::fork().context(|| "fork the helper".into())? {
            Forked::Parent(middle) => {
                drop(to_rx);
                drop(from_tx);
                // The helper owns the temporary pid file now.
                std::mem::forget(pid_file);
                let _ = waitpid(middle, None);
                Ok(Helper {
                    to: to_tx,
                    from: from_rx,
                })
            }
            Forked::Child => {
                drop(to_tx);
                drop(from_rx);
                // Fork again and let the middle process exit, so the helper is
                // not a child of the program we are about to become.
                if let Ok(Forked::Child) = sys::fork() {
                    helper_main(target, plan, write_maps, to_rx, from_tx, pid_file);
                }
                crate::sys::exit_now(0);
            }
        }
    }

    /// Lets the helper do its work and waits for its answer.
    fn go(&mut self) -> Result<(), UnshareError> {
        self.to
            .send(Msg::Go)
            .context(|| "tell the helper to go on".into())?;
        match self.from.recv() {
            Ok(Some(Msg::Ready)) => Ok(()),
            Ok(Some(Msg::Failed { .. })) => {
                let text = self.from.recv_to_end();
                Err(UnshareError::Outside(
                    String::from_utf8_lossy(&text).into_owned(),
                ))
            }
            _ => Err(UnshareError::Outside(
                "the helper outside the namespaces ended without an answer".into(),
            )),
        }
    }

    /// We failed: the helper undoes its work; wait until it has.
    fn abort(self) {
        let _ = self.to.send(Msg::Failed { step: 0, errno: 0 });
        drop(self.to);
        self.from.recv_to_end();
    }
}

fn helper_main(
    target: Pid,
    plan: &Plan,
    write_maps: bool,
    rx: Receiver,
    reply: Sender,
    pid_file: Option<PidFile>,
) {
    // Opened now, while the process surely is ours: after the exec it tells
    // whether the exec happened (see `after_exec`).
    let proc_dir = crate::process::open_proc_dir(crate::process::pid_in_proc(target));
    if rx.recv().ok().flatten() != Some(Msg::Go) {
        // We never got to unshare; drop the temporary pid file, then answer.
        drop(pid_file);
        return;
    }
    let work = || -> Result<Bound, String> {
        let target = crate::process::pid_in_proc(target);
        if write_maps {
            apply_map_plan(ProcTarget::Pid(target), &plan.maps).map_err(|e| e.to_string())?;
        }
        bind_namespaces(target, &plan.persist).map_err(|e| e.to_string())
    };
    let bound = match work() {
        Ok(bound) => bound,
        Err(text) => {
            drop(pid_file);
            let _ = reply.send(Msg::Failed { step: 0, errno: 0 });
            let _ = reply.send_bytes(text.as_bytes());
            return;
        }
    };
    let _ = reply.send(Msg::Ready);
    let mut exec_seen = false;
    loop {
        match rx.recv() {
            Ok(Some(Msg::Exec)) => exec_seen = true,
            Ok(None) => break,
            _ => {
                exec_seen = false;
                break;
            }
        }
    }
    // The channel also closes when we die, so "Exec, then the end" may be
    // a death on the way to the exec (a SIGKILL): ask the process.
    let after = match (exec_seen, &proc_dir) {
        (false, _) => AfterExec::DiedBefore,
        (true, Some(dir)) => after_exec(dir, EXEC_TOKEN),
        (true, None) => AfterExec::Unknown,
    };
    tracing::debug!(?after, "the program's start, seen from the helper");
    match after {
        // Ended: a zombie not yet reaped, so its PID is not free yet either.
        AfterExec::Runs | AfterExec::Ended => {
            if let Some(pid_file) = pid_file
                && let Err(e) = pid_file.publish(target)
            {
                eprintln!(
                    "rs-unshare: {}",
                    crate::text::safe(e.to_string().as_bytes())
                );
            }
            bound.keep();
        }
        // Reaped before we looked: the program ran (a death on the way is
        // almost always seen), so its namespaces stay kept, but a pid file
        // would name a PID that is already free to be reused.
        AfterExec::Unknown => {
            bound.keep();
            drop(pid_file);
        }
        AfterExec::DiedBefore => {
            drop(bound);
            drop(pid_file);
        }
    }
    // `reply` closes last: our caller waits for that EOF to know we are done.
    drop(reply);
}
