//! `--seccomp=container|FILE`: a profile (built in, or JSON as docker,
//! podman and OCI write them) compiled to BPF in the process and loaded
//! right before exec.

pub mod compile;
mod container;
mod precompiled;
pub mod profile;

use std::path::PathBuf;

use nix::errno::Errno;

use crate::error::SysError;
use crate::sys::{self, PrctlInt};
pub use compile::Compiled;

/// Which profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Container,
    File(PathBuf),
}

impl Source {
    /// `container`, else a file (`./container` for one of that name).
    pub fn parse(text: &str) -> Source {
        match text {
            "container" => Source::Container,
            _ => Source::File(text.into()),
        }
    }
}

/// Reads and compiles the profile for a program that will hold `caps`;
/// before anything changes, so a bad profile leaves nothing done.
pub fn prepare(source: &Source, caps: u64) -> Result<Compiled, String> {
    if *source == Source::Container
        && let Some(compiled) = precompiled::container(caps)
    {
        return Ok(compiled);
    }
    let profile = match source {
        Source::Container => container::profile(),
        Source::File(path) => {
            let shown = crate::text::safe_path(path);
            let meta = std::fs::metadata(path).map_err(|e| {
                format!(
                    "--seccomp={shown}: {}",
                    crate::error::errno_text(crate::error::io_errno(&e))
                )
            })?;
            if !meta.is_file() {
                return Err(format!("--seccomp={shown}: not a regular file"));
            }
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("--seccomp={shown}: {e}"))?;
            profile::parse(&text).map_err(|e| format!("--seccomp={shown}: {e}"))?
        }
    };
    let arch = compile::Arch::native().ok_or_else(|| {
        format!(
            "--seccomp: no system call table for {}",
            std::env::consts::ARCH
        )
    })?;
    let release = nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default();
    let target = compile::Target {
        arch,
        caps,
        kernel: compile::version(&release),
    };
    compile::compile(&profile, target).map_err(|e| format!("--seccomp: {e}"))
}

/// Loads the filters. Without CAP_SYS_ADMIN the kernel takes a filter only
/// under no_new_privs, which is then set (and said, with -v).
pub fn load(compiled: &Compiled) -> Result<(), SysError> {
    if sys::prctl_int(PrctlInt::GetSeccomp, 0) == Err(Errno::EINVAL) {
        return Err(SysError::new(
            "--seccomp: this kernel has no seccomp filters",
            Errno::EINVAL,
        ));
    }
    const CAP_SYS_ADMIN: u32 = 21;
    if !crate::caps::is_effective(CAP_SYS_ADMIN)
        && sys::prctl_int(PrctlInt::GetNoNewPrivs, 0) != Ok(1)
    {
        sys::prctl_int(PrctlInt::SetNoNewPrivs, 1)
            .map_err(|e| SysError::new("--seccomp: set no_new_privs", e))?;
        tracing::info!(
            "no_new_privs set: without CAP_SYS_ADMIN the kernel takes a seccomp filter only so"
        );
    }
    for filter in &compiled.filters {
        sys::seccomp_load(filter, compiled.flags)
            .map_err(|e| SysError::new("--seccomp: load the filter (seccomp)", e))?;
    }
    tracing::info!(
        filters = compiled.filters.len(),
        instructions = compiled.filters.iter().map(Vec::len).sum::<usize>(),
        "seccomp profile loaded"
    );
    Ok(())
}
