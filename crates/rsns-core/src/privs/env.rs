//! `--reset-env`: the environment a login would give `user`, as setpriv(1)
//! builds it: TERM, COLORTERM and NO_COLOR kept, then SHELL, HOME, USER,
//! LOGNAME, and PATH from /etc/login.defs (ENV_PATH, or ENV_SUPATH and then
//! ENV_ROOTPATH for root), with util-linux's defaults.

use std::ffi::OsString;

use crate::ids::PasswdEntry;

const DEFAULT_PATH: &str = "/usr/local/bin:/bin:/usr/bin";
const DEFAULT_ROOT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin";

pub fn login_env(user: &PasswdEntry) -> Vec<(OsString, OsString)> {
    let mut vars: Vec<(OsString, OsString)> = ["TERM", "COLORTERM", "NO_COLOR"]
        .iter()
        .filter_map(|k| std::env::var_os(k).map(|v| (OsString::from(k), v)))
        .collect();
    let shell = if user.shell.is_empty() {
        "/bin/sh"
    } else {
        &user.shell
    };
    let defs = std::fs::read_to_string("/etc/login.defs").unwrap_or_default();
    let path = if user.uid != 0 {
        login_def(&defs, "ENV_PATH").unwrap_or_else(|| DEFAULT_PATH.into())
    } else {
        login_def(&defs, "ENV_SUPATH")
            .or_else(|| login_def(&defs, "ENV_ROOTPATH"))
            .unwrap_or_else(|| DEFAULT_ROOT_PATH.into())
    };
    for (k, v) in [
        ("SHELL", shell),
        ("HOME", &user.home),
        ("USER", &user.name),
        ("LOGNAME", &user.name),
        ("PATH", &path),
    ] {
        vars.push((k.into(), v.into()));
    }
    vars
}

/// A login.defs value, `PATH=` stripped where the value starts so.
fn login_def(defs: &str, key: &str) -> Option<String> {
    let value = defs.lines().find_map(|line| {
        let mut parts = line.split_whitespace();
        (parts.next() == Some(key)).then(|| parts.next()).flatten()
    })?;
    let value = value.strip_prefix("PATH=").unwrap_or(value);
    let value = value.trim_matches('"');
    (!value.is_empty()).then(|| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_defs_values_lose_their_prefix() {
        let defs = "# c\nENV_SUPATH\tPATH=/sbin:/bin\nENV_PATH PATH=\"/usr/bin\"\n";
        assert_eq!(login_def(defs, "ENV_SUPATH").as_deref(), Some("/sbin:/bin"));
        assert_eq!(login_def(defs, "ENV_PATH").as_deref(), Some("/usr/bin"));
        assert_eq!(login_def(defs, "ENV_ROOTPATH"), None);
    }
}
