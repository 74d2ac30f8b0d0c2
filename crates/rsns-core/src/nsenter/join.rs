//! Entering the namespaces.
//!
//! The target's namespaces are entered through its pidfd, several at once in
//! one setns(2), atomically (Linux 5.8+): the PID cannot be recycled under us.
//! Older kernels (or RSNS_JOIN_VIA_PROC=1, to test that path) open the
//! /proc/PID/ns files instead, under the /proc/PID directory that was checked
//! against the pidfd.
//!
//! Two passes, as nsenter(1) does, so the user namespace comes last when we
//! drop privilege and first when we gain it: the first pass enters everything
//! but the user namespace with the privileges we have, ignoring refusals; the
//! second enters the user namespace and then what is left, reporting errors.
//! Where the user namespace and the rest both come from the target, the second
//! pass enters them in one setns(pidfd), which the kernel checks as if the
//! user namespace came first.

use std::os::fd::AsFd;

use nix::errno::Errno;
use nix::sched::{CloneFlags, setns};

use super::NsenterError;
use super::sources::{Source, Via, open_target_ns};
use crate::error::SysError;
use crate::ns::NsKind;
use crate::target::{Target, TargetError};

pub(crate) fn enter(target: Option<&Target>, mut sources: Vec<Source>) -> Result<(), NsenterError> {
    if let Some(t) = target
        && (!pidfd_setns_supported() || !t.setns_by_pidfd)
    {
        for source in &mut sources {
            if matches!(source.via, Via::Target) {
                source.via = Via::Fd(open_target_ns(t, source.kind)?);
            }
        }
        t.ensure_alive()?;
    }
    let mut pending: Vec<Source> = Vec::new();
    let (users, others): (Vec<Source>, Vec<Source>) =
        sources.into_iter().partition(|s| s.kind == NsKind::User);
    // Pass 1: with the privileges we have; what is refused waits for pass 2.
    pending.extend(enter_group(target, others, false)?);
    if !pending.is_empty() {
        tracing::debug!(
            count = pending.len(),
            "refused before the user namespace: retried after it"
        );
    }
    // Pass 2: the user namespace first, then the rest; errors count now.
    let mut second = users;
    second.extend(pending);
    let refused = enter_group(target, second, true)?;
    debug_assert!(refused.is_empty());
    if let Some(t) = target {
        t.ensure_alive()?;
    }
    Ok(())
}

/// Enters `sources`, a user namespace first: one from a descriptor before
/// the rest, one from the target together with the target's other ones in
/// one setns(pidfd). Returns those refused, or fails if `report`.
fn enter_group(
    target: Option<&Target>,
    sources: Vec<Source>,
    report: bool,
) -> Result<Vec<Source>, NsenterError> {
    let (from_target, mut from_fds): (Vec<Source>, Vec<Source>) = sources
        .into_iter()
        .partition(|s| matches!(s.via, Via::Target));
    from_fds.sort_by_key(|s| s.kind != NsKind::User);
    let user_fd_first = from_fds.first().is_some_and(|s| s.kind == NsKind::User);
    let mut refused = Vec::new();
    let mut fds = from_fds.into_iter();
    if user_fd_first {
        let user = fds.next().expect("checked");
        enter_fd(user, report, &mut refused, target)?;
    }
    if let (Some(t), false) = (target, from_target.is_empty()) {
        let flags = from_target
            .iter()
            .fold(0, |acc, s| acc | s.kind.clone_flag());
        match setns(t.pidfd.as_fd(), CloneFlags::from_bits_retain(flags)) {
            Ok(()) => log_entered(&from_target),
            Err(errno) if report => return Err(join_error(&from_target, errno, target)),
            Err(_) => refused.extend(from_target),
        }
    }
    for source in fds {
        enter_fd(source, report, &mut refused, target)?;
    }
    Ok(refused)
}

fn enter_fd(
    source: Source,
    report: bool,
    refused: &mut Vec<Source>,
    target: Option<&Target>,
) -> Result<(), NsenterError> {
    let Via::Fd(fd) = &source.via else {
        unreachable!("only descriptors here")
    };
    match setns(
        fd.as_fd(),
        CloneFlags::from_bits_retain(source.kind.clone_flag()),
    ) {
        Ok(()) => log_entered(std::slice::from_ref(&source)),
        Err(errno) if report => {
            return Err(join_error(std::slice::from_ref(&source), errno, target));
        }
        Err(_) => refused.push(source),
    }
    Ok(())
}

fn log_entered(sources: &[Source]) {
    for s in sources {
        tracing::debug!(namespace = %s, "entered");
    }
}

fn join_error(sources: &[Source], errno: Errno, target: Option<&Target>) -> NsenterError {
    if errno == Errno::ESRCH
        && let Some(t) = target
    {
        return TargetError::Exited(t.pid.as_raw()).into();
    }
    let kinds: Vec<&str> = sources.iter().map(|s| s.kind.proc_name()).collect();
    let origin = sources.first().map(|s| s.origin.as_str()).unwrap_or("?");
    let what = format!(
        "cannot enter the {} namespace{} of {origin} (setns)",
        kinds.join(", "),
        if kinds.len() > 1 { "s" } else { "" }
    );
    let has = |kind: NsKind| sources.iter().any(|s| s.kind == kind);
    // The target's own (through its pidfd, or its files where setns cannot
    // take the pidfd): ask the kernel step by step why.
    if let (Errno::EPERM, Some(t)) = (errno, target) {
        let own = format!("PID {}", t.pid);
        if sources.iter().all(|s| s.origin == own) {
            let kinds: Vec<NsKind> = sources.iter().map(|s| s.kind).collect();
            return super::refusal::explain(t, &kinds, what, errno);
        }
    }
    let hint = match errno {
        Errno::EPERM => Some(
            "entering a namespace needs CAP_SYS_ADMIN in the user namespace that owns it \
             (and CAP_SYS_CHROOT for a mount namespace)"
                .to_string(),
        ),
        Errno::EINVAL if has(NsKind::Pid) => {
            Some("a PID namespace can be entered only from itself or an ancestor PID namespace".into())
        }
        Errno::EINVAL if has(NsKind::User) => Some(
            "a user namespace cannot be entered by a multi-threaded process or from inside a chroot"
                .into(),
        ),
        _ => None,
    };
    NsenterError::Sys(SysError::new(what, errno).with_hint(hint))
}

/// setns(2) on a pidfd works since Linux 5.8.
fn pidfd_setns_supported() -> bool {
    if std::env::var_os("RSNS_JOIN_VIA_PROC").is_some_and(|v| v == "1") {
        return false;
    }
    let Ok(uts) = nix::sys::utsname::uname() else {
        return false;
    };
    let release = uts.release().to_string_lossy().into_owned();
    let mut parts = release
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (5, 8)
}
