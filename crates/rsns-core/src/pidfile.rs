//! `--pid-file`: the file appears, complete, only once the program runs.
//!
//! A temporary file next to the target is created up front (so a bad path
//! fails before anything starts) and renamed over the target when the program
//! has exec'ed. If the run fails, the temporary file is removed and the target
//! is never touched.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::unistd::Pid;

use crate::error::{SysError, io_errno};

#[derive(Debug)]
pub struct PidFile {
    file: Option<File>,
    temp: PathBuf,
    target: PathBuf,
}

impl PidFile {
    /// Creates the temporary file beside `target`.
    pub fn prepare(target: &Path) -> Result<PidFile, SysError> {
        let name = target.file_name().ok_or_else(|| {
            SysError::new(
                format!("--pid-file={}: not a file name", target.display()),
                Errno::EINVAL,
            )
        })?;
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".{}.tmp", std::process::id()));
        let temp = target.with_file_name(temp_name);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&temp)
            .map_err(|e| {
                SysError::new(
                    format!(
                        "--pid-file={}: cannot create {}",
                        target.display(),
                        temp.display()
                    ),
                    io_errno(&e),
                )
            })?;
        Ok(PidFile {
            file: Some(file),
            temp,
            target: target.to_path_buf(),
        })
    }

    /// Writes `pid` and moves the file into place.
    pub fn publish(mut self, pid: Pid) -> Result<(), SysError> {
        let target = self.target.clone();
        let what = || format!("cannot write --pid-file={}", target.display());
        let mut file = self.file.take().expect("a prepared pid file has a handle");
        file.write_all(format!("{pid}\n").as_bytes())
            .map_err(|e| SysError::new(what(), io_errno(&e)))?;
        drop(file);
        std::fs::rename(&self.temp, &self.target)
            .map_err(|e| SysError::new(what(), io_errno(&e)))?;
        // Published: nothing left to clean up.
        self.temp = PathBuf::new();
        tracing::debug!(path = %self.target.display(), %pid, "wrote pid file");
        Ok(())
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        if !self.temp.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(!target.exists(), "the target appears only when published");
        pid_file.publish(Pid::from_raw(4242)).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "4242\n");
        assert_eq!(entries(&d), ["prog.pid"]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn dropping_unpublished_leaves_nothing_and_keeps_an_old_file() {
        let d = crate::testutil::scratch_dir("pidfile-drop");
        let target = d.join("prog.pid");
        std::fs::write(&target, "old\n").unwrap();
        drop(PidFile::prepare(&target).unwrap());
        assert_eq!(entries(&d), ["prog.pid"]);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old\n");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn missing_directory_is_reported_with_the_path() {
        let err = PidFile::prepare(Path::new("/nonexistent-dir-rsns/x.pid")).unwrap_err();
        assert_eq!(err.errno, Errno::ENOENT);
        assert!(
            err.to_string()
                .contains("--pid-file=/nonexistent-dir-rsns/x.pid")
        );
    }
}
