//! rs-pivot's command line: pivot_root(8)'s two operands, or `--root`.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{ArgAction, CommandFactory, Parser};
use rsns_core::pivot::{PivotOptions, RootOptions};

const EXAMPLES: &str = "\
Examples:
  cd new_root && rs-pivot . old && exec chroot . sh     pivot_root(8)'s recipe
  rs-unshare -Urm rs-pivot --root rootfs -- /bin/sh     a shell in rootfs, no host mount left
  rs-pivot --root rootfs --keep-old=/mnt -- ls /mnt     the old root stays at /mnt

Exit status: 0 (NEW_ROOT PUT_OLD); with --root the command's, 126 if it cannot
run, 127 if it is not found; 1 for our own errors.
Documentation: docs/rs-pivot.md";

#[derive(Parser, Debug)]
#[command(
    name = "rs-pivot",
    version,
    about = "Change the root file system: pivot_root(2), or the whole change of root a container needs",
    override_usage = "rs-pivot [OPTIONS] NEW_ROOT PUT_OLD\n       \
                      rs-pivot [OPTIONS] --root NEW_ROOT [--] [COMMAND [ARG]...]",
    after_help = EXAMPLES,
    args_override_self = true
)]
pub struct Cli {
    /// Make NEW_ROOT the root: private mounts, bind, pivot, detach the old root, run COMMAND
    #[arg(long = "root", value_name = "NEW_ROOT")]
    pub root: Option<PathBuf>,
    /// With --root: keep the old root mounted at DIR (inside NEW_ROOT) instead of detaching it
    #[arg(long = "keep-old", value_name = "DIR", requires = "root")]
    pub keep_old: Option<PathBuf>,
    /// Run even in the host's initial mount namespace
    #[arg(long = "force")]
    pub force: bool,
    /// Log the system calls on stderr (-vv: more)
    #[arg(short = 'v', long = "verbose", action = ArgAction::Count)]
    pub verbose: u8,
    /// NEW_ROOT PUT_OLD; with --root, the command and its arguments (default: the shell)
    #[arg(
        value_name = "ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub args: Vec<OsString>,
}

impl Cli {
    pub fn into_options(self) -> Result<PivotOptions, clap::Error> {
        if let Some(new_root) = self.root {
            return Ok(PivotOptions::Root(RootOptions {
                new_root,
                keep_old: self.keep_old,
                command: self.args,
                force: self.force,
            }));
        }
        let mut args = self.args.into_iter();
        match (args.next(), args.next(), args.next()) {
            (Some(new_root), Some(put_old), None) => Ok(PivotOptions::Swap {
                new_root: new_root.into(),
                put_old: put_old.into(),
                force: self.force,
            }),
            (None, _, _) => Err(missing("NEW_ROOT and PUT_OLD")),
            (Some(_), None, _) => Err(missing("PUT_OLD")),
            (Some(_), Some(_), Some(extra)) => Err(Cli::command().error(
                ErrorKind::UnknownArgument,
                format!(
                    "unexpected argument '{}' after NEW_ROOT PUT_OLD (a command needs --root)",
                    extra.to_string_lossy()
                ),
            )),
        }
    }
}

fn missing(what: &str) -> clap::Error {
    Cli::command().error(
        ErrorKind::MissingRequiredArgument,
        format!("missing {what}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<PivotOptions, clap::Error> {
        let mut all = vec!["rs-pivot"];
        all.extend(args);
        Cli::try_parse_from(all)?.into_options()
    }

    #[test]
    fn two_operands_or_root_with_a_command() {
        assert_eq!(
            parse(&["new", "new/old"]).unwrap(),
            PivotOptions::Swap {
                new_root: "new".into(),
                put_old: "new/old".into(),
                force: false
            }
        );
        let root = |command: &[&str], keep: Option<&str>, force| {
            PivotOptions::Root(RootOptions {
                new_root: "rootfs".into(),
                keep_old: keep.map(PathBuf::from),
                command: command.iter().map(OsString::from).collect(),
                force,
            })
        };
        assert_eq!(
            parse(&["--root", "rootfs", "--", "/bin/sh", "-c", "x"]).unwrap(),
            root(&["/bin/sh", "-c", "x"], None, false)
        );
        assert_eq!(
            parse(&["--force", "--root=rootfs", "ls", "-l"]).unwrap(),
            root(&["ls", "-l"], None, true)
        );
        assert_eq!(
            parse(&["--root", "rootfs", "--keep-old=/mnt"]).unwrap(),
            root(&[], Some("/mnt"), false)
        );
    }

    #[test]
    fn wrong_operands_are_usage_errors() {
        let kind = |args: &[&str]| parse(args).unwrap_err().kind();
        assert_eq!(kind(&[]), ErrorKind::MissingRequiredArgument);
        assert_eq!(kind(&["new"]), ErrorKind::MissingRequiredArgument);
        assert_eq!(kind(&["a", "b", "c"]), ErrorKind::UnknownArgument);
        assert_eq!(
            kind(&["--keep-old=x", "a", "b"]),
            ErrorKind::MissingRequiredArgument
        );
    }
}
