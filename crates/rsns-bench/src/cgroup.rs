//! The rs-cgroup table: a program run in a new cgroup v2 group with limits,
//! the group removed after, three ways: the floor (floor.c's `cgroup` mode:
//! mkdir, the limit writes, clone3 into the group, exec, wait, rmdir),
//! cgroup-tools (cgcreate, cgset, cgexec, cgdelete: one process each, as a
//! user types them) and rs-cgroup. It needs the memory and pids controllers
//! in cgroup v2, which a host that keeps them in cgroup v1 lacks: there
//! `make bench` runs this table in a VM (tests/support/bench-vm.sh).

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{PROGRAM, WARMUP, alternated, pair_table, run_once, warm_medians};

pub struct Tools {
    pub ours: String,
    pub floor: String,
}

/// The cgroup2 mount (the one at /sys/fs/cgroup where there are several).
fn cgroup2_mount() -> Option<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mounts: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(" - cgroup2 "))
        .filter_map(|l| l.split(' ').nth(4))
        .collect();
    let mount = mounts
        .iter()
        .find(|m| **m == "/sys/fs/cgroup")
        .or(mounts.first())?;
    Some(PathBuf::from(mount))
}

/// rs-cgroup's default parent (made if missing), where the floor and
/// cgroup-tools make their groups too, and the floor's group in it.
fn places(mount: &Path) -> (PathBuf, String) {
    let parent = mount.join("rsns");
    let _ = std::fs::create_dir(&parent);
    let floor_dir = parent.join("bench-floor").display().to_string();
    (parent, floor_dir)
}

fn controllers(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default()
}

/// Whether this machine can run the table: cgroup v2 with memory and pids.
pub fn possible() -> Result<(), String> {
    let mount = cgroup2_mount().ok_or("no cgroup2 mounted")?;
    let have = controllers(&mount);
    for c in ["memory", "pids"] {
        if !have.split_whitespace().any(|h| h == c) {
            return Err(format!(
                "cgroup v2 at {} has no {c} controller (bound to cgroup v1?)",
                mount.display()
            ));
        }
    }
    Ok(())
}

/// A sequence of commands, timed together.
fn run_all(commands: &[Vec<String>]) -> Result<f64, String> {
    let start = Instant::now();
    for argv in commands {
        run_once(argv)?;
    }
    Ok(start.elapsed().as_secs_f64() * 1000.0)
}

fn argv(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

pub fn bench(tools: &Tools, runs: usize) -> Result<Vec<String>, String> {
    possible()?;
    let mount = cgroup2_mount().unwrap();
    let (parent, floor_dir) = places(&mount);
    for dir in [&mount, &parent] {
        std::fs::write(dir.join("cgroup.subtree_control"), "+memory +pids")
            .map_err(|e| format!("{}/cgroup.subtree_control: {e}", dir.display()))?;
    }
    let tools_group = "rsns/bench-cgroup-tools";
    let plain = (
        "-- true",
        vec![argv(&[&tools.floor, "cgroup", &floor_dir, "--", PROGRAM])],
        vec![
            argv(&["cgcreate", "-g", &format!("pids:{tools_group}")]),
            argv(&["cgexec", "-g", &format!("pids:{tools_group}"), PROGRAM]),
            argv(&["cgdelete", "-g", &format!("pids:{tools_group}")]),
        ],
        vec![argv(&[&tools.ours, "--", PROGRAM])],
    );
    let both = format!("memory,pids:{tools_group}");
    let limited = (
        "--memory=64M --pids=64 -- true",
        vec![argv(&[
            &tools.floor,
            "cgroup",
            &floor_dir,
            "memory.max=67108864",
            "pids.max=64",
            "--",
            PROGRAM,
        ])],
        vec![
            argv(&["cgcreate", "-g", &both]),
            argv(&[
                "cgset",
                "-r",
                "memory.max=67108864",
                "-r",
                "pids.max=64",
                tools_group,
            ]),
            argv(&["cgexec", "-g", &both, PROGRAM]),
            argv(&["cgdelete", "-g", &both]),
        ],
        vec![argv(&[
            &tools.ours,
            "--memory=64M",
            "--pids=64",
            "--",
            PROGRAM,
        ])],
    );
    println!(
        "\n| `rs-cgroup ARGS` | floor | cgcreate+cgexec+cgdelete | rs-cgroup | ours/cgroup-tools | ours/floor |"
    );
    println!("|---|---|---|---|---|---|");
    let mut missed = Vec::new();
    for (label, floor, theirs, ours) in [plain, limited] {
        let all = [floor, theirs, ours];
        for seq in &all {
            for _ in 0..WARMUP {
                run_all(seq)?;
            }
        }
        let med = alternated(&all, runs, |seq| run_all(seq))?;
        let (vs_tools, vs_floor) = (med[2] / med[1], med[2] / med[0]);
        if vs_tools > 1.0 {
            missed.push(format!("cgroup {label}: {vs_tools:.2} x cgroup-tools"));
        }
        if vs_floor > 1.10 {
            missed.push(format!("cgroup {label}: {vs_floor:.2} x the floor"));
        }
        println!(
            "| `{label}` | {:.3} ms | {:.3} ms | {:.3} ms | {vs_tools:.2} | {vs_floor:.2} |",
            med[0], med[1], med[2]
        );
    }
    Ok(missed)
}

/// Where cgroup v2 is mounted without the controllers (they are in v1, as
/// on this host): the row without limits needs none, so it runs here on the
/// hardware, rs-cgroup against the floor (cgroup-tools cannot: cgexec needs
/// a controller). Under emulation in the VM every exec pays for translating
/// the code it runs anew, which says more about code size than speed.
pub fn bench_without_controllers(tools: &Tools, runs: usize) -> Result<Vec<String>, String> {
    let Some(mount) = cgroup2_mount() else {
        println!("\nrs-cgroup: not measured here (no cgroup2 mounted)");
        return Ok(Vec::new());
    };
    let (_, floor_dir) = places(&mount);
    let med = warm_medians(
        &[
            argv(&[&tools.floor, "cgroup", &floor_dir, "--", PROGRAM]),
            argv(&[&tools.ours, "--", PROGRAM]),
        ],
        runs,
    )?;
    let header = format!(
        "| `rs-cgroup ARGS`, on this host's cgroup v2 at {} (no controllers) | floor | rs-cgroup | ours/floor |",
        mount.display()
    );
    Ok(pair_table(
        &header,
        "`-- true`",
        &med,
        1.10,
        ("cgroup -- true (host)", "the floor"),
    ))
}
