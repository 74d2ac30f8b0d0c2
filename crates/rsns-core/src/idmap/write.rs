//! Writing setgroups, uid_map and gid_map of a process, directly or through
//! the set-uid helpers newuidmap/newgidmap.

use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use nix::errno::Errno;
use nix::unistd::Pid;

use super::{IdKind, IdMap, IdMapError};
use crate::error::{SysError, io_errno};

/// The value of /proc/PID/setgroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setgroups {
    Allow,
    Deny,
}

impl Setgroups {
    pub fn as_str(self) -> &'static str {
        match self {
            Setgroups::Allow => "allow",
            Setgroups::Deny => "deny",
        }
    }
}

impl fmt::Display for Setgroups {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who writes a map: we do, with CAP_SETUID/CAP_SETGID in the parent namespace
/// or for a single id of our own, or newuidmap/newgidmap (set-uid root) checks
/// the ranges against /etc/subuid and /etc/subgid and writes them for us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapWriter {
    Direct,
    Helper,
}

/// Everything written for a new user namespace, in the order the kernel needs:
/// setgroups before gid_map.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MapPlan {
    pub setgroups: Option<Setgroups>,
    pub uid: Option<(IdMap, MapWriter)>,
    pub gid: Option<(IdMap, MapWriter)>,
}

impl std::fmt::Display for MapPlan {
    /// `uid 0 1000 1, gid 0 1000 1 (newuidmap), setgroups deny`, or `none`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        for (kind, map) in [("uid", &self.uid), ("gid", &self.gid)] {
            if let Some((map, writer)) = map {
                let text = map.kernel_text().trim_end().replace('\n', ", ");
                let how = match writer {
                    MapWriter::Direct => "",
                    MapWriter::Helper => " (new{kind}map)",
                };
                parts.push(format!("{kind} {text}{}", how.replace("{kind}", kind)));
            }
        }
        if let Some(s) = self.setgroups {
            parts.push(format!("setgroups {s}"));
        }
        if parts.is_empty() {
            return f.write_str("none");
        }
        f.write_str(&parts.join("; "))
    }
}

impl MapPlan {
    pub fn is_empty(&self) -> bool {
        self.setgroups.is_none() && self.uid.is_none() && self.gid.is_none()
    }

    /// True when the maps must be written from outside the new user namespace:
    /// a process inside may write only a single mapping of its own ids, since
    /// anything else needs a helper or privilege in the parent namespace.
    pub fn needs_outside_writer(&self, own_uid: u32, own_gid: u32) -> bool {
        let own = |entry: &Option<(IdMap, MapWriter)>, id| match entry {
            None => true,
            Some((map, writer)) => *writer == MapWriter::Direct && map.is_single_of(id),
        };
        !(own(&self.uid, own_uid) && own(&self.gid, own_gid))
    }
}

/// The process whose files in /proc are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcTarget {
    Current,
    Pid(Pid),
}

impl ProcTarget {
    pub fn file(self, name: &str) -> PathBuf {
        match self {
            ProcTarget::Current => PathBuf::from(format!("/proc/self/{name}")),
            ProcTarget::Pid(pid) => PathBuf::from(format!("/proc/{pid}/{name}")),
        }
    }

    pub fn pid(self) -> Pid {
        match self {
            ProcTarget::Current => nix::unistd::getpid(),
            ProcTarget::Pid(pid) => pid,
        }
    }
}

/// Writes setgroups, uid_map and gid_map of `target` as `plan` says.
pub fn apply_map_plan(target: ProcTarget, plan: &MapPlan) -> Result<(), IdMapError> {
    if let Some(setgroups) = plan.setgroups {
        write_proc_file(target, "setgroups", setgroups.as_str()).map_err(|e| {
            e.with_hint(Some(
                "setgroups must be written before gid_map, and cannot be allowed when the parent \
                 user namespace denies it"
                    .into(),
            ))
        })?;
        tracing::debug!(target_pid = %target.pid(), %setgroups, "wrote setgroups");
    }
    for (map, writer) in [&plan.uid, &plan.gid].into_iter().flatten() {
        match writer {
            MapWriter::Direct => write_direct(target, map)?,
            MapWriter::Helper => write_with_helper(target.pid(), map)?,
        }
        tracing::debug!(
            target_pid = %target.pid(),
            kind = %map.kind(),
            ?writer,
            map = %map.kernel_text().trim_end().replace('\n', ", "),
            "wrote id map"
        );
    }
    Ok(())
}

fn write_proc_file(target: ProcTarget, name: &str, text: &str) -> Result<(), SysError> {
    let path = target.file(name);
    let result = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|mut file| file.write_all(text.as_bytes()));
    result.map_err(|e| {
        let errno = io_errno(&e);
        SysError::new(
            format!("cannot write '{}' to {}", text.trim_end(), path.display()),
            errno,
        )
    })
}

fn write_direct(target: ProcTarget, map: &IdMap) -> Result<(), IdMapError> {
    let text = map.kernel_text();
    write_proc_file(target, map.kind().map_file(), &text).map_err(|e| {
        let hint = direct_write_hint(map.kind(), e.errno);
        IdMapError::Write(e.with_hint(hint))
    })
}

fn direct_write_hint(kind: IdKind, errno: Errno) -> Option<String> {
    match (kind, errno) {
        (IdKind::Uid, Errno::EPERM) => Some(
            "without CAP_SETUID in the parent user namespace only your own uid can be mapped, as \
             one line; map ranges through newuidmap (package uidmap) with your lines in \
             /etc/subuid; and a map can be written only once"
                .into(),
        ),
        (IdKind::Gid, Errno::EPERM) => Some(
            "without CAP_SETGID only your own gid can be mapped, and only after setgroups is \
             denied (--setgroups=deny); map ranges through newgidmap (package uidmap) with your \
             lines in /etc/subgid"
                .into(),
        ),
        (_, Errno::EINVAL) => Some(
            "the ranges overlap, or name ids that are not mapped in our own user namespace".into(),
        ),
        _ => None,
    }
}

fn write_with_helper(pid: Pid, map: &IdMap) -> Result<(), IdMapError> {
    let program = map.kind().helper();
    let args = map.helper_args();
    let shown = format!("{pid} {}", args.join(" "));
    let fail = |status: String, message: String, hint: String| IdMapError::Helper {
        program,
        args: shown.clone(),
        status,
        message,
        hint,
    };
    let output = Command::new(program)
        .arg(pid.to_string())
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::NotFound {
                "install the uidmap package (apt-get install uidmap)".to_string()
            } else {
                format!("{program} must be installed set-uid root")
            };
            fail(String::new(), format!("cannot run {program}: {e}"), hint)
        })?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let message = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    let status = match output.status.code() {
        Some(code) => format!(" (exit status {code})"),
        None => " (killed by a signal)".to_string(),
    };
    Err(fail(
        status,
        if message.is_empty() {
            "no message".to_string()
        } else {
            message
        },
        format!(
            "{program} allows only your own id and the ranges {} gives your user",
            map.kind().subid_file()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idmap::IdRange;

    #[test]
    fn proc_target_paths() {
        assert_eq!(
            ProcTarget::Current.file("uid_map"),
            PathBuf::from("/proc/self/uid_map")
        );
        assert_eq!(
            ProcTarget::Pid(Pid::from_raw(42)).file("setgroups"),
            PathBuf::from("/proc/42/setgroups")
        );
    }

    #[test]
    fn outside_writer_needed_for_ranges_and_helpers() {
        let single = IdMap::build(IdKind::Uid, Some((0, 1000)), &[]).unwrap();
        let ranged =
            IdMap::build(IdKind::Uid, None, &[IdRange::new(0, 100000, 10).unwrap()]).unwrap();
        let plan = |map: &IdMap, writer| MapPlan {
            uid: Some((map.clone(), writer)),
            ..MapPlan::default()
        };
        assert!(!plan(&single, MapWriter::Direct).needs_outside_writer(1000, 1000));
        assert!(plan(&single, MapWriter::Direct).needs_outside_writer(0, 0));
        assert!(plan(&single, MapWriter::Helper).needs_outside_writer(1000, 1000));
        // One line of ten ids is not a single id of ours: privilege is needed.
        assert!(plan(&ranged, MapWriter::Direct).needs_outside_writer(1000, 1000));
        assert!(!MapPlan::default().needs_outside_writer(0, 0));
        assert!(MapPlan::default().is_empty());
    }
}
