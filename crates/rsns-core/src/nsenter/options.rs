//! What a front end asks rs-nsenter's core to do: one field per option of
//! nsenter(1).

use std::ffi::OsString;
use std::path::PathBuf;
use std::str::FromStr;

use crate::ns::NsKind;
use crate::target::TargetSpec;

/// A uid or gid for `-S`/`-G`: a number, or the target's (`follow`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdChoice {
    Id(u32),
    Follow,
}

impl FromStr for IdChoice {
    type Err = crate::ids::IdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == "follow" {
            return Ok(IdChoice::Follow);
        }
        crate::ids::parse_numeric_id(text).map(IdChoice::Id)
    }
}

#[derive(Debug, Clone, Default)]
pub struct NsenterOptions {
    /// `-t PID` or `-t PID:INODE`.
    pub target: Option<TargetSpec>,
    /// `--container=REF`: the first process of the container REF names is
    /// the target.
    pub container: Option<String>,
    /// `-a`: every namespace of the target that is not already ours.
    pub all: bool,
    /// Namespaces named one by one (`-n`, `--net=FILE`); a later one of the
    /// same kind wins.
    pub namespaces: Vec<(NsKind, Option<PathBuf>)>,
    /// `-N FD`: the network namespace of the target's socket FD.
    pub net_socket: Option<i32>,
    /// `--user-parent`: the parent (owning) user namespace instead.
    pub user_parent: bool,
    pub setuid: Option<IdChoice>,
    pub setgid: Option<IdChoice>,
    pub preserve_credentials: bool,
    pub keep_caps: bool,
    /// `-r` (`None` inside: the target's root) or `--root=DIR`.
    pub root: Option<Option<PathBuf>>,
    /// `-w` (`None` inside: the target's working directory) or `--wd=DIR`.
    pub wd: Option<Option<PathBuf>>,
    /// `-W DIR`: a working directory taken inside the namespaces.
    pub wdns: Option<PathBuf>,
    /// `-e`: the target's environment instead of ours.
    pub env_from_target: bool,
    pub no_fork: bool,
    /// `--new-session`: the program runs in a new session (setsid).
    pub new_session: bool,
    /// `--pty`: a new pseudo-terminal is the program's controlling terminal.
    pub pty: bool,
    /// `-c`: join the target's cgroup (v2).
    pub join_cgroup: bool,
    /// `--host-tools`: our mount namespace (a private copy) instead of the
    /// target's, with the target's root at /run/rsns/target.
    pub host_tools: bool,
    /// `--same-privs`: the target's ids, groups, capability sets,
    /// no_new_privs, seccomp filters and AppArmor profile.
    pub same_privs: bool,
    /// The program and its arguments; empty runs a login shell.
    pub command: Vec<OsString>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_choices() {
        assert_eq!("follow".parse(), Ok(IdChoice::Follow));
        assert_eq!("1000".parse(), Ok(IdChoice::Id(1000)));
        assert!("Follow".parse::<IdChoice>().is_err());
        assert!("-1".parse::<IdChoice>().is_err());
    }
}
