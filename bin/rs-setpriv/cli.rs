//! rs-setpriv's command line, spelled as setpriv(1) spells it.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Parser};
use rsns_core::privs::{self, Groups, Pdeathsig, PrivPlan, capnames};

const EXAMPLES: &str = "\
Examples:
  rs-setpriv -d                                        the privileges we hold now
  rs-setpriv --reuid=1000 --regid=1000 --clear-groups --nnp id
  rs-setpriv --bounding-set=-all,+net_bind_service --inh-caps=-all sh
  rs-setpriv --caps=container --nnp sh                 podman's 11 capabilities, no more
  rs-setpriv --landlock-access=fs --landlock-rule=path-beneath:execute,read-file,read-dir:/usr cat /etc/passwd

Exit status: the program's (it replaces rs-setpriv); 126 if it cannot run, 127 if
it is not found or a privilege cannot be set, 1 for a bad command line.
Documentation: docs/rs-setpriv.md";

#[derive(Parser, Debug)]
#[command(
    name = "rs-setpriv",
    version,
    about = "Run a program with other privileges: ids, groups, capabilities, no_new_privs, securebits, Landlock, seccomp",
    after_help = EXAMPLES,
    group = clap::ArgGroup::new("groups_choice").multiple(false)
        .args(["clear_groups", "keep_groups", "init_groups", "groups"])
)]
pub struct Cli {
    /// Show the current state and do not run anything (-dd, -ddd: more)
    #[arg(short = 'd', long = "dump", action = ArgAction::Count)]
    pub dump: u8,
    /// Disallow granting new privileges (setuid, file capabilities) to what runs
    #[arg(long = "nnp", visible_alias = "no-new-privs")]
    pub nnp: bool,
    /// Change the inheritable set: +CAP,-CAP,+all,-all
    #[arg(long = "inh-caps", value_name = "CAPS", allow_hyphen_values = true)]
    pub inh_caps: Option<String>,
    /// Change the ambient set (a cap must be permitted and inheritable)
    #[arg(long = "ambient-caps", value_name = "CAPS", allow_hyphen_values = true)]
    pub ambient_caps: Option<String>,
    /// Change the bounding set (capabilities can only be dropped from it)
    #[arg(long = "bounding-set", value_name = "CAPS", allow_hyphen_values = true)]
    pub bounding_set: Option<String>,
    /// Beyond setpriv: every capability set becomes SET (container: podman's
    /// default 11; none; or names), the ambient set is cleared
    #[arg(long = "caps", value_name = "container|none|CAP,...", conflicts_with_all = ["inh_caps", "ambient_caps", "bounding_set"])]
    pub caps: Option<String>,
    /// List every capability this kernel knows
    #[arg(long = "list-caps")]
    pub list_caps: bool,
    /// Set the real uid (a number or a user name)
    #[arg(long = "ruid", value_name = "UID|USER", conflicts_with = "reuid")]
    pub ruid: Option<String>,
    /// Set the effective uid
    #[arg(long = "euid", value_name = "UID|USER", conflicts_with = "reuid")]
    pub euid: Option<String>,
    /// Set the real and effective uid
    #[arg(long = "reuid", value_name = "UID|USER")]
    pub reuid: Option<String>,
    /// Set the real gid (a number or a group name)
    #[arg(long = "rgid", value_name = "GID|GROUP", conflicts_with = "regid")]
    pub rgid: Option<String>,
    /// Set the effective gid
    #[arg(long = "egid", value_name = "GID|GROUP", conflicts_with = "regid")]
    pub egid: Option<String>,
    /// Set the real and effective gid
    #[arg(long = "regid", value_name = "GID|GROUP")]
    pub regid: Option<String>,
    /// Clear the supplementary groups
    #[arg(long = "clear-groups")]
    pub clear_groups: bool,
    /// Keep the supplementary groups
    #[arg(long = "keep-groups")]
    pub keep_groups: bool,
    /// Set the supplementary groups of the --ruid user (from /etc/group)
    #[arg(long = "init-groups")]
    pub init_groups: bool,
    /// Set the supplementary groups: GID or name, comma-separated
    #[arg(long = "groups", value_name = "GROUP,...")]
    pub groups: Option<String>,
    /// Change the securebits: +noroot,-no_setuid_fixup,... or -all
    #[arg(long = "securebits", value_name = "BITS", allow_hyphen_values = true)]
    pub securebits: Option<String>,
    /// The parent-death signal: keep, clear, or a signal name
    #[arg(long = "pdeathsig", value_name = "keep|clear|SIGNAL")]
    pub pdeathsig: Option<String>,
    /// Who may ptrace us under Yama's ptrace_scope 1: a PID, any or none
    #[arg(long = "ptracer", value_name = "PID|any|none")]
    pub ptracer: Option<String>,
    /// The SELinux label the program runs with
    #[arg(long = "selinux-label", value_name = "LABEL")]
    pub selinux_label: Option<String>,
    /// The AppArmor profile the program runs under
    #[arg(long = "apparmor-profile", value_name = "PROFILE")]
    pub apparmor_profile: Option<String>,
    /// Landlock rights to handle (denied unless a rule allows): fs or fs:RIGHT,...
    #[arg(long = "landlock-access", value_name = "ACCESS")]
    pub landlock_access: Vec<String>,
    /// A Landlock rule: path-beneath:RIGHT,...:PATH (an empty list: every right)
    #[arg(long = "landlock-rule", value_name = "RULE")]
    pub landlock_rule: Vec<String>,
    /// Load a seccomp filter (raw classic BPF, as enosys --dump writes it)
    #[arg(long = "seccomp-filter", value_name = "FILE")]
    pub seccomp_filter: Option<PathBuf>,
    /// Beyond setpriv: a seccomp profile, container (podman's default) or a JSON file as
    /// docker, podman and OCI write them, for the capabilities the program will hold
    #[arg(long = "seccomp", value_name = "container|FILE")]
    pub seccomp: Option<String>,
    /// Clear the environment, then set HOME, SHELL, USER, LOGNAME and PATH
    #[arg(long = "reset-env")]
    pub reset_env: bool,
    /// Say what is done, on stderr
    #[arg(short = 'v', long = "verbose", action = ArgAction::Count)]
    pub verbose: u8,
    #[arg(trailing_var_arg = true, value_name = "PROGRAM")]
    pub command: Vec<OsString>,
}

/// What the command line asks: a dump, the list, or a program to run.
#[derive(Debug)]
pub enum Request {
    Dump(u8),
    ListCaps,
    Run(Box<PrivPlan>),
}

impl Cli {
    /// `matches` tells which options were given (for --dump and --list-caps,
    /// which stand alone).
    pub fn into_request(self, matches: &ArgMatches) -> Result<Request, String> {
        use clap::CommandFactory;
        let alone = ["dump", "list_caps", "verbose", "command"];
        let others = Cli::command().get_arguments().any(|arg| {
            let id = arg.get_id().as_str();
            !alone.contains(&id) && matches.value_source(id) == Some(ValueSource::CommandLine)
        });
        if self.dump > 0 {
            if others || self.list_caps || !self.command.is_empty() {
                return Err("--dump is incompatible with all other options".into());
            }
            return Ok(Request::Dump(self.dump));
        }
        if self.list_caps {
            if others || !self.command.is_empty() {
                return Err("--list-caps must be specified alone".into());
            }
            return Ok(Request::ListCaps);
        }
        let last = rsns_core::caps::last_cap();
        let caps = |text: &Option<String>| {
            text.as_deref()
                .map(|t| capnames::parse_list(t, last))
                .transpose()
        };
        // The entry is what getpwuid(3) gives for the uid, as setpriv reads
        // it, and only --init-groups and --reset-env need it.
        let need_entry = self.init_groups || self.reset_env;
        let user = |text: &str, what: &str| {
            let uid = rsns_core::ids::resolve_user(text)
                .map_err(|_| format!("failed to parse {what}: '{text}' (no such user)"))?;
            let entry = need_entry
                .then(|| rsns_core::ids::passwd_by_uid(uid))
                .flatten();
            Ok::<_, String>((uid, entry))
        };
        let group = |text: &str, what: &str| {
            rsns_core::ids::resolve_group(text)
                .map_err(|_| format!("failed to parse {what}: '{text}' (no such group)"))
        };
        let mut plan = PrivPlan {
            nnp: self.nnp,
            inheritable: caps(&self.inh_caps)?,
            ambient: caps(&self.ambient_caps)?,
            bounding: caps(&self.bounding_set)?,
            caps: self
                .caps
                .as_deref()
                .map(|t| capnames::parse_set(t, last))
                .transpose()?,
            selinux_label: self.selinux_label,
            apparmor_profile: self.apparmor_profile,
            seccomp_filter: self.seccomp_filter,
            seccomp: self
                .seccomp
                .as_deref()
                .map(rsns_core::privs::seccomp::Source::parse),
            reset_env: self.reset_env,
            command: self.command,
            ..PrivPlan::default()
        };
        if let Some(text) = &self.reuid {
            let (uid, entry) = user(text, "reuid")?;
            (plan.ruid, plan.euid, plan.user) = (Some(uid), Some(uid), entry);
        }
        if let Some(text) = &self.ruid {
            let (uid, entry) = user(text, "ruid")?;
            (plan.ruid, plan.user) = (Some(uid), entry);
        }
        if let Some(text) = &self.euid {
            plan.euid = Some(user(text, "euid")?.0);
        }
        if let Some(text) = &self.regid {
            let gid = group(text, "regid")?;
            (plan.rgid, plan.egid) = (Some(gid), Some(gid));
        }
        if let Some(text) = &self.rgid {
            plan.rgid = Some(group(text, "rgid")?);
        }
        if let Some(text) = &self.egid {
            plan.egid = Some(group(text, "egid")?);
        }
        plan.groups = if self.clear_groups {
            Groups::Clear
        } else if self.keep_groups {
            Groups::Keep
        } else if self.init_groups {
            Groups::Init
        } else if let Some(list) = &self.groups {
            Groups::Set(
                list.split(',')
                    .map(|g| group(g, "supplementary group"))
                    .collect::<Result<_, _>>()?,
            )
        } else {
            Groups::Unchanged
        };
        if let Some(text) = &self.securebits {
            let current = rsns_core::sys::prctl_int(rsns_core::sys::PrctlInt::GetSecurebits, 0)
                .map_err(|e| format!("getting process secure bits failed: {e}"))?;
            plan.securebits = Some(privs::securebits::apply(current, text)?);
        }
        plan.pdeathsig = match self.pdeathsig.as_deref() {
            None => None,
            Some("clear") => Some(Pdeathsig::Clear),
            // Set again after the uid change, which clears it.
            Some("keep") => nix::sys::prctl::get_pdeathsig()
                .map_err(|e| format!("failed to get parent death signal: {e}"))?
                .map(|s| Pdeathsig::Signal(s as i32)),
            Some(name) => Some(Pdeathsig::Signal(
                privs::parse_signal(name).ok_or_else(|| format!("unknown signal: {name}"))?,
            )),
        };
        plan.ptracer = match self.ptracer.as_deref() {
            None => None,
            Some("any") => Some(-1),
            Some("none") => Some(0),
            Some(pid) => Some(
                pid.parse::<u32>()
                    .ok()
                    .filter(|&p| p > 0)
                    .map(i64::from)
                    .ok_or_else(|| format!("invalid PID argument: '{pid}'"))?,
            ),
        };
        for access in &self.landlock_access {
            plan.landlock.add_access(access)?;
        }
        for rule in &self.landlock_rule {
            plan.landlock.add_rule(rule)?;
        }
        Ok(Request::Run(Box::new(plan)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn request(args: &[&str]) -> Result<Request, String> {
        let mut all = vec!["rs-setpriv"];
        all.extend_from_slice(args);
        use clap::FromArgMatches;
        let matches = Cli::command()
            .try_get_matches_from(all)
            .map_err(|e| e.to_string())?;
        Cli::from_arg_matches(&matches)
            .map_err(|e| e.to_string())?
            .into_request(&matches)
    }

    #[test]
    fn the_command_line_is_setprivs() {
        Cli::command().debug_assert();
        assert!(matches!(request(&["-dd"]), Ok(Request::Dump(2))));
        assert!(
            request(&["-d", "--nnp"])
                .unwrap_err()
                .contains("--dump is incompatible")
        );
        assert!(
            request(&["--list-caps", "true"])
                .unwrap_err()
                .contains("alone")
        );
        let Ok(Request::Run(plan)) = request(&["--reuid=0", "--nnp", "--clear-groups", "id", "-u"])
        else {
            panic!("not a run")
        };
        assert_eq!((plan.ruid, plan.euid), (Some(0), Some(0)));
        assert_eq!(plan.groups, Groups::Clear);
        assert_eq!(plan.command, ["id", "-u"]);
        assert!(request(&["--clear-groups", "--keep-groups", "true"]).is_err());
        assert!(
            request(&["--inh-caps=bogus", "true"])
                .unwrap_err()
                .contains("+ or -")
        );
        assert!(
            request(&["--pdeathsig=NOPE", "true"])
                .unwrap_err()
                .contains("unknown signal: NOPE")
        );
        assert!(
            request(&["--ptracer=x", "true"])
                .unwrap_err()
                .contains("'x'")
        );
        assert!(
            request(&["--reuid=no-such-user-rsns", "true"])
                .unwrap_err()
                .contains("no-such-user-rsns")
        );
    }
}
