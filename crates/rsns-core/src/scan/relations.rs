//! Parents and owners through the nsfs ioctls (NS_GET_PARENT, NS_GET_USERNS,
//! NS_GET_OWNER_UID), and the network namespace of a socket (SIOCGSKNS).
//! A parent or owner that no process is in is added to the table: the kernel
//! keeps it alive, so it exists, and a tree needs it.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::stat::fstat;
use nix::unistd::Pid;

use super::{Holder, Table};
use crate::ns::NsKind;
use crate::sys;

/// Fills in parent and owner of every namespace from index `start` on,
/// including the ones this adds.
pub(super) fn follow(table: &mut Table<'_>, start: usize) {
    let mut at = start;
    while at < table.scan.namespaces.len() {
        let ns = &table.scan.namespaces[at];
        let kind = ns.kind;
        let Ok(fd) = ns.open(&table.scan.processes) else {
            at += 1;
            continue;
        };
        if matches!(kind, NsKind::User | NsKind::Pid) {
            if let Some((ino, parent)) = related(sys::ns_get_parent(fd.as_fd())) {
                table.scan.namespaces[at].parent = ino;
                table.add_unheld(ino, kind, Holder::Ghost(parent));
            }
        }
        if let Some((ino, owner)) = related(sys::ns_get_userns(fd.as_fd())) {
            table.scan.namespaces[at].owner = ino;
            table.add_unheld(ino, NsKind::User, Holder::Ghost(owner));
        }
        at += 1;
    }
}

/// The inode of the namespace an ioctl returned; EPERM (it is outside our
/// view) and EINVAL (this kind has none) mean there is none to show.
fn related(result: Result<OwnedFd, Errno>) -> Option<(u64, OwnedFd)> {
    let fd = result.ok()?;
    let ino = fstat(fd.as_fd()).ok()?.st_ino;
    Some((ino, fd))
}

/// The uid owning the user namespace of each namespace that no process is in
/// (the USER of such a row, as NS_GET_OWNER_UID reports it).
pub(super) fn owner_uids(table: &mut Table<'_>) {
    for at in 0..table.scan.namespaces.len() {
        let ns = &table.scan.namespaces[at];
        if !ns.procs.is_empty() {
            continue;
        }
        let kind = ns.kind;
        let Ok(fd) = ns.open(&table.scan.processes) else {
            continue;
        };
        table.scan.namespaces[at].owner_uid = owner_uid(fd.as_fd(), kind);
    }
}

fn owner_uid(fd: BorrowedFd<'_>, kind: NsKind) -> Option<u32> {
    if kind == NsKind::User {
        return sys::ns_get_owner_uid(fd).ok();
    }
    let user_ns = sys::ns_get_userns(fd).ok()?;
    sys::ns_get_owner_uid(user_ns.as_fd()).ok()
}

/// The network namespace of socket `fd` of process `pid`: its inode and a
/// descriptor. None when the process is gone or we may not take its fd.
pub(super) fn socket_netns(pid: i32, fd: i32) -> Option<(u64, OwnedFd)> {
    let pidfd = sys::pidfd_open(Pid::from_raw(pid)).ok()?;
    let socket = sys::pidfd_getfd(pidfd.as_fd(), fd).ok()?;
    let ns = sys::socket_netns(socket.as_fd()).ok()?;
    let ino = fstat(ns.as_fd()).ok()?.st_ino;
    Some((ino, ns))
}
