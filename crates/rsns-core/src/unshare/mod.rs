//! rs-unshare: run a program in new namespaces, as unshare(1) does.
//!
//! [`run`] turns [`UnshareOptions`] into a plan (every check and every string
//! made up front), then runs it in one of two modes: exec mode becomes the
//! program (docs/rs-unshare.md, "process model"), fork mode clones it into the
//! namespaces and supervises it.

mod error;
mod exec_mode;
mod fork_mode;
mod handoff;
mod options;
mod plan;

pub use error::UnshareError;
pub use options::{SingleMap, UnshareOptions};

use crate::process::Outcome;
use plan::{Caller, Mode};

/// Runs the program as `opts` asks. In exec mode this returns only on error;
/// in fork mode it returns how the program ended.
pub fn run(opts: UnshareOptions) -> Result<Outcome, UnshareError> {
    let plan = plan::build(opts, &Caller::current())?;
    tracing::debug!(
        mode = if plan.mode == Mode::Fork { "fork" } else { "exec" },
        namespaces = %plan.namespaces,
        maps = %plan.maps,
        persist = plan.persist.len(),
        program = plan.inside.exec.display(),
        "plan"
    );
    match plan.mode {
        Mode::Fork => fork_mode::run(plan),
        Mode::Exec => exec_mode::run(plan).map(|never| match never {}),
    }
}
