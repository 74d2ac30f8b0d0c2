//! cgroup v2: where the unified hierarchy is mounted, and which group a
//! process is in. Paths are bytes throughout (a group may be named anything).

pub mod devices;
pub mod group;
pub mod limits;
pub mod run;
pub mod stats;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::mountinfo::Mount;

/// The cgroup2 mount to use among `mounts`: /sys/fs/cgroup where the
/// hierarchy is unified, else the first one (on a hybrid system, such as
/// /sys/fs/cgroup/unified).
pub fn v2_mount_in(mounts: &[Mount]) -> Option<PathBuf> {
    let v2: Vec<&Mount> = mounts.iter().filter(|m| m.fstype == "cgroup2").collect();
    v2.iter()
        .find(|m| m.mount_point == Path::new("/sys/fs/cgroup"))
        .or_else(|| v2.first())
        .map(|m| m.mount_point.clone())
}

/// The cgroup2 mount of our mount namespace: /sys/fs/cgroup when the file
/// system there is cgroup2 (the answer mountinfo would give, without reading
/// and parsing a table of every mount), else per /proc/self/mountinfo.
pub fn v2_mount() -> Option<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let usual = Path::new("/sys/fs/cgroup");
    let device = |p: &str| std::fs::metadata(p).map(|m| m.dev()).ok();
    // A mount point, not a group of a cgroup2 mounted higher up.
    if nix::sys::statfs::statfs(usual)
        .is_ok_and(|fs| fs.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
        && device("/sys/fs") != device("/sys/fs/cgroup")
    {
        return Some(usual.to_path_buf());
    }
    let text = crate::mountinfo::read_own().ok()?;
    v2_mount_in(&crate::mountinfo::parse(&text))
}

/// The cgroup v2 path in a /proc/PID/cgroup text (the `0::PATH` line).
pub fn v2_membership(cgroup_file: &[u8]) -> Option<&Path> {
    cgroup_file
        .split(|&b| b == b'\n')
        .find_map(|l| l.strip_prefix(b"0::"))
        .map(|p| Path::new(OsStr::from_bytes(p)))
}

/// The cgroup v1 hierarchies named in a /proc/PID/cgroup text (`memory`,
/// `cpu,cpuacct`, `name=systemd`): on a hybrid host joining a v2 group
/// leaves a process where it was in these.
pub fn v1_hierarchies(cgroup_file: &[u8]) -> Vec<String> {
    v1_groups(cgroup_file)
        .filter_map(|g| g.split(|&b| b == b':').next())
        .map(crate::text::safe)
        .collect()
}

/// The v1 lines of a /proc/PID/cgroup text, without their hierarchy
/// number: `controllers:path`.
fn v1_groups(cgroup_file: &[u8]) -> impl Iterator<Item = &[u8]> {
    cgroup_file
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty() && !l.starts_with(b"0::"))
        .filter_map(|l| l.splitn(2, |&b| b == b':').nth(1))
}

/// The cgroup v1 groups in a /proc/PID/cgroup text (`pids:/x`) that are
/// not in `ours`: on a hybrid host, what joining only the v2 group of the
/// process the text is of would leave out.
pub fn v1_groups_not_in(theirs: &[u8], ours: &[u8]) -> Vec<String> {
    let ours: Vec<&[u8]> = v1_groups(ours).collect();
    v1_groups(theirs)
        .filter(|group| !ours.contains(group))
        .map(crate::text::safe)
        .collect()
}

/// A note for `who` (rs-cgroup, rs-nsenter) when this process is also in
/// cgroup v1 hierarchies: `what` joins the v2 group only.
pub fn hybrid_note(who: &str, what: &str) -> Option<String> {
    let own = std::fs::read("/proc/self/cgroup").ok()?;
    let v1 = v1_hierarchies(&own);
    (!v1.is_empty()).then(|| {
        format!(
            "{who}: note: this host also has cgroup v1 hierarchies ({}); {what} joins the \
             cgroup v2 group only",
            v1.join(" ")
        )
    })
}

/// `mount` joined with a group `path` as /proc/PID/cgroup names it
/// (absolute, relative to the mount's root).
pub fn group_dir(mount: &Path, path: &Path) -> PathBuf {
    let relative = path.strip_prefix("/").unwrap_or(path);
    mount.join(relative)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unified_mount_wins_else_the_first() {
        let text = b"\
30 24 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
31 24 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
";
        let mounts = crate::mountinfo::parse(text);
        assert_eq!(v2_mount_in(&mounts), Some("/sys/fs/cgroup/unified".into()));
        let text = b"\
30 24 0:26 / /mnt/other rw - cgroup2 cgroup2 rw
32 24 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw
";
        let mounts = crate::mountinfo::parse(text);
        assert_eq!(v2_mount_in(&mounts), Some("/sys/fs/cgroup".into()));
        assert_eq!(v2_mount_in(&crate::mountinfo::parse(b"")), None);
    }

    #[test]
    fn membership_is_the_0_line_as_bytes() {
        let file = b"12:memory:/x\n0::/user.slice/caf\xe9 b\n";
        let path = v2_membership(file).unwrap();
        assert_eq!(path.as_os_str().as_bytes(), b"/user.slice/caf\xe9 b");
        assert_eq!(
            group_dir(Path::new("/sys/fs/cgroup"), path)
                .as_os_str()
                .as_bytes(),
            b"/sys/fs/cgroup/user.slice/caf\xe9 b"
        );
        assert_eq!(group_dir(Path::new("/c"), Path::new("/")), Path::new("/c/"));
        assert_eq!(v2_membership(b"1:name=systemd:/\n"), None);
        assert_eq!(
            v1_hierarchies(b"2:cpu,cpuacct:/\n1:name=systemd:/x\n0::/\n"),
            ["cpu,cpuacct", "name=systemd"]
        );
        assert!(v1_hierarchies(b"0::/user.slice\n").is_empty());
        let ours = b"2:pids:/\n1:name=systemd:/a\n0::/x\n";
        let theirs = b"2:pids:/box\n1:name=systemd:/a\n0::/y\n";
        assert_eq!(v1_groups_not_in(theirs, ours), ["pids:/box"]);
        assert!(v1_groups_not_in(ours, ours).is_empty());
    }
}
