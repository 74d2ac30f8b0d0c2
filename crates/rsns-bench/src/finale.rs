//! The finale's box against crun, the fastest OCI runtime (Debian package
//! `crun`), from start to exit, as root: the same namespaces (PID, network,
//! IPC, UTS, mount, cgroup), the image as a read-only root, /dev, /proc with
//! runc's masked and read-only paths, /sys read-only, a memory limit of 64M
//! and 64 processes, and `true` as the program. Ours is rs-cgroup around
//! rs-unshare around rs-pivot. crun also sets the hostname and needs a
//! bundle (written here once); it gets no capability set to drop and no
//! no_new_privs, which only spares it work. Needs cgroup v2 with the
//! memory and pids controllers, like the rs-cgroup table (a VM here).

use super::{PROGRAM, pair_table, warm_medians};

pub struct Tools {
    pub cgroup: String,
    pub unshare: String,
    pub pivot: String,
    pub crun: String,
    pub rootfs: String,
}

fn config(rootfs: &str) -> String {
    format!(
        r#"{{
  "ociVersion": "1.0.2",
  "process": {{"terminal": false, "user": {{"uid": 0, "gid": 0}}, "args": ["{PROGRAM}"],
    "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "cwd": "/"}},
  "root": {{"path": "{rootfs}", "readonly": true}},
  "hostname": "box",
  "mounts": [
    {{"destination": "/proc", "type": "proc", "source": "proc"}},
    {{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]}},
    {{"destination": "/dev/pts", "type": "devpts", "source": "devpts",
      "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]}},
    {{"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777"]}},
    {{"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}}
  ],
  "linux": {{
    "resources": {{"memory": {{"limit": 67108864}}, "pids": {{"limit": 64}}}},
    "namespaces": [{{"type": "pid"}}, {{"type": "network"}}, {{"type": "ipc"}}, {{"type": "uts"}},
      {{"type": "mount"}}, {{"type": "cgroup"}}],
    "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
      "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
  }}
}}
"#
    )
}

pub fn bench(tools: &Tools, runs: usize) -> Result<Vec<String>, String> {
    super::cgroup::possible()?;
    let bundle = std::env::temp_dir().join(format!("rsns-bench-crun-{}", std::process::id()));
    std::fs::create_dir_all(&bundle).map_err(|e| format!("{}: {e}", bundle.display()))?;
    std::fs::write(bundle.join("config.json"), config(&tools.rootfs))
        .map_err(|e| format!("config.json: {e}"))?;
    let words = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let bundle_arg = bundle.display().to_string();
    let id = format!("rsns-bench-{}", std::process::id());
    let theirs = words(&[&tools.crun, "run", "--bundle", &bundle_arg, &id]);
    let ours = words(&[
        &tools.cgroup,
        "--memory=64M",
        "--pids=64",
        "--",
        &tools.unshare,
        "-pfmiunC",
        &tools.pivot,
        "--root",
        &tools.rootfs,
        "--dev",
        "--proc",
        "--sys",
        "--ro",
        "--",
        PROGRAM,
    ]);
    let result = warm_medians(&[theirs, ours], runs);
    let _ = std::fs::remove_dir_all(&bundle);
    let med = result?;
    Ok(pair_table(
        "| the finale's box, start to exit | crun run | rs-cgroup + rs-unshare + rs-pivot | ours/crun |",
        "limits 64M and 64 processes, PID, net, IPC, UTS, mount and cgroup namespaces, read-only root, /dev, /proc, /sys, `true`",
        &med,
        1.0,
        ("finale", "crun"),
    ))
}
