//! rs-nsenter's command line, spelled as nsenter(1) spells it.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

use clap::{ArgAction, Parser};
use rsns_core::ns::NsKind;
use rsns_core::nsenter::{IdChoice, NsenterOptions};
use rsns_core::target::TargetSpec;

const EXAMPLES: &str = "\
Examples:
  rs-nsenter -t \"$(cat box.pid)\" -a                 a shell in every namespace of a box
  rs-nsenter --net=/run/netns/blue ip address        a network namespace kept in a file
  rs-nsenter -t 4242:301309 -n ss -tlnp              PID:INODE refuses a recycled PID

Exit status: the program's; 126 if it cannot run, 127 if it is not found, 1 for
our own errors. If the program dies by a signal, rs-nsenter dies by the same one.
Documentation: docs/rs-nsenter.md";

#[derive(Parser, Debug)]
#[command(
    name = "rs-nsenter",
    version,
    about = "Run a program in the namespaces of a running process or of namespace files",
    after_help = EXAMPLES,
    args_override_self = true
)]
pub struct Cli {
    /// Every namespace of the target that is not already ours
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// The process whose namespaces to enter; PID:INODE also checks its pidfd inode
    #[arg(short = 't', long = "target", value_name = "PID[:INODE]")]
    pub target: Option<TargetSpec>,
    /// The container REF (an ID, a unique ID prefix, or a name as podman, docker, containerd
    /// or CRI-O shows it): its first process is the target
    #[arg(long = "container", value_name = "REF", conflicts_with = "target")]
    pub container: Option<String>,
    /// Mount namespace: the target's, or FILE's (-mFILE, --mount=FILE)
    #[arg(short = 'm', long = "mount", value_name = "FILE|:NSID", num_args = 0..=1, require_equals = true)]
    pub mount: Option<Option<PathBuf>>,
    /// UTS namespace (hostname): the target's, or FILE's
    #[arg(short = 'u', long = "uts", value_name = "FILE|:NSID", num_args = 0..=1, require_equals = true)]
    pub uts: Option<Option<PathBuf>>,
    /// IPC namespace: the target's, or FILE's
    #[arg(short = 'i', long = "ipc", value_name = "FILE|:NSID", num_args = 0..=1, require_equals = true)]
    pub ipc: Option<Option<PathBuf>>,
    /// Network namespace: the target's, or FILE's (-n/run/netns/x), or the one with ID NSID (--net=:NSID)
    #[arg(short = 'n', long = "net", value_name = "FILE|:NSID", num_args = 0..=1, require_equals = true)]
    pub net: Option<Option<PathBuf>>,
    /// The network namespace of the target's socket FD
    #[arg(short = 'N', long = "net-socket", value_name = "FD", value_parser = clap::value_parser!(i32).range(0..))]
    pub net_socket: Option<i32>,
    /// PID namespace: the target's, or FILE's; the program then runs as our child in it
    #[arg(short = 'p', long = "pid", value_name = "FILE|:NSID", num_args = 0..=1, require_equals = true)]
    pub pid: Option<Option<PathBuf>>,
    /// Cgroup namespace: the target's, or FILE's
    #[arg(short = 'C', long = "cgroup", value_name = "FILE|:NSID", num_args = 0..=1, require_equals = true)]
    pub cgroup: Option<Option<PathBuf>>,
    /// User namespace: the target's, or FILE's (see -S, -G, --preserve-credentials)
    #[arg(short = 'U', long = "user", value_name = "FILE|:NSID", num_args = 0..=1, require_equals = true)]
    pub user: Option<Option<PathBuf>>,
    /// The parent user namespace (of the one chosen, or the owner of another one)
    #[arg(long = "user-parent")]
    pub user_parent: bool,
    /// Time namespace: the target's, or FILE's
    #[arg(short = 'T', long = "time", value_name = "FILE|:NSID", num_args = 0..=1, require_equals = true)]
    pub time: Option<Option<PathBuf>>,
    /// Run as UID (default 0 when entering a user namespace); `follow`: the target's
    #[arg(short = 'S', long = "setuid", value_name = "UID|follow")]
    pub setuid: Option<IdChoice>,
    /// Run as GID without supplementary groups (default 0 in a user namespace); `follow`: the target's
    #[arg(short = 'G', long = "setgid", value_name = "GID|follow")]
    pub setgid: Option<IdChoice>,
    /// Keep our uid, gid and groups when entering a user namespace
    #[arg(long = "preserve-credentials")]
    pub preserve_credentials: bool,
    /// Keep the capabilities the user namespace grants across exec (ambient)
    #[arg(long = "keep-caps")]
    pub keep_caps: bool,
    /// Root directory: the target's, or DIR (opened before entering)
    #[arg(short = 'r', long = "root", value_name = "DIR", num_args = 0..=1, require_equals = true)]
    pub root: Option<Option<PathBuf>>,
    /// Working directory: the target's, or DIR (opened before entering)
    #[arg(short = 'w', long = "wd", value_name = "DIR", num_args = 0..=1, require_equals = true)]
    pub wd: Option<Option<PathBuf>>,
    /// Working directory DIR, taken inside the namespaces and the new root
    #[arg(short = 'W', long = "wdns", value_name = "DIR")]
    pub wdns: Option<PathBuf>,
    /// The target's environment instead of ours
    #[arg(short = 'e', long = "env")]
    pub env: bool,
    /// Do not fork, even after entering a PID namespace
    #[arg(short = 'F', long = "no-fork")]
    pub no_fork: bool,
    /// Run the program in a new session, without a controlling terminal (setsid); forks
    #[arg(long = "new-session")]
    pub new_session: bool,
    /// Give the program a new pseudo-terminal (in the target's devpts when its mount namespace
    /// is entered) as its controlling terminal, in a new session, relayed to ours; forks
    #[arg(long = "pty")]
    pub pty: bool,
    /// Join the target's cgroup (cgroup v2)
    #[arg(short = 'c', long = "join-cgroup")]
    pub join_cgroup: bool,
    /// Run the host's programs: every namespace of the target but the mount one, which is a
    /// private copy of ours with the target's root at /run/rsns/target ($RSNS_TARGET_ROOT,
    /// the working directory) and a /proc of the target's PID namespace; alone, as -a
    #[arg(long = "host-tools")]
    pub host_tools: bool,
    /// Give the program the target's privileges, as its engine's exec would: uid, gids and
    /// groups, the five capability sets, no_new_privs, its seccomp filters (read as root on
    /// the host) and AppArmor profile
    #[arg(long = "same-privs")]
    pub same_privs: bool,
    /// Print what is done on stderr (-vv for more); RUST_LOG works too
    #[arg(short = 'v', long = "verbose", action = ArgAction::Count)]
    pub verbose: u8,
    /// The program and its arguments (default: $SHELL, else your login shell, else /bin/sh)
    #[arg(trailing_var_arg = true, value_name = "PROGRAM")]
    pub command: Vec<OsString>,
}

/// Short options whose value is optional and, as in nsenter(1), attached:
/// `-n/run/netns/x` is `--net=/run/netns/x` (and `-mu` is `--mount=u`).
const ATTACHED: [(u8, &str); 10] = [
    (b'm', "mount"),
    (b'u', "uts"),
    (b'i', "ipc"),
    (b'n', "net"),
    (b'p', "pid"),
    (b'C', "cgroup"),
    (b'U', "user"),
    (b'T', "time"),
    (b'r', "root"),
    (b'w', "wd"),
];

/// Options whose value may be the next word.
const TAKES_VALUE: [&str; 10] = [
    "-t",
    "-N",
    "-S",
    "-G",
    "-W",
    "--target",
    "--net-socket",
    "--setuid",
    "--setgid",
    "--wdns",
];

/// Rewrites `-XVALUE` for the options above into `--long=VALUE`, which clap
/// parses; everything from the program name on is left alone.
pub fn expand_attached(args: Vec<OsString>) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut it = args.into_iter();
    if let Some(name) = it.next() {
        out.push(name);
    }
    while let Some(arg) = it.next() {
        let bytes = arg.as_bytes();
        if bytes == b"--" || !bytes.starts_with(b"-") || bytes == b"-" {
            out.push(arg);
            out.extend(it);
            break;
        }
        if bytes.starts_with(b"--") {
            let needs_next = TAKES_VALUE.contains(&arg.to_str().unwrap_or(""));
            out.push(arg);
            if needs_next && let Some(value) = it.next() {
                out.push(value);
            }
            continue;
        }
        let mut flags = vec![b'-'];
        let mut rest = &bytes[1..];
        while let Some((&letter, tail)) = rest.split_first() {
            if let Some((_, long)) = ATTACHED.iter().find(|(l, _)| *l == letter) {
                flags.push(letter);
                if !tail.is_empty() {
                    flags.pop();
                    push_flags(&mut out, &flags);
                    // `-n=/run/x` works too, as nsenter(1) allows for most options.
                    let value = tail.strip_prefix(b"=").unwrap_or(tail);
                    let mut long_arg = format!("--{long}=").into_bytes();
                    long_arg.extend_from_slice(value);
                    out.push(OsString::from_vec(long_arg));
                    flags = vec![b'-'];
                }
                rest = &[];
                break;
            }
            if TAKES_VALUE.contains(&std::str::from_utf8(&[b'-', letter]).unwrap_or("")) {
                flags.push(letter);
                flags.extend_from_slice(tail);
                push_flags(&mut out, &flags);
                flags = vec![b'-'];
                if tail.is_empty()
                    && let Some(value) = it.next()
                {
                    out.push(value);
                }
                rest = &[];
                break;
            }
            flags.push(letter);
            rest = tail;
        }
        debug_assert!(rest.is_empty());
        push_flags(&mut out, &flags);
    }
    out
}

fn push_flags(out: &mut Vec<OsString>, flags: &[u8]) {
    if flags.len() > 1 {
        out.push(OsStr::from_bytes(flags).to_os_string());
    }
}

impl Cli {
    pub fn into_options(self) -> NsenterOptions {
        let namespaces = [
            (NsKind::Mount, self.mount),
            (NsKind::Uts, self.uts),
            (NsKind::Ipc, self.ipc),
            (NsKind::Net, self.net),
            (NsKind::Pid, self.pid),
            (NsKind::User, self.user),
            (NsKind::Cgroup, self.cgroup),
            (NsKind::Time, self.time),
        ]
        .into_iter()
        .filter_map(|(kind, flag)| flag.map(|file| (kind, file)))
        .collect();
        NsenterOptions {
            target: self.target,
            container: self.container,
            all: self.all,
            namespaces,
            net_socket: self.net_socket,
            user_parent: self.user_parent,
            setuid: self.setuid,
            setgid: self.setgid,
            preserve_credentials: self.preserve_credentials,
            keep_caps: self.keep_caps,
            root: self.root,
            wd: self.wd,
            wdns: self.wdns,
            env_from_target: self.env,
            no_fork: self.no_fork,
            new_session: self.new_session,
            pty: self.pty,
            join_cgroup: self.join_cgroup,
            host_tools: self.host_tools,
            same_privs: self.same_privs,
            command: self.command,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, FromArgMatches};

    fn expand(args: &[&str]) -> Vec<String> {
        let all = std::iter::once("rs-nsenter")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        expand_attached(all)
            .into_iter()
            .skip(1)
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    fn parse(args: &[&str]) -> NsenterOptions {
        let all = std::iter::once("rs-nsenter")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        let matches = Cli::command()
            .try_get_matches_from(expand_attached(all))
            .unwrap();
        Cli::from_arg_matches(&matches).unwrap().into_options()
    }

    #[test]
    fn attached_values_become_long_options() {
        assert_eq!(
            expand(&["-n/run/netns/x", "ip", "-n", "a"]),
            ["--net=/run/netns/x", "ip", "-n", "a"]
        );
        assert_eq!(expand(&["-t", "42", "-n", "ip"]), ["-t", "42", "-n", "ip"]);
        assert_eq!(expand(&["-t42", "-an"]), ["-t42", "-an"]);
        // As with nsenter(1)'s getopt: the rest of the word is the value.
        assert_eq!(expand(&["-mu"]), ["--mount=u"]);
        assert_eq!(expand(&["-aFm/x", "sh"]), ["-aF", "--mount=/x", "sh"]);
        assert_eq!(expand(&["-at", "7", "sh"]), ["-at", "7", "sh"]);
        assert_eq!(expand(&["--target", "-x", "sh"]), ["--target", "-x", "sh"]);
        assert_eq!(
            expand(&["-r/root", "-w", "-W", "/x", "--", "-t"]),
            ["--root=/root", "-w", "-W", "/x", "--", "-t"]
        );
    }

    #[test]
    fn options_map_to_the_core() {
        let o = parse(&[
            "-t", "42:7", "-a", "-n/run/x", "-S", "follow", "-G0", "-e", "ls", "-l",
        ]);
        assert_eq!(
            o.target,
            Some(TargetSpec {
                pid: 42,
                inode: Some(7)
            })
        );
        assert!(o.all && o.env_from_target);
        assert_eq!(o.namespaces, [(NsKind::Net, Some("/run/x".into()))]);
        assert_eq!(o.setuid, Some(IdChoice::Follow));
        assert_eq!(o.setgid, Some(IdChoice::Id(0)));
        assert_eq!(o.command, ["ls", "-l"]);
        let o = parse(&["--net=/a", "-p", "-w", "-r=/r", "true"]);
        assert_eq!(
            o.namespaces,
            [(NsKind::Net, Some("/a".into())), (NsKind::Pid, None)]
        );
        assert_eq!(o.wd, Some(None));
        assert_eq!(o.root, Some(Some("/r".into())));
    }

    #[test]
    fn bad_values_name_the_value() {
        for (args, needle) in [
            (&["-t", "abc", "-a"][..], "'abc'"),
            (&["-t", "0", "-a"][..], "'0'"),
            (&["-t", "42:x", "-a"][..], "'42:x'"),
            (&["-S", "root", "-a"][..], "'root'"),
            (&["-N", "-1", "-t1"][..], "'-1'"),
            (&["--bogus"][..], "'--bogus'"),
        ] {
            let all = std::iter::once("rs-nsenter")
                .chain(args.iter().copied())
                .map(OsString::from)
                .collect();
            let err = Cli::command()
                .try_get_matches_from(expand_attached(all))
                .unwrap_err();
            assert!(err.to_string().contains(needle), "{args:?}: {err}");
        }
    }
}
