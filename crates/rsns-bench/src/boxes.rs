//! The whole-box table: a box with its own root, /dev and /proc made by
//! rs-unshare and rs-pivot, against bubblewrap doing the same in one
//! program (Debian package `bubblewrap`): every namespace bwrap's
//! --unshare-all makes (user, IPC, PID, network, UTS, cgroup) plus the
//! mount namespace, the image as the root, a fresh /dev and a new /proc.

use super::{PROGRAM, pair_table, warm_medians};

pub struct Tools {
    pub unshare: String,
    pub pivot: String,
    pub bwrap: String,
    pub rootfs: String,
}

pub fn bench(tools: &Tools, runs: usize) -> Result<Vec<String>, String> {
    let r = tools.rootfs.as_str();
    let theirs: Vec<String> = [
        tools.bwrap.as_str(),
        "--unshare-all",
        "--bind",
        r,
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        PROGRAM,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let ours: Vec<String> = [
        tools.unshare.as_str(),
        "-Urpfmiun",
        "-C",
        tools.pivot.as_str(),
        "--root",
        r,
        "--dev",
        "--proc",
        "--",
        PROGRAM,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let med = warm_medians(&[theirs, ours], runs)?;
    Ok(pair_table(
        "| a box: root, /dev, /proc, every namespace | bwrap | rs-unshare + rs-pivot | ours/bwrap |",
        "`bwrap --unshare-all --bind R / --dev /dev --proc /proc true` vs `rs-unshare -Urpfmiun -C rs-pivot --root R --dev --proc -- true`",
        &med,
        1.0,
        ("box", "bwrap"),
    ))
}
