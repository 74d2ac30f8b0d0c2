//! User and group ids as users type them: numbers or names from the host's
//! passwd and group databases.

use std::path::PathBuf;

use nix::unistd::{Gid, Group, Uid, User};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("no such user '{0}'")]
    UnknownUser(String),
    #[error("no such group '{0}'")]
    UnknownGroup(String),
    #[error("'{0}' is not a valid id (a number from 0 to 4294967294)")]
    NotANumber(String),
    #[error("'{0}' is not of the form UID:GID")]
    NotAPair(String),
}

/// Parses a numeric id; 4294967295 is (uid_t)-1, which means "no id" to the kernel.
pub fn parse_numeric_id(text: &str) -> Result<u32, IdError> {
    let bad = || IdError::NotANumber(text.to_string());
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match text.parse::<u32>() {
        Ok(u32::MAX) | Err(_) => Err(bad()),
        Ok(id) => Ok(id),
    }
}

fn is_numeric(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// A uid given as a number or a user name.
pub fn resolve_user(text: &str) -> Result<u32, IdError> {
    if is_numeric(text) {
        return parse_numeric_id(text);
    }
    match User::from_name(text) {
        Ok(Some(user)) => Ok(user.uid.as_raw()),
        _ => Err(IdError::UnknownUser(text.to_string())),
    }
}

/// A gid given as a number or a group name.
pub fn resolve_group(text: &str) -> Result<u32, IdError> {
    if is_numeric(text) {
        return parse_numeric_id(text);
    }
    match Group::from_name(text) {
        Ok(Some(group)) => Ok(group.gid.as_raw()),
        _ => Err(IdError::UnknownGroup(text.to_string())),
    }
}

/// `UID:GID`, each a number or a name.
pub fn parse_owner(text: &str) -> Result<(u32, u32), IdError> {
    let (user, group) = text
        .split_once(':')
        .ok_or_else(|| IdError::NotAPair(text.to_string()))?;
    Ok((resolve_user(user)?, resolve_group(group)?))
}

/// The login name of a uid, if the passwd database knows it.
pub fn user_name(uid: u32) -> Option<String> {
    User::from_uid(Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
}

/// The name of a gid, if the group database knows it.
pub fn group_name(gid: u32) -> Option<String> {
    Group::from_gid(Gid::from_raw(gid))
        .ok()
        .flatten()
        .map(|g| g.name)
}

/// The login shell of a uid from the passwd database.
pub fn login_shell(uid: u32) -> Option<PathBuf> {
    User::from_uid(Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.shell)
        .filter(|s| !s.as_os_str().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_names() {
        assert_eq!(resolve_user("0"), Ok(0));
        assert_eq!(resolve_user("root"), Ok(0));
        assert_eq!(resolve_group("root"), Ok(0));
        assert_eq!(resolve_user("4294967294"), Ok(4_294_967_294));
        assert_eq!(parse_owner("0:0"), Ok((0, 0)));
        assert_eq!(parse_owner("root:root"), Ok((0, 0)));
    }

    #[test]
    fn rejects_bad_ids() {
        assert_eq!(
            resolve_user("4294967295"),
            Err(IdError::NotANumber("4294967295".into()))
        );
        assert_eq!(
            resolve_user("99999999999"),
            Err(IdError::NotANumber("99999999999".into()))
        );
        assert_eq!(
            resolve_user("no-such-user-xyz"),
            Err(IdError::UnknownUser("no-such-user-xyz".into()))
        );
        assert_eq!(
            resolve_group("no-such-group-xyz"),
            Err(IdError::UnknownGroup("no-such-group-xyz".into()))
        );
        assert_eq!(
            parse_numeric_id("-1"),
            Err(IdError::NotANumber("-1".into()))
        );
        assert_eq!(parse_numeric_id(""), Err(IdError::NotANumber("".into())));
        assert_eq!(parse_owner("1000"), Err(IdError::NotAPair("1000".into())));
    }
}
