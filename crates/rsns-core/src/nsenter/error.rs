//! rs-nsenter's errors: one line each, naming the value, the call and the
//! errno, with the well-known cause when there is one.

use crate::error::SysError;
use crate::launch::LaunchError;
use crate::target::TargetError;

#[derive(Debug, thiserror::Error)]
pub enum NsenterError {
    /// Options that contradict each other or cannot work; exit status 1.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Target(#[from] TargetError),
    /// A namespace file that is missing, not one, or of another kind.
    #[error("{0}")]
    BadFile(String),
    #[error(transparent)]
    Sys(#[from] SysError),
    /// A step before exec, or the exec itself (exit status 126 or 127).
    #[error(transparent)]
    Launch(#[from] LaunchError),
    /// The program is not in the target's root file system, or its ELF
    /// interpreter is not (exit status 127).
    #[error("{0}")]
    Missing(String),
}

impl NsenterError {
    /// 127 for a program not found, 126 for one that cannot run, else 1.
    pub fn exit_status(&self) -> i32 {
        match self {
            NsenterError::Launch(e) => e.exit_status(),
            NsenterError::Missing(_) => 127,
            _ => 1,
        }
    }
}
