//! Landlock as setpriv(1) spells it: `--landlock-access fs[:RIGHT,...]`
//! (the rights the ruleset handles, so denies unless a rule allows) and
//! `--landlock-rule path-beneath:RIGHT,...:PATH`. An empty right list means
//! every right. Where setpriv asks for every right its headers know (and
//! fails on an older kernel), `fs` here means every right this kernel's
//! Landlock ABI has; a right named outright that the kernel lacks is an
//! error, never silently dropped.

use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

use crate::error::SysError;
use crate::sys;

/// Rights, their bits, and the ABI version that brought each.
const RIGHTS: [(&str, u64, i32); 16] = [
    ("execute", 1 << 0, 1),
    ("write-file", 1 << 1, 1),
    ("read-file", 1 << 2, 1),
    ("read-dir", 1 << 3, 1),
    ("remove-dir", 1 << 4, 1),
    ("remove-file", 1 << 5, 1),
    ("make-char", 1 << 6, 1),
    ("make-dir", 1 << 7, 1),
    ("make-reg", 1 << 8, 1),
    ("make-sock", 1 << 9, 1),
    ("make-fifo", 1 << 10, 1),
    ("make-block", 1 << 11, 1),
    ("make-sym", 1 << 12, 1),
    ("refer", 1 << 13, 2),
    ("truncate", 1 << 14, 3),
    ("ioctl-dev", 1 << 15, 5),
];

/// Every right a kernel with Landlock ABI `abi` knows.
fn all_rights(abi: i32) -> u64 {
    RIGHTS
        .iter()
        .filter(|(_, _, since)| *since <= abi)
        .fold(0, |acc, (_, bit, _)| acc | bit)
}

/// A right list (`read-file,execute`); empty: None, meaning all.
fn parse_rights(text: &str) -> Result<Option<u64>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    text.split(',')
        .map(|name| {
            // A prefix names the first right it starts (setpriv's reading:
            // `write` is write-file, `read` read-file).
            RIGHTS
                .iter()
                .find(|(n, _, _)| n.starts_with(name))
                .map(|(_, bit, _)| *bit)
                .ok_or_else(|| format!("could not parse landlock fs access: {text}"))
        })
        .try_fold(0, |acc, bit| Ok(acc | bit?))
        .map(Some)
}

/// The Landlock options given, in order.
#[derive(Debug, Clone, Default)]
pub struct LandlockPlan {
    /// Handled rights; `Some(None)`: all. None: no Landlock.
    access: Option<Option<u64>>,
    rules: Vec<(Option<u64>, PathBuf)>,
}

impl LandlockPlan {
    pub fn is_empty(&self) -> bool {
        self.access.is_none()
    }

    /// `--landlock-access`.
    pub fn add_access(&mut self, text: &str) -> Result<(), String> {
        let rights = if text == "fs" {
            None
        } else if let Some(list) = text.strip_prefix("fs:") {
            parse_rights(list)?
        } else {
            return Err(format!(
                "invalid landlock access: {text} (fs or fs:RIGHT,...)"
            ));
        };
        self.access = Some(match (self.access, rights) {
            (Some(Some(old)), Some(new)) => Some(old | new),
            (Some(Some(_)), None) | (None, None) | (Some(None), _) => None,
            (None, Some(new)) => Some(new),
        });
        Ok(())
    }

    /// `--landlock-rule path-beneath:RIGHTS:PATH`.
    pub fn add_rule(&mut self, text: &str) -> Result<(), String> {
        let invalid = || format!("invalid landlock rule: {text} (path-beneath:RIGHT,...:PATH)");
        let rest = text.strip_prefix("path-beneath:").ok_or_else(invalid)?;
        let (rights, path) = rest.split_once(':').ok_or_else(invalid)?;
        self.rules
            .push((parse_rights(rights)?, PathBuf::from(path)));
        Ok(())
    }

    /// The paths, opened now (O_PATH), as setpriv opens them while parsing:
    /// a missing one is a usage error before anything changes.
    pub fn open_paths(&self) -> Result<Vec<OwnedFd>, String> {
        self.rules
            .iter()
            .map(|(_, path)| {
                nix::fcntl::open(
                    path.as_path(),
                    OFlag::O_PATH | OFlag::O_CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| {
                    format!(
                        "could not open file for landlock: {}: {}",
                        crate::text::safe_path(path),
                        crate::error::errno_text(e)
                    )
                })
            })
            .collect()
    }

    /// Restricts this process (and what it runs) to the rules.
    pub fn apply(&self, paths: &[OwnedFd]) -> Result<(), SysError> {
        let Some(access) = self.access else {
            return Ok(());
        };
        let abi = sys::landlock_abi().map_err(|e| {
            SysError::new("Landlock is not available (landlock_create_ruleset)", e).with_hint(Some(
                "it needs Linux 5.13 or later with Landlock among the LSMs (lsm=...,landlock)"
                    .into(),
            ))
        })?;
        let all = all_rights(abi);
        let handled = access.unwrap_or(all);
        if handled & !all != 0 {
            return Err(SysError::new(
                format!(
                    "--landlock-access: a right this kernel's Landlock (ABI {abi}) does not know"
                ),
                nix::errno::Errno::EINVAL,
            ));
        }
        let ruleset = sys::landlock_create_ruleset(handled)
            .map_err(|e| SysError::new("landlock_create_ruleset failed", e))?;
        for ((rights, path), fd) in self.rules.iter().zip(paths) {
            let allowed = rights.unwrap_or(handled);
            sys::landlock_allow_beneath(ruleset.as_fd(), fd.as_fd(), allowed).map_err(|e| {
                SysError::new(
                    format!(
                        "adding landlock rule failed for {}",
                        crate::text::safe_path(path)
                    ),
                    e,
                )
            })?;
        }
        sys::prctl_int(sys::PrctlInt::SetNoNewPrivs, 1).map_err(|e| {
            SysError::new("disallow granting new privileges for landlock failed", e)
        })?;
        sys::landlock_restrict_self(ruleset.as_fd())
            .map_err(|e| SysError::new("landlock_restrict_self failed", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_and_rules_parse_as_setpriv_reads_them() {
        let mut plan = LandlockPlan::default();
        assert!(plan.is_empty());
        plan.add_access("fs:write-file").unwrap();
        plan.add_access("fs:execute,read-file").unwrap();
        assert_eq!(plan.access, Some(Some(0b111)));
        plan.add_access("fs").unwrap();
        assert_eq!(plan.access, Some(None));
        assert!(plan.add_access("net").is_err());
        assert!(plan.add_access("fs:bogus").is_err());
        assert_eq!(parse_rights("write,read"), Ok(Some(0b110)));
        plan.add_rule("path-beneath:execute,read-file:/").unwrap();
        plan.add_rule("path-beneath::/").unwrap();
        assert_eq!(plan.rules[0].0, Some(0b101));
        assert_eq!(plan.rules[1].0, None);
        assert!(plan.add_rule("path-beneath:/").is_err());
        assert!(plan.add_rule("net-port:1:80").is_err());
        assert_eq!(all_rights(1), (1 << 13) - 1);
        assert_eq!(all_rights(6), (1 << 16) - 1);
    }
}
