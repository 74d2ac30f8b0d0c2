//! The finale's box against crun, the fastest OCI runtime (Debian package
//! `crun`), from start to exit, as root, both as tight as podman's default:
//! crun runs a bundle with podman's isolation (tests/support/podman-bundle.py:
//! its 11 capabilities, containers-common's seccomp profile, its masked and
//! read-only paths, the device allow list), a read-only root, limits of 64M
//! and 64 processes, and `true` as the program. Ours is the hardened box as
//! docs/isolation.md spells it, with the same limits: rs-cgroup
//! --devices=container around rs-unshare -pfmiunC around rs-pivot with
//! --caps=container --seccomp=container. Both compile their seccomp profile
//! at each start. Needs cgroup v2 with the memory and pids controllers, like
//! the rs-cgroup table (a VM here).

use super::{PROGRAM, pair_table, warm_medians};

pub struct Tools {
    pub cgroup: String,
    pub unshare: String,
    pub pivot: String,
    pub crun: String,
    pub rootfs: String,
    /// The bundle podman-bundle.py wrote (make bench does).
    pub bundle: String,
}

pub fn bench(tools: &Tools, runs: usize) -> Result<Vec<String>, String> {
    super::cgroup::possible()?;
    let config = format!("{}/config.json", tools.bundle);
    if !std::path::Path::new(&config).is_file() {
        return Err(format!("{config}: no bundle (make bench writes it)"));
    }
    let words = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let id = format!("rsns-bench-{}", std::process::id());
    let theirs = words(&[&tools.crun, "run", "--bundle", &tools.bundle, &id]);
    let ours = words(&[
        &tools.cgroup,
        "--memory=64M",
        "--pids=64",
        "--devices=container",
        "--",
        &tools.unshare,
        "-pfmiunC",
        "--",
        &tools.pivot,
        "--root",
        &tools.rootfs,
        "--ro",
        "--dev",
        "--proc",
        "--sys",
        "--tmpfs=/tmp",
        "--caps=container",
        "--seccomp=container",
        "--",
        PROGRAM,
    ]);
    let med = warm_medians(&[theirs, ours], runs)?;
    Ok(pair_table(
        "| the finale's box as tight as podman's, start to exit | crun run | rs-cgroup + rs-unshare + rs-pivot | ours/crun |",
        "podman's capabilities, seccomp profile, masks and device list; read-only root; limits 64M and 64 processes; PID, net, IPC, UTS, mount and cgroup namespaces; `true`",
        &med,
        1.0,
        ("finale", "crun"),
    ))
}
