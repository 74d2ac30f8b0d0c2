//! What a front end asks rs-unshare's core to do: plain data, one field per
//! option of unshare(1) and ours.

use std::ffi::OsString;
use std::path::PathBuf;

use nix::sys::signal::Signal;

use crate::exec::EnvPolicy;
use crate::idmap::{RangeSpec, Setgroups};
use crate::mount::Propagation;
use crate::ns::NsSet;
use crate::persist::PersistTarget;

/// Which id inside the new user namespace the caller's own id becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SingleMap {
    /// The same id inside (`--map-current-user`).
    Current,
    /// This id inside (`--map-root-user` is `Id(0)`).
    Id(u32),
}

#[derive(Debug, Clone, Default)]
pub struct UnshareOptions {
    /// New namespaces (`-m -u -i -n -p -U -C -T`). Options that need one add it.
    pub namespaces: NsSet,
    /// `--uts=FILE` and friends.
    pub persist: Vec<PersistTarget>,
    pub fork: bool,
    pub kill_child: Option<Signal>,
    pub forward_signals: bool,
    /// `--init`: stay PID 1 of the new PID namespace; the program is its child.
    pub init: bool,
    /// `--new-session`: the program runs in a new session (setsid).
    pub new_session: bool,
    /// `--pty`: a new pseudo-terminal is the program's controlling terminal.
    pub pty: bool,
    /// `--hostname=NAME`: set in the new UTS namespace (implies -u).
    pub hostname: Option<OsString>,
    /// `--mount-proc[=DIR]`.
    pub mount_proc: Option<PathBuf>,
    /// `--mount-binfmt[=DIR]`.
    pub mount_binfmt: Option<PathBuf>,
    /// `--load-interp=SPEC`, each a binfmt_misc definition.
    pub load_interp: Vec<String>,
    /// `None` means the default, private.
    pub propagation: Option<Propagation>,
    pub map_user: Option<SingleMap>,
    pub map_group: Option<SingleMap>,
    pub map_users: Vec<RangeSpec>,
    pub map_groups: Vec<RangeSpec>,
    /// `--owner=UID:GID`: who owns the new user namespace.
    pub owner: Option<(u32, u32)>,
    pub setgroups: Option<Setgroups>,
    pub root: Option<PathBuf>,
    pub wd: Option<PathBuf>,
    pub setuid: Option<u32>,
    pub setgid: Option<u32>,
    pub keep_caps: bool,
    /// Seconds added to CLOCK_MONOTONIC / CLOCK_BOOTTIME in the new time namespace.
    pub monotonic: Option<i64>,
    pub boottime: Option<i64>,
    pub env: EnvPolicy,
    pub pid_file: Option<PathBuf>,
    /// `--block-fd=FD`: the program starts once FD gives a byte or ends.
    pub block_fd: Option<i32>,
    /// `--info-fd=FD`: the child's PID and namespaces, as JSON.
    pub info_fd: Option<i32>,
    /// `--json-status-fd=FD`: the same, then the exit status (implies -f).
    pub json_status_fd: Option<i32>,
    /// The program and its arguments; empty runs a login shell.
    pub command: Vec<OsString>,
}
