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

/// The layered box: the image as the lowest of three layers joined by
/// overlayfs as the root, writes in a tmpfs that goes with the box, against
/// bubblewrap 0.11's `--overlay-src ... --tmp-overlay /` (`tools.bwrap` is
/// a bwrap that new). `layers`: the two above the image, lowest first.
pub fn bench_layers(tools: &Tools, layers: &[String], runs: usize) -> Result<Vec<String>, String> {
    let lower: Vec<&str> = std::iter::once(tools.rootfs.as_str())
        .chain(layers.iter().map(String::as_str))
        .collect();
    let mut theirs = vec![tools.bwrap.clone(), "--unshare-all".into()];
    for l in &lower {
        theirs.extend(["--overlay-src".to_string(), l.to_string()]);
    }
    theirs.extend(
        [
            "--tmp-overlay",
            "/",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            PROGRAM,
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    let mut ours = vec![
        tools.unshare.clone(),
        "-Urpfmiun".into(),
        "-C".into(),
        tools.pivot.clone(),
    ];
    ours.extend(lower.iter().map(|l| format!("--overlay-src={l}")));
    ours.extend(
        ["--tmp-overlay=/", "--dev", "--proc", "--", PROGRAM]
            .iter()
            .map(|s| s.to_string()),
    );
    let med = warm_medians(&[theirs, ours], runs)?;
    Ok(pair_table(
        "| a layered box: three layers, a tmp overlay as the root, /dev, /proc | bwrap 0.11+ | rs-unshare + rs-pivot | ours/bwrap |",
        "`bwrap --unshare-all --overlay-src R --overlay-src A --overlay-src B --tmp-overlay / --dev /dev --proc /proc true` vs `rs-unshare -Urpfmiun -C rs-pivot --overlay-src=R --overlay-src=A --overlay-src=B --tmp-overlay=/ --dev --proc -- true`",
        &med,
        1.0,
        ("layers", "bwrap"),
    ))
}
