//! `--pid-file`: the file appears, complete, only once the program runs.
//!
//! Checked before anything starts: the path must be absent or a regular file;
//! a directory, symlink, device node, FIFO or socket there is refused, never
//! replaced (a rename over /dev/full would have destroyed it). The PID is
//! written to an unnamed file (O_TMPFILE) in the target's directory, so a run
//! that dies leaves nothing behind, and linked into place when the program
//! has exec'ed. What is at the path is checked again at that moment.

use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{AT_FDCWD, AtFlags, OFlag, RenameFlags, open, openat, renameat, renameat2};
use nix::sys::stat::{Mode, fstatat};
use nix::unistd::{Pid, UnlinkatFlags, linkat, unlinkat};

use crate::error::SysError;

/// Why a pid file cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum PidFileError {
    /// Something other than a regular file is at the path: left alone.
    #[error(
        "--pid-file={path}: is {kind}; refusing to replace it (give a new path or a regular file)"
    )]
    Occupied { path: String, kind: &'static str },
    #[error(transparent)]
    Sys(#[from] SysError),
}

/// What was at the target path when we looked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Existing {
    Absent,
    /// A regular file (device, inode), which we may replace.
    Regular(u64, u64),
}

#[derive(Debug)]
pub struct PidFile {
    /// The target's directory.
    dir: OwnedFd,
    /// The target's name in `dir`.
    name: CString,
    /// The target as the user spelled it, for messages.
    target: PathBuf,
    file: Option<File>,
    /// Set when the file has a name of its own in `dir` (no O_TMPFILE here):
    /// removed on drop unless published.
    temp: Option<CString>,
}

/// The name of a file type, for "refusing to replace a FIFO".
fn kind_of(mode: libc::mode_t) -> &'static str {
    match mode & libc::S_IFMT {
        libc::S_IFDIR => "a directory",
        libc::S_IFLNK => "a symbolic link",
        libc::S_IFCHR => "a character device",
        libc::S_IFBLK => "a block device",
        libc::S_IFIFO => "a FIFO",
        libc::S_IFSOCK => "a socket",
        _ => "not a regular file",
    }
}

impl PidFile {
    /// Checks the target and creates the file that will become it.
    pub fn prepare(target: &Path) -> Result<PidFile, PidFileError> {
        let shown = || format!("--pid-file={}", target.display());
        let name = target
            .file_name()
            .filter(|_| !target.as_os_str().as_bytes().ends_with(b"/"))
            .ok_or_else(|| SysError::new(format!("{}: not a file name", shown()), Errno::EINVAL))?;
        let name = CString::new(name.as_bytes()).map_err(|_| {
            SysError::new(format!("{}: contains a NUL byte", shown()), Errno::EINVAL)
        })?;
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let dir = open(
            parent,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| {
            SysError::new(
                format!(
                    "{}: cannot open the directory {}",
                    shown(),
                    parent.display()
                ),
                e,
            )
        })?;
        let mut pid_file = PidFile {
            dir,
            name,
            target: target.to_path_buf(),
            file: None,
            temp: None,
        };
        pid_file.existing()?;
        pid_file.create()?;
        Ok(pid_file)
    }

    /// What is at the target now; an error for anything we must not replace.
    fn existing(&self) -> Result<Existing, PidFileError> {
        match fstatat(
            &self.dir,
            self.name.as_c_str(),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        ) {
            Err(Errno::ENOENT) => Ok(Existing::Absent),
            Err(e) => Err(SysError::new(
                format!("--pid-file={}: cannot look at it", self.target.display()),
                e,
            )
            .into()),
            Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFREG => {
                Ok(Existing::Regular(st.st_dev, st.st_ino))
            }
            Ok(st) => Err(PidFileError::Occupied {
                path: crate::text::safe_path(&self.target),
                kind: kind_of(st.st_mode),
            }),
        }
    }

    /// An unnamed file in the target's directory, or a hidden named one
    /// where the file system has no O_TMPFILE.
    fn create(&mut self) -> Result<(), SysError> {
        let what = |e: Errno| {
            SysError::new(
                format!(
                    "--pid-file={}: cannot create a file there",
                    self.target.display()
                ),
                e,
            )
        };
        let mode = Mode::from_bits_truncate(0o644);
        match openat(
            &self.dir,
            c".",
            OFlag::O_TMPFILE | OFlag::O_WRONLY | OFlag::O_CLOEXEC,
            mode,
        ) {
            Ok(fd) => {
                self.file = Some(File::from(fd));
                return Ok(());
            }
            // No O_TMPFILE on this file system (or kernel): a named file.
            Err(Errno::EOPNOTSUPP | Errno::EISDIR | Errno::EINVAL) => {}
            Err(e) => return Err(what(e)),
        }
        let temp = self.temp_name();
        let fd = openat(
            &self.dir,
            temp.as_c_str(),
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            mode,
        )
        .map_err(what)?;
        self.file = Some(File::from(fd));
        self.temp = Some(temp);
        Ok(())
    }

    /// `.NAME.PID.tmp`, beside the target.
    fn temp_name(&self) -> CString {
        let mut name = OsString::from(".");
        name.push(OsStr::from_bytes(self.name.as_bytes()));
        name.push(format!(".{}.tmp", std::process::id()));
        CString::new(name.as_bytes()).expect("built from NUL-free parts")
    }

    /// Writes `pid` and puts the file in place, if what is at the target is
    /// still absent or a regular file.
    pub fn publish(mut self, pid: Pid) -> Result<(), PidFileError> {
        let target = self.target.clone();
        let what =
            |e: Errno| SysError::new(format!("cannot write --pid-file={}", target.display()), e);
        let mut file = self.file.take().expect("a prepared pid file has a handle");
        file.write_all(format!("{pid}\n").as_bytes())
            .map_err(|e| what(crate::error::io_errno(&e)))?;
        let replace = match self.existing()? {
            Existing::Absent => match self.link_new(&file) {
                Ok(()) => false,
                // Someone made it meanwhile: replace it if it is a regular file.
                Err(Errno::EEXIST) => matches!(self.existing()?, Existing::Regular(..)),
                Err(e) => return Err(what(e).into()),
            },
            Existing::Regular(..) => true,
        };
        if replace {
            self.replace(&file).map_err(what)?;
        }
        tracing::debug!(path = %self.target.display(), %pid, "wrote pid file");
        Ok(())
    }

    /// Gives the file the target's name, which must not exist.
    fn link_new(&mut self, file: &File) -> Result<(), Errno> {
        match self.temp.take() {
            Some(temp) => {
                let moved = renameat2(
                    &self.dir,
                    temp.as_c_str(),
                    &self.dir,
                    self.name.as_c_str(),
                    RenameFlags::RENAME_NOREPLACE,
                );
                match moved {
                    // No RENAME_NOREPLACE here; we just saw nothing there.
                    Err(Errno::EINVAL | Errno::ENOSYS) => {
                        renameat(&self.dir, temp.as_c_str(), &self.dir, self.name.as_c_str())
                    }
                    Err(e) => {
                        self.temp = Some(temp);
                        Err(e)
                    }
                    Ok(()) => Ok(()),
                }
            }
            None => link_unnamed(file, &self.dir, &self.name),
        }
    }

    /// Moves the file over the (regular) target, atomically for readers.
    fn replace(&mut self, file: &File) -> Result<(), Errno> {
        let temp = match self.temp.take() {
            Some(temp) => temp,
            None => {
                let temp = self.temp_name();
                link_unnamed(file, &self.dir, &temp)?;
                temp
            }
        };
        self.temp = Some(temp);
        let temp = self.temp.as_ref().expect("just set");
        renameat(&self.dir, temp.as_c_str(), &self.dir, self.name.as_c_str())?;
        self.temp = None;
        Ok(())
    }
}

/// Links an O_TMPFILE file into `dir` as `name`: through /proc/self/fd, or
/// with AT_EMPTY_PATH (which needs CAP_DAC_READ_SEARCH) where /proc is missing.
fn link_unnamed(file: &File, dir: &OwnedFd, name: &CString) -> Result<(), Errno> {
    let by_proc = format!("/proc/self/fd/{}", file.as_raw_fd());
    match linkat(
        AT_FDCWD,
        by_proc.as_str(),
        dir,
        name.as_c_str(),
        AtFlags::AT_SYMLINK_FOLLOW,
    ) {
        Err(Errno::ENOENT) if !Path::new("/proc/self/fd").exists() => linkat(
            file.as_fd(),
            c"",
            dir,
            name.as_c_str(),
            AtFlags::AT_EMPTY_PATH,
        ),
        other => other,
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        if let Some(temp) = &self.temp {
            let _ = unlinkat(&self.dir, temp.as_c_str(), UnlinkatFlags::NoRemoveDir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn publish_writes_pid_and_leaves_only_the_target() {
        let d = crate::testutil::scratch_dir("pidfile-publish");
        let target = d.join("prog.pid");
        let pid_file = PidFile::prepare(&target).unwrap();
        // Where the file system has no O_TMPFILE (overlayfs over 9p, say) a
        // hidden file stands in until then; the target never does.
        let before = entries(&d);
        assert!(
            before.is_empty() || before == [format!(".prog.pid.{}.tmp", std::process::id())],
            "{before:?}"
        );
        pid_file.publish(Pid::from_raw(4242)).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "4242\n");
        assert_eq!(entries(&d), ["prog.pid"]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn an_old_regular_file_is_replaced_and_kept_until_then() {
        let d = crate::testutil::scratch_dir("pidfile-replace");
        let target = d.join("prog.pid");
        std::fs::write(&target, "old\n").unwrap();
        drop(PidFile::prepare(&target).unwrap());
        assert_eq!(entries(&d), ["prog.pid"]);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old\n");
        PidFile::prepare(&target)
            .unwrap()
            .publish(Pid::from_raw(7))
            .unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "7\n");
        assert_eq!(entries(&d), ["prog.pid"]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn anything_but_a_regular_file_is_refused_and_left_alone() {
        let d = crate::testutil::scratch_dir("pidfile-refuse");
        std::fs::create_dir(d.join("dir")).unwrap();
        symlink("/dev/null", d.join("link")).unwrap();
        symlink("nowhere", d.join("dangling")).unwrap();
        nix::unistd::mkfifo(&d.join("fifo"), Mode::from_bits_truncate(0o600)).unwrap();
        for (name, kind) in [
            ("dir", "a directory"),
            ("link", "a symbolic link"),
            ("dangling", "a symbolic link"),
            ("fifo", "a FIFO"),
        ] {
            let err = PidFile::prepare(&d.join(name)).unwrap_err().to_string();
            assert!(
                err.contains(&format!("is {kind}; refusing")),
                "{name}: {err}"
            );
        }
        let err = PidFile::prepare(Path::new("/dev/full"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("is a character device"), "{err}");
        assert_eq!(entries(&d), ["dangling", "dir", "fifo", "link"]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn what_appears_before_publishing_is_checked_again() {
        let d = crate::testutil::scratch_dir("pidfile-race");
        let target = d.join("prog.pid");
        let pid_file = PidFile::prepare(&target).unwrap();
        std::fs::create_dir(&target).unwrap();
        let err = pid_file.publish(Pid::from_raw(1)).unwrap_err().to_string();
        assert!(err.contains("is a directory"), "{err}");
        assert_eq!(entries(&d), ["prog.pid"]);
        assert!(target.is_dir());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn missing_directory_is_reported_with_the_path() {
        let err = PidFile::prepare(Path::new("/nonexistent-dir-rsns/x.pid")).unwrap_err();
        assert!(
            matches!(&err, PidFileError::Sys(e) if e.errno == Errno::ENOENT),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("--pid-file=/nonexistent-dir-rsns/x.pid")
        );
        let err = PidFile::prepare(Path::new("/tmp/")).unwrap_err();
        assert!(err.to_string().contains("not a file name"), "{err}");
    }
}
