//! Which namespaces to enter, and where each comes from: the target (entered
//! through its pidfd), a namespace file, a socket of the target, or the parent
//! user namespace of another one.

use std::fmt;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::statfs::{NSFS_MAGIC, fstatfs};

use super::NsenterError;
use super::options::NsenterOptions;
use crate::error::{SysError, errno_text, io_errno};
use crate::ns::NsKind;
use crate::sys;
use crate::target::{Target, TargetError};

/// Where a namespace to enter comes from.
#[derive(Debug)]
pub(crate) enum Via {
    /// The target's own, entered through its pidfd.
    Target,
    /// A descriptor of the namespace itself.
    Fd(OwnedFd),
}

#[derive(Debug)]
pub(crate) struct Source {
    pub kind: NsKind,
    pub via: Via,
    /// For messages: `PID 42`, `/run/netns/x`, `socket 3 of PID 42`.
    pub origin: String,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the {} namespace of {}", self.kind, self.origin)
    }
}

/// The namespaces to enter, one source per kind.
pub(crate) fn choose(
    opts: &NsenterOptions,
    target: Option<&Target>,
) -> Result<Vec<Source>, NsenterError> {
    let mut sources: Vec<Source> = Vec::new();
    let put = |source: Source, sources: &mut Vec<Source>| {
        sources.retain(|s| s.kind != source.kind);
        sources.push(source);
    };
    for (kind, file) in &opts.namespaces {
        let source = match (file, target) {
            // `=:NSID`, as util-linux 2.42 reads it (a file whose name
            // starts with ':' is given as ./:name).
            (Some(path), _) if path.as_os_str().as_encoded_bytes().starts_with(b":") => {
                let id = &path.as_os_str().as_encoded_bytes()[1..];
                Source {
                    kind: *kind,
                    via: Via::Fd(super::by_id::open(id, *kind)?),
                    origin: format!("namespace ID {}", String::from_utf8_lossy(id)),
                }
            }
            (Some(path), _) => Source {
                kind: *kind,
                via: Via::Fd(open_ns_file(path, *kind)?),
                origin: path.display().to_string(),
            },
            (None, Some(t)) => Source {
                kind: *kind,
                via: Via::Target,
                origin: format!("PID {}", t.pid),
            },
            (None, None) => {
                return Err(NsenterError::Usage(format!(
                    "--{0} needs a target (-t PID) or a file (--{0}=FILE)",
                    kind.option_name()
                )));
            }
        };
        put(source, &mut sources);
    }
    if let Some(fd) = opts.net_socket {
        let t = target
            .ok_or_else(|| NsenterError::Usage("--net-socket needs a target (-t PID)".into()))?;
        put(socket_netns(t, fd)?, &mut sources);
    }
    if opts.all {
        let t =
            target.ok_or_else(|| NsenterError::Usage("--all needs a target (-t PID)".into()))?;
        for kind in NsKind::ALL {
            if sources.iter().any(|s| s.kind == kind) {
                continue;
            }
            // No inode of our own: this kernel lacks the kind.
            let Some(ours) = our_inode(kind) else {
                continue;
            };
            // Skip what we already share: entering it changes nothing, and our
            // own user namespace cannot be entered at all.
            if t.ns_inode(kind).ok() == Some(ours) {
                tracing::debug!(kind = kind.proc_name(), "already ours: skipped");
                continue;
            }
            put(
                Source {
                    kind,
                    via: Via::Target,
                    origin: format!("PID {}", t.pid),
                },
                &mut sources,
            );
        }
    }
    if opts.user_parent {
        let parent = parent_user_ns(&sources, target)?;
        put(parent, &mut sources);
    }
    // Our own user namespace cannot be re-entered (setns says EINVAL):
    // entering it is a no-op, so it is dropped.
    sources.retain(|s| {
        let ours = s.kind == NsKind::User && source_inode(s, target) == our_inode(NsKind::User);
        if ours {
            tracing::debug!("the user namespace is already ours: skipped");
        }
        !ours
    });
    Ok(sources)
}

/// Opens a namespace file and checks it is one, of the kind expected.
fn open_ns_file(path: &Path, kind: NsKind) -> Result<OwnedFd, NsenterError> {
    let option = format!("--{}={}", kind.option_name(), path.display());
    let fd: OwnedFd = std::fs::File::open(path)
        .map_err(|e| NsenterError::BadFile(format!("{option}: {}", errno_text(io_errno(&e)))))?
        .into();
    let nsfs = fstatfs(fd.as_fd()).is_ok_and(|s| s.filesystem_type() == NSFS_MAGIC);
    if !nsfs {
        return Err(NsenterError::BadFile(format!(
            "{option}: not a namespace file (expected /proc/PID/ns/{} or a bind mount of one)",
            kind.proc_name()
        )));
    }
    of_kind(fd, kind, &option)
}

/// `fd` if it names a namespace of `kind`, else the error for `option`.
pub(crate) fn of_kind(fd: OwnedFd, kind: NsKind, option: &str) -> Result<OwnedFd, NsenterError> {
    let found = sys::ns_get_nstype(fd.as_fd())
        .ok()
        .and_then(|flag| NsKind::ALL.into_iter().find(|k| k.clone_flag() == flag));
    match found {
        Some(found) if found == kind => Ok(fd),
        Some(found) => Err(NsenterError::BadFile(format!(
            "{option}: a {found} namespace, not a {kind} namespace"
        ))),
        None => Err(NsenterError::BadFile(format!(
            "{option}: not a namespace file"
        ))),
    }
}

/// `-N FD`: the network namespace of the target's socket FD.
fn socket_netns(target: &Target, fd: i32) -> Result<Source, NsenterError> {
    let what = format!("socket {fd} of PID {}", target.pid);
    let socket = sys::pidfd_getfd(target.pidfd.as_fd(), fd).map_err(|errno| {
        let hint = match errno {
            Errno::EBADF => Some(format!("PID {} has no descriptor {fd}", target.pid)),
            Errno::EPERM => {
                Some("taking a descriptor of another process needs ptrace rights over it".into())
            }
            _ => None,
        };
        NsenterError::Sys(
            SysError::new(format!("cannot take {what} (pidfd_getfd)"), errno).with_hint(hint),
        )
    })?;
    let netns = sys::socket_netns(socket.as_fd()).map_err(|errno| {
        let hint = match errno {
            Errno::ENOTTY | Errno::ENOTSOCK => Some(format!(
                "descriptor {fd} of PID {} is not a socket",
                target.pid
            )),
            _ => None,
        };
        NsenterError::Sys(
            SysError::new(
                format!("cannot get the network namespace of {what} (SIOCGSKNS)"),
                errno,
            )
            .with_hint(hint),
        )
    })?;
    Ok(Source {
        kind: NsKind::Net,
        via: Via::Fd(netns),
        origin: what,
    })
}

/// `--user-parent`: the parent of the chosen user namespace, or else the
/// user namespace that owns another chosen one (NS_GET_USERNS).
fn parent_user_ns(sources: &[Source], target: Option<&Target>) -> Result<Source, NsenterError> {
    let from = sources
        .iter()
        .find(|s| s.kind == NsKind::User)
        .or_else(|| sources.first());
    let (fd, origin) = match from {
        Some(source) => (source_fd(source, target)?, source.to_string()),
        None => {
            let t = target.ok_or_else(|| {
                NsenterError::Usage("--user-parent needs a target (-t PID) or a namespace".into())
            })?;
            (
                open_target_ns(t, NsKind::User)?,
                format!("the user namespace of PID {}", t.pid),
            )
        }
    };
    let parent = sys::ns_get_userns(fd.as_fd()).map_err(|errno| {
        let hint = (errno == Errno::EPERM).then(|| {
            "that user namespace's parent is outside our own, where we may not go".to_string()
        });
        NsenterError::Sys(
            SysError::new(
                format!("cannot get the parent user namespace of {origin}"),
                errno,
            )
            .with_hint(hint),
        )
    })?;
    Ok(Source {
        kind: NsKind::User,
        via: Via::Fd(parent),
        origin: format!("the parent of {origin}"),
    })
}

/// A descriptor for a source, opening the target's file if needed.
fn source_fd(source: &Source, target: Option<&Target>) -> Result<OwnedFd, NsenterError> {
    match (&source.via, target) {
        (Via::Fd(fd), _) => fd
            .try_clone()
            .map_err(|e| NsenterError::Sys(SysError::new("dup", io_errno(&e)))),
        (Via::Target, Some(t)) => open_target_ns(t, source.kind),
        (Via::Target, None) => unreachable!("target sources come from a target"),
    }
}

pub(crate) fn open_target_ns(target: &Target, kind: NsKind) -> Result<OwnedFd, NsenterError> {
    let name = format!("ns/{}", kind.proc_name());
    target.open_at(&name, OFlag::O_RDONLY).map_err(|e| match e {
        TargetError::Proc {
            errno: errno @ (Errno::EACCES | Errno::EPERM),
            ..
        } => super::refusal::explain(
            target,
            &[kind],
            format!("cannot open /proc/{}/{name}", target.pid),
            errno,
        ),
        other => other.into(),
    })
}

/// The inode of the namespace a source names, if it can be told.
fn source_inode(source: &Source, target: Option<&Target>) -> Option<u64> {
    match (&source.via, target) {
        (Via::Fd(fd), _) => nix::sys::stat::fstat(fd.as_fd()).ok().map(|st| st.st_ino),
        (Via::Target, Some(t)) => t.ns_inode(source.kind).ok(),
        (Via::Target, None) => None,
    }
}

fn our_inode(kind: NsKind) -> Option<u64> {
    std::fs::metadata(format!("/proc/self/ns/{}", kind.proc_name()))
        .ok()
        .map(|m| m.ino())
}
