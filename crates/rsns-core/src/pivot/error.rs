use crate::error::SysError;

/// Why rs-pivot stopped.
#[derive(Debug, thiserror::Error)]
pub enum PivotError {
    /// A check before anything changed, or pivot_root(2)'s refusal explained.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Sys(#[from] SysError),
    /// The command cannot run in the new root.
    #[error("{message}")]
    Command { message: String, status: i32 },
}

impl PivotError {
    /// 127 for a command not found, 126 for one that cannot run, else 1.
    pub fn exit_status(&self) -> i32 {
        match self {
            PivotError::Command { status, .. } => *status,
            _ => 1,
        }
    }
}
