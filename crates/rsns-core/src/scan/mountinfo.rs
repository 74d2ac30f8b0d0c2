//! The nsfs bind mounts in /proc/self/mountinfo: namespaces kept alive by a
//! file (`rs-unshare --net=FILE`, `ip netns add`).

use std::path::PathBuf;

use crate::ns::NsKind;

/// One namespace file mounted somewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsfsMount {
    pub kind: NsKind,
    pub ino: u64,
    /// The mount point, unescaped (any bytes).
    pub path: PathBuf,
}

/// The nsfs mounts listed in `mountinfo` (the text of /proc/self/mountinfo),
/// in file order. Lines that are not nsfs, or whose root does not name a
/// namespace, are skipped.
pub fn nsfs_mounts(mountinfo: &[u8]) -> Vec<NsfsMount> {
    mountinfo
        .split(|&b| b == b'\n')
        .filter_map(parse_line)
        .collect()
}

fn parse_line(line: &[u8]) -> Option<NsfsMount> {
    // Most lines are not nsfs: skip them before unescaping any path.
    if !line.windows(8).any(|w| w == b" - nsfs ") {
        return None;
    }
    let mount = crate::mountinfo::parse_line(line)?;
    if mount.fstype != "nsfs" {
        return None;
    }
    let (kind, ino) = parse_ns_name(std::str::from_utf8(&mount.root).ok()?)?;
    Some(NsfsMount {
        kind,
        ino,
        path: mount.mount_point,
    })
}

/// `net:[4026531833]` (an nsfs root, or what readlink says of a namespace
/// descriptor) into its kind and inode. `pid_for_children` files name a `pid`
/// namespace, so the names are the kinds' own.
pub fn parse_ns_name(name: &str) -> Option<(NsKind, u64)> {
    let (kind, rest) = name.split_once(":[")?;
    let ino = rest.strip_suffix(']')?.parse().ok()?;
    let kind = NsKind::from_proc_name(kind)?;
    Some((kind, ino))
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::os::unix::ffi::OsStringExt;

    #[test]
    fn nsfs_lines_give_kind_inode_and_unescaped_path() {
        let text = b"\
22 1 0:21 / /proc rw,nosuid - proc proc rw
301 29 0:4 net:[4026532290] /run/netns/blue rw shared:5 - nsfs nsfs rw
302 29 0:4 uts:[4026532291] /tmp/a\\040b\\134c rw - nsfs nsfs rw
303 29 0:4 / /weird rw - nsfs nsfs rw
304 29 0:4 net:[4026532292] /tmp/caf\xe9 rw - nsfs nsfs rw
";
        let mounts = nsfs_mounts(text);
        assert_eq!(
            mounts,
            vec![
                NsfsMount {
                    kind: NsKind::Net,
                    ino: 4026532290,
                    path: "/run/netns/blue".into()
                },
                NsfsMount {
                    kind: NsKind::Uts,
                    ino: 4026532291,
                    path: "/tmp/a b\\c".into()
                },
                NsfsMount {
                    kind: NsKind::Net,
                    ino: 4026532292,
                    path: std::ffi::OsString::from_vec(b"/tmp/caf\xe9".to_vec()).into()
                },
            ]
        );
    }

    #[test]
    fn namespace_names_parse_and_junk_does_not() {
        assert_eq!(
            parse_ns_name("mnt:[4026531841]"),
            Some((NsKind::Mount, 4026531841))
        );
        assert_eq!(parse_ns_name("time:[1]"), Some((NsKind::Time, 1)));
        assert_eq!(parse_ns_name("socket:[123]"), None);
        assert_eq!(parse_ns_name("net:[12"), None);
        assert_eq!(parse_ns_name("net:[x]"), None);
        assert_eq!(parse_ns_name("/dev/null"), None);
    }
}
