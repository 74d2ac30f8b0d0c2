//! Thin wrappers for what nix lacks or wraps with allocation. The only module
//! with `unsafe`; every block says why it is sound.

use std::ffi::{CStr, CString};
use std::os::fd::{FromRawFd, OwnedFd};
use std::ptr;

use nix::errno::Errno;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
use nix::unistd::Pid;

/// What a fork-like call returns on each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forked {
    Parent(Pid),
    Child,
}

/// clone(2) with fork semantics (no new stack, SIGCHLD on exit) plus the given
/// CLONE_NEW* flags, so the child starts inside the new namespaces: with
/// CLONE_NEWPID it is PID 1 without a second fork.
///
/// The caller must be single-threaded, and the child must only make raw,
/// async-signal-safe calls until it execs or `_exit`s (it shares no lock state
/// worth trusting with the parent's libc).
pub fn fork_into(ns_flags: libc::c_int) -> Result<Forked, Errno> {
    let flags = (ns_flags as libc::c_ulong) | (libc::SIGCHLD as libc::c_ulong);
    // SAFETY: with a null stack clone(2) behaves like fork(2): the child gets a
    // copy-on-write image of our single thread and continues on its own copy of
    // the stack. The remaining arguments (parent/child tid, tls) are unused
    // without CLONE_*SETTID/CLONE_SETTLS. Errors come back as -1 with errno.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone,
            flags,
            ptr::null_mut::<libc::c_void>(),
            ptr::null_mut::<libc::c_int>(),
            ptr::null_mut::<libc::c_int>(),
            0 as libc::c_ulong,
        )
    };
    match ret {
        -1 => Err(Errno::last()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(Pid::from_raw(pid as libc::pid_t))),
    }
}

/// clone3(2) with fork semantics, the child starting inside the cgroup v2
/// directory `cgroup` (CLONE_INTO_CGROUP, Linux 5.7+): placed before it runs
/// any code, so nothing it does escapes the group's limits. ENOSYS, E2BIG or
/// EINVAL: the kernel lacks clone3 or CLONE_INTO_CGROUP.
///
/// As for [`fork_into`]: a single-threaded caller, and raw calls only in
/// the child until exec or `_exit`.
pub fn fork_into_cgroup(cgroup: std::os::fd::BorrowedFd<'_>) -> Result<Forked, Errno> {
    use std::os::fd::AsRawFd;
    const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
    #[repr(C)]
    struct CloneArgs {
        flags: u64,
        pidfd: u64,
        child_tid: u64,
        parent_tid: u64,
        exit_signal: u64,
        stack: u64,
        stack_size: u64,
        tls: u64,
        set_tid: u64,
        set_tid_size: u64,
        cgroup: u64,
    }
    let args = CloneArgs {
        flags: CLONE_INTO_CGROUP,
        pidfd: 0,
        child_tid: 0,
        parent_tid: 0,
        exit_signal: libc::SIGCHLD as u64,
        stack: 0,
        stack_size: 0,
        tls: 0,
        set_tid: 0,
        set_tid_size: 0,
        cgroup: cgroup.as_raw_fd() as u64,
    };
    // SAFETY: `args` is a valid clone_args of the size we pass, alive for the
    // call. Without a stack, clone3 behaves like fork(2): the child gets a
    // copy-on-write image of our single thread and goes on on its own copy of
    // the stack; no pointer in `args` is dereferenced by the kernel except
    // the struct itself.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &args as *const CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    match ret {
        -1 => Err(Errno::last()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(Pid::from_raw(pid as libc::pid_t))),
    }
}

/// Declares the C `main` of a tool binary (which must be `#![no_main]`), so
/// std's runtime start-up is skipped. That start-up sets SIGPIPE to SIG_IGN,
/// which an exec'ed program would inherit (`rs-unshare yes | head` would then
/// print "Broken pipe" instead of dying quietly), and it costs a quarter of a
/// millisecond (a /proc/self/maps read, an alternate signal stack) that a
/// tool which runs for two milliseconds notices. `$body` must not return: end
/// with std::process::exit, which also flushes stdout. Test builds keep the
/// test harness's own `main` (use `#![cfg_attr(not(test), no_main)]`).
#[macro_export]
macro_rules! tool_main {
    ($body:path) => {
        // SAFETY: exactly one C `main` exists in a `#![no_main]` binary, with
        // the signature libc's start-up calls; std needs no initialisation of
        // its own on Linux (glibc hands it argv through .init_array).
        #[cfg(not(test))]
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        extern "C" fn main(
            _argc: ::std::ffi::c_int,
            _argv: *const *const ::std::ffi::c_char,
        ) -> ::std::ffi::c_int {
            $crate::sys::open_missing_stdio();
            $body()
        }
    };
}

/// What std's start-up does and `tool_main!` keeps: a closed descriptor 0, 1
/// or 2 is opened on /dev/null, so no file we open later takes its place and
/// receives the program's output.
pub fn open_missing_stdio() {
    for fd in 0..3 {
        if nix::fcntl::fcntl(BorrowedStdio(fd), nix::fcntl::FcntlArg::F_GETFD) == Err(Errno::EBADF)
        {
            // The lowest free descriptor is the missing one; leak it on purpose.
            if let Ok(null) = nix::fcntl::open(
                c"/dev/null",
                nix::fcntl::OFlag::O_RDWR,
                nix::sys::stat::Mode::empty(),
            ) {
                std::mem::forget(null);
            }
        }
    }
}

/// A raw standard descriptor number for fcntl, which may be closed.
struct BorrowedStdio(libc::c_int);

impl std::os::fd::AsFd for BorrowedStdio {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        // SAFETY: only passed to fcntl(F_GETFD), which reports EBADF for a
        // closed descriptor instead of touching anything.
        unsafe { std::os::fd::BorrowedFd::borrow_raw(self.0) }
    }
}

/// fork(2) through libc, for a child that goes on running ordinary code
/// (allocating, spawning helpers): libc's fork resets its own locks and thread
/// bookkeeping in the child, which a raw clone does not.
pub fn fork() -> Result<Forked, Errno> {
    // SAFETY: we are single-threaded (no thread is ever spawned), so no lock
    // can be held by another thread at the moment of the fork and the child's
    // copy of the heap and of libc's state is consistent.
    match unsafe { nix::unistd::fork() }? {
        nix::unistd::ForkResult::Parent { child } => Ok(Forked::Parent(child)),
        nix::unistd::ForkResult::Child => Ok(Forked::Child),
    }
}

/// _exit(2): ends a forked child at once, without running atexit handlers or
/// flushing stdio buffers that belong to the parent's copy of the program.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit takes an int and never returns; it touches no memory of ours.
    unsafe { libc::_exit(code) }
}

/// pidfd_open(2): a descriptor that names one process for as long as we hold
/// it; close-on-exec by the kernel's default.
pub fn pidfd_open(pid: Pid) -> Result<OwnedFd, Errno> {
    pidfd_open_with(pid, 0)
}

/// PIDFD_THREAD (Linux 6.9+): a pidfd for one thread, not a thread group.
pub const PIDFD_THREAD: libc::c_uint = libc::O_EXCL as libc::c_uint;

/// pidfd_open(2) with `flags` (0 or [`PIDFD_THREAD`]).
pub fn pidfd_open_with(pid: Pid, flags: libc::c_uint) -> Result<OwnedFd, Errno> {
    // SAFETY: pidfd_open takes a pid and flags by value and touches no memory
    // of ours; it returns a new descriptor or -1 with errno.
    let ret = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), flags) };
    if ret < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just handed us this descriptor; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as libc::c_int) })
}

/// pidfd_send_signal(pidfd, 0): is the process still there (and not reaped)?
/// Ok or EPERM: it is; ESRCH: it is gone.
pub fn pidfd_probe(pidfd: std::os::fd::BorrowedFd<'_>) -> Result<(), Errno> {
    use std::os::fd::AsRawFd;
    // SAFETY: signal 0 with a null siginfo and no flags only checks existence
    // and permission; no memory of ours is passed.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            0,
            ptr::null::<libc::siginfo_t>(),
            0 as libc::c_uint,
        )
    };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// pidfd_getfd(2): a close-on-exec duplicate of descriptor `fd` of the process.
pub fn pidfd_getfd(pidfd: std::os::fd::BorrowedFd<'_>, fd: libc::c_int) -> Result<OwnedFd, Errno> {
    use std::os::fd::AsRawFd;
    // SAFETY: integers only; returns a new descriptor or -1 with errno.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_getfd,
            pidfd.as_raw_fd(),
            fd,
            0 as libc::c_uint,
        )
    };
    if ret < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just handed us this descriptor; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as libc::c_int) })
}

/// An ioctl that takes no argument and returns a number (or a new descriptor).
fn ioctl_none(
    fd: std::os::fd::BorrowedFd<'_>,
    request: libc::c_ulong,
) -> Result<libc::c_int, Errno> {
    use std::os::fd::AsRawFd;
    // SAFETY: the nsfs and socket requests used here take no argument; the
    // kernel ignores the third parameter, which we pass as 0.
    let ret = unsafe { libc::ioctl(fd.as_raw_fd(), request, 0 as libc::c_ulong) };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(ret)
}

/// `--pty`: unlocks the pseudo-terminal whose master `master` is and opens
/// its peer (TIOCSPTLCK 0, then TIOCGPTPEER, Linux 4.13: the peer comes
/// from the master itself, never from a path in /dev/pts), close-on-exec.
pub fn pty_peer(master: std::os::fd::BorrowedFd<'_>) -> Result<OwnedFd, Errno> {
    use std::os::fd::AsRawFd;
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads one int through the pointer, which points to
    // a live local.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) } < 0 {
        return Err(Errno::last());
    }
    let flags = (libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) as libc::c_ulong;
    // SAFETY: TIOCGPTPEER takes the open flags as its integer argument and
    // returns a new descriptor, which nothing else owns.
    let fd = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTPEER, flags) };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: see above: a new descriptor of ours.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Marks descriptor `fd` close-on-exec if it is a terminal (`--pty`: the
/// program holds no terminal of the caller's). A descriptor that is not
/// open fails isatty and is left alone.
pub fn cloexec_if_terminal(fd: std::os::fd::RawFd) {
    // SAFETY: isatty and fcntl(F_SETFD) take an integer; neither closes,
    // keeps or reads through the descriptor.
    unsafe {
        if libc::isatty(fd) == 1 {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
            }
        }
    }
}

/// TIOCSCTTY: `tty` becomes the controlling terminal of our session (we
/// lead it, and it has none).
pub fn set_controlling_tty(tty: std::os::fd::BorrowedFd<'_>) -> Result<(), Errno> {
    use std::os::fd::AsRawFd;
    // SAFETY: TIOCSCTTY takes an integer (0: do not steal), no pointer.
    if unsafe { libc::ioctl(tty.as_raw_fd(), libc::TIOCSCTTY, 0 as libc::c_ulong) } < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// A terminal's window size (TIOCGWINSZ); none if `fd` is not one.
pub fn window_size(fd: std::os::fd::BorrowedFd<'_>) -> Option<libc::winsize> {
    use std::os::fd::AsRawFd;
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize through the pointer, which
    // points to a live local of that type.
    let ret = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) };
    (ret == 0).then_some(ws)
}

/// TIOCSWINSZ: sets a terminal's window size (the kernel then sends
/// SIGWINCH to its foreground process group).
pub fn set_window_size(fd: std::os::fd::BorrowedFd<'_>, ws: &libc::winsize) -> Result<(), Errno> {
    use std::os::fd::AsRawFd;
    // SAFETY: TIOCSWINSZ reads one winsize through the pointer, which points
    // to a live value of that type.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, ws as *const libc::winsize) } < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// How a descriptor the user named (`--info-fd=N`) is open: O_RDONLY,
/// O_WRONLY or O_RDWR; EBADF if it is not open.
pub fn fd_access_mode(fd: libc::c_int) -> Result<libc::c_int, Errno> {
    // SAFETY: F_GETFL only reads the descriptor's flags; a number that is
    // not an open descriptor gives EBADF.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(Errno::last());
    }
    Ok(flags & libc::O_ACCMODE)
}

/// Takes a descriptor handed to us on the command line for one use
/// (`--info-fd=N`), closed at exec so the program does not inherit it.
/// The caller refuses 0, 1 and 2 and one number given twice.
pub fn adopt_fd(fd: libc::c_int) -> Result<OwnedFd, Errno> {
    fd_access_mode(fd)?;
    // SAFETY: the descriptor is open (checked above) and was given to us for
    // this use alone; nothing else in the process owns it.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    nix::fcntl::fcntl(
        &owned,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    )?;
    Ok(owned)
}

/// A close-on-exec copy of a descriptor the user named, which stays open
/// for whoever else has it (`--file=0:DST` reads stdin, which the command
/// still gets).
pub fn dup_named_fd(fd: libc::c_int) -> Result<OwnedFd, Errno> {
    // SAFETY: F_DUPFD_CLOEXEC makes a new descriptor (3 or above) or fails
    // with EBADF for a number that is not open; nothing is borrowed.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if new < 0 {
        return Err(Errno::last());
    }
    Ok(owned(new))
}

fn owned(fd: libc::c_int) -> OwnedFd {
    // SAFETY: `fd` was just returned by the kernel as a new descriptor.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// NS_GET_NSTYPE: the CLONE_NEW* flag of the namespace a descriptor names.
/// ENOTTY: not a namespace file.
pub fn ns_get_nstype(fd: std::os::fd::BorrowedFd<'_>) -> Result<libc::c_int, Errno> {
    ioctl_none(fd, 0xb703) // _IO(0xb7, 0x3)
}

/// NS_GET_USERNS: the user namespace that owns a namespace (for a user
/// namespace: its parent), as a new close-on-exec descriptor.
pub fn ns_get_userns(fd: std::os::fd::BorrowedFd<'_>) -> Result<OwnedFd, Errno> {
    ioctl_none(fd, 0xb701).map(owned) // _IO(0xb7, 0x1)
}

/// SIOCGSKNS: the network namespace of a socket, as a new descriptor.
pub fn socket_netns(fd: std::os::fd::BorrowedFd<'_>) -> Result<OwnedFd, Errno> {
    ioctl_none(fd, 0x894c).map(owned)
}

/// NS_GET_MNTNS_ID (Linux 6.9+): the 64-bit id of the mount namespace that a
/// /proc/PID/ns/mnt descriptor names.
pub fn mntns_id(fd: std::os::fd::BorrowedFd<'_>) -> Result<u64, Errno> {
    const NS_GET_MNTNS_ID: libc::c_ulong = 0x8008_b705; // _IOR(0xb7, 5, __u64)
    let mut id: u64 = 0;
    // SAFETY: this ioctl writes one u64 through the pointer, which points to
    // `id`, alive and writable for the call; `fd` is a valid descriptor.
    let ret = unsafe {
        libc::ioctl(
            std::os::fd::AsRawFd::as_raw_fd(&fd),
            NS_GET_MNTNS_ID,
            &mut id as *mut u64,
        )
    };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(id)
}

/// NS_GET_ID (Linux 6.18+): the 64-bit ID of the namespace a descriptor
/// names, unique for as long as the machine runs (never reused, unlike
/// inode numbers). ENOTTY before 6.18.
pub fn ns_get_id(fd: std::os::fd::BorrowedFd<'_>) -> Result<u64, Errno> {
    const NS_GET_ID: libc::c_ulong = 0x8008_b70d; // _IOR(0xb7, 13, __u64)
    let mut id: u64 = 0;
    // SAFETY: this ioctl writes one u64 through the pointer, which points to
    // `id`, alive and writable for the call; `fd` is a valid descriptor.
    let ret = unsafe {
        libc::ioctl(
            std::os::fd::AsRawFd::as_raw_fd(&fd),
            NS_GET_ID,
            &mut id as *mut u64,
        )
    };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(id)
}

/// An nsfs file handle (struct file_handle with a struct nsfs_file_handle
/// in it): the namespace's ID, and its CLONE_NEW* type and inode, which
/// 6.18 also requires (later kernels take the ID alone, type and inode 0).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct NsfsHandle {
    pub handle_bytes: u32,
    pub handle_type: i32,
    pub ns_id: u64,
    pub ns_type: u32,
    pub ns_inum: u32,
}

/// name_to_handle_at(fd, "", AT_EMPTY_PATH | AT_HANDLE_FID) of a namespace
/// descriptor: its handle, whose type is the kernel's FILEID_NSFS.
/// EOPNOTSUPP where nsfs has no file handles (before 6.18).
pub fn nsfs_handle_of(fd: std::os::fd::BorrowedFd<'_>) -> Result<NsfsHandle, Errno> {
    const AT_HANDLE_FID: libc::c_int = 0x200;
    let mut handle = NsfsHandle {
        handle_bytes: 16,
        ..NsfsHandle::default()
    };
    let mut mount_id: libc::c_int = 0;
    // SAFETY: the kernel writes at most handle_bytes (16) bytes after the
    // 8-byte header into `handle`, which has exactly that room, and one int
    // into `mount_id`; the path is an empty C string; all live for the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_name_to_handle_at,
            std::os::fd::AsRawFd::as_raw_fd(&fd),
            c"".as_ptr(),
            &mut handle as *mut NsfsHandle,
            &mut mount_id as *mut libc::c_int,
            libc::AT_EMPTY_PATH | AT_HANDLE_FID,
        )
    };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(handle)
}

/// open_by_handle_at(2) of an nsfs handle, `mount_fd` any nsfs descriptor.
pub fn open_nsfs_handle(
    mount_fd: std::os::fd::BorrowedFd<'_>,
    handle: &NsfsHandle,
) -> Result<OwnedFd, Errno> {
    // SAFETY: the kernel reads the 8-byte header and handle_bytes (16) more
    // from `handle`, which holds exactly that and lives for the call; it
    // returns a new descriptor or -1 with errno.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_open_by_handle_at,
            std::os::fd::AsRawFd::as_raw_fd(&mount_fd),
            handle as *const NsfsHandle,
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    };
    if ret < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just handed us this descriptor; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as libc::c_int) })
}

/// NS_GET_PARENT: the parent of a PID or user namespace, as a new descriptor.
/// EPERM: the parent is outside our view; EINVAL: the kind has no parent.
pub fn ns_get_parent(fd: std::os::fd::BorrowedFd<'_>) -> Result<OwnedFd, Errno> {
    ioctl_none(fd, 0xb702).map(owned) // _IO(0xb7, 0x2)
}

/// NS_GET_OWNER_UID: the uid (in our user namespace) of the user that created
/// the user namespace `fd` names. EINVAL for any other kind of namespace.
pub fn ns_get_owner_uid(fd: std::os::fd::BorrowedFd<'_>) -> Result<u32, Errno> {
    const NS_GET_OWNER_UID: libc::c_ulong = 0xb704; // _IO(0xb7, 0x4)
    let mut uid: libc::uid_t = 0;
    // SAFETY: this ioctl writes one uid_t through the pointer, which points to
    // `uid`, alive and writable for the call.
    let ret = unsafe {
        libc::ioctl(
            std::os::fd::AsRawFd::as_raw_fd(&fd),
            NS_GET_OWNER_UID,
            &mut uid as *mut libc::uid_t,
        )
    };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(uid)
}

/// The width of the terminal on `fd`, or None when `fd` is not a terminal.
pub fn terminal_width(fd: std::os::fd::BorrowedFd<'_>) -> Option<usize> {
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize through the pointer, which points
    // to `size`, alive and writable for the call.
    let ret = unsafe {
        libc::ioctl(
            std::os::fd::AsRawFd::as_raw_fd(&fd),
            libc::TIOCGWINSZ,
            &mut size as *mut libc::winsize,
        )
    };
    (ret == 0 && size.ws_col > 0).then_some(usize::from(size.ws_col))
}

/// readlinkat(2) into `buf` without allocating: the length of the target
/// (cut at buf.len()).
pub fn readlinkat(
    dir: std::os::fd::BorrowedFd<'_>,
    name: &CStr,
    buf: &mut [u8],
) -> Result<usize, Errno> {
    use std::os::fd::AsRawFd;
    // SAFETY: `name` is NUL-terminated; the kernel writes at most buf.len()
    // bytes into `buf`, valid and writable for that length.
    let ret = unsafe {
        libc::readlinkat(
            dir.as_raw_fd(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(ret as usize)
}

/// getdents64(2) into `buf`: the number of bytes of records written, 0 at the
/// end of the directory.
pub fn getdents64(dir: std::os::fd::BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
    use std::os::fd::AsRawFd;
    // SAFETY: the kernel writes at most buf.len() bytes of records into
    // `buf`, which is valid and writable for that length during the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_getdents64,
            dir.as_raw_fd(),
            buf.as_mut_ptr(),
            buf.len(),
        )
    };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(ret as usize)
}

/// Where a path is mounted, as statx(2) tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MountOf {
    /// The id of the mount the path is on (as in mountinfo).
    pub mnt_id: u64,
    /// The path is the root of that mount, i.e. a mount point.
    pub is_mount_root: bool,
}

/// statx(2) of `name` under `dir` (AT_EMPTY_PATH with an empty name: `dir`
/// itself), for its mount id and whether it is a mount root (Linux 5.8+).
pub fn mount_of(dir: std::os::fd::BorrowedFd<'_>, name: &CStr) -> Result<MountOf, Errno> {
    use std::os::fd::AsRawFd;
    let mut stx = std::mem::MaybeUninit::<libc::statx>::zeroed();
    // SAFETY: `name` is NUL-terminated and `stx` is a writable statx buffer
    // that outlives the call.
    let ret = unsafe {
        libc::statx(
            dir.as_raw_fd(),
            name.as_ptr(),
            libc::AT_EMPTY_PATH | libc::AT_NO_AUTOMOUNT,
            libc::STATX_MNT_ID,
            stx.as_mut_ptr(),
        )
    };
    if ret < 0 {
        return Err(Errno::last());
    }
    // SAFETY: statx succeeded and filled the buffer (which was zeroed anyway).
    let stx = unsafe { stx.assume_init() };
    if stx.stx_mask & libc::STATX_MNT_ID == 0
        || stx.stx_attributes_mask & libc::STATX_ATTR_MOUNT_ROOT as u64 == 0
    {
        return Err(Errno::ENOSYS);
    }
    Ok(MountOf {
        mnt_id: stx.stx_mnt_id,
        is_mount_root: stx.stx_attributes & libc::STATX_ATTR_MOUNT_ROOT as u64 != 0,
    })
}

/// A NULL-terminated array of C strings, built before a fork so the child can
/// exec without allocating.
#[derive(Debug)]
pub struct CStrArray {
    owned: Vec<CString>,
    ptrs: Vec<*const libc::c_char>,
}

impl CStrArray {
    pub fn new(owned: Vec<CString>) -> CStrArray {
        // The CStrings' heap buffers do not move when the Vec moves, so the
        // pointers stay valid for as long as `owned` lives.
        let ptrs = owned
            .iter()
            .map(|s| s.as_ptr())
            .chain(std::iter::once(ptr::null()))
            .collect();
        CStrArray { owned, ptrs }
    }

    pub fn strings(&self) -> &[CString] {
        &self.owned
    }
}

unsafe extern "C" {
    /// libc's current environment.
    static environ: *const *const libc::c_char;
}

/// The envp for execve: the array given, or our own environment.
fn envp_ptr(envp: Option<&CStrArray>) -> *const *const libc::c_char {
    match envp {
        Some(array) => array.ptrs.as_ptr(),
        // SAFETY: reading the pointer value of libc's `environ`; nothing in this
        // single-threaded process changes the environment concurrently.
        None => unsafe { environ },
    }
}

/// execve(2) without allocating; `envp` `None` passes our own environment.
/// Returns only on failure.
pub fn execve(path: &CStr, argv: &CStrArray, envp: Option<&CStrArray>) -> Errno {
    // SAFETY: `path` is a valid C string; argv and envp are NULL-terminated
    // arrays of pointers to C strings that live for the duration of the call
    // (the CStrArrays own theirs, libc owns `environ`).
    unsafe { libc::execve(path.as_ptr(), argv.ptrs.as_ptr(), envp_ptr(envp)) };
    Errno::last()
}

/// What execvp(3) does for a file without a recognised header (ENOEXEC): run it
/// with `sh`, as `sh FILE ARGS...`. `argv` is the program's own argv.
///
/// `scratch` must have room for `argv.len() + 2` pointers; it is filled in place
/// so nothing is allocated in a forked child.
pub fn execve_with_shell(
    sh: &CStr,
    file: &CStr,
    argv: &CStrArray,
    envp: Option<&CStrArray>,
    scratch: &mut Vec<*const libc::c_char>,
) -> Errno {
    let args = argv.ptrs.len() - 1; // without the NULL
    let needed = args + 2; // sh, file, argv[1..], NULL
    if scratch.capacity() < needed {
        return Errno::E2BIG;
    }
    scratch.clear();
    scratch.push(sh.as_ptr());
    scratch.push(file.as_ptr());
    scratch.extend_from_slice(&argv.ptrs[1.min(args)..]);
    // SAFETY: `scratch` holds pointers to C strings owned by `sh`, `file` and
    // `argv`, all alive for this call, and ends with the NULL copied from `argv`.
    unsafe { libc::execve(sh.as_ptr(), scratch.as_ptr(), envp_ptr(envp)) };
    Errno::last()
}

/// Resets a signal to its default action. Needed before re-raising a signal on
/// ourselves and to undo an inherited SIG_IGN for SIGCHLD, which would make the
/// kernel reap our child before we can learn its status.
pub fn set_default_action(sig: Signal) -> Result<(), Errno> {
    let action = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    // SAFETY: installing SIG_DFL runs no code of ours in signal context.
    unsafe { sigaction(sig, &action) }.map(drop)
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const CAP_VERSION_3: u32 = 0x2008_0522;

/// The capability sets of the calling thread, as 64-bit masks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CapSets {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
}

/// capget(2) for the calling thread.
pub fn cap_get() -> Result<CapSets, Errno> {
    let mut header = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: version 3 of the interface reads two CapData structs, which is
    // exactly the array we pass; the header is a valid, writable struct.
    let ret = unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) };
    if ret != 0 {
        return Err(Errno::last());
    }
    let join = |lo: u32, hi: u32| (u64::from(hi) << 32) | u64::from(lo);
    Ok(CapSets {
        effective: join(data[0].effective, data[1].effective),
        permitted: join(data[0].permitted, data[1].permitted),
        inheritable: join(data[0].inheritable, data[1].inheritable),
    })
}

/// capset(2) for the calling thread.
pub fn cap_set(sets: CapSets) -> Result<(), Errno> {
    let mut header = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let split = |v: u64| (v as u32, (v >> 32) as u32);
    let (e0, e1) = split(sets.effective);
    let (p0, p1) = split(sets.permitted);
    let (i0, i1) = split(sets.inheritable);
    let data = [
        CapData {
            effective: e0,
            permitted: p0,
            inheritable: i0,
        },
        CapData {
            effective: e1,
            permitted: p1,
            inheritable: i1,
        },
    ];
    // SAFETY: version 3 reads two CapData structs from `data`, which lives for
    // the call; the header is a valid struct.
    let ret = unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) };
    if ret != 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap): keep `cap` across execve of
/// a program that is not root.
pub fn ambient_raise(cap: u32) -> Result<(), Errno> {
    // SAFETY: prctl with integer arguments only; the unused trailing arguments
    // must be zero for this option.
    let ret = unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
            libc::c_ulong::from(cap),
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    if ret != 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// The prctl(2) options that take and return plain integers, never a
/// pointer: the only ones [`prctl_int`] passes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrctlInt {
    /// PR_CAPBSET_READ(cap): 1 if `cap` is in the bounding set.
    CapBsetRead,
    /// PR_CAPBSET_DROP(cap).
    CapBsetDrop,
    /// PR_CAP_AMBIENT(PR_CAP_AMBIENT_IS_SET, cap).
    AmbientIsSet,
    /// PR_CAP_AMBIENT(PR_CAP_AMBIENT_LOWER, cap).
    AmbientLower,
    /// PR_CAP_AMBIENT(PR_CAP_AMBIENT_CLEAR_ALL).
    AmbientClearAll,
    GetSecurebits,
    SetSecurebits,
    GetNoNewPrivs,
    /// PR_SET_NO_NEW_PRIVS(1): there is no way back.
    SetNoNewPrivs,
    SetKeepCaps,
    SetPdeathsig,
    /// PR_SET_PTRACER(pid, or -1 for any).
    SetPtracer,
    GetSeccomp,
}

/// prctl(2) for an option of [`PrctlInt`] with integer argument `arg`.
pub fn prctl_int(option: PrctlInt, arg: libc::c_ulong) -> Result<libc::c_int, Errno> {
    let (op, a2, a3) = match option {
        PrctlInt::CapBsetRead => (libc::PR_CAPBSET_READ, arg, 0),
        PrctlInt::CapBsetDrop => (libc::PR_CAPBSET_DROP, arg, 0),
        PrctlInt::AmbientIsSet => (
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_IS_SET as libc::c_ulong,
            arg,
        ),
        PrctlInt::AmbientLower => (
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_LOWER as libc::c_ulong,
            arg,
        ),
        PrctlInt::AmbientClearAll => (
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
        ),
        PrctlInt::GetSecurebits => (libc::PR_GET_SECUREBITS, 0, 0),
        PrctlInt::SetSecurebits => (libc::PR_SET_SECUREBITS, arg, 0),
        PrctlInt::GetNoNewPrivs => (libc::PR_GET_NO_NEW_PRIVS, 0, 0),
        PrctlInt::SetNoNewPrivs => (libc::PR_SET_NO_NEW_PRIVS, 1, 0),
        PrctlInt::SetKeepCaps => (libc::PR_SET_KEEPCAPS, arg, 0),
        PrctlInt::SetPdeathsig => (libc::PR_SET_PDEATHSIG, arg, 0),
        PrctlInt::SetPtracer => (libc::PR_SET_PTRACER, arg, 0),
        PrctlInt::GetSeccomp => (libc::PR_GET_SECCOMP, 0, 0),
    };
    // SAFETY: every option above takes integers only (none reads or writes
    // memory through an argument); unused arguments are zero, as required.
    let ret = unsafe { libc::prctl(op, a2, a3, 0 as libc::c_ulong, 0 as libc::c_ulong) };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(ret)
}

/// The ptrace(2) requests `--same-privs` makes of the target: seize it,
/// stop it, read its seccomp filters, let it go.
#[derive(Debug, Clone, Copy)]
pub enum Ptrace {
    Seize,
    Interrupt,
    Detach,
}

/// ptrace(`request`, `pid`, 0, 0).
pub fn ptrace(request: Ptrace, pid: Pid) -> Result<(), Errno> {
    let request = match request {
        Ptrace::Seize => libc::PTRACE_SEIZE,
        Ptrace::Interrupt => libc::PTRACE_INTERRUPT,
        Ptrace::Detach => libc::PTRACE_DETACH,
    };
    // SAFETY: these requests take no pointer (addr and data are 0).
    let ret = unsafe { libc::ptrace(request, pid.as_raw(), 0usize, 0usize) };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// PTRACE_SECCOMP_GET_FILTER: the `index`th classic BPF filter of the
/// stopped tracee `pid` (0 is the first installed); its length when `buf`
/// is `None`, else copied into `buf`, which must hold that many.
pub fn ptrace_seccomp_filter(
    pid: Pid,
    index: usize,
    buf: Option<&mut [libc::sock_filter]>,
) -> Result<usize, Errno> {
    const PTRACE_SECCOMP_GET_FILTER: libc::c_uint = 0x420c;
    let data = buf.map_or(ptr::null_mut(), |b| b.as_mut_ptr());
    // SAFETY: `data` is NULL (the kernel only counts) or a buffer the caller
    // sized from that count, alive for the call; the kernel writes at most
    // the filter's length, which cannot change while the tracee is stopped.
    let ret = unsafe { libc::ptrace(PTRACE_SECCOMP_GET_FILTER, pid.as_raw(), index, data) };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(ret as usize)
}

/// seccomp(SECCOMP_SET_MODE_FILTER, `flags`) of a classic BPF program
/// (`filter`, 8 bytes per instruction, as setpriv and enosys write it).
/// Needs no_new_privs or CAP_SYS_ADMIN.
pub fn seccomp_load(filter: &[libc::sock_filter], flags: u32) -> Result<(), Errno> {
    const SECCOMP_SET_MODE_FILTER: libc::c_uint = 1;
    let len = libc::c_ushort::try_from(filter.len()).map_err(|_| Errno::EINVAL)?;
    let prog = libc::sock_fprog {
        len,
        filter: filter.as_ptr().cast_mut(),
    };
    // SAFETY: the kernel reads `len` instructions from `filter`, which holds
    // exactly that many and lives for the call, through `prog`, also alive.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_FILTER,
            flags as libc::c_uint,
            &prog as *const libc::sock_fprog,
        )
    };
    if ret != 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION): the
/// Landlock ABI version of this kernel; EOPNOTSUPP or ENOSYS where none.
pub fn landlock_abi() -> Result<libc::c_int, Errno> {
    // SAFETY: with a null attribute pointer and size 0 the kernel reads no
    // memory; it returns a number or -1 with errno.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u64>(),
            0usize,
            1 as libc::c_uint,
        )
    };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(ret as libc::c_int)
}

/// landlock_create_ruleset with `handled_access_fs`: a ruleset descriptor.
pub fn landlock_create_ruleset(handled_access_fs: u64) -> Result<OwnedFd, Errno> {
    // SAFETY: the kernel reads size_of::<u64>() bytes, the first field of
    // struct landlock_ruleset_attr, from the u64 we pass, alive for the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            &handled_access_fs as *const u64,
            std::mem::size_of::<u64>(),
            0 as libc::c_uint,
        )
    };
    if ret < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just handed us this descriptor; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as libc::c_int) })
}

/// struct landlock_path_beneath_attr (packed, as the kernel declares it).
#[repr(C, packed)]
struct PathBeneath {
    allowed_access: u64,
    parent_fd: i32,
}

/// landlock_add_rule(ruleset, LANDLOCK_RULE_PATH_BENEATH, ...): `allowed`
/// beneath the file or directory `parent` is open on.
pub fn landlock_allow_beneath(
    ruleset: std::os::fd::BorrowedFd<'_>,
    parent: std::os::fd::BorrowedFd<'_>,
    allowed: u64,
) -> Result<(), Errno> {
    use std::os::fd::AsRawFd;
    let attr = PathBeneath {
        allowed_access: allowed,
        parent_fd: parent.as_raw_fd(),
    };
    // SAFETY: the kernel reads one packed path-beneath attribute from
    // `attr`, alive for the call; both descriptors are valid.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_landlock_add_rule,
            ruleset.as_raw_fd(),
            1 as libc::c_int,
            &attr as *const PathBeneath,
            0 as libc::c_uint,
        )
    };
    if ret != 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// landlock_restrict_self(ruleset, 0): the ruleset binds this thread and
/// every program it runs, for good.
pub fn landlock_restrict_self(ruleset: std::os::fd::BorrowedFd<'_>) -> Result<(), Errno> {
    use std::os::fd::AsRawFd;
    // SAFETY: integer arguments only: a valid descriptor and flags 0.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_landlock_restrict_self,
            ruleset.as_raw_fd(),
            0 as libc::c_uint,
        )
    };
    if ret != 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// One eBPF instruction (struct bpf_insn): opcode, dst and src registers
/// (4 bits each), offset, immediate.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BpfInsn {
    pub code: u8,
    pub regs: u8,
    pub off: i16,
    pub imm: i32,
}

/// The head of union bpf_attr for BPF_PROG_LOAD, up to
/// expected_attach_type; the kernel takes a shorter attr as zero-filled.
#[repr(C)]
struct BpfProgLoad {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

/// The attr of BPF_PROG_ATTACH.
#[repr(C)]
struct BpfProgAttach {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
}

const BPF_PROG_LOAD: libc::c_int = 5;
const BPF_PROG_ATTACH: libc::c_int = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

/// bpf(BPF_PROG_LOAD) of a BPF_PROG_TYPE_CGROUP_DEVICE program; the
/// verifier's log (when it refuses) is returned with the errno.
pub fn bpf_load_device_program(insns: &[BpfInsn]) -> Result<OwnedFd, (Errno, String)> {
    // Without a log first: a log buffer too small for the verifier's trace
    // of a valid program fails the load (ENOSPC). The log only on failure.
    match bpf_load_device_program_with_log(insns, 0) {
        Ok(fd) => Ok(fd),
        Err((errno, _)) => match bpf_load_device_program_with_log(insns, 1 << 16) {
            Ok(fd) => Ok(fd),
            Err((_, log)) => Err((errno, log)),
        },
    }
}

fn bpf_load_device_program_with_log(
    insns: &[BpfInsn],
    log_size: usize,
) -> Result<OwnedFd, (Errno, String)> {
    let license = c"GPL";
    let mut log = vec![0u8; log_size];
    let mut name = [0u8; 16];
    name[..11].copy_from_slice(b"rsns_device");
    let attr = BpfProgLoad {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: u32::try_from(insns.len()).map_err(|_| (Errno::E2BIG, String::new()))?,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        log_level: u32::from(log_size > 0),
        log_size: log.len() as u32,
        log_buf: if log_size > 0 {
            log.as_mut_ptr() as u64
        } else {
            0
        },
        kern_version: 0,
        prog_flags: 0,
        prog_name: name,
        prog_ifindex: 0,
        expected_attach_type: BPF_CGROUP_DEVICE,
    };
    // SAFETY: the kernel reads `insn_cnt` instructions from `insns` and the
    // license string, and writes at most `log_size` bytes into `log`; all
    // live for the call; `attr` is a valid prefix of union bpf_attr.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_PROG_LOAD,
            &attr as *const BpfProgLoad,
            std::mem::size_of::<BpfProgLoad>(),
        )
    };
    if ret < 0 {
        let errno = Errno::last();
        let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
        return Err((errno, String::from_utf8_lossy(&log[..end]).into_owned()));
    }
    // SAFETY: the kernel just handed us this descriptor; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as libc::c_int) })
}

/// bpf(BPF_PROG_ATTACH) of a device program to the cgroup `group` is open
/// on (BPF_F_ALLOW_MULTI: programs of groups above still apply).
pub fn bpf_attach_device_program(
    group: std::os::fd::BorrowedFd<'_>,
    program: std::os::fd::BorrowedFd<'_>,
) -> Result<(), Errno> {
    use std::os::fd::AsRawFd;
    let attr = BpfProgAttach {
        target_fd: group.as_raw_fd() as u32,
        attach_bpf_fd: program.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
    };
    // SAFETY: the kernel reads the attr, alive for the call; both
    // descriptors are valid.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_PROG_ATTACH,
            &attr as *const BpfProgAttach,
            std::mem::size_of::<BpfProgAttach>(),
        )
    };
    if ret != 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// mount_setattr(2) on the mount `mnt` is open on (with `recursive`, every
/// mount below it too): sets `set` and clears `clear`, MOUNT_ATTR_* bits
/// (Linux 5.12+; ENOSYS before). Works on a detached mount as well.
pub fn mount_setattr(
    mnt: std::os::fd::BorrowedFd<'_>,
    recursive: bool,
    set: u64,
    clear: u64,
) -> Result<(), Errno> {
    use std::os::fd::AsRawFd;
    let attr = libc::mount_attr {
        attr_set: set,
        attr_clr: clear,
        propagation: 0,
        userns_fd: 0,
    };
    let flags = libc::AT_EMPTY_PATH | if recursive { libc::AT_RECURSIVE } else { 0 };
    // SAFETY: the path is a NUL-terminated empty string, `attr` is a valid
    // mount_attr that outlives the call, and its size is passed with it.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            mnt.as_raw_fd(),
            c"".as_ptr(),
            flags,
            &attr as *const libc::mount_attr,
            std::mem::size_of::<libc::mount_attr>(),
        )
    };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// mount_setattr(2) with AT_RECURSIVE: makes the mount at `dir` and every
/// mount below it read-only (Linux 5.12+; ENOSYS before).
pub fn make_tree_read_only(dir: std::os::fd::BorrowedFd<'_>) -> Result<(), Errno> {
    mount_setattr(dir, true, libc::MOUNT_ATTR_RDONLY, 0)
}

/// close_range(2) of every descriptor from `first` up, but `keep` (Linux
/// 5.9). For a process that goes on without the descriptors it inherited:
/// none of them may be owned by a live `OwnedFd` of ours, but `keep`'s.
pub fn close_all_from(first: libc::c_uint, keep: std::os::fd::BorrowedFd<'_>) -> Result<(), Errno> {
    use std::os::fd::AsRawFd;
    let keep = keep.as_raw_fd() as libc::c_uint;
    let mut ranges = vec![(keep + 1, libc::c_uint::MAX)];
    if keep > first {
        ranges.push((first, keep - 1));
    }
    for (from, to) in ranges {
        // SAFETY: close_range only closes descriptors; the caller promises
        // none in the range is owned by anything that will use or close it.
        let ret = unsafe { libc::syscall(libc::SYS_close_range, from, to, 0 as libc::c_uint) };
        if ret < 0 {
            return Err(Errno::last());
        }
    }
    Ok(())
}

/// A raw syscall's result as a new descriptor we own.
fn owned_fd(ret: libc::c_long) -> Result<OwnedFd, Errno> {
    if ret < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just returned this descriptor to us (with
    // close-on-exec set), and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as libc::c_int) })
}

/// fsopen(2): a file system context for `fstype` (Linux 5.2), close-on-exec.
pub fn fsopen(fstype: &CStr) -> Result<OwnedFd, Errno> {
    // SAFETY: `fstype` is NUL-terminated and outlives the call.
    owned_fd(unsafe { libc::syscall(libc::SYS_fsopen, fstype.as_ptr(), libc::FSOPEN_CLOEXEC) })
}

/// fsconfig(2): `key=value` (a string), `key` alone (a flag, with no
/// value), or the command that creates the super block (no key).
pub fn fsconfig(
    fs: std::os::fd::BorrowedFd<'_>,
    key: Option<&CStr>,
    value: Option<&CStr>,
) -> Result<(), Errno> {
    use std::os::fd::AsRawFd;
    let (cmd, key, value) = match (key, value) {
        (Some(k), Some(v)) => (libc::FSCONFIG_SET_STRING, k.as_ptr(), v.as_ptr()),
        (Some(k), None) => (libc::FSCONFIG_SET_FLAG, k.as_ptr(), ptr::null()),
        (None, _) => (libc::FSCONFIG_CMD_CREATE, ptr::null(), ptr::null()),
    };
    // SAFETY: key and value are NUL-terminated strings that outlive the call,
    // or NULL where the command takes none; aux is 0 for these commands.
    let ret = unsafe { libc::syscall(libc::SYS_fsconfig, fs.as_raw_fd(), cmd, key, value, 0) };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// fsmount(2): a detached mount of the created file system, close-on-exec,
/// with MOUNT_ATTR_* `attrs` (read-only, nosuid, ...) set from the start.
pub fn fsmount(fs: std::os::fd::BorrowedFd<'_>, attrs: u64) -> Result<OwnedFd, Errno> {
    use std::os::fd::AsRawFd;
    // SAFETY: plain integer arguments; the result is a new descriptor.
    owned_fd(unsafe {
        libc::syscall(
            libc::SYS_fsmount,
            fs.as_raw_fd(),
            libc::FSMOUNT_CLOEXEC,
            attrs as libc::c_uint,
        )
    })
}

/// open_tree(2) with OPEN_TREE_CLONE on `dir` itself: a detached copy of
/// the mount there (with every mount below it when `recursive`), to attach
/// elsewhere with [`move_mount`] (Linux 5.2).
pub fn clone_tree(dir: std::os::fd::BorrowedFd<'_>, recursive: bool) -> Result<OwnedFd, Errno> {
    use std::os::fd::AsRawFd;
    let flags = libc::OPEN_TREE_CLONE
        | libc::OPEN_TREE_CLOEXEC
        | libc::AT_EMPTY_PATH as libc::c_uint
        | if recursive {
            libc::AT_RECURSIVE as libc::c_uint
        } else {
            0
        };
    // SAFETY: the path is a NUL-terminated empty string (AT_EMPTY_PATH: the
    // descriptor itself); the result is a new descriptor.
    owned_fd(unsafe { libc::syscall(libc::SYS_open_tree, dir.as_raw_fd(), c"".as_ptr(), flags) })
}

/// move_mount(2): attaches the mount `mnt` is open on (detached, or moved
/// from where it is) onto `dst` `name` (`dst` itself when `name` is empty).
/// `mnt` goes on naming that mount where it now is.
pub fn move_mount(
    mnt: std::os::fd::BorrowedFd<'_>,
    dst: std::os::fd::BorrowedFd<'_>,
    name: &CStr,
) -> Result<(), Errno> {
    use std::os::fd::AsRawFd;
    let mut flags = libc::MOVE_MOUNT_F_EMPTY_PATH;
    if name.is_empty() {
        flags |= libc::MOVE_MOUNT_T_EMPTY_PATH;
    }
    // SAFETY: both paths are NUL-terminated strings that outlive the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            mnt.as_raw_fd(),
            c"".as_ptr(),
            dst.as_raw_fd(),
            name.as_ptr(),
            flags,
        )
    };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cstr_array_is_null_terminated() {
        let arr = CStrArray::new(vec![c"a".to_owned(), c"bc".to_owned()]);
        assert_eq!(arr.ptrs.len(), 3);
        assert!(arr.ptrs[2].is_null());
        assert_eq!(arr.strings().len(), 2);
    }

    #[test]
    fn capget_reads_own_sets() {
        let sets = cap_get().expect("capget on ourselves");
        // Effective is always a subset of permitted.
        assert_eq!(sets.effective & !sets.permitted, 0);
    }

    #[test]
    fn pidfd_open_refuses_a_pid_that_does_not_exist() {
        // PIDs above pid_max never exist.
        let err = pidfd_open(Pid::from_raw(i32::MAX)).unwrap_err();
        assert_eq!(err, Errno::ESRCH);
    }
}
