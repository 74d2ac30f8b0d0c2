//! One cgroup v2 group: made, given its limits, emptied and removed. Every
//! write names the file and explains cgroup v2's rules where they bite.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;

use super::limits::Limit;
use crate::error::{SysError, io_errno};
use crate::text::safe_path;

/// A group we made (or joined), by its directory.
#[derive(Debug)]
pub struct Group {
    pub dir: PathBuf,
    /// Made by us: emptied and removed at the end unless kept.
    pub owned: bool,
}

/// Writes `value` to `dir/file`, with a message that names both.
pub fn write(dir: &Path, file: &str, value: &str) -> Result<(), SysError> {
    use std::io::Write;
    let path = dir.join(file);
    // Never create: a file the kernel does not have is ENOENT, not a
    // refusal to make a new file in the group.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|mut f| f.write_all(value.as_bytes()))
        .map_err(|e| {
            let errno = io_errno(&e);
            SysError::new(
                format!(
                    "cannot write '{}' to {}",
                    super::limits::shown(value),
                    safe_path(&path)
                ),
                errno,
            )
            .with_hint(hint(errno, file, value))
        })
}

fn hint(errno: Errno, file: &str, value: &str) -> Option<String> {
    let controller = value.trim_start_matches('+');
    Some(match (errno, file) {
        (Errno::EACCES | Errno::EPERM, _) => "this cgroup is not yours to change: as root use the \
             default place, as a user give --parent a delegated group (systemd-run --user -p \
             Delegate=yes --scope sh, then its cgroup from /proc/self/cgroup)"
            .into(),
        (Errno::EBUSY, "cgroup.subtree_control") => "cgroup v2's no-internal-processes rule: a \
             group with processes of its own cannot hand controllers to child groups; give \
             --parent a group with no processes in it"
            .into(),
        (Errno::ENOENT, "cgroup.subtree_control") => format!(
            "the {controller} controller is not in this cgroup v2 hierarchy{}; rs-cgroup manages \
             cgroup v2 only",
            if bound_to_v1(controller) {
                " (this machine has it bound to cgroup v1)"
            } else {
                ""
            }
        ),
        (Errno::ENOENT, _) => format!(
            "no such interface file: {file} (its controller may not be enabled here, or the \
             kernel has no such file)"
        ),
        (Errno::EBUSY, _) => {
            "cgroup v2's no-internal-processes rule, or the group is in use".into()
        }
        (Errno::EINVAL | Errno::ERANGE, _) => format!(
            "{file} does not take '{}' (see what it holds now: cat {file} in a group; the \
             kernel's cgroup-v2 documentation lists each file's format)",
            super::limits::shown(value)
        ),
        _ => return None,
    })
}

/// Whether /proc/self/mountinfo shows a cgroup v1 hierarchy with this
/// controller (a hybrid setup).
pub fn bound_to_v1(controller: &str) -> bool {
    let Ok(text) = crate::mountinfo::read_own() else {
        return false;
    };
    text.split(|&b| b == b'\n').any(|line| {
        let line = String::from_utf8_lossy(line);
        line.contains(" - cgroup ")
            && line
                .rsplit(' ')
                .next()
                .is_some_and(|opts| opts.split(',').any(|o| o == controller))
    })
}

/// The controllers a group's parent offers it (cgroup.controllers).
pub fn controllers(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("cgroup.controllers"))
        .map(|t| t.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

/// The number after `key` in a `KEY VALUE` file (cpu.stat, cgroup.events).
fn value_of(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

/// cgroup.events's `populated`: a group whose file cannot be read counts as
/// populated, so it is never taken for empty by mistake.
fn populated_in(value: Option<u64>) -> bool {
    value.is_none_or(|n| n != 0)
}

/// Enables `wanted` for the children of every group from `mount` down to
/// `parent`, where not already enabled.
pub fn enable_controllers(mount: &Path, parent: &Path, wanted: &[&str]) -> Result<(), SysError> {
    if wanted.is_empty() {
        return Ok(());
    }
    let mut chain: Vec<&Path> = parent
        .ancestors()
        .take_while(|p| p.starts_with(mount))
        .collect();
    chain.reverse();
    for dir in chain {
        let enabled =
            std::fs::read_to_string(dir.join("cgroup.subtree_control")).unwrap_or_default();
        for c in wanted {
            if !enabled.split_whitespace().any(|e| e == *c) {
                write(dir, "cgroup.subtree_control", &format!("+{c}"))?;
            }
        }
    }
    Ok(())
}

impl Group {
    /// mkdir of `parent/name`; the name must not be taken.
    pub fn create(parent: &Path, name: &str) -> Result<Group, SysError> {
        let dir = parent.join(name);
        std::fs::create_dir(&dir).map_err(|e| {
            let errno = io_errno(&e);
            let hint = match errno {
                Errno::EEXIST => Some("a group of that name exists; choose another --name".into()),
                Errno::ENOENT => Some("the parent group does not exist".into()),
                _ => hint(errno, "", ""),
            };
            SysError::new(
                format!("cannot create the cgroup {}", safe_path(&dir)),
                errno,
            )
            .with_hint(hint)
        })?;
        tracing::debug!(dir = %dir.display(), "created cgroup");
        Ok(Group { dir, owned: true })
    }

    pub fn apply(&self, limits: &[Limit]) -> Result<(), SysError> {
        for limit in limits {
            write(&self.dir, &limit.file, &limit.value)?;
            tracing::debug!(%limit, "limit set");
        }
        Ok(())
    }

    /// A number from a `KEY VALUE` file (cpu.stat, memory.events).
    pub fn stat(&self, file: &str, key: &str) -> Option<u64> {
        value_of(&std::fs::read_to_string(self.dir.join(file)).ok()?, key)
    }

    /// A file holding one number (memory.peak, pids.peak).
    pub fn number(&self, file: &str) -> Option<u64> {
        std::fs::read_to_string(self.dir.join(file))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    fn populated(&self) -> bool {
        populated_in(self.stat("cgroup.events", "populated"))
    }

    /// Whether the group still has processes, after waiting up to `limit`
    /// for that to change: the kernel wakes a poll on cgroup.events
    /// (POLLPRI) when `populated` does, so an emptied group is seen at once
    /// rather than at the next tick of a sleep.
    fn populated_after(&self, limit: Duration) -> bool {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        use std::io::{Read, Seek};
        use std::os::fd::AsFd;
        let Ok(mut file) = std::fs::File::open(self.dir.join("cgroup.events")) else {
            std::thread::sleep(limit);
            return self.populated();
        };
        let read = |file: &mut std::fs::File| {
            let mut text = String::with_capacity(128);
            let _ = file.rewind().and_then(|()| file.read_to_string(&mut text));
            populated_in(value_of(&text, "populated"))
        };
        // The read arms the notification, and shows whether it is needed.
        if !read(&mut file) {
            return false;
        }
        let millis = u16::try_from(limit.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(file.as_fd(), PollFlags::POLLPRI)];
        let _ = poll(&mut fds, PollTimeout::from(millis));
        read(&mut file)
    }

    /// Kills everything still in the group and waits until it is empty:
    /// cgroup.kill (Linux 5.14), else freeze, SIGKILL each, thaw, again.
    pub fn empty(&self) -> Result<(), SysError> {
        if !self.populated() {
            return Ok(());
        }
        let killed = write(&self.dir, "cgroup.kill", "1").is_ok();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if !killed {
                // The freeze holds the whole subtree; kill what each
                // group of it holds.
                let _ = write(&self.dir, "cgroup.freeze", "1");
                let mut procs = String::new();
                for dir in subtree(&self.dir) {
                    procs += &std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
                }
                for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(pid),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
                let _ = write(&self.dir, "cgroup.freeze", "0");
            }
            // Killed processes leave on their own: wait for the kernel to
            // say so. Without cgroup.kill, SIGKILL again what was forking.
            let wait = Duration::from_millis(if killed { 100 } else { 5 });
            if !self.populated_after(wait) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(SysError::new(
                    format!("the cgroup {} does not empty", safe_path(&self.dir)),
                    Errno::EBUSY,
                ));
            }
        }
    }

    /// rmdir of the group and of every group the program made under it,
    /// deepest first, once empty (the kernel may take a moment after the
    /// last exit).
    pub fn remove(&self) -> Result<(), SysError> {
        let deadline = Instant::now() + Duration::from_secs(5);
        for dir in subtree(&self.dir).into_iter().rev() {
            remove_one(&dir, deadline)?;
        }
        Ok(())
    }
}

/// `dir` and every group below it, parents before children. A group's
/// subdirectories are its child groups (cgroupfs has no other kind).
fn subtree(dir: &Path) -> Vec<PathBuf> {
    let mut all = vec![dir.to_path_buf()];
    let mut i = 0;
    while i < all.len() {
        if let Ok(entries) = std::fs::read_dir(&all[i]) {
            let mut children: Vec<PathBuf> = entries
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.path())
                .collect();
            children.sort();
            all.extend(children);
        }
        i += 1;
    }
    all
}

fn remove_one(dir: &Path, deadline: Instant) -> Result<(), SysError> {
    let mut pause = Duration::from_micros(20);
    loop {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if io_errno(&e) == Errno::EBUSY && Instant::now() < deadline => {
                // The last exit settles within microseconds: retry at
                // once, then back off to 5 ms.
                std::thread::sleep(pause);
                pause = (pause * 4).min(Duration::from_millis(5));
            }
            Err(e) => {
                return Err(SysError::new(
                    format!("cannot remove the cgroup {}", safe_path(dir)),
                    io_errno(&e),
                ));
            }
        }
    }
}
