//! rs-unshare's errors: one line each, naming the value, the call and the
//! errno, with the well-known cause when there is one.

use crate::error::SysError;
use crate::idmap::IdMapError;
use crate::launch::LaunchError;
use crate::persist::PersistError;
use crate::pidfile::PidFileError;

#[derive(Debug, thiserror::Error)]
pub enum UnshareError {
    /// Options that contradict each other or cannot work; exit status 1.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Persist(#[from] PersistError),
    #[error(transparent)]
    IdMap(#[from] IdMapError),
    #[error(transparent)]
    Sys(#[from] SysError),
    #[error(transparent)]
    PidFile(#[from] PidFileError),
    /// A step before exec, or the exec itself (exit status 126 or 127).
    #[error(transparent)]
    Launch(#[from] LaunchError),
    /// Reported by the helper that works outside the namespaces.
    #[error("{0}")]
    Outside(String),
}

impl UnshareError {
    /// 127 for a program not found, 126 for one that cannot run, else 1.
    pub fn exit_status(&self) -> i32 {
        match self {
            UnshareError::Launch(e) => e.exit_status(),
            _ => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::launch::LaunchError;
    use nix::errno::Errno;

    #[test]
    fn exit_statuses() {
        let not_found = UnshareError::Launch(LaunchError::Exec {
            program: "x".into(),
            errno: Errno::ENOENT,
        });
        assert_eq!(not_found.exit_status(), 127);
        assert_eq!(
            not_found.to_string(),
            "failed to execute x: No such file or directory (ENOENT)"
        );
        let denied = UnshareError::Launch(LaunchError::Exec {
            program: "x".into(),
            errno: Errno::EACCES,
        });
        assert_eq!(denied.exit_status(), 126);
        assert_eq!(UnshareError::Usage("x".into()).exit_status(), 1);
    }
}
