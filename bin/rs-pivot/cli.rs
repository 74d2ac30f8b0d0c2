//! rs-pivot's command line: pivot_root(8)'s two operands, or `--root`.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{ArgAction, ArgMatches, CommandFactory, Parser};
use rsns_core::pivot::{DropSpec, ExtraMount, OverlayUpper, PivotOptions, RootOptions, RootSetup};
use rsns_core::privs::capnames;

const EXAMPLES: &str = "\
Examples:
  cd new_root && rs-pivot . old && exec chroot . sh     pivot_root(8)'s recipe
  rs-unshare -Urm rs-pivot --root rootfs -- /bin/sh     a shell in rootfs, no host mount left
  rs-pivot --root rootfs --keep-old=/mnt -- ls /mnt     the old root stays at /mnt
  rs-unshare -Urpfm rs-pivot --root rootfs --dev --proc --sys --ro --tmpfs=/tmp -- sh
                                                        a container's whole root
  rs-unshare -pfmiun rs-pivot --root rootfs --proc --caps=container --nnp --user=1000 -- sh
                                                        and no root's powers inside

Exit status: 0 (NEW_ROOT PUT_OLD); with --root the command's, 126 if it cannot
run, 127 if it is not found; 1 for our own errors.
Documentation: docs/rs-pivot.md";

#[derive(Parser, Debug)]
#[command(
    name = "rs-pivot",
    version,
    about = "Change the root file system: pivot_root(2), or the whole change of root a container needs",
    override_usage = "rs-pivot [OPTIONS] NEW_ROOT PUT_OLD\n       \
                      rs-pivot [OPTIONS] --root NEW_ROOT [--] [COMMAND [ARG]...]\n       \
                      rs-pivot [OPTIONS] --overlay-src=LAYER... --tmp-overlay=/ [--] [COMMAND [ARG]...]",
    after_help = EXAMPLES,
    args_override_self = true,
    // The new root: --root, or an overlay at / (checked in into_options).
    group(clap::ArgGroup::new("new_root").multiple(true)
        .args(["root", "overlay", "tmp_overlay", "ro_overlay"]))
)]
pub struct Cli {
    /// Make NEW_ROOT the root: private mounts, bind, pivot, detach the old root, run COMMAND
    #[arg(long = "root", value_name = "NEW_ROOT")]
    pub root: Option<PathBuf>,
    /// With --root: keep the old root mounted at DIR (inside NEW_ROOT) instead of detaching it
    #[arg(long = "keep-old", value_name = "DIR", requires = "new_root")]
    pub keep_old: Option<PathBuf>,
    /// With --root: a fresh minimal /dev (null, zero, full, random, urandom, tty, pts, shm)
    #[arg(long = "dev", requires = "new_root")]
    pub dev: bool,
    /// With --root: a new proc at /proc (needs a new PID namespace), kernel files read-only or masked
    #[arg(long = "proc", requires = "new_root")]
    pub proc: bool,
    /// With --root: /sys read-only
    #[arg(long = "sys", requires = "new_root")]
    pub sys: bool,
    /// With --root: a tmpfs at DIR in the new root (repeatable)
    #[arg(long = "tmpfs", value_name = "DIR", requires = "new_root", action = ArgAction::Append)]
    pub tmpfs: Vec<PathBuf>,
    /// With --root: the mode of the next --tmpfs (default 1777, as docker's), --dir (755),
    /// --file (666), --bind-data or --ro-bind-data (600), in octal
    #[arg(long = "perms", value_name = "OCTAL", requires = "new_root", action = ArgAction::Append,
          value_parser = parse_perms)]
    pub perms: Vec<u32>,
    /// With --root: the size limit of the next --tmpfs: bytes, or with k, m or g
    #[arg(long = "size", value_name = "BYTES", requires = "new_root", action = ArgAction::Append,
          value_parser = parse_size)]
    pub size: Vec<String>,
    /// With --root: bind the host's SRC at DST in the new root, nosuid and nodev (repeatable)
    #[arg(long = "bind", value_name = "SRC:DST", requires = "new_root", action = ArgAction::Append,
          value_parser = parse_bind)]
    pub bind: Vec<(PathBuf, PathBuf)>,
    /// With --root: bind the host's SRC at DST in the new root, read-only, nosuid and nodev
    /// (repeatable)
    #[arg(long = "ro-bind", value_name = "SRC:DST", requires = "new_root", action = ArgAction::Append,
          value_parser = parse_bind)]
    pub ro_bind: Vec<(PathBuf, PathBuf)>,
    /// With --root: bind SRC at DST with its device nodes working (--bind and --ro-bind
    /// are nodev); nosuid still (repeatable)
    #[arg(long = "dev-bind", value_name = "SRC:DST", requires = "new_root", action = ArgAction::Append,
          value_parser = parse_bind)]
    pub dev_bind: Vec<(PathBuf, PathBuf)>,
    /// With --root: as --bind, --ro-bind and --dev-bind, skipped when SRC does not exist
    #[arg(long = "bind-try", value_name = "SRC:DST", requires = "new_root", action = ArgAction::Append,
          value_parser = parse_bind)]
    pub bind_try: Vec<(PathBuf, PathBuf)>,
    #[arg(long = "ro-bind-try", value_name = "SRC:DST", requires = "new_root", action = ArgAction::Append,
          value_parser = parse_bind, hide_short_help = true)]
    pub ro_bind_try: Vec<(PathBuf, PathBuf)>,
    #[arg(long = "dev-bind-try", value_name = "SRC:DST", requires = "new_root", action = ArgAction::Append,
          value_parser = parse_bind, hide_short_help = true)]
    pub dev_bind_try: Vec<(PathBuf, PathBuf)>,
    /// With --root: a layer (a host directory) for the next --overlay, --tmp-overlay or
    /// --ro-overlay; repeatable, lowest first
    #[arg(long = "overlay-src", value_name = "DIR", requires = "new_root", action = ArgAction::Append)]
    pub overlay_src: Vec<PathBuf>,
    /// With --root: overlayfs of the --overlay-src layers before it at DST, writes kept in
    /// the host's UPPER (WORK: an empty directory on UPPER's file system)
    #[arg(long = "overlay", value_name = "UPPER:WORK:DST", requires = "new_root",
          action = ArgAction::Append, value_parser = parse_overlay)]
    pub overlay: Vec<(PathBuf, PathBuf, PathBuf)>,
    /// With --root: as --overlay, the writes in a tmpfs that goes with the box
    #[arg(long = "tmp-overlay", value_name = "DST", requires = "new_root", action = ArgAction::Append)]
    pub tmp_overlay: Vec<PathBuf>,
    /// With --root: as --overlay, read-only (two --overlay-src or more)
    #[arg(long = "ro-overlay", value_name = "DST", requires = "new_root", action = ArgAction::Append)]
    pub ro_overlay: Vec<PathBuf>,
    /// With --root: a directory at DST (parents too; one there is kept as it is)
    #[arg(long = "dir", value_name = "DST", requires = "new_root", action = ArgAction::Append)]
    pub dir: Vec<PathBuf>,
    /// With --root: a symlink at DST to TARGET (one there to TARGET is kept)
    #[arg(long = "symlink", value_name = "TARGET:DST", requires = "new_root",
          action = ArgAction::Append, value_parser = parse_symlink)]
    pub symlink: Vec<(PathBuf, PathBuf)>,
    /// With --root: a new file at DST holding what descriptor FD holds
    #[arg(long = "file", value_name = "FD:DST", requires = "new_root", action = ArgAction::Append,
          value_parser = parse_fd_dst)]
    pub file: Vec<(i32, PathBuf)>,
    /// With --root: what descriptor FD holds, in a file of ours bound on DST (nosuid, nodev)
    #[arg(long = "bind-data", value_name = "FD:DST", requires = "new_root",
          action = ArgAction::Append, value_parser = parse_fd_dst)]
    pub bind_data: Vec<(i32, PathBuf)>,
    /// With --root: as --bind-data, read-only
    #[arg(long = "ro-bind-data", value_name = "FD:DST", requires = "new_root",
          action = ArgAction::Append, value_parser = parse_fd_dst)]
    pub ro_bind_data: Vec<(i32, PathBuf)>,
    /// With --root: set the mode of DST in the new root, in octal (never through a symlink)
    #[arg(long = "chmod", value_name = "OCTAL:DST", requires = "new_root",
          action = ArgAction::Append, value_parser = parse_chmod)]
    pub chmod: Vec<(u32, PathBuf)>,
    /// With --root: make the mount at DST in the new root read-only, after the mounts above
    /// (repeatable)
    #[arg(long = "remount-ro", value_name = "DST", requires = "new_root", action = ArgAction::Append)]
    pub remount_ro: Vec<PathBuf>,
    /// With --root: the image itself read-only (tmpfs and binds keep their own mode)
    #[arg(long = "ro", requires = "new_root")]
    pub ro: bool,
    /// With --root: run COMMAND as USER[:GROUP] (names from the image's /etc/passwd and
    /// /etc/group), supplementary groups cleared
    #[arg(long = "user", value_name = "USER[:GROUP]", requires = "new_root")]
    pub user: Option<String>,
    /// With --root: every capability set becomes SET (container: podman's 11; none;
    /// or names), the ambient set cleared
    #[arg(
        long = "caps",
        value_name = "container|none|CAP,...",
        requires = "new_root"
    )]
    pub caps: Option<String>,
    /// With --root: set no_new_privs before exec
    #[arg(long = "nnp", visible_alias = "no-new-privs", requires = "new_root")]
    pub nnp: bool,
    /// With --root: a seccomp filter before exec: container (podman's default profile), or a
    /// JSON profile as docker, podman and OCI write them
    #[arg(long = "seccomp", value_name = "container|FILE", requires = "new_root")]
    pub seccomp: Option<String>,
    /// With --root: the command's working directory in the new root (default /)
    #[arg(long = "chdir", value_name = "DIR", requires = "new_root")]
    pub chdir: Option<PathBuf>,
    /// With --root: set VAR to VALUE in the command's environment (repeatable; in order)
    #[arg(long = "setenv", value_name = "VAR=VALUE", requires = "new_root", action = ArgAction::Append,
          value_parser = parse_setenv)]
    pub setenv: Vec<(OsString, OsString)>,
    /// With --root: remove VAR from the command's environment (repeatable; in order)
    #[arg(long = "unsetenv", value_name = "VAR", requires = "new_root", action = ArgAction::Append)]
    pub unsetenv: Vec<OsString>,
    /// With --root: start the command's environment empty (but PWD); later --setenv add to it
    #[arg(long = "clearenv", requires = "new_root")]
    pub clearenv: bool,
    /// Run even in the host's initial mount namespace
    #[arg(long = "force")]
    pub force: bool,
    /// Log the system calls on stderr (-vv: more)
    #[arg(short = 'v', long = "verbose", action = ArgAction::Count)]
    pub verbose: u8,
    /// NEW_ROOT PUT_OLD; with --root, the command and its arguments (default: the shell)
    // No allow_hyphen_values: an unknown option before the command is an
    // error (it ran as the program); after the first word, or after `--`,
    // everything is the command's.
    #[arg(value_name = "ARGS", trailing_var_arg = true)]
    pub args: Vec<OsString>,
}

/// An octal mode up to 7777.
fn parse_perms(value: &str) -> Result<u32, String> {
    u32::from_str_radix(value, 8)
        .ok()
        .filter(|m| *m <= 0o7777 && !value.is_empty())
        .ok_or_else(|| format!("'{value}' is not an octal mode (0 to 7777)"))
}

/// `TARGET:DST`, split at the first colon (TARGET is kept as given).
fn parse_symlink(value: &str) -> Result<(PathBuf, PathBuf), String> {
    match value.split_once(':') {
        Some((t, d)) if !t.is_empty() && !d.is_empty() => Ok((t.into(), d.into())),
        _ => Err(format!(
            "'{value}' is not TARGET:DST (what the link points to, a colon, a path in the new root)"
        )),
    }
}

/// `FD:DST`: a descriptor number, a colon, a path in the new root.
fn parse_fd_dst(value: &str) -> Result<(i32, PathBuf), String> {
    match value.split_once(':') {
        Some((fd, d)) if !d.is_empty() && fd.bytes().all(|b| b.is_ascii_digit()) => fd
            .parse::<i32>()
            .map(|fd| (fd, d.into()))
            .map_err(|_| format!("'{fd}' is not a descriptor number")),
        _ => Err(format!(
            "'{value}' is not FD:DST (a descriptor number, a colon, a path in the new root)"
        )),
    }
}

/// `OCTAL:DST`.
fn parse_chmod(value: &str) -> Result<(u32, PathBuf), String> {
    match value.split_once(':') {
        Some((m, d)) if !d.is_empty() => Ok((parse_perms(m)?, d.into())),
        _ => Err(format!(
            "'{value}' is not OCTAL:DST (a mode, a colon, a path in the new root)"
        )),
    }
}

/// A tmpfs size: digits, then optionally k, m or g (either case).
fn parse_size(value: &str) -> Result<String, String> {
    let digits = value.trim_end_matches(['k', 'K', 'm', 'M', 'g', 'G']);
    let ok = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && value.len() - digits.len() <= 1
        && digits.parse::<u64>().is_ok_and(|n| n > 0);
    if ok {
        Ok(value.to_string())
    } else {
        Err(format!(
            "'{value}' is not a size (bytes, or a number with k, m or g)"
        ))
    }
}

/// `VAR=VALUE`, split at the first `=`; VAR is not empty.
fn parse_setenv(value: &str) -> Result<(OsString, OsString), String> {
    match value.split_once('=') {
        Some((var, val)) if !var.is_empty() => Ok((var.into(), val.into())),
        _ => Err(format!("'{value}' is not VAR=VALUE")),
    }
}

/// `UPPER:WORK:DST`, split at the first two colons.
fn parse_overlay(value: &str) -> Result<(PathBuf, PathBuf, PathBuf), String> {
    let mut parts = value.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(u), Some(w), Some(d)) if !u.is_empty() && !w.is_empty() && !d.is_empty() => {
            Ok((u.into(), w.into(), d.into()))
        }
        _ => Err(format!(
            "'{value}' is not UPPER:WORK:DST (two host directories, then a path in the new root)"
        )),
    }
}

/// `SRC:DST`, split at the first colon.
fn parse_bind(value: &str) -> Result<(PathBuf, PathBuf), String> {
    match value.split_once(':') {
        Some((src, dst)) if !src.is_empty() && !dst.is_empty() => {
            Ok((PathBuf::from(src), PathBuf::from(dst)))
        }
        _ => Err(format!(
            "'{value}' is not SRC:DST (a host path, a colon, a path in the new root)"
        )),
    }
}

/// The overlays in command-line order, each with the `--overlay-src`
/// layers given between it and the overlay before it (bubblewrap's rule).
fn overlays(
    index: &dyn Fn(&str) -> Vec<usize>,
    srcs: Vec<PathBuf>,
    rw: Vec<(PathBuf, PathBuf, PathBuf)>,
    tmp: Vec<PathBuf>,
    ro: Vec<PathBuf>,
) -> Result<Vec<(usize, ExtraMount)>, clap::Error> {
    let fail = |text: String| Cli::command().error(ErrorKind::ArgumentConflict, text);
    let mut ops: Vec<(usize, OverlayUpper, PathBuf)> = Vec::new();
    ops.extend(
        index("overlay")
            .into_iter()
            .zip(rw)
            .map(|(i, (upper, work, dst))| (i, OverlayUpper::Dirs { upper, work }, dst)),
    );
    ops.extend(
        index("tmp_overlay")
            .into_iter()
            .zip(tmp)
            .map(|(i, dst)| (i, OverlayUpper::Tmp, dst)),
    );
    ops.extend(
        index("ro_overlay")
            .into_iter()
            .zip(ro)
            .map(|(i, dst)| (i, OverlayUpper::ReadOnly, dst)),
    );
    ops.sort_by_key(|(i, _, _)| *i);
    let mut srcs: Vec<(usize, PathBuf)> = index("overlay_src").into_iter().zip(srcs).collect();
    let mut out = Vec::new();
    for (at, upper, dst) in ops {
        let layers: Vec<PathBuf> = srcs
            .iter()
            .take_while(|(i, _)| *i < at)
            .map(|(_, p)| p.clone())
            .collect();
        srcs.drain(..layers.len());
        let m = ExtraMount::Overlay { layers, upper, dst };
        let ExtraMount::Overlay { layers, upper, .. } = &m else {
            unreachable!()
        };
        if layers.is_empty() {
            return Err(fail(format!(
                "{}: no --overlay-src before it (the layers come first, lowest first)",
                m.option()
            )));
        }
        if *upper == OverlayUpper::ReadOnly && layers.len() < 2 {
            return Err(fail(format!(
                "{}: needs two --overlay-src or more (one read-only layer is a --ro-bind)",
                m.option()
            )));
        }
        out.push((at, m));
    }
    if let Some((_, src)) = srcs.first() {
        return Err(fail(format!(
            "--overlay-src={}: no --overlay, --tmp-overlay or --ro-overlay after it uses it",
            src.display()
        )));
    }
    Ok(out)
}

impl Cli {
    /// `matches` gives the order of --tmpfs, --bind and --ro-bind on the
    /// command line, which is the order they are mounted in.
    pub fn into_options(self, matches: &ArgMatches) -> Result<PivotOptions, clap::Error> {
        let overlay_given =
            !self.overlay.is_empty() || !self.tmp_overlay.is_empty() || !self.ro_overlay.is_empty();
        if self.root.is_some() || overlay_given {
            let index = |id: &str| -> Vec<usize> {
                matches
                    .indices_of(id)
                    .map(|i| i.collect())
                    .unwrap_or_default()
            };
            let mut mounts: Vec<(usize, ExtraMount)> = Vec::new();
            // --perms applies to the next step that makes something with a
            // mode, --size to the next --tmpfs, as bubblewrap's.
            let fail = |text: String| Cli::command().error(ErrorKind::ArgumentConflict, text);
            let mut with_mode: Vec<usize> = ["tmpfs", "dir", "file", "bind_data", "ro_bind_data"]
                .into_iter()
                .flat_map(&index)
                .collect();
            with_mode.sort_unstable();
            let mut modes: std::collections::HashMap<usize, u32> = Default::default();
            for (at, mode) in index("perms").into_iter().zip(self.perms) {
                let Some(&next) = with_mode.iter().find(|&&i| i > at) else {
                    return Err(fail(
                        "--perms applies to the next --tmpfs, --dir, --file, --bind-data or \
                         --ro-bind-data, and none follows it"
                            .into(),
                    ));
                };
                if modes.insert(next, mode).is_some() {
                    return Err(fail(
                        "two --perms for one --tmpfs, --dir, --file or --bind-data".into(),
                    ));
                }
            }
            let mode_at = |i: usize, default: u32| modes.get(&i).copied().unwrap_or(default);
            let tmpfs_at = index("tmpfs");
            let mut sizes: Vec<Option<String>> = vec![None; tmpfs_at.len()];
            for (at, size) in index("size").into_iter().zip(self.size) {
                let t = tmpfs_at.iter().position(|&t| t > at).ok_or_else(|| {
                    fail("--size applies to the next --tmpfs, and none follows it".into())
                })?;
                if sizes[t].replace(size).is_some() {
                    return Err(fail("two --size for one --tmpfs".into()));
                }
            }
            mounts.extend(
                tmpfs_at
                    .iter()
                    .zip(self.tmpfs)
                    .enumerate()
                    .map(|(t, (&i, dst))| {
                        (
                            i,
                            ExtraMount::Tmpfs {
                                dst,
                                mode: mode_at(i, 0o1777),
                                size: sizes[t].take(),
                            },
                        )
                    }),
            );
            mounts.extend(index("dir").into_iter().zip(self.dir).map(|(i, dst)| {
                (
                    i,
                    ExtraMount::Dir {
                        dst,
                        mode: mode_at(i, 0o755),
                    },
                )
            }));
            mounts.extend(
                index("symlink")
                    .into_iter()
                    .zip(self.symlink)
                    .map(|(i, (target, dst))| (i, ExtraMount::Symlink { target, dst })),
            );
            mounts.extend(
                index("file")
                    .into_iter()
                    .zip(self.file)
                    .map(|(i, (fd, dst))| {
                        (
                            i,
                            ExtraMount::File {
                                fd,
                                dst,
                                mode: mode_at(i, 0o666),
                            },
                        )
                    }),
            );
            for (id, list, read_only) in [
                ("bind_data", self.bind_data, false),
                ("ro_bind_data", self.ro_bind_data, true),
            ] {
                mounts.extend(index(id).into_iter().zip(list).map(|(i, (fd, dst))| {
                    (
                        i,
                        ExtraMount::BindData {
                            fd,
                            dst,
                            mode: mode_at(i, 0o600),
                            read_only,
                        },
                    )
                }));
            }
            mounts.extend(
                index("chmod")
                    .into_iter()
                    .zip(self.chmod)
                    .map(|(i, (mode, dst))| (i, ExtraMount::Chmod { mode, dst })),
            );
            for (id, list, read_only, devices, optional) in [
                ("bind", self.bind, false, false, false),
                ("ro_bind", self.ro_bind, true, false, false),
                ("dev_bind", self.dev_bind, false, true, false),
                ("bind_try", self.bind_try, false, false, true),
                ("ro_bind_try", self.ro_bind_try, true, false, true),
                ("dev_bind_try", self.dev_bind_try, false, true, true),
            ] {
                mounts.extend(index(id).into_iter().zip(list).map(|(i, (src, dst))| {
                    (
                        i,
                        ExtraMount::Bind {
                            src,
                            dst,
                            read_only,
                            devices,
                            optional,
                        },
                    )
                }));
            }
            mounts.extend(overlays(
                &index,
                self.overlay_src,
                self.overlay,
                self.tmp_overlay,
                self.ro_overlay,
            )?);
            mounts.sort_by_key(|(i, _)| *i);
            let mut mounts: Vec<ExtraMount> = mounts.into_iter().map(|(_, m)| m).collect();
            // An overlay at / without --root is the new root.
            let at_root = mounts.iter().position(|m| {
                matches!(m, ExtraMount::Overlay { dst, .. }
                    if dst.components().all(|c| matches!(c, std::path::Component::RootDir)))
            });
            let fail = |text: String| Cli::command().error(ErrorKind::ArgumentConflict, text);
            let (new_root, root_overlay) = match (self.root, at_root) {
                (Some(root), None) => (root, None),
                (None, Some(i)) => {
                    let m = mounts.remove(i);
                    (PathBuf::from(m.option()), Some(m))
                }
                (Some(_), Some(i)) => {
                    return Err(fail(format!(
                        "{}: with --root the overlay goes inside the new root; without --root, \
                         an overlay at / is the new root",
                        mounts[i].option()
                    )));
                }
                (None, None) => {
                    let first = mounts
                        .iter()
                        .find(|m| matches!(m, ExtraMount::Overlay { .. }))
                        .map(|m| m.option())
                        .unwrap_or_default();
                    return Err(fail(format!(
                        "{first}: needs --root, or / as its destination to be the new root"
                    )));
                }
            };
            // The environment: ours (or nothing but PWD with --clearenv),
            // then each --setenv and --unsetenv in command-line order.
            let env = (self.clearenv || !self.setenv.is_empty() || !self.unsetenv.is_empty()).then(
                || {
                    let mut vars: Vec<(OsString, OsString)> = if self.clearenv {
                        std::env::var_os("PWD")
                            .map(|v| vec![("PWD".into(), v)])
                            .unwrap_or_default()
                    } else {
                        std::env::vars_os().collect()
                    };
                    let mut ops: Vec<(usize, Option<OsString>, OsString)> = Vec::new();
                    ops.extend(
                        index("setenv")
                            .into_iter()
                            .zip(self.setenv)
                            .map(|(i, (k, v))| (i, Some(v), k)),
                    );
                    ops.extend(
                        index("unsetenv")
                            .into_iter()
                            .zip(self.unsetenv)
                            .map(|(i, k)| (i, None, k)),
                    );
                    ops.sort_by_key(|(i, _, _)| *i);
                    for (_, value, key) in ops {
                        vars.retain(|(k, _)| *k != key);
                        if let Some(v) = value {
                            vars.push((key, v));
                        }
                    }
                    vars
                },
            );
            return Ok(PivotOptions::Root(Box::new(RootOptions {
                chdir: self.chdir,
                env,
                new_root,
                root_overlay,
                keep_old: self.keep_old,
                command: self.args,
                force: self.force,
                setup: RootSetup {
                    dev: self.dev,
                    proc: self.proc,
                    sys: self.sys,
                    mounts,
                    read_only: self.ro,
                    remount_ro: self.remount_ro,
                },
                drop: DropSpec {
                    user: self.user,
                    caps: self
                        .caps
                        .as_deref()
                        .map(|t| capnames::parse_set(t, rsns_core::caps::last_cap()))
                        .transpose()
                        .map_err(|e| Cli::command().error(ErrorKind::InvalidValue, e))?,
                    nnp: self.nnp,
                    seccomp: self
                        .seccomp
                        .as_deref()
                        .map(rsns_core::privs::seccomp::Source::parse),
                },
            })));
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
        use clap::FromArgMatches;
        let mut all = vec!["rs-pivot"];
        all.extend(args);
        let matches = Cli::command().try_get_matches_from(all)?;
        Cli::from_arg_matches(&matches)?.into_options(&matches)
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
            PivotOptions::Root(Box::new(RootOptions {
                new_root: "rootfs".into(),
                root_overlay: None,
                keep_old: keep.map(PathBuf::from),
                command: command.iter().map(OsString::from).collect(),
                force,
                setup: RootSetup::default(),
                drop: DropSpec::default(),
                chdir: None,
                env: None,
            }))
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
    fn extra_mounts_keep_their_command_line_order() {
        let PivotOptions::Root(options) = parse(&[
            "--root=r",
            "--ro-bind=/a:/x",
            "--tmpfs=/t",
            "--bind",
            "/b:/y:z",
            "--dev-bind=/dev:/d",
            "--dev",
            "--ro",
        ])
        .unwrap() else {
            panic!("not --root")
        };
        let bind = |src: &str, dst: &str, read_only, devices| ExtraMount::Bind {
            src: src.into(),
            dst: dst.into(),
            read_only,
            devices,
            optional: false,
        };
        assert_eq!(
            options.setup.mounts,
            [
                bind("/a", "/x", true, false),
                ExtraMount::Tmpfs {
                    dst: "/t".into(),
                    mode: 0o1777,
                    size: None
                },
                bind("/b", "/y:z", false, false),
                bind("/dev", "/d", false, true)
            ]
        );
        assert!(options.setup.dev && options.setup.read_only && !options.setup.proc);
    }

    /// Files keep their place among the mounts; each --perms goes to the
    /// next step with a mode, whatever comes between.
    #[test]
    fn files_keep_their_order_and_perms_its_next_step() {
        let PivotOptions::Root(options) = parse(&[
            "--root=r",
            "--perms=700",
            "--symlink=t:/l",
            "--dir=/a",
            "--file=3:/a/f",
            "--perms=640",
            "--chmod=711:/a",
            "--ro-bind-data=4:/c",
            "--tmpfs=/t",
        ])
        .unwrap() else {
            panic!("not --root")
        };
        assert_eq!(
            options.setup.mounts,
            [
                ExtraMount::Symlink {
                    target: "t".into(),
                    dst: "/l".into()
                },
                ExtraMount::Dir {
                    dst: "/a".into(),
                    mode: 0o700
                },
                ExtraMount::File {
                    fd: 3,
                    dst: "/a/f".into(),
                    mode: 0o666
                },
                ExtraMount::Chmod {
                    mode: 0o711,
                    dst: "/a".into()
                },
                ExtraMount::BindData {
                    fd: 4,
                    dst: "/c".into(),
                    mode: 0o640,
                    read_only: true
                },
                ExtraMount::Tmpfs {
                    dst: "/t".into(),
                    mode: 0o1777,
                    size: None
                },
            ]
        );
    }

    #[test]
    fn a_bind_needs_both_sides() {
        for bad in ["--bind=/a", "--bind=:/x", "--ro-bind=/a:"] {
            let err = parse(&["--root=r", bad]).unwrap_err();
            assert!(err.to_string().contains("is not SRC:DST"), "{bad}: {err}");
        }
        let err = parse(&["--dev", "a", "b"]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingRequiredArgument);
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
