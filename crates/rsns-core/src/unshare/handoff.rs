//! `--block-fd`, `--info-fd` and `--json-status-fd`, bubblewrap's hand-offs
//! to whoever sets a box up from outside (a network helper such as pasta,
//! a cgroup move, a supervisor): the box's PID and namespaces as soon as
//! they exist, a wait before the program starts, and how it ended.
//!
//! The JSON is bubblewrap's: `child-pid` and `<kind>-namespace` keys (the
//! inode numbers of /proc/PID/ns/*, every kind the kernel has, where
//! bubblewrap names six), one object per line; `--json-status-fd` then
//! writes `{"exit-code": N}` when the program ends (N as `$?` shows it).

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

use nix::errno::Errno;
use nix::unistd::Pid;

use super::UnshareError;
use crate::error::SysError;

/// The descriptors given, taken over and checked.
#[derive(Debug, Default)]
pub(crate) struct Handoff {
    pub info: Option<OwnedFd>,
    pub status: Option<OwnedFd>,
}

impl Handoff {
    pub(crate) fn wanted(&self) -> bool {
        self.info.is_some() || self.status.is_some()
    }

    /// Writes the box's PID (`pid`, as the caller's PID namespace numbers
    /// it) and the namespaces of /proc/`in_proc`; closes `--info-fd`.
    pub(crate) fn publish(&mut self, pid: Pid, in_proc: &str) -> Result<(), SysError> {
        if !self.wanted() {
            return Ok(());
        }
        let line = info_json(pid, in_proc);
        if let Some(fd) = self.info.take() {
            write_all(&fd, &line, "--info-fd")?;
        }
        if let Some(fd) = &self.status {
            write_all(fd, &line, "--json-status-fd")?;
        }
        Ok(())
    }

    /// `--json-status-fd`: how the program ended, then the descriptor closes.
    pub(crate) fn ended(&mut self, status: i32) -> Result<(), SysError> {
        match self.status.take() {
            Some(fd) => write_all(
                &fd,
                &format!("{{\"exit-code\": {status}}}\n"),
                "--json-status-fd",
            ),
            None => Ok(()),
        }
    }

    /// In the forked child: these are the parent's to write.
    pub(crate) fn close(&mut self) {
        self.info = None;
        self.status = None;
    }
}

/// The namespaces /proc shows, in bubblewrap's key order (then ours).
const KINDS: [&str; 8] = ["cgroup", "ipc", "mnt", "net", "pid", "uts", "user", "time"];

fn info_json(pid: Pid, in_proc: &str) -> String {
    let mut line = format!("{{\"child-pid\": {pid}");
    for kind in KINDS {
        if let Ok(meta) = std::fs::metadata(format!("/proc/{in_proc}/ns/{kind}")) {
            line.push_str(&format!(", \"{kind}-namespace\": {}", meta.ino()));
        }
    }
    line.push_str("}\n");
    line
}

fn write_all(fd: &OwnedFd, text: &str, what: &str) -> Result<(), SysError> {
    let mut rest = text.as_bytes();
    while !rest.is_empty() {
        match nix::unistd::write(fd.as_fd(), rest) {
            Ok(n) => rest = &rest[n..],
            Err(Errno::EINTR) => {}
            Err(e) => return Err(SysError::new(format!("write {what}"), e)),
        }
    }
    Ok(())
}

/// What the user gave: each number open the right way, none of 0-2 (the
/// program's), none twice. Taken over (closed at exec) only once all are
/// good, so a refusal leaves every descriptor as it was.
pub(crate) fn take(
    block: Option<i32>,
    info: Option<i32>,
    status: Option<i32>,
) -> Result<(Option<OwnedFd>, Handoff), UnshareError> {
    let given = [
        ("--block-fd", block, false),
        ("--info-fd", info, true),
        ("--json-status-fd", status, true),
    ];
    let usage = |text: String| UnshareError::Usage(text);
    for (i, &(name, fd, writes)) in given.iter().enumerate() {
        let Some(fd) = fd else { continue };
        if fd < 3 {
            return Err(usage(format!(
                "{name}={fd}: descriptors 0, 1 and 2 are the program's; open another (3>FILE)"
            )));
        }
        if let Some((other, _, _)) = given[..i].iter().find(|(_, f, _)| *f == Some(fd)) {
            return Err(usage(format!("{name}={fd}: {other} is {fd} already")));
        }
        let mode = crate::sys::fd_access_mode(fd)
            .map_err(|_| usage(format!("{name}={fd}: not an open file descriptor")))?;
        let ok = match writes {
            true => mode != libc::O_RDONLY,
            false => mode != libc::O_WRONLY,
        };
        if !ok {
            let way = if writes { "writing" } else { "reading" };
            return Err(usage(format!("{name}={fd}: not open for {way}")));
        }
    }
    let adopt = |fd: Option<i32>, name: &str| {
        fd.map(|fd| {
            crate::sys::adopt_fd(fd).map_err(|e| UnshareError::from(SysError::new(name, e)))
        })
        .transpose()
    };
    Ok((
        adopt(block, "--block-fd")?,
        Handoff {
            info: adopt(info, "--info-fd")?,
            status: adopt(status, "--json-status-fd")?,
        },
    ))
}
