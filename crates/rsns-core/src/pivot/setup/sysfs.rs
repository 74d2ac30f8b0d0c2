//! `--sys`: /sys read-only. A new sysfs where the network namespace allows
//! it (it shows that namespace's devices); else, as rootless runc does, the
//! host's /sys bound and made read-only. /sys/firmware is masked.

use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::mount::MsFlags;
use nix::sys::stat::Mode;

use super::dest::{bind, mount_fs, mount_tmpfs, open_dir, read_only_tree};
use crate::error::SysError;
use crate::pivot::PivotError;

pub(super) fn mount_sys(root: BorrowedFd<'_>) -> Result<(), PivotError> {
    let dir = open_dir(root, "--sys", Path::new("/sys"))?;
    let flags = MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    match mount_fs(c"sysfs", dir.as_fd(), flags, None) {
        Ok(()) => {}
        // A user namespace that does not own the network namespace: sysfs
        // is refused, the host's can be bound.
        Err(Errno::EPERM) => {
            tracing::debug!("a new sysfs was refused; binding the host's /sys read-only");
            let host = open(
                "/sys",
                OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| SysError::new("--sys: open the host's /sys", e))?;
            bind("--sys", host.as_fd(), dir.as_fd())?;
            let top = open_dir(root, "--sys", Path::new("/sys"))?;
            read_only_tree("--sys", top.as_fd())?;
        }
        Err(e) => return Err(SysError::new("--sys: mount a new sysfs on /sys", e).into()),
    }
    let sys = open_dir(root, "--sys", Path::new("/sys"))?;
    match open_dir(sys.as_fd(), "--sys", Path::new("firmware")) {
        Ok(firmware) => mount_tmpfs("--sys", firmware.as_fd(), "mode=0555", true),
        Err(_) => Ok(()),
    }
}
