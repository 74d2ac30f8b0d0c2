//! `--net=:NSID` and the like (util-linux 2.42): a namespace named by its
//! 64-bit ID (NS_GET_ID; never reused while the machine runs, unlike an
//! inode number), opened through an nsfs file handle (Linux 6.18+).
//!
//! Kernels after 6.18 open a handle that carries the ID alone. 6.18 wants
//! the namespace's type and inode in it too: there the inode is found by
//! asking NS_GET_ID of the namespaces of the processes we can see, and the
//! full handle opened. Either way the descriptor we get is checked for the
//! ID and the kind asked, so a namespace that changed under the search can
//! not be entered in its place.

use std::os::fd::{AsFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

use super::NsenterError;
use super::sources::of_kind;
use crate::error::{SysError, errno_text};
use crate::ns::NsKind;
use crate::sys::{self, NsfsHandle};

/// Opens the `kind` namespace whose ID is the decimal `text`.
pub(crate) fn open(text: &[u8], kind: NsKind) -> Result<OwnedFd, NsenterError> {
    let shown = String::from_utf8_lossy(text);
    let option = format!("--{}=:{shown}", kind.option_name());
    let id: u64 = std::str::from_utf8(text)
        .ok()
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|t| t.parse().ok())
        .filter(|&id| id > 0)
        .ok_or_else(|| {
            NsenterError::BadFile(format!(
                "{option}: not a namespace ID (a decimal number after ':')"
            ))
        })?;
    let unsupported = || {
        NsenterError::Usage(format!(
            "{option}: entering a namespace by its ID needs Linux 6.18 or later (nsfs file \
             handles and NS_GET_ID); give a file instead: --{}=/proc/PID/ns/{}",
            kind.option_name(),
            kind.proc_name()
        ))
    };
    // Any nsfs descriptor: the handle type, and the mount for open_by_handle_at.
    let own = nix::fcntl::open(
        c"/proc/self/ns/user",
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| SysError::new("cannot open /proc/self/ns/user", e))?;
    let template = sys::nsfs_handle_of(own.as_fd()).map_err(|_| unsupported())?;
    if sys::ns_get_id(own.as_fd()).is_err() {
        return Err(unsupported());
    }
    let by_id_alone = NsfsHandle {
        ns_id: id,
        ns_type: 0,
        ns_inum: 0,
        ..template
    };
    let fd = match sys::open_nsfs_handle(own.as_fd(), &by_id_alone) {
        Ok(fd) => fd,
        Err(Errno::ESTALE) => {
            let ino = find_inode(id, kind).ok_or_else(|| {
                NsenterError::BadFile(format!(
                    "{option}: no {kind} namespace with ID {id} (this kernel opens one by its ID \
                     only where a process you can see is in it)"
                ))
            })?;
            let full = NsfsHandle {
                ns_type: kind.clone_flag() as u32,
                ns_inum: ino,
                ..by_id_alone
            };
            sys::open_nsfs_handle(own.as_fd(), &full).map_err(|e| handle_error(&option, e))?
        }
        Err(e) => return Err(handle_error(&option, e)),
    };
    let fd = of_kind(fd, kind, &option)?;
    match sys::ns_get_id(fd.as_fd()) {
        Ok(found) if found == id => Ok(fd),
        _ => Err(NsenterError::BadFile(format!(
            "{option}: the namespace changed while it was looked up (try again)"
        ))),
    }
}

fn handle_error(option: &str, errno: Errno) -> NsenterError {
    // The kernel opens another namespace by handle only for a caller that
    // may see every namespace (CAP_SYS_ADMIN in the initial ones).
    let hint = matches!(errno, Errno::EPERM | Errno::ESTALE)
        .then(|| {
            "; hint: the kernel opens a namespace by its ID only for root (CAP_SYS_ADMIN in the \
             initial user namespace) or for a process already in it; give a file instead \
             (/proc/PID/ns/...)"
        })
        .unwrap_or_default();
    NsenterError::BadFile(format!(
        "{option}: cannot open it by its ID (open_by_handle_at): {}{hint}",
        errno_text(errno)
    ))
}

/// The inode of the `kind` namespace with this ID, among the namespaces of
/// the processes in /proc that we may open.
fn find_inode(id: u64, kind: NsKind) -> Option<u32> {
    let link = format!("ns/{}", kind.proc_name());
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .find_map(|pid| {
            let fd = std::fs::File::open(format!("/proc/{pid}/{link}")).ok()?;
            (sys::ns_get_id(fd.as_fd()).ok()? == id)
                .then(|| nix::sys::stat::fstat(fd.as_fd()).ok())
                .flatten()
                .and_then(|st| u32::try_from(st.st_ino).ok())
        })
}
