//! The escape battery: tests/support/escape-probes.c (44 probes: capability
//! and seccomp gated calls, masked and read-only paths, device nodes, a
//! chroot escape, mount, pivot_root, modules, kexec, raw sockets, BPF,
//! perf, keys, the clock, open by handle) run in
//!
//! - crun with podman's default isolation (tests/support/podman-bundle.py:
//!   its 11 capabilities, containers-common's seccomp profile, its masked
//!   and read-only paths, its device list);
//! - the hardened box as root: `rs-cgroup --devices=container -- rs-unshare
//!   -pfmiunC -- rs-pivot --root R --ro --dev --proc --sys --tmpfs=/tmp
//!   --caps=container --seccomp=container -- CMD`;
//! - the same box made by an ordinary user (`rs-unshare -Urpfmiun`, no
//!   cgroup);
//! - the open box (no drop), to show the probes find what is open.
//!
//! Our boxes must block every probe podman's blocks. The table is printed,
//! and written to <target tmp>/isolation.md for docs/isolation.md.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::*;

const PROFILE: &str = "/usr/share/containers/seccomp.json";

/// Each probe's verdict: blocked or not, and what it saw.
type Column = BTreeMap<String, (bool, String)>;

fn parse(out: &str) -> (Column, Vec<String>) {
    let mut column = Column::new();
    let mut order = Vec::new();
    for line in out.lines() {
        let mut words = line.splitn(3, ' ');
        let (Some(name), Some(verdict)) = (words.next(), words.next()) else {
            continue;
        };
        if verdict != "blocked" && verdict != "open" {
            continue;
        }
        let detail = words.next().unwrap_or("").to_string();
        order.push(name.to_string());
        column.insert(name.to_string(), (verdict == "blocked", detail));
    }
    (column, order)
}

fn probe_binary(scratch: &Scratch) -> std::path::PathBuf {
    let out = scratch.join("escape-probes");
    let source = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/escape-probes.c");
    let status = Command::new("cc")
        .args(["-static", "-O2", "-o"])
        .arg(&out)
        .arg(source)
        .status()
        .unwrap();
    assert!(status.success(), "cc {source}");
    out
}

/// /sys/fs/cgroup is cgroup v2 alone (crun refuses a hybrid host).
fn unified_cgroup() -> bool {
    nix::sys::statfs::statfs("/sys/fs/cgroup")
        .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
}

/// crun with podman's isolation. On a hybrid host it runs in a mount
/// namespace of its own where /sys/fs/cgroup is cgroup v2 alone; where
/// crun cannot load its device program, without the device list (said in
/// the table's notes).
fn podman_column(scratch: &Scratch, marker: &Path, notes: &mut Vec<String>) -> String {
    let bundle = scratch.path.to_str().unwrap();
    let run = |devices: bool| {
        let mut make = Command::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/support/podman-bundle.py"
        ));
        if !devices {
            make.arg("--no-devices");
        }
        let status = make
            .args([bundle, PROFILE, "/probe", marker.to_str().unwrap()])
            .status()
            .unwrap();
        assert!(status.success());
        let crun = format!(
            "crun --root {bundle}/crun-state run --bundle {bundle} rsns-iso-{}",
            std::process::id()
        );
        let script = if unified_cgroup() {
            format!("exec {crun}")
        } else {
            format!(
                "mount --make-rprivate / && umount -l /sys/fs/cgroup && \
                 mount -t cgroup2 cgroup2 /sys/fs/cgroup && exec {crun}"
            )
        };
        cmd("unshare", &["-m", "sh", "-c", &script])
    };
    let first = run(true);
    if first.code() == 0 {
        return first.stdout();
    }
    assert!(
        first.stderr().contains("RLIM_MEMLOCK"),
        "crun: {}",
        first.stderr()
    );
    notes.push(
        "crun could not raise RLIMIT_MEMLOCK to load its device program here: podman's column \
         ran without the device list"
            .into(),
    );
    run(false).ok()
}

#[test]
fn the_hardened_box_blocks_everything_podmans_blocks() {
    require!(is_root(), "needs root (crun, the rootful box)");
    require!(
        has_command("crun") && Path::new(PROFILE).exists(),
        "needs crun and containers-common's seccomp.json (Debian packages crun, \
         golang-github-containers-common)"
    );
    require!(has_command("cc"), "needs cc to build the probes");
    require!(can_run_unprivileged(), "needs the unprivileged test user");
    let scratch = Scratch::new("isolation");
    let Some(rootfs) = rootfs_copy(&scratch, &["tmp"]) else {
        return;
    };
    std::fs::copy(probe_binary(&scratch), Path::new(&rootfs).join("probe")).unwrap();
    // A host path the box must not reach (the chroot escape looks for it).
    let marker = scratch.join("host-only-marker");
    std::fs::write(&marker, "host\n").unwrap();
    let marker_arg = marker.to_str().unwrap();
    let mut notes = Vec::new();

    let podman = podman_column(&scratch, &marker, &mut notes);
    let drop = [
        "--ro",
        "--dev",
        "--proc",
        "--sys",
        "--tmpfs=/tmp",
        "--caps=container",
        "--seccomp=container",
    ];
    let mut root_args = vec![
        "--devices=container",
        "--",
        UNSHARE,
        "-pfmiunC",
        "--",
        PIVOT,
        "--root",
        &rootfs,
    ];
    root_args.extend(drop);
    root_args.extend(["--", "/probe", marker_arg]);
    let ours = cmd(CGROUP, &root_args).ok();

    let mut user_args = vec!["-Urpfmiun", "--", PIVOT, "--root", &rootfs];
    user_args.extend(drop);
    user_args.extend(["--", "/probe", marker_arg]);
    let (uid, gid) = test_user().unwrap();
    let rootless = run(as_user(uid, gid, UNSHARE, &user_args)).ok();

    let open = cmd(
        UNSHARE,
        &[
            "-pfmiun",
            "--",
            PIVOT,
            "--root",
            &rootfs,
            "--dev",
            "--proc",
            "--sys",
            "--tmpfs=/tmp",
            "--",
            "/probe",
            marker_arg,
        ],
    )
    .ok();

    let (podman, order) = parse(&podman);
    let columns = [parse(&ours).0, parse(&rootless).0, parse(&open).0];
    let mut table = String::from(
        "| probe | podman (crun) | ours, as root | ours, as a user | open box |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    let cell = |c: &Column, name: &str| {
        c.get(name).map_or("missing".to_string(), |(b, d)| {
            format!("{} {d}", if *b { "blocked" } else { "**open**" })
        })
    };
    for name in &order {
        table += &format!(
            "| {name} | {} | {} | {} | {} |\n",
            cell(&podman, name),
            cell(&columns[0], name),
            cell(&columns[1], name),
            cell(&columns[2], name)
        );
    }
    let count = |c: &Column| c.values().filter(|(b, _)| *b).count();
    table += &format!(
        "| **blocked** | {} of {} | {} | {} | {} |\n",
        count(&podman),
        podman.len(),
        count(&columns[0]),
        count(&columns[1]),
        count(&columns[2])
    );
    for note in &notes {
        table += &format!("\nNote: {note}.\n");
    }
    eprintln!("{table}");
    let _ = std::fs::write(
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("isolation.md"),
        &table,
    );

    assert!(podman.len() >= 30, "too few probes ran in crun:\n{table}");
    for (column, who) in columns[..2].iter().zip(["as root", "as a user"]) {
        let missed: Vec<&String> = podman
            .iter()
            .filter(|(name, (blocked, _))| *blocked && !column.get(*name).is_some_and(|c| c.0))
            .map(|(name, _)| name)
            .collect();
        assert!(
            missed.is_empty(),
            "our box {who} lets through what podman's blocks: {missed:?}\n{table}"
        );
    }
    // The probes see what is open: without the drop, many get through.
    assert!(
        columns[2].values().filter(|(b, _)| !b).count() >= 10,
        "the open box blocked nearly everything: the probes prove nothing\n{table}"
    );
}
