//! What rs-pivot made or changed where it outlives the box (the image, an
//! overlay's upper directory, a bound host directory), so a failure
//! before the command runs can take it back. Made in a tmpfs of ours, a
//! thing goes with that tmpfs and is not written here.
//!
//! Each entry holds the directory it was made in by descriptor and the
//! name it was made under: the undo removes what that name holds then. An
//! image that renames its own entries while we run can have an empty
//! directory or a file of its own removed in their place, never anything
//! outside the directory we made it in.

use std::ffi::{CString, OsString};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::unistd::UnlinkatFlags;

enum Entry {
    /// A directory, file or symlink we made: `name` in `dir`.
    Made {
        dir: OwnedFd,
        name: OsString,
        is_dir: bool,
    },
    /// `--chmod`: the mode `file` (O_PATH) had before.
    Mode { file: OwnedFd, mode: u32 },
}

#[derive(Default)]
pub(in crate::pivot) struct Journal {
    entries: Vec<Entry>,
}

impl Journal {
    pub(super) fn made(&mut self, dir: OwnedFd, name: OsString, is_dir: bool) {
        self.entries.push(Entry::Made { dir, name, is_dir });
    }

    pub(super) fn mode(&mut self, file: OwnedFd, mode: u32) {
        self.entries.push(Entry::Mode { file, mode });
    }

    /// Takes everything back, last first (a directory after what was made
    /// in it). Best effort: a failure here must not hide the error that
    /// brought us here; each one is logged.
    pub(in crate::pivot) fn undo(self) {
        for entry in self.entries.into_iter().rev() {
            let done = match &entry {
                Entry::Made { dir, name, is_dir } => nix::unistd::unlinkat(
                    dir.as_fd(),
                    name.as_os_str(),
                    if *is_dir {
                        UnlinkatFlags::RemoveDir
                    } else {
                        UnlinkatFlags::NoRemoveDir
                    },
                ),
                Entry::Mode { file, mode } => chmod_fd(file, *mode),
            };
            if let Err(e) = done {
                tracing::warn!(error = %e, "could not take back a change in the new root");
            }
        }
    }
}

/// chmod of what an O_PATH descriptor names (fchmod refuses O_PATH before
/// Linux 6.6): through its /proc/self/fd link, which is the file itself.
pub(super) fn chmod_fd(file: &OwnedFd, mode: u32) -> Result<(), nix::errno::Errno> {
    let link = CString::new(format!("/proc/self/fd/{}", file.as_raw_fd())).expect("no NUL");
    nix::sys::stat::fchmodat(
        nix::fcntl::AT_FDCWD,
        link.as_c_str(),
        nix::sys::stat::Mode::from_bits_truncate(mode),
        nix::sys::stat::FchmodatFlags::FollowSymlink,
    )
}
