//! User names for uids, never through glibc's NSS: the release binaries are
//! static, and glibc loads NSS modules (libnss_systemd, sssd, ldap) with
//! dlopen, which in a static binary crashes (rs-lsns died with SIGSEGV for
//! any uid missing from /etc/passwd under `passwd: files systemd`).
//!
//! Names come from /etc/passwd, read once, then from systemd's user
//! database over Varlink (/run/systemd/userdb/: systemd-userdbd's
//! multiplexer where it runs, which also answers for LDAP, sssd and
//! systemd-homed users; else each service socket there). A uid with no
//! name is shown as its number, as util-linux does.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where systemd's user record services listen.
const USERDB: &str = "/run/systemd/userdb";
/// The service that asks all the others (systemd-userdbd).
const MULTIPLEXER: &str = "io.systemd.Multiplexer";
/// Replies longer than this are not a user record we can use.
const MAX_REPLY: usize = 1 << 20;

/// Names by uid, with the lookups done at most once each.
#[derive(Debug, Default)]
pub struct UserNames {
    passwd: Option<HashMap<u32, String>>,
    asked: HashMap<u32, Option<String>>,
}

impl UserNames {
    pub fn new() -> UserNames {
        UserNames::default()
    }

    /// The name of `uid`, or None when nothing on this machine has one.
    pub fn name(&mut self, uid: u32) -> Option<String> {
        let passwd = self
            .passwd
            .get_or_insert_with(|| read_passwd(Path::new("/etc/passwd")));
        if let Some(name) = passwd.get(&uid) {
            return Some(name.clone());
        }
        self.asked
            .entry(uid)
            .or_insert_with(|| ask_userdb(Path::new(USERDB), uid))
            .clone()
    }
}

/// uid to name from a passwd file (the first line of a uid wins, as getpwuid).
fn read_passwd(path: &Path) -> HashMap<u32, String> {
    let mut names = HashMap::new();
    if let Ok(text) = std::fs::read_to_string(path) {
        for e in text.lines().filter_map(crate::ids::parse_passwd_line) {
            names.entry(e.uid).or_insert(e.name);
        }
    }
    names
}

/// The sockets to ask, in order: the multiplexer alone where it listens,
/// else every service there (NameServiceSwitch last: it is NSS again).
fn services(dir: &Path) -> Vec<(PathBuf, String)> {
    let multiplexer = dir.join(MULTIPLEXER);
    if multiplexer.exists() {
        return vec![(multiplexer, MULTIPLEXER.to_string())];
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(PathBuf, String)> = entries
        .flatten()
        .filter_map(|e| Some((e.path(), e.file_name().into_string().ok()?)))
        .filter(|(_, name)| name.starts_with("io.systemd."))
        .collect();
    found.sort_by_key(|(_, name)| (name == "io.systemd.NameServiceSwitch", name.clone()));
    found
}

fn ask_userdb(dir: &Path, uid: u32) -> Option<String> {
    services(dir)
        .into_iter()
        .find_map(|(socket, service)| get_user_record(&socket, &service, uid))
}

/// io.systemd.UserDatabase.GetUserRecord for `uid` on one socket: the
/// record's userName, or None (no such record, no answer within a second).
fn get_user_record(socket: &Path, service: &str, uid: u32) -> Option<String> {
    let mut stream = UnixStream::connect(socket).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    stream
        .set_write_timeout(Some(Duration::from_secs(1)))
        .ok()?;
    let call = serde_json::json!({
        "method": "io.systemd.UserDatabase.GetUserRecord",
        "parameters": { "uid": uid, "service": service },
    });
    let mut message = call.to_string().into_bytes();
    message.push(0);
    stream.write_all(&message).ok()?;
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    while !reply.contains(&0) && reply.len() < MAX_REPLY {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&buf[..n]);
    }
    user_name_in_reply(&reply, uid)
}

/// The userName of a GetUserRecord reply (up to its NUL), if the record is
/// for `uid`.
fn user_name_in_reply(reply: &[u8], uid: u32) -> Option<String> {
    let end = reply.iter().position(|&b| b == 0).unwrap_or(reply.len());
    let value: serde_json::Value = serde_json::from_slice(&reply[..end]).ok()?;
    let record = value.get("parameters")?.get("record")?;
    if record.get("uid")?.as_u64()? != u64::from(uid) {
        return None;
    }
    Some(record.get("userName")?.as_str()?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_give_the_name_of_that_uid_only() {
        let ok = b"{\"parameters\":{\"record\":{\"userName\":\"alice\",\"uid\":4242},\"incomplete\":false}}\0";
        assert_eq!(user_name_in_reply(ok, 4242).as_deref(), Some("alice"));
        assert_eq!(user_name_in_reply(ok, 1), None);
        let err = b"{\"error\":\"io.systemd.UserDatabase.NoRecordFound\",\"parameters\":{}}\0";
        assert_eq!(user_name_in_reply(err, 4242), None);
        assert_eq!(user_name_in_reply(b"not json\0", 4242), None);
    }

    #[test]
    fn a_varlink_service_is_asked_over_its_socket() {
        let dir = std::env::temp_dir().join(format!("rsns-userdb-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let listener = std::os::unix::net::UnixListener::bind(dir.join("io.systemd.Home")).unwrap();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut call = Vec::new();
            let mut b = [0u8; 1];
            while conn.read(&mut b).unwrap() == 1 && b[0] != 0 {
                call.push(b[0]);
            }
            let call: serde_json::Value = serde_json::from_slice(&call).unwrap();
            assert_eq!(call["parameters"]["service"], "io.systemd.Home");
            let reply = format!(
                "{{\"parameters\":{{\"record\":{{\"userName\":\"homed\",\"uid\":{}}}}}}}\0",
                call["parameters"]["uid"]
            );
            conn.write_all(reply.as_bytes()).unwrap();
        });
        assert_eq!(ask_userdb(&dir, 60123).as_deref(), Some("homed"));
        server.join().unwrap();
        assert_eq!(ask_userdb(&dir.join("none"), 60123), None);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn passwd_lines_give_names_first_line_wins() {
        let dir = std::env::temp_dir().join(format!("rsns-passwd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("passwd");
        std::fs::write(
            &file,
            "root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/:/bin/sh\nbad line\n",
        )
        .unwrap();
        let names = read_passwd(&file);
        assert_eq!(names.get(&0).map(String::as_str), Some("root"));
        assert_eq!(names.len(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
