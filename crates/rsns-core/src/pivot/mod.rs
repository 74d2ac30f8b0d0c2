//! rs-pivot: pivot_root(2) exactly as pivot_root(8) calls it, and with
//! `--root` the whole change of root a container needs, inside the current
//! mount namespace.
//!
//! Both refuse to run in the host's initial mount namespace unless forced:
//! pivoting the host's root is almost never what was meant.

mod error;
mod host;
mod lookup;
mod root;
mod rules;
mod setup;
mod user;

use std::ffi::OsString;
use std::path::PathBuf;

pub use error::PivotError;
pub use setup::{ExtraMount, OverlayUpper, RootSetup};

/// What rs-pivot was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PivotOptions {
    /// `rs-pivot NEW_ROOT PUT_OLD`: pivot_root(2) and nothing else.
    Swap {
        new_root: PathBuf,
        put_old: PathBuf,
        force: bool,
    },
    /// `rs-pivot --root NEW_ROOT [-- COMMAND...]`.
    Root(Box<RootOptions>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootOptions {
    /// The directory, or (with `root_overlay`) the option that made the
    /// overlay, as messages name the new root.
    pub new_root: PathBuf,
    /// An overlay at / given without --root: it is the new root.
    pub root_overlay: Option<ExtraMount>,
    /// Keep the old root mounted here (a directory inside the new root)
    /// instead of detaching it.
    pub keep_old: Option<PathBuf>,
    /// Empty: the shell.
    pub command: Vec<OsString>,
    pub force: bool,
    /// /dev, /proc, /sys, binds and a read-only image, mounted before the pivot.
    pub setup: RootSetup,
    /// The privileges dropped right before exec.
    pub drop: DropSpec,
    /// `--chdir`: the working directory in the new root (default /).
    pub chdir: Option<PathBuf>,
    /// `--setenv`, `--unsetenv`, `--clearenv`: the program's environment;
    /// None: ours.
    pub env: Option<Vec<(OsString, OsString)>>,
}

/// `--user`, `--caps`, `--nnp`, `--seccomp`: the drop after the root is set up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DropSpec {
    /// USER[:GROUP], names as the image's /etc/passwd and /etc/group have them.
    pub user: Option<String>,
    pub caps: Option<u64>,
    pub nnp: bool,
    /// `--seccomp`: container, or a JSON profile.
    pub seccomp: Option<crate::privs::seccomp::Source>,
}

/// Runs what was asked. `Swap` returns once the pivot is done; `Root`
/// returns only with an error, as it ends by exec'ing the command.
pub fn run(options: PivotOptions) -> Result<(), PivotError> {
    match options {
        PivotOptions::Swap {
            new_root,
            put_old,
            force,
        } => {
            host::refuse_initial(force)?;
            rules::pivot(&new_root, &put_old)
        }
        PivotOptions::Root(options) => match root::change_root(&options)? {},
    }
}
