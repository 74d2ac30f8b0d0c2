//! `--user=USER[:GROUP]` as the image names them: numbers, or names looked
//! up in the new root's /etc/passwd and /etc/group (opened inside the root,
//! never following a link out of it), before anything changes. Without
//! GROUP the gid is the user's own in the image's passwd, else the uid's
//! number (never 0 by default, which would be root's group).

use std::ffi::CStr;
use std::io::Read;
use std::os::fd::BorrowedFd;
use std::path::Path;

use nix::fcntl::OFlag;

use super::PivotError;
use super::lookup::open_in_root;
use crate::ids::{parse_group_line, parse_passwd_line};

/// A text file of the image (empty when it has none).
fn image_file(root: BorrowedFd<'_>, path: &CStr) -> String {
    let Ok(fd) = open_in_root(root, path, OFlag::O_RDONLY) else {
        return String::new();
    };
    let mut text = String::new();
    let _ = std::fs::File::from(fd)
        .take(1 << 20)
        .read_to_string(&mut text);
    text
}

fn number(text: &str) -> Option<u32> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
        .filter(|&id| id != u32::MAX)
}

pub(super) fn resolve(
    root: BorrowedFd<'_>,
    new_root: &Path,
    spec: &str,
) -> Result<(u32, u32), PivotError> {
    let bad = |why: String| PivotError::Refused(format!("--user={spec}: {why}"));
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    if user.is_empty() || group == Some("") {
        return Err(bad("give USER or USER:GROUP (names or numbers)".into()));
    }
    let passwd = image_file(root, c"etc/passwd");
    let entries: Vec<_> = passwd.lines().filter_map(parse_passwd_line).collect();
    let (uid, own_gid) = match number(user) {
        Some(uid) => (uid, entries.iter().find(|e| e.uid == uid).map(|e| e.gid)),
        None => {
            let e = entries.iter().find(|e| e.name == user).ok_or_else(|| {
                bad(format!(
                    "no user '{user}' in {}/etc/passwd",
                    crate::text::safe_path(new_root)
                ))
            })?;
            (e.uid, Some(e.gid))
        }
    };
    let gid = match group {
        None => own_gid.unwrap_or(uid),
        Some(g) => match number(g) {
            Some(gid) => gid,
            None => image_file(root, c"etc/group")
                .lines()
                .filter_map(parse_group_line)
                .find(|(name, _)| name == g)
                .map(|(_, gid)| gid)
                .ok_or_else(|| {
                    bad(format!(
                        "no group '{g}' in {}/etc/group",
                        crate::text::safe_path(new_root)
                    ))
                })?,
        },
    };
    Ok((uid, gid))
}
