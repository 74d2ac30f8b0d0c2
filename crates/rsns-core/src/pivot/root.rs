//! `rs-pivot --root NEW_ROOT`: the change of root a container needs, in the
//! current mount namespace. Everything that can be checked is checked before
//! the first change (the new root, --keep-old, the command inside the new
//! root); then: every mount private, NEW_ROOT bound onto itself unless it is
//! a mount point, pivot_root(".", "."), the old root detached, chdir("/"),
//! exec. A failure before the pivot undoes the bind.

use std::convert::Infallible;
use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};

use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag, open};
use nix::mount::{MntFlags, MsFlags, umount2};
use nix::sys::stat::{Mode, fstat};
use nix::unistd::{chdir, pivot_root};

use super::lookup::{find_executable, openat2_retrying, shell_in_root};
use super::{PivotError, RootOptions, host, rules, setup};
use crate::error::{Context, SysError, errno_text};
use crate::exec::{ExecPlan, ProgramEnv, exec_failure_status};
use crate::mount::set_propagation;
use crate::sys;

pub(super) fn change_root(options: &RootOptions) -> Result<Infallible, PivotError> {
    let new_root = &options.new_root;
    // An overlay as the new root is made now, detached: nothing changes
    // until it is attached, and every check below reads it by descriptor.
    let (root_fd, overlay) = match &options.root_overlay {
        Some(m) => {
            let o = setup::root_overlay(m)?;
            let view = nix::unistd::dup(o.view.as_fd())
                .context(|| "dup the overlay's descriptor".into())?;
            (view, Some(o))
        }
        None => (open_new_root(new_root)?, None),
    };
    // stat, not open: a descriptor short (ulimit -n) must not fail here.
    let current = nix::sys::stat::stat(c"/").context(|| "stat /".into())?;
    let new = fstat(root_fd.as_fd()).context(|| format!("stat {}", new_root.display()))?;
    if (new.st_dev, new.st_ino) == (current.st_dev, current.st_ino) {
        return Err(bad_root(
            new_root,
            "that is the current root already; give the directory that holds the box's root \
             file system",
        ));
    }
    host::refuse_initial(options.force)?;
    if let Some(dir) = &options.keep_old {
        keep_old_dir(root_fd.as_fd(), new_root, dir)?;
    }
    let box_drop = crate::privs::BoxDrop {
        ids: match &options.drop.user {
            Some(spec) => Some(super::user::resolve(root_fd.as_fd(), new_root, spec)?),
            None => None,
        },
        caps: options.drop.caps,
        nnp: options.drop.nnp,
        seccomp: match &options.drop.seccomp {
            Some(source) => Some(
                crate::privs::seccomp::prepare(
                    source,
                    crate::privs::BoxDrop::caps_held(options.drop.caps),
                )
                .map_err(PivotError::Refused)?,
            ),
            None => None,
        },
    };
    let mut plan = exec_plan(root_fd.as_fd(), options)?;
    check_command(root_fd.as_fd(), new_root, &plan, options.command.is_empty())?;
    let setup = &options.setup;
    // With an image that is a directory, what it needs made in it is made
    // now (recorded in the journal).
    let mut checked = if setup.is_empty() {
        None
    } else {
        Some(setup::check(
            root_fd.as_fd(),
            setup,
            options.root_overlay.is_none(),
        )?)
    };
    let made = make_box(
        options,
        root_fd,
        overlay,
        checked.as_mut(),
        &mut plan,
        &box_drop,
    );
    // Only with an error: whatever was made in the image is taken back.
    if let Some(c) = checked {
        c.journal.undo();
    }
    made
}

/// Everything from the first change of the mount namespace to exec.
fn make_box(
    options: &RootOptions,
    mut root_fd: OwnedFd,
    mut overlay: Option<setup::RootOverlay>,
    checked: Option<&mut setup::Checked>,
    plan: &mut ExecPlan,
    box_drop: &crate::privs::BoxDrop,
) -> Result<Infallible, PivotError> {
    let new_root = &options.new_root;
    let setup = &options.setup;
    // From here on the mount namespace changes.
    set_propagation(MsFlags::MS_REC | MsFlags::MS_PRIVATE)
        .context(|| "make every mount private (mount --make-rprivate /)".into())?;
    // pivot_root wants NEW_ROOT to be a mount point: unless it is one, and
    // always with mounts to make, it becomes a bind of our own, made
    // detached and attached onto the descriptor checked above. Every later
    // step works from that bind's own descriptor, and one detach undoes
    // everything made under it.
    let mut tree = None;
    // A tmp overlay's tmpfs, under the root overlay: detached with it.
    let mut under = None;
    if let (Some(o), Some(m)) = (overlay.take(), &options.root_overlay) {
        // Over its lowest layer, in this (private) mount namespace: the
        // overlay's own descriptor goes on naming it.
        let (mnt, tmp) = setup::attach_root_overlay(m, o)?;
        root_fd =
            nix::unistd::dup(mnt.as_fd()).context(|| "dup the overlay's descriptor".into())?;
        tree = Some(mnt);
        under = tmp;
    } else if checked.is_some() || !is_mount_point(root_fd.as_fd(), new_root)? {
        tree = Some(bind_root(root_fd.as_fd(), new_root)?);
    }
    let undo = |tree: &Option<OwnedFd>| {
        for t in tree.iter().chain(&under) {
            detach(t.as_fd());
        }
    };
    if let (Some(checked), Some(t)) = (checked, &tree)
        && let Err(e) = setup::apply(t.as_fd(), setup, checked)
    {
        undo(&tree);
        return Err(e);
    }
    // --chdir's directory, found in the new root as its mounts made it
    // (a --tmpfs or --dir there counts): after the pivot a failure could
    // not be undone.
    let chdir_to = match &options.chdir {
        Some(dir) => match check_chdir(tree.as_ref().unwrap_or(&root_fd).as_fd(), new_root, dir) {
            Ok(c) => Some(c),
            Err(e) => {
                undo(&tree);
                return Err(e);
            }
        },
        None => None,
    };
    let mut pivoted = pivot_in(tree.as_ref().unwrap_or(&root_fd), new_root, options);
    if matches!(pivoted, Ok(Err(Errno::EINVAL))) && tree.is_none() {
        // A mount point copied from a more privileged mount namespace is
        // locked, and pivot_root refuses it; a bind of it is not locked.
        tracing::debug!(?new_root, "pivot_root refused a mount point; binding it");
        tree = Some(bind_root(root_fd.as_fd(), new_root)?);
        pivoted = pivot_in(tree.as_ref().expect("just made"), new_root, options);
    }
    drop(root_fd);
    let pivoted = match pivoted {
        Ok(p) => p,
        Err(e) => {
            undo(&tree);
            return Err(e);
        }
    };
    if let Err(errno) = pivoted {
        // Nothing was pivoted: take our bind away again.
        undo(&tree);
        let old = options.keep_old.as_deref().unwrap_or(Path::new("."));
        return Err(match errno {
            Errno::EINVAL | Errno::EBUSY => {
                PivotError::Refused(rules::explain(errno, Path::new("."), old))
            }
            _ => SysError::new(format!("pivot_root into {}", new_root.display()), errno).into(),
        });
    }
    drop(tree);
    let keep_old = options.keep_old.as_ref();
    if keep_old.is_none() {
        // The old root now sits on top of the new one, at ".".
        umount2(c".", MntFlags::MNT_DETACH)
            .context(|| "detach the old root (umount2 MNT_DETACH)".into())?;
    }
    chdir(c"/").context(|| "chdir / in the new root".into())?;
    if let (Some(dir), Some((c, want))) = (&options.chdir, &chdir_to) {
        // By name inside the new root (a descriptor from before the pivot
        // would sit in the mount under the bind, outside it), then checked
        // to be the directory found before.
        chdir(c.as_c_str()).context(|| format!("--chdir={}", dir.display()))?;
        let here = nix::sys::stat::stat(c".").context(|| "stat .".into())?;
        if (here.st_dev, here.st_ino) != *want {
            return Err(PivotError::Refused(format!(
                "--chdir={}: the directory changed while the box was made",
                dir.display()
            )));
        }
    }
    if !box_drop.is_empty() {
        crate::privs::drop_before_exec(box_drop)?;
        tracing::debug!(?box_drop, "privileges dropped");
    }
    tracing::debug!(?new_root, ?keep_old, "root changed; exec");
    let errno = plan.exec();
    Err(PivotError::Command {
        message: format!(
            "failed to execute {} in the new root: {}",
            plan.display(),
            errno_text(errno)
        ),
        status: exec_failure_status(errno),
    })
}

fn open_new_root(new_root: &Path) -> Result<OwnedFd, PivotError> {
    let fd = open(new_root, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())
        .map_err(|e| bad_root(new_root, &errno_text(e)))?;
    let st = fstat(fd.as_fd()).map_err(|e| bad_root(new_root, &errno_text(e)))?;
    if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
        return Err(bad_root(new_root, "not a directory"));
    }
    Ok(fd)
}

fn bad_root(new_root: &Path, why: &str) -> PivotError {
    PivotError::Refused(format!("new root '{}': {why}", new_root.display()))
}

/// `--keep-old=DIR`: a directory inside the new root, named without
/// symlinks or `..`, and not the new root itself. Returned opened, for
/// pivot_root(".", "/proc/self/fd/N") once we are in the new root: a
/// directory swapped in the image meanwhile does not change which one.
fn keep_old_dir(root: BorrowedFd<'_>, new_root: &Path, dir: &Path) -> Result<OwnedFd, PivotError> {
    let bad = |why: &str| {
        PivotError::Refused(format!(
            "--keep-old '{}': {why} (it must be an existing directory inside '{}')",
            dir.display(),
            new_root.display()
        ))
    };
    let relative: std::path::PathBuf = dir
        .components()
        .filter(|c| !matches!(c, Component::RootDir | Component::CurDir))
        .collect();
    if relative.as_os_str().is_empty() {
        return Err(bad("that is the new root itself"));
    }
    let name =
        CString::new(relative.as_os_str().as_bytes()).map_err(|_| bad("contains a NUL byte"))?;
    let how = OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_SYMLINKS);
    match openat2_retrying(root, name.as_c_str(), how) {
        // Compare what it is, not how it is spelled: `proc/..` is the root.
        Ok(fd) if same_file(fd.as_fd(), root) => Err(bad("that is the new root itself")),
        Ok(fd) => Ok(fd),
        Err(Errno::EXDEV) => Err(bad("it leaves the new root")),
        Err(Errno::ELOOP) => Err(bad("it goes through a symlink")),
        Err(e) => Err(bad(&errno_text(e))),
    }
}

/// Whether two descriptors name the same directory (device and inode).
fn same_file(a: BorrowedFd<'_>, b: BorrowedFd<'_>) -> bool {
    match (fstat(a), fstat(b)) {
        (Ok(a), Ok(b)) => (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino),
        _ => false,
    }
}

fn exec_plan(root: BorrowedFd<'_>, options: &RootOptions) -> Result<ExecPlan, PivotError> {
    let env = options
        .env
        .as_deref()
        .map_or(ProgramEnv::Inherit, ProgramEnv::Only);
    let plan = if options.command.is_empty() {
        let shell = shell_in_root(
            root,
            std::env::var_os("SHELL"),
            nix::unistd::getuid().as_raw(),
        );
        ExecPlan::login_shell(&shell, env)
    } else {
        ExecPlan::command(&options.command, env)
    };
    plan.map_err(|e| PivotError::Refused(e.to_string()))
}

/// `--chdir=DIR`: a directory inside the new root (symlinks resolved as
/// if it were /); its path for chdir after the pivot, and its identity.
fn check_chdir(
    root: BorrowedFd<'_>,
    new_root: &Path,
    dir: &Path,
) -> Result<(std::ffi::CString, (u64, u64)), PivotError> {
    use std::os::unix::ffi::OsStrExt;
    let bad = |why: &str| PivotError::Refused(format!("--chdir={}: {why}", dir.display()));
    if !dir.is_absolute() {
        return Err(bad("give an absolute path in the new root"));
    }
    let c =
        std::ffi::CString::new(dir.as_os_str().as_bytes()).map_err(|_| bad("holds a NUL byte"))?;
    let fd = super::lookup::open_in_root(root, &c, OFlag::O_PATH | OFlag::O_DIRECTORY)
        .map_err(|e| bad(&format!("{} in {}", errno_text(e), new_root.display())))?;
    let st = fstat(fd.as_fd()).context(|| format!("stat --chdir={}", dir.display()))?;
    Ok((c, (st.st_dev, st.st_ino)))
}

/// The command must be found and executable inside the new root before we
/// change anything: after the pivot, a failure could not be undone.
fn check_command(
    root: BorrowedFd<'_>,
    new_root: &Path,
    plan: &ExecPlan,
    is_shell: bool,
) -> Result<(), PivotError> {
    let candidates: Vec<&CStr> = plan.candidates().collect();
    let errno = match find_executable(root, &candidates) {
        Ok(()) => return Ok(()),
        Err(errno) => errno,
    };
    let program = plan.display();
    let message = match errno {
        Errno::ENOENT | Errno::ENOTDIR => {
            let searched = if program.contains('/') {
                String::new()
            } else {
                " (searched PATH)".into()
            };
            let hint = if is_shell {
                "; give a command, or set SHELL to a shell the new root has"
            } else {
                ""
            };
            format!(
                "{program}: not found in '{}'{searched}{hint}",
                new_root.display()
            )
        }
        e => format!(
            "{program}: cannot run it in '{}': {}",
            new_root.display(),
            errno_text(e)
        ),
    };
    Err(PivotError::Command {
        message,
        status: exec_failure_status(errno),
    })
}

/// Whether the new root is a mount point already.
fn is_mount_point(root: BorrowedFd<'_>, new_root: &Path) -> Result<bool, PivotError> {
    Ok(sys::mount_of(root, c"")
        .context(|| format!("statx {}", new_root.display()))?
        .is_mount_root)
}

/// The new root bound onto itself (with what is mounted below it): a
/// detached copy attached onto `root`. Returns the bind's own descriptor.
fn bind_root(root: BorrowedFd<'_>, new_root: &Path) -> Result<OwnedFd, PivotError> {
    let what = || format!("bind {0} onto itself", new_root.display());
    let tree = sys::clone_tree(root, true).context(what)?;
    sys::move_mount(tree.as_fd(), root, c"").context(what)?;
    tracing::debug!(?new_root, "bound onto itself");
    Ok(tree)
}

/// Into the new root (`base`: its bind's descriptor, or the mount point
/// itself) and pivot_root(".", PUT_OLD). PUT_OLD, for --keep-old, is opened
/// and checked under `base` now and given by descriptor: a directory
/// swapped in the image meanwhile does not change which one. The outer
/// error is a refused --keep-old; the inner is pivot_root's, or fchdir's.
fn pivot_in(
    base: &OwnedFd,
    new_root: &Path,
    options: &RootOptions,
) -> Result<Result<(), Errno>, PivotError> {
    let keep = match &options.keep_old {
        Some(dir) => Some(keep_old_dir(base.as_fd(), new_root, dir)?),
        None => None,
    };
    let put_old = keep
        .as_ref()
        .map(|fd| CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd())).expect("no NUL"));
    Ok(nix::unistd::fchdir(base.as_fd())
        .and_then(|()| pivot_root(c".", put_old.as_deref().unwrap_or(c"."))))
}

/// Detaches the mount `mnt` names (the new root's bind, with all under it).
fn detach(mnt: BorrowedFd<'_>) {
    let path = format!("/proc/self/fd/{}", mnt.as_raw_fd());
    let _ = umount2(path.as_str(), MntFlags::MNT_DETACH);
}
