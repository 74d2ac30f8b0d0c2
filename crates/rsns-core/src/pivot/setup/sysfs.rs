//! `--sys`: /sys read-only. A new sysfs where the network namespace allows
//! it (it shows that namespace's devices); else, as rootless runc does, the
//! host's /sys bound and made read-only. /sys/firmware is masked.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag, open};
use nix::sys::stat::Mode;

use super::attach;
use super::dest::{At, Make, mount_tmpfs, open_dir};
use crate::error::SysError;
use crate::pivot::PivotError;
use crate::pivot::lookup::openat2_retrying;

/// Returns the mount at /sys, whose own descriptor the mask is made from.
pub(super) fn mount_sys(root: BorrowedFd<'_>) -> Result<OwnedFd, PivotError> {
    let dir = open_dir(&At::named(root, "--sys", "sys"), &mut Make::No)?;
    let attrs = attach::RDONLY | attach::NOSUID | attach::NODEV | attach::NOEXEC;
    let sys = match attach::new_fs("--sys", c"sysfs", &[], attrs) {
        Ok(mnt) => {
            attach::attach("--sys", mnt.as_fd(), dir.as_fd())?;
            mnt
        }
        // A user namespace that does not own the network namespace: sysfs
        // is refused, the host's can be bound.
        Err(PivotError::Sys(e)) if e.errno == Errno::EPERM => {
            tracing::debug!("a new sysfs was refused; binding the host's /sys read-only");
            let host = open(
                "/sys",
                OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| SysError::new("--sys: open the host's /sys", e))?;
            attach::bind_tree("--sys", host.as_fd(), dir.as_fd(), attach::RDONLY)?
        }
        Err(e) => return Err(e),
    };
    let how = OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC)
        .resolve(
            ResolveFlag::RESOLVE_BENEATH
                | ResolveFlag::RESOLVE_NO_SYMLINKS
                | ResolveFlag::RESOLVE_NO_XDEV,
        );
    match openat2_retrying(sys.as_fd(), "firmware", how) {
        Ok(firmware) => mount_tmpfs("--sys", firmware.as_fd(), "mode=0555", true)?,
        Err(Errno::ENOENT) => {}
        Err(e) => return Err(SysError::new("--sys: open /sys/firmware", e).into()),
    }
    Ok(sys)
}
