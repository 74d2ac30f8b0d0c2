//! rs-unshare's command line, spelled as unshare(1) spells it.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Parser};
use rsns_core::exec::EnvPolicy;
use rsns_core::idmap::{RangeSpec, Setgroups, parse_range_spec};
use rsns_core::ids::{parse_numeric_id, parse_owner, resolve_group, resolve_user};
use rsns_core::mount::Propagation;
use rsns_core::ns::{NsKind, NsSet};
use rsns_core::persist::PersistTarget;
use rsns_core::signal::parse_signal;
use rsns_core::unshare::{SingleMap, UnshareOptions};

const EXAMPLES: &str = "\
Examples:
  rs-unshare -pfmur --mount-proc --root=rootfs /bin/sh   a root shell in a box
  rs-unshare --uts=/run/ns/uts hostname box              keep the namespace in a file
  rs-unshare -Ur --map-auto --pid-file=box.pid -f sleep 1d
  rs-unshare -Urp --init --mount-proc make -j8           PID 1 that reaps orphans

Exit status: the program's; 126 if it cannot run, 127 if it is not found, 1 for
our own errors. If the program dies by a signal, rs-unshare dies by the same one.
Documentation: docs/rs-unshare.md";

#[derive(Parser, Debug)]
#[command(
    name = "rs-unshare",
    version,
    about = "Run a program in new namespaces",
    after_help = EXAMPLES,
    args_override_self = true
)]
pub struct Cli {
    /// New mount namespace; with =FILE keep it alive by binding it onto FILE
    #[arg(short = 'm', long = "mount", value_name = "FILE", num_args = 0..=1, require_equals = true)]
    pub mount: Option<Option<PathBuf>>,
    /// New UTS namespace (hostname, domain name) [=FILE to keep it]
    #[arg(short = 'u', long = "uts", value_name = "FILE", num_args = 0..=1, require_equals = true)]
    pub uts: Option<Option<PathBuf>>,
    /// New IPC namespace (System V IPC, POSIX message queues) [=FILE to keep it]
    #[arg(short = 'i', long = "ipc", value_name = "FILE", num_args = 0..=1, require_equals = true)]
    pub ipc: Option<Option<PathBuf>>,
    /// New network namespace [=FILE to keep it]
    #[arg(short = 'n', long = "net", value_name = "FILE", num_args = 0..=1, require_equals = true)]
    pub net: Option<Option<PathBuf>>,
    /// New PID namespace for the program's children (with -f: for the program) [=FILE, needs -f]
    #[arg(short = 'p', long = "pid", value_name = "FILE", num_args = 0..=1, require_equals = true)]
    pub pid: Option<Option<PathBuf>>,
    /// New user namespace [=FILE to keep it]
    #[arg(short = 'U', long = "user", value_name = "FILE", num_args = 0..=1, require_equals = true)]
    pub user: Option<Option<PathBuf>>,
    /// New cgroup namespace [=FILE to keep it]
    #[arg(short = 'C', long = "cgroup", value_name = "FILE", num_args = 0..=1, require_equals = true)]
    pub cgroup: Option<Option<PathBuf>>,
    /// New time namespace (see --monotonic, --boottime) [=FILE to keep it]
    #[arg(short = 'T', long = "time", value_name = "FILE", num_args = 0..=1, require_equals = true)]
    pub time: Option<Option<PathBuf>>,

    /// Run the program as our child and wait for it (needed for PID 1 in a new PID namespace)
    #[arg(short = 'f', long = "fork")]
    pub fork: bool,
    /// When rs-unshare dies, send SIGNAL (default KILL) to the program; implies --fork
    #[arg(long = "kill-child", value_name = "SIGNAL", num_args = 0..=1, require_equals = true,
          default_missing_value = "KILL", value_parser = parse_signal)]
    pub kill_child: Option<nix::sys::signal::Signal>,
    /// Also pass SIGINT sent to rs-unshare with kill(1) on to the program; implies --fork
    #[arg(long = "forward-signals")]
    pub forward_signals: bool,
    /// Stay PID 1 of the new PID namespace: reap orphans, pass signals on (needs -p; implies --fork)
    #[arg(long = "init")]
    pub init: bool,
    /// Run the program in a new session, without a controlling terminal (setsid); implies --fork
    #[arg(long = "new-session")]
    pub new_session: bool,
    /// Give the program a new pseudo-terminal as its controlling terminal, in a new session,
    /// relayed to ours (raw mode, window size, end of input); implies --fork
    #[arg(long = "pty")]
    pub pty: bool,
    /// Set the hostname to NAME in the new UTS namespace (implies --uts)
    #[arg(long = "hostname", value_name = "NAME")]
    pub hostname: Option<OsString>,
    /// Mount a new proc at DIR (default /proc) before running; implies --mount
    #[arg(long = "mount-proc", value_name = "DIR", num_args = 0..=1, require_equals = true,
          default_missing_value = "/proc")]
    pub mount_proc: Option<PathBuf>,
    /// Mount a binfmt_misc of the new user namespace's own at DIR (default /proc/sys/fs/binfmt_misc); Linux 6.7+
    #[arg(long = "mount-binfmt", value_name = "DIR", num_args = 0..=1, require_equals = true,
          default_missing_value = "/proc/sys/fs/binfmt_misc")]
    pub mount_binfmt: Option<PathBuf>,
    /// Register a binfmt_misc interpreter, :name:type:offset:magic:mask:interpreter:flags (implies --mount-binfmt); repeatable
    #[arg(short = 'l', long = "load-interp", value_name = "SPEC", action = ArgAction::Append)]
    pub load_interp: Vec<String>,
    /// Propagation of the new mount namespace: private (default), shared, slave or unchanged
    #[arg(long = "propagation", value_name = "MODE", value_parser = parse_propagation)]
    pub propagation: Option<Propagation>,

    /// Map our user and group to root inside; implies --user and --setgroups=deny
    #[arg(short = 'r', long = "map-root-user")]
    pub map_root_user: bool,
    /// Map our user and group to the same ids inside; implies --user and --setgroups=deny
    #[arg(short = 'c', long = "map-current-user")]
    pub map_current_user: bool,
    /// Map our user to UID (or the uid of NAME) inside; implies --user
    #[arg(long = "map-user", value_name = "UID|NAME", value_parser = resolve_user)]
    pub map_user: Option<u32>,
    /// Map our group to GID (or the gid of NAME) inside; implies --user and --setgroups=deny
    #[arg(long = "map-group", value_name = "GID|NAME", value_parser = resolve_group)]
    pub map_group: Option<u32>,
    /// Map COUNT uids from OUTER to INNER (also OUTER,INNER,COUNT, auto, subids, all); repeatable
    #[arg(long = "map-users", value_name = "INNER:OUTER:COUNT", action = ArgAction::Append,
          value_parser = range_spec)]
    pub map_users: Vec<RangeSpec>,
    /// Map COUNT gids from OUTER to INNER (also OUTER,INNER,COUNT, auto, subids, all); repeatable
    #[arg(long = "map-groups", value_name = "INNER:OUTER:COUNT", action = ArgAction::Append,
          value_parser = range_spec)]
    pub map_groups: Vec<RangeSpec>,
    /// Same as --map-users=auto --map-groups=auto (your first /etc/subuid and /etc/subgid ranges from 0)
    #[arg(long = "map-auto")]
    pub map_auto: bool,
    /// Same as --map-users=subids --map-groups=subids (your subordinate ranges mapped to themselves)
    #[arg(long = "map-subids")]
    pub map_subids: bool,
    /// Create the user namespace owned by UID:GID (needs root); implies --user
    #[arg(long = "owner", value_name = "UID:GID", value_parser = owner)]
    pub owner: Option<Owner>,
    /// Allow or deny setgroups(2) in the new user namespace
    #[arg(long = "setgroups", value_name = "allow|deny", value_parser = setgroups)]
    pub setgroups: Option<Setgroups>,

    /// Change the root directory to DIR before running (then the working directory is /)
    #[arg(short = 'R', long = "root", value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Change the working directory to DIR (inside the new root with -R)
    #[arg(short = 'w', long = "wd", value_name = "DIR")]
    pub wd: Option<PathBuf>,
    /// Run as UID inside the namespaces
    #[arg(short = 'S', long = "setuid", value_name = "UID", value_parser = parse_numeric_id)]
    pub setuid: Option<u32>,
    /// Run as GID inside the namespaces, without supplementary groups
    #[arg(short = 'G', long = "setgid", value_name = "GID", value_parser = parse_numeric_id)]
    pub setgid: Option<u32>,
    /// Keep the capabilities the user namespace grants across exec (ambient), also for -S
    #[arg(long = "keep-caps")]
    pub keep_caps: bool,
    /// Offset CLOCK_MONOTONIC by SECONDS in the new time namespace (needs -T)
    #[arg(
        long = "monotonic",
        value_name = "SECONDS",
        allow_negative_numbers = true
    )]
    pub monotonic: Option<i64>,
    /// Offset CLOCK_BOOTTIME by SECONDS in the new time namespace (needs -T)
    #[arg(
        long = "boottime",
        value_name = "SECONDS",
        allow_negative_numbers = true
    )]
    pub boottime: Option<i64>,
    /// Start the program with an empty environment
    #[arg(long = "clear-env")]
    pub clear_env: bool,
    /// Start the program with only these variables of ours (comma-separated)
    #[arg(long = "whitelist-env", value_name = "LIST", value_delimiter = ',')]
    pub whitelist_env: Option<Vec<String>>,
    /// Write the program's PID (as seen from here) to FILE once it runs
    #[arg(long = "pid-file", value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// Start the program only once FD gives a byte or is closed (set-up from outside)
    #[arg(long = "block-fd", value_name = "FD")]
    pub block_fd: Option<i32>,
    /// Write the program's PID and namespaces to FD as JSON, before it starts
    #[arg(long = "info-fd", value_name = "FD")]
    pub info_fd: Option<i32>,
    /// The same JSON to FD, then the exit status when the program ends (implies -f)
    #[arg(long = "json-status-fd", value_name = "FD")]
    pub json_status_fd: Option<i32>,
    /// Print what is done on stderr (-vv for more); RUST_LOG works too
    #[arg(short = 'v', long = "verbose", action = ArgAction::Count)]
    pub verbose: u8,

    /// The program and its arguments (default: $SHELL, else your login shell, else /bin/sh)
    #[arg(trailing_var_arg = true, value_name = "PROGRAM")]
    pub command: Vec<OsString>,
}

#[derive(Debug, Clone, Copy)]
pub struct Owner(u32, u32);

fn owner(text: &str) -> Result<Owner, String> {
    parse_owner(text)
        .map(|(u, g)| Owner(u, g))
        .map_err(|e| e.to_string())
}

fn range_spec(text: &str) -> Result<RangeSpec, String> {
    parse_range_spec(text).map_err(|e| e.to_string())
}

fn parse_propagation(text: &str) -> Result<Propagation, String> {
    text.parse()
        .map_err(|e: rsns_core::mount::BadPropagation| e.to_string())
}

fn setgroups(text: &str) -> Result<Setgroups, String> {
    match text {
        "allow" => Ok(Setgroups::Allow),
        "deny" => Ok(Setgroups::Deny),
        _ => Err("use allow or deny".into()),
    }
}

/// Where an option last appeared on the command line, for "last one wins".
fn last_index(matches: &ArgMatches, id: &str) -> Option<usize> {
    // Flags have a default value with an index of its own; only count real uses.
    if matches.value_source(id) != Some(ValueSource::CommandLine) {
        return None;
    }
    matches.indices_of(id).and_then(|indices| indices.max())
}

/// Of the options that set one mapping, the one given last wins, as in unshare(1).
fn last_single(candidates: &[(Option<usize>, SingleMap)]) -> Option<SingleMap> {
    candidates
        .iter()
        .filter_map(|(index, map)| index.map(|i| (i, *map)))
        .max_by_key(|(i, _)| *i)
        .map(|(_, map)| map)
}

impl Cli {
    pub fn into_options(self, matches: &ArgMatches) -> UnshareOptions {
        let mut namespaces = NsSet::EMPTY;
        let mut persist = Vec::new();
        for (kind, flag) in [
            (NsKind::Mount, self.mount),
            (NsKind::Uts, self.uts),
            (NsKind::Ipc, self.ipc),
            (NsKind::Net, self.net),
            (NsKind::Pid, self.pid),
            (NsKind::User, self.user),
            (NsKind::Cgroup, self.cgroup),
            (NsKind::Time, self.time),
        ] {
            let Some(file) = flag else { continue };
            namespaces.insert(kind);
            if let Some(path) = file {
                persist.push(PersistTarget { kind, path });
            }
        }
        let root_at = last_index(matches, "map_root_user");
        let current_at = last_index(matches, "map_current_user");
        let map_user = last_single(&[
            (root_at, SingleMap::Id(0)),
            (current_at, SingleMap::Current),
            (
                last_index(matches, "map_user"),
                SingleMap::Id(self.map_user.unwrap_or(0)),
            ),
        ]);
        let map_group = last_single(&[
            (root_at, SingleMap::Id(0)),
            (current_at, SingleMap::Current),
            (
                last_index(matches, "map_group"),
                SingleMap::Id(self.map_group.unwrap_or(0)),
            ),
        ]);
        let mut map_users = self.map_users;
        let mut map_groups = self.map_groups;
        for (given, spec) in [
            (self.map_auto, RangeSpec::Auto),
            (self.map_subids, RangeSpec::SubIds),
        ] {
            if given {
                map_users.push(spec);
                map_groups.push(spec);
            }
        }
        let env = match (self.whitelist_env, self.clear_env) {
            (Some(names), _) => EnvPolicy::Keep(names),
            (None, true) => EnvPolicy::Clear,
            (None, false) => EnvPolicy::Inherit,
        };
        UnshareOptions {
            namespaces,
            persist,
            fork: self.fork,
            kill_child: self.kill_child,
            forward_signals: self.forward_signals,
            init: self.init,
            new_session: self.new_session,
            pty: self.pty,
            hostname: self.hostname,
            mount_proc: self.mount_proc,
            mount_binfmt: self.mount_binfmt,
            load_interp: self.load_interp,
            propagation: self.propagation,
            map_user,
            map_group,
            map_users,
            map_groups,
            owner: self.owner.map(|Owner(u, g)| (u, g)),
            setgroups: self.setgroups,
            root: self.root,
            wd: self.wd,
            setuid: self.setuid,
            setgid: self.setgid,
            keep_caps: self.keep_caps,
            monotonic: self.monotonic,
            boottime: self.boottime,
            env,
            pid_file: self.pid_file,
            block_fd: self.block_fd,
            info_fd: self.info_fd,
            json_status_fd: self.json_status_fd,
            command: self.command,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, FromArgMatches};

    fn parse(args: &[&str]) -> UnshareOptions {
        let matches = Cli::command()
            .try_get_matches_from(std::iter::once("rs-unshare").chain(args.iter().copied()))
            .unwrap();
        Cli::from_arg_matches(&matches)
            .unwrap()
            .into_options(&matches)
    }

    #[test]
    fn combined_short_flags_and_program_arguments() {
        let o = parse(&["-pfmur", "chroot", "rootfs", "sh", "-c", "echo -x"]);
        for kind in [NsKind::Pid, NsKind::Mount, NsKind::Uts] {
            assert!(o.namespaces.contains(kind), "{kind}");
        }
        assert!(o.fork);
        assert_eq!(o.map_user, Some(SingleMap::Id(0)));
        assert_eq!(o.command, ["chroot", "rootfs", "sh", "-c", "echo -x"]);
    }

    #[test]
    fn optional_files_need_equals() {
        let o = parse(&["--uts=/run/uts", "-n", "true"]);
        assert_eq!(
            o.persist,
            [PersistTarget {
                kind: NsKind::Uts,
                path: "/run/uts".into()
            }]
        );
        assert!(o.namespaces.contains(NsKind::Net));
        let o = parse(&["--uts", "hostname"]);
        assert!(o.persist.is_empty());
        assert_eq!(o.command, ["hostname"]);
    }

    #[test]
    fn last_single_mapping_wins() {
        let o = parse(&["-r", "--map-user=5", "true"]);
        assert_eq!(o.map_user, Some(SingleMap::Id(5)));
        assert_eq!(o.map_group, Some(SingleMap::Id(0)));
        let o = parse(&["--map-user=5", "-c", "true"]);
        assert_eq!(o.map_user, Some(SingleMap::Current));
        let o = parse(&["--map-group=7", "--map-group=8", "true"]);
        assert_eq!(o.map_group, Some(SingleMap::Id(8)));
        assert_eq!(o.map_user, None);
    }

    #[test]
    fn ranges_repeat_and_map_auto_adds_both() {
        let o = parse(&[
            "--map-users=0:100000:10",
            "--map-users",
            "10,20,1",
            "--map-auto",
            "true",
        ]);
        assert_eq!(o.map_users.len(), 3);
        assert_eq!(o.map_users[2], RangeSpec::Auto);
        assert_eq!(o.map_groups, [RangeSpec::Auto]);
    }

    #[test]
    fn signals_offsets_and_env() {
        let o = parse(&["--kill-child", "--monotonic", "-5", "-T", "true"]);
        assert_eq!(o.kill_child, Some(nix::sys::signal::Signal::SIGKILL));
        assert_eq!(o.monotonic, Some(-5));
        let o = parse(&[
            "--kill-child=term",
            "--whitelist-env=PATH,HOME",
            "--clear-env",
            "true",
        ]);
        assert_eq!(o.kill_child, Some(nix::sys::signal::Signal::SIGTERM));
        assert_eq!(o.env, EnvPolicy::Keep(vec!["PATH".into(), "HOME".into()]));
    }

    #[test]
    fn bad_values_are_errors_naming_the_value() {
        for (args, needle) in [
            (&["--map-users=1:2", "true"][..], "'1:2'"),
            (&["--kill-child=FOO", "true"][..], "'FOO'"),
            (&["--propagation=bogus", "true"][..], "'bogus'"),
            (&["--setgroups=maybe", "true"][..], "'maybe'"),
            (&["-S", "x", "true"][..], "'x'"),
            (&["--owner=1000", "true"][..], "'1000'"),
            (&["--bogus"][..], "'--bogus'"),
        ] {
            let err = Cli::command()
                .try_get_matches_from(std::iter::once("rs-unshare").chain(args.iter().copied()))
                .unwrap_err();
            assert!(err.to_string().contains(needle), "{args:?}: {err}");
        }
    }
}
