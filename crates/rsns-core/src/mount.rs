//! Mount propagation and proc mounts.

use std::ffi::CStr;
use std::fmt;
use std::str::FromStr;

use nix::errno::Errno;
use nix::mount::{MsFlags, mount};

/// Recursive propagation applied to a new mount namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Propagation {
    /// Nothing crosses in either direction (the default of unshare(1)).
    #[default]
    Private,
    Shared,
    /// Mounts from the parent namespace still arrive; ours do not leave.
    Slave,
    /// Keep what the kernel copied.
    Unchanged,
}

impl Propagation {
    /// The flags for mount(2) on "/", or `None` for `unchanged`.
    pub fn flags(self) -> Option<MsFlags> {
        let kind = match self {
            Propagation::Private => MsFlags::MS_PRIVATE,
            Propagation::Shared => MsFlags::MS_SHARED,
            Propagation::Slave => MsFlags::MS_SLAVE,
            Propagation::Unchanged => return None,
        };
        Some(MsFlags::MS_REC | kind)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Propagation::Private => "private",
            Propagation::Shared => "shared",
            Propagation::Slave => "slave",
            Propagation::Unchanged => "unchanged",
        }
    }
}

impl fmt::Display for Propagation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported propagation mode '{0}' (use private, shared, slave or unchanged)")]
pub struct BadPropagation(pub String);

impl FromStr for Propagation {
    type Err = BadPropagation;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "private" => Ok(Propagation::Private),
            "shared" => Ok(Propagation::Shared),
            "slave" => Ok(Propagation::Slave),
            "unchanged" => Ok(Propagation::Unchanged),
            other => Err(BadPropagation(other.to_string())),
        }
    }
}

/// Changes the propagation of every mount from `/` down. Allocation-free.
pub fn set_propagation(flags: MsFlags) -> Result<(), Errno> {
    mount(None::<&CStr>, c"/", None::<&CStr>, flags, None::<&CStr>)
}

/// Makes `dir` and the mounts under it private; used before mounting proc over
/// a /proc that may be shared, so the new proc does not leak to the host.
pub fn make_private(dir: &CStr) -> Result<(), Errno> {
    mount(
        None::<&CStr>,
        dir,
        None::<&CStr>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&CStr>,
    )
}

/// Mounts a proc file system at `dir` with nosuid, nodev and noexec, showing the
/// PID namespace of the caller. Allocation-free.
pub fn mount_proc(dir: &CStr) -> Result<(), Errno> {
    mount_kernel_fs(c"proc", dir)
}

/// A binfmt_misc instance at `dir`: in a user namespace of its own (Linux
/// 6.7+), that namespace's, empty; else the host's.
pub fn mount_binfmt(dir: &CStr) -> Result<(), Errno> {
    mount_kernel_fs(c"binfmt_misc", dir)
}

/// A kernel file system of type `fstype` (also its source name) at `dir`,
/// nosuid, nodev and noexec.
fn mount_kernel_fs(fstype: &CStr, dir: &CStr) -> Result<(), Errno> {
    mount(
        Some(fstype),
        dir,
        Some(fstype),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&CStr>,
    )
}

/// One definition written to binfmt_misc's register file, in one write.
pub fn register_binfmt(register: &CStr, rule: &CStr) -> Result<(), Errno> {
    let fd = nix::fcntl::open(
        register,
        nix::fcntl::OFlag::O_WRONLY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )?;
    let bytes = rule.to_bytes();
    match nix::unistd::write(&fd, bytes)? {
        n if n == bytes.len() => Ok(()),
        _ => Err(Errno::EIO),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_modes() {
        for mode in [
            Propagation::Private,
            Propagation::Shared,
            Propagation::Slave,
            Propagation::Unchanged,
        ] {
            assert_eq!(mode.as_str().parse::<Propagation>(), Ok(mode));
        }
        assert_eq!(
            "bogus".parse::<Propagation>(),
            Err(BadPropagation("bogus".into()))
        );
        assert_eq!(Propagation::Unchanged.flags(), None);
        assert_eq!(
            Propagation::Slave.flags(),
            Some(MsFlags::MS_REC | MsFlags::MS_SLAVE)
        );
    }
}
