//! Capability names as setpriv(1) prints and reads them (libcap-ng's:
//! lower case, no `cap_` prefix), and its lists of changes: `+name`,
//! `-name`, `+all`, `-all`, `+cap_N`, comma-separated.

/// The names of capabilities 0 to 40, in kernel order.
const NAMES: [&str; 41] = [
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
];

/// The name of capability `cap` (`cap_N` for one newer than this table).
pub fn name(cap: u32) -> String {
    NAMES
        .get(cap as usize)
        .map_or_else(|| format!("cap_{cap}"), |n| (*n).to_string())
}

/// The capability a name means (`chown`, `CAP_CHOWN`, `cap_3`), up to
/// `last` (the kernel's highest).
pub fn parse(text: &str, last: u32) -> Option<u32> {
    let lower = text.to_ascii_lowercase();
    let bare = lower.strip_prefix("cap_").unwrap_or(&lower);
    if let Some(i) = NAMES.iter().position(|n| *n == bare) {
        return u32::try_from(i).ok().filter(|&c| c <= last);
    }
    lower
        .strip_prefix("cap_")
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse().ok())
        .filter(|&c| c <= last)
}

/// podman's (crun's) default capabilities for a container: chown,
/// dac_override, fowner, fsetid, kill, setgid, setuid, setpcap,
/// net_bind_service, sys_chroot, setfcap.
pub const CONTAINER: u64 = (1 << 0)
    | (1 << 1)
    | (1 << 3)
    | (1 << 4)
    | (1 << 5)
    | (1 << 6)
    | (1 << 7)
    | (1 << 8)
    | (1 << 10)
    | (1 << 18)
    | (1 << 31);

/// `--caps`: `container`, `none`, or names (`chown,net_bind_service`).
pub fn parse_set(text: &str, last: u32) -> Result<u64, String> {
    match text {
        "container" => Ok(CONTAINER),
        "none" => Ok(0),
        _ => text.split(',').try_fold(0u64, |set, name| {
            parse(name, last).map(|c| set | 1 << c).ok_or_else(|| {
                format!("--caps={text}: unknown capability \"{name}\" (container, none, or names)")
            })
        }),
    }
}

/// One change of a `+a,-b` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub add: bool,
    /// None: all capabilities.
    pub cap: Option<u32>,
}

/// A `+a,-b,+all` list, as setpriv reads it; the error names what is wrong.
pub fn parse_list(text: &str, last: u32) -> Result<Vec<Change>, String> {
    text.split(',')
        .map(|item| {
            let add = match item.as_bytes().first() {
                Some(b'+') => true,
                Some(b'-') => false,
                _ => {
                    return Err(format!(
                        "bad capability string '{text}': each item starts with + or -"
                    ));
                }
            };
            let what = &item[1..];
            if what == "all" {
                return Ok(Change { add, cap: None });
            }
            parse(what, last)
                .map(|cap| Change {
                    add,
                    cap: Some(cap),
                })
                .ok_or_else(|| format!("unknown capability \"{what}\""))
        })
        .collect()
}

/// `set` (a mask) with `changes` applied, up to capability `last`.
pub fn apply_changes(mut set: u64, changes: &[Change], last: u32) -> u64 {
    let all = if last >= 63 {
        u64::MAX
    } else {
        (1u64 << (last + 1)) - 1
    };
    for change in changes {
        let bits = change.cap.map_or(all, |c| 1u64 << c);
        if change.add {
            set |= bits;
        } else {
            set &= !bits;
        }
    }
    set
}

/// A mask as setpriv prints it: names joined by commas, `[none]` if empty.
pub fn list(set: u64, last: u32) -> String {
    let names: Vec<String> = (0..=last.min(63))
        .filter(|c| set & (1u64 << c) != 0)
        .map(name)
        .collect();
    if names.is_empty() {
        "[none]".into()
    } else {
        names.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_lists_read_as_setpriv_reads_them() {
        assert_eq!(parse("chown", 40), Some(0));
        assert_eq!(parse("CAP_SYS_ADMIN", 40), Some(21));
        assert_eq!(parse("cap_40", 40), Some(40));
        assert_eq!(parse("cap_41", 40), None);
        assert_eq!(parse("checkpoint_restore", 39), None);
        assert_eq!(parse("nope", 40), None);
        let changes = parse_list("-all,+chown,+cap_7", 40).unwrap();
        assert_eq!(apply_changes((1 << 41) - 1, &changes, 40), 1 | 1 << 7);
        assert_eq!(list(1 | 1 << 7, 40), "chown,setuid");
        assert_eq!(list(0, 40), "[none]");
        assert!(parse_list("chown", 40).unwrap_err().contains("+ or -"));
        assert_eq!(
            parse_list("+chown,-bogus", 40).unwrap_err(),
            "unknown capability \"bogus\""
        );
        assert_eq!(name(41), "cap_41");
        assert_eq!(parse_set("container", 40), Ok(0x8004_05fb));
        assert_eq!(parse_set("none", 40), Ok(0));
        assert_eq!(parse_set("chown,CAP_KILL", 40), Ok(1 | 1 << 5));
        assert!(
            parse_set("chown,nope", 40)
                .unwrap_err()
                .contains("\"nope\"")
        );
    }
}
