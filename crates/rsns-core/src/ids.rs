//! User and group ids as users type them: numbers or names.
//!
//! Names are read from /etc/passwd and /etc/group; a name those files do not
//! have is asked of getent(1), which goes through NSS (LDAP, SSSD, ...). We do
//! not link NSS ourselves: in a statically linked binary it drags in dlopen
//! and the DNS resolver, and it must match the system's libc at run time.

use std::path::PathBuf;
use std::process::{Command, Stdio};

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

/// One line of /etc/passwd (or getent passwd): the fields we use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
    pub shell: String,
}

/// Parses `name:passwd:uid:gid:gecos:home:shell`; `None` for other lines.
pub fn parse_passwd_line(line: &str) -> Option<PasswdEntry> {
    let f: Vec<&str> = line.trim_end_matches(['\n', '\r']).split(':').collect();
    if f.len() != 7 || f[0].is_empty() {
        return None;
    }
    Some(PasswdEntry {
        name: f[0].to_string(),
        uid: f[2].parse().ok()?,
        gid: f[3].parse().ok()?,
        home: f[5].to_string(),
        shell: f[6].to_string(),
    })
}

/// Parses `name:passwd:gid:members` into name and gid.
pub fn parse_group_line(line: &str) -> Option<(String, u32)> {
    let f: Vec<&str> = line.trim_end_matches(['\n', '\r']).split(':').collect();
    if f.len() != 4 || f[0].is_empty() {
        return None;
    }
    Some((f[0].to_string(), f[2].parse().ok()?))
}

/// The lines of `file` that parse, then, if none matched, what getent says.
fn lookup<T>(
    file: &str,
    database: &str,
    key: &str,
    parse: fn(&str) -> Option<T>,
    matches: impl Fn(&T) -> bool,
) -> Option<T> {
    if let Ok(text) = std::fs::read_to_string(file)
        && let Some(found) = text.lines().filter_map(parse).find(|e| matches(e))
    {
        return Some(found);
    }
    // `--` first: a key such as `--HANG` would otherwise be an option (glibc's
    // argp has a hidden one that sleeps for an hour; `make fuzz` found it).
    let out = Command::new("getent")
        .args([database, "--", key])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(parse)
        .find(|e| matches(e))
}

fn passwd_by_name(name: &str) -> Option<PasswdEntry> {
    lookup("/etc/passwd", "passwd", name, parse_passwd_line, |e| {
        e.name == name
    })
}

/// The passwd entry of a uid, as getpwuid(3) finds it.
pub fn passwd_by_uid(uid: u32) -> Option<PasswdEntry> {
    lookup(
        "/etc/passwd",
        "passwd",
        &uid.to_string(),
        parse_passwd_line,
        |e| e.uid == uid,
    )
}

fn group_by_name(name: &str) -> Option<(String, u32)> {
    lookup("/etc/group", "group", name, parse_group_line, |e| {
        e.0 == name
    })
}

/// The supplementary groups of user `name` whose primary group is `gid`,
/// as initgroups(3) gathers them, from /etc/group (the primary group first).
pub fn groups_of(name: &str, gid: u32) -> Vec<u32> {
    let mut groups = vec![gid];
    let text = std::fs::read_to_string("/etc/group").unwrap_or_default();
    for line in text.lines() {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() == 4
            && f[3].split(',').any(|member| member == name)
            && let Ok(g) = f[2].parse::<u32>()
            && !groups.contains(&g)
        {
            groups.push(g);
        }
    }
    groups
}

/// Parses a numeric id; 4294967295 is (uid_t)-1, which means "no id" to the kernel.
pub fn parse_numeric_id(text: &str) -> Result<u32, IdError> {
    let bad = || IdError::NotANumber(text.to_string());
    if !is_numeric(text) {
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

/// A uid given as a number or a user name. Digits are a number, never
/// asked of NSS as a name: useradd and systemd refuse names of digits only,
/// and asking would cost every start a getent run.
pub fn resolve_user(text: &str) -> Result<u32, IdError> {
    if is_numeric(text) {
        return parse_numeric_id(text);
    }
    passwd_by_name(text)
        .map(|e| e.uid)
        .ok_or_else(|| IdError::UnknownUser(text.to_string()))
}

/// A gid given as a number or a group name.
pub fn resolve_group(text: &str) -> Result<u32, IdError> {
    if is_numeric(text) {
        return parse_numeric_id(text);
    }
    group_by_name(text)
        .map(|(_, gid)| gid)
        .ok_or_else(|| IdError::UnknownGroup(text.to_string()))
}

/// `UID:GID`, each a number or a name.
pub fn parse_owner(text: &str) -> Result<(u32, u32), IdError> {
    let (user, group) = text
        .split_once(':')
        .ok_or_else(|| IdError::NotAPair(text.to_string()))?;
    Ok((resolve_user(user)?, resolve_group(group)?))
}

/// The login name of a uid, if it has one.
pub fn user_name(uid: u32) -> Option<String> {
    passwd_by_uid(uid).map(|e| e.name)
}

/// The login shell of a uid.
pub fn login_shell(uid: u32) -> Option<PathBuf> {
    passwd_by_uid(uid)
        .map(|e| PathBuf::from(e.shell))
        .filter(|s| !s.as_os_str().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by `make fuzz` (target `names`): `--map-user=--HANG` hung for an
    /// hour, because getent took the name for its hidden --HANG option.
    #[test]
    fn a_name_that_looks_like_an_option_is_only_a_name() {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send((resolve_user("--HANG"), parse_owner("--H:U:P")));
        });
        let (user, owner) = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("the lookup hangs");
        assert_eq!(user, Err(IdError::UnknownUser("--HANG".into())));
        assert!(owner.is_err());
    }

    #[test]
    fn numbers_and_names() {
        assert_eq!(resolve_user("0"), Ok(0));
        assert_eq!(resolve_user("root"), Ok(0));
        assert_eq!(resolve_group("root"), Ok(0));
        assert_eq!(resolve_user("4294967294"), Ok(4_294_967_294));
        assert_eq!(parse_owner("0:0"), Ok((0, 0)));
        assert_eq!(parse_owner("root:root"), Ok((0, 0)));
        assert_eq!(user_name(0).as_deref(), Some("root"));
        assert!(login_shell(0).is_some());
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

    #[test]
    fn passwd_and_group_lines() {
        assert_eq!(
            parse_passwd_line("alice:x:1000:100:Alice:/home/alice:/bin/bash\n"),
            Some(PasswdEntry {
                name: "alice".into(),
                uid: 1000,
                gid: 100,
                home: "/home/alice".into(),
                shell: "/bin/bash".into()
            })
        );
        for bad in [
            "",
            "#comment",
            "a:x:1:2",
            "a:x:u:2:g:h:s",
            ":x:1:2:g:h:s",
            "+::::::",
        ] {
            assert_eq!(parse_passwd_line(bad), None, "{bad:?}");
        }
        assert_eq!(
            parse_group_line("wheel:x:10:alice,bob"),
            Some(("wheel".into(), 10))
        );
        assert_eq!(parse_group_line("wheel:x:10"), None);
    }
}
