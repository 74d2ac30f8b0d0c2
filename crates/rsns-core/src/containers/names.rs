//! The names engines give their containers, read from what they keep on
//! disk (never their APIs): containers/storage's containers.json (podman,
//! CRI-O's storage too), docker's config.v2.json, and the annotations
//! containerd's CRI and CRI-O write in each container's OCI config.json.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::Engine;

/// Where each engine keeps its state, relative to `root` ("/" but in
/// tests); `homes`: the home directories whose rootless podman storage is
/// read too (the caller's).
#[derive(Debug, Clone)]
pub struct Places {
    pub root: PathBuf,
    pub homes: Vec<PathBuf>,
}

impl Places {
    pub(super) fn at(&self, path: &str) -> PathBuf {
        self.root.join(path.trim_start_matches('/'))
    }
}

fn read_json(path: &Path) -> Option<serde_json::Value> {
    serde_json::from_str(&read_state_file(path)?).ok()
}

/// An engine's state file, if it is a regular file: opened without
/// blocking and checked before it is read, so a FIFO or device put where a
/// state file belongs (a rootless user's runtime directory is theirs to
/// fill) cannot hang or trouble the tools; at most 64 MiB of it.
pub(super) fn read_state_file(path: &Path) -> Option<String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .ok()?;
    if !file.metadata().ok()?.file_type().is_file() {
        return None;
    }
    let mut text = String::new();
    file.take(64 << 20).read_to_string(&mut text).ok()?;
    Some(text)
}

/// containers/storage's list: `[{"id": ..., "names": [...]}, ...]`.
fn storage_names(file: &Path, out: &mut HashMap<String, Vec<String>>) {
    let Some(serde_json::Value::Array(list)) = read_json(file) else {
        return;
    };
    for c in list {
        let (Some(id), Some(names)) = (c["id"].as_str(), c["names"].as_array()) else {
            continue;
        };
        out.entry(id.to_string())
            .or_default()
            .extend(names.iter().filter_map(|n| n.as_str().map(String::from)));
    }
}

/// Kubernetes' names from an OCI config's annotations (containerd's CRI,
/// CRI-O): `POD/CONTAINER`.
fn kubernetes_name(config: &Path) -> Option<String> {
    let v = read_json(config)?;
    let a = &v["annotations"];
    let get = |keys: &[&str]| keys.iter().find_map(|k| a[*k].as_str().map(String::from));
    let container = get(&[
        "io.kubernetes.cri.container-name",
        "io.kubernetes.container.name",
    ])?;
    let pod = get(&["io.kubernetes.cri.sandbox-name", "io.kubernetes.pod.name"]);
    Some(match pod {
        Some(pod) => format!("{pod}/{container}"),
        None => container,
    })
}

/// The names of container `id` of `engine`: podman's and docker's names;
/// for Kubernetes, `POD/CONTAINER`.
pub fn names_of(places: &Places, engine: Engine, id: &str) -> Vec<String> {
    match engine {
        Engine::Podman => {
            let mut all = HashMap::new();
            let roots = std::iter::once(places.at("/var/lib/containers/storage")).chain(
                places
                    .homes
                    .iter()
                    .map(|h| h.join(".local/share/containers/storage")),
            );
            // One list per storage driver: overlay-containers,
            // vfs-containers (rootless podman without fuse-overlayfs), ...
            for root in roots {
                let Ok(entries) = std::fs::read_dir(&root) else {
                    continue;
                };
                for e in entries.flatten() {
                    if e.file_name().to_string_lossy().ends_with("-containers") {
                        storage_names(&e.path().join("containers.json"), &mut all);
                    }
                }
            }
            all.remove(id).unwrap_or_default()
        }
        Engine::Docker => {
            read_json(&places.at(&format!("/var/lib/docker/containers/{id}/config.v2.json")))
                .and_then(|v| {
                    v["Name"]
                        .as_str()
                        .map(|n| n.trim_start_matches('/').to_string())
                })
                .into_iter()
                .collect()
        }
        Engine::Containerd => {
            // Any containerd namespace (k8s.io for the CRI, default for ctr).
            let tasks = places.at("/run/containerd/io.containerd.runtime.v2.task");
            let Ok(spaces) = std::fs::read_dir(&tasks) else {
                return Vec::new();
            };
            spaces
                .flatten()
                .find_map(|ns| kubernetes_name(&ns.path().join(id).join("config.json")))
                .into_iter()
                .collect()
        }
        Engine::CriO => kubernetes_name(&places.at(&format!(
            "/run/containers/storage/overlay-containers/{id}/userdata/config.json"
        )))
        .into_iter()
        .collect(),
    }
}

/// Containers `ctr` runs: their cgroup is `/NAMESPACE/ID` (any ID), known
/// from containerd's task directories. `(namespace, id)` pairs.
pub fn containerd_tasks(places: &Places) -> Vec<(String, String)> {
    let tasks = places.at("/run/containerd/io.containerd.runtime.v2.task");
    let Ok(spaces) = std::fs::read_dir(&tasks) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for ns in spaces.flatten() {
        let Ok(ids) = std::fs::read_dir(ns.path()) else {
            continue;
        };
        for id in ids.flatten() {
            out.push((
                ns.file_name().to_string_lossy().into_owned(),
                id.file_name().to_string_lossy().into_owned(),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A FIFO where docker's state file belongs names nothing, at once
    /// (opening it for reading would wait for a writer forever).
    #[test]
    fn a_fifo_for_a_state_file_is_passed_over() {
        let dir = std::env::temp_dir().join(format!("rsns-fifo-state-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let id = "c".repeat(64);
        let at = dir.join(format!("var/lib/docker/containers/{id}"));
        std::fs::create_dir_all(&at).unwrap();
        nix::unistd::mkfifo(&at.join("config.v2.json"), nix::sys::stat::Mode::S_IRWXU).unwrap();
        let places = Places {
            root: dir.clone(),
            homes: vec![],
        };
        assert!(names_of(&places, Engine::Docker, &id).is_empty());
        std::fs::remove_file(at.join("config.v2.json")).unwrap();
        std::fs::write(at.join("config.v2.json"), r#"{"Name":"/db"}"#).unwrap();
        assert_eq!(names_of(&places, Engine::Docker, &id), ["db"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn each_engine_s_state_names_its_containers() {
        let dir = std::env::temp_dir().join(format!("rsns-names-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let put = |path: &str, text: &str| {
            let p = dir.join(path.trim_start_matches('/'));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        let id = "a".repeat(64);
        put(
            "/var/lib/containers/storage/overlay-containers/containers.json",
            &format!(r#"[{{"id":"{id}","names":["web"]}},{{"id":"b","names":["x"]}}]"#),
        );
        put(
            "/home/u/.local/share/containers/storage/vfs-containers/containers.json",
            &format!(r#"[{{"id":"{id}","names":["also"]}}]"#),
        );
        put(
            &format!("/var/lib/docker/containers/{id}/config.v2.json"),
            r#"{"Name":"/db"}"#,
        );
        put(
            &format!("/run/containerd/io.containerd.runtime.v2.task/k8s.io/{id}/config.json"),
            r#"{"annotations":{"io.kubernetes.cri.container-name":"app","io.kubernetes.cri.sandbox-name":"pod-1"}}"#,
        );
        put(
            &format!("/run/containers/storage/overlay-containers/{id}/userdata/config.json"),
            r#"{"annotations":{"io.kubernetes.container.name":"c","io.kubernetes.pod.name":"p"}}"#,
        );
        let places = Places {
            root: dir.clone(),
            homes: vec![dir.join("home/u")],
        };
        assert_eq!(names_of(&places, Engine::Podman, &id), ["web", "also"]);
        assert_eq!(names_of(&places, Engine::Docker, &id), ["db"]);
        assert_eq!(names_of(&places, Engine::Containerd, &id), ["pod-1/app"]);
        assert_eq!(names_of(&places, Engine::CriO, &id), ["p/c"]);
        assert!(names_of(&places, Engine::Docker, "nothere").is_empty());
        assert_eq!(
            containerd_tasks(&places),
            [("k8s.io".to_string(), id.clone())]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
