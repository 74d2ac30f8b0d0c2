//! The OCI runtimes' own state: runc's `state.json` and crun's `status`,
//! one directory per container, with its first process's PID and start
//! time. A container without cgroups of its own (rootless podman on a
//! cgroup v1 host) is found only here.

use std::path::{Path, PathBuf};

use super::Engine;
use super::names::{Places, names_of};

/// A container a runtime keeps state for, its first process alive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    pub engine: Engine,
    pub id: String,
    pub pid: i32,
}

/// The runtimes' state directories, with the engine each belongs to (None:
/// podman's when its storage names the ID, else not an engine's).
fn state_dirs(places: &Places, run_dirs: &[PathBuf]) -> Vec<(PathBuf, Option<Engine>)> {
    let mut dirs = vec![
        (places.at("/run/runc"), None),
        (places.at("/run/crun"), None),
        (
            places.at("/run/docker/runtime-runc/moby"),
            Some(Engine::Docker),
        ),
    ];
    if let Ok(spaces) = std::fs::read_dir(places.at("/run/containerd/runc")) {
        dirs.extend(
            spaces
                .flatten()
                .map(|ns| (ns.path(), Some(Engine::Containerd))),
        );
    }
    for run in run_dirs {
        dirs.push((run.join("runc"), None));
        dirs.push((run.join("crun"), None));
    }
    dirs
}

/// The PID and start time a runtime recorded: runc's `init_process_pid`
/// and `init_process_start`, crun's `pid` and `process-start-time`.
fn recorded(dir: &Path) -> Option<(i32, Option<u64>)> {
    let file = ["state.json", "status"]
        .iter()
        .find_map(|f| super::names::read_state_file(&dir.join(f)))?;
    let v: serde_json::Value = serde_json::from_str(&file).ok()?;
    let pid = v["init_process_pid"]
        .as_i64()
        .or_else(|| v["pid"].as_i64())?;
    let start = v["init_process_start"]
        .as_u64()
        .or_else(|| v["process-start-time"].as_u64());
    Some((i32::try_from(pid).ok()?, start))
}

/// The start time of process `pid` (clock ticks after boot, /proc/PID/stat's
/// 22nd field): with the PID, it names one process.
pub fn start_time(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Every container a runtime keeps state for whose first process is still
/// the one it recorded (a PID reused since is not it).
pub fn running(places: &Places, run_dirs: &[PathBuf]) -> Vec<Running> {
    let mut out = Vec::new();
    for (dir, engine) in state_dirs(places, run_dirs) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let id = entry.file_name().to_string_lossy().into_owned();
            let Some((pid, start)) = recorded(&entry.path()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            if start.is_some() && start != start_time(&stat) {
                continue;
            }
            let engine = match engine {
                Some(e) => e,
                None if !names_of(places, Engine::Podman, &id).is_empty() => Engine::Podman,
                None => continue,
            };
            out.push(Running { engine, id, pid });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_time_is_the_22nd_field() {
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(start_time(stat), Some(987654));
        assert_eq!(start_time("42 (x) S 1"), None);
    }

    #[test]
    fn a_runtime_s_state_gives_a_live_process() {
        let dir = std::env::temp_dir().join(format!("rsns-state-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let me = std::process::id() as i32;
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
        let start = start_time(&stat).unwrap();
        let put = |path: &str, text: String| {
            let p = dir.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        let id = "c".repeat(64);
        put(
            &format!("run/docker/runtime-runc/moby/{id}/state.json"),
            format!(r#"{{"init_process_pid":{me},"init_process_start":{start}}}"#),
        );
        put(
            &format!("xdg/crun/{id}/status"),
            format!(r#"{{"pid":{me},"process-start-time":{}}}"#, start + 1),
        );
        put(
            &format!("xdg/runc/{id}/state.json"),
            format!(r#"{{"init_process_pid":{me}}}"#),
        );
        let places = Places {
            root: dir.clone(),
            homes: Vec::new(),
        };
        // docker's is listed; crun's start time is not this process's; the
        // runc one is no engine's (no storage names it).
        assert_eq!(
            running(&places, &[dir.join("xdg")]),
            [Running {
                engine: Engine::Docker,
                id,
                pid: me
            }]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
