//! Error pieces shared by every concern: a failed system call with what it was
//! done on, and the errno shown as text plus its symbolic name.

use std::fmt;

use nix::errno::Errno;

/// `Operation not permitted (EPERM)`: the text people read and the name they
/// grep for. The text is glibc's strerror, as util-linux prints it
/// ("Inappropriate ioctl for device", where nix's own table says "Not a
/// typewriter").
pub fn errno_text(errno: Errno) -> String {
    let text = std::io::Error::from_raw_os_error(errno as i32).to_string();
    let text = text
        .rsplit_once(" (os error ")
        .map_or(text.as_str(), |(t, _)| t)
        .to_string();
    format!("{text} ({errno:?})")
}

/// The errno behind an I/O error from std (EIO if it has none).
pub fn io_errno(e: &std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}

/// A system call that failed: `what` names the call and its target
/// (`mount proc on /proc`), `hint` a well-known cause when there is one.
#[derive(Debug, thiserror::Error)]
pub struct SysError {
    pub what: String,
    #[source]
    pub errno: Errno,
    pub hint: Option<String>,
}

impl SysError {
    pub fn new(what: impl Into<String>, errno: Errno) -> SysError {
        SysError {
            what: what.into(),
            errno,
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: Option<String>) -> SysError {
        self.hint = hint;
        self
    }
}

impl fmt::Display for SysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, errno_text(self.errno))?;
        if let Some(hint) = &self.hint {
            write!(f, "; hint: {hint}")?;
        }
        Ok(())
    }
}

/// Shorthand for mapping a nix result into a [`SysError`].
pub trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, SysError>;
}

impl<T> Context<T> for Result<T, Errno> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, SysError> {
        self.map_err(|errno| SysError::new(what(), errno))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sys_error_is_one_line_with_name_and_hint() {
        let err = SysError::new("write /proc/42/uid_map", Errno::EPERM)
            .with_hint(Some("map only your own uid".into()));
        let text = err.to_string();
        assert_eq!(
            text,
            "write /proc/42/uid_map: Operation not permitted (EPERM); hint: map only your own uid"
        );
        assert!(!text.contains('\n'));
    }
}

#[cfg(test)]
mod errno_tests {
    use super::*;

    #[test]
    fn errno_texts_are_glibcs() {
        assert_eq!(
            errno_text(Errno::ENOTTY),
            "Inappropriate ioctl for device (ENOTTY)"
        );
        assert_eq!(errno_text(Errno::EBADF), "Bad file descriptor (EBADF)");
        assert_eq!(errno_text(Errno::EPERM), "Operation not permitted (EPERM)");
    }
}
