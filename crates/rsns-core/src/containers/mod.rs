//! The containers podman, docker, containerd and CRI-O run on this machine,
//! found from what the kernel and the engines leave on it (each process's
//! cgroup, the engines' state on disk), never from their APIs: so the tools
//! work on a Kubernetes node as on a laptop, with no socket to talk to.
//! `rs-nsenter --container=REF` and rs-lsns's CONTAINER column use it.

mod cgroup_path;
mod find;
mod names;
mod state;

use std::fmt;

pub use cgroup_path::{container_of, path_of};
pub use find::{Finder, resolve};
pub use names::Places;
pub use state::start_time;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Engine {
    Podman,
    Docker,
    /// containerd: Kubernetes' CRI, or `ctr`.
    Containerd,
    CriO,
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Podman => "podman",
            Engine::Docker => "docker",
            Engine::Containerd => "containerd",
            Engine::CriO => "cri-o",
        })
    }
}

/// A running container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub engine: Engine,
    pub id: String,
    /// As the engine shows them (Kubernetes: `POD/CONTAINER`).
    pub names: Vec<String>,
    /// Its first process: the one whose parent is outside it (the engine's
    /// conmon or shim), the lowest such PID; or the one its runtime
    /// recorded.
    pub pid: i32,
    /// That process's start time (/proc/PID/stat): with the PID, it names
    /// the process, so a PID reused later is told apart.
    pub start: Option<u64>,
}

impl Container {
    /// The first 12 characters of an ID of hex digits, as the engines print
    /// it; any other ID (one `ctr run` was given, which is its only name)
    /// whole.
    pub fn short_id(&self) -> &str {
        if self.id.bytes().all(|b| b.is_ascii_hexdigit()) {
            &self.id[..self.id.len().min(12)]
        } else {
            &self.id
        }
    }

    /// `ENGINE:NAME`, or `ENGINE:SHORT-ID` for one without a name.
    pub fn label(&self) -> String {
        format!(
            "{}:{}",
            self.engine,
            self.names.first().map_or(self.short_id(), String::as_str)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_shorten_hex_ids_only() {
        let c = |id: &str| Container {
            engine: Engine::Containerd,
            id: id.into(),
            names: Vec::new(),
            pid: 1,
            start: None,
        };
        let hex = "ef50ce6b9500aaaabbbbccccddddeeeeffff0000111122223333444455556666";
        assert_eq!(c(hex).label(), "containerd:ef50ce6b9500");
        assert_eq!(c("rsns-ctr-123456").label(), "containerd:rsns-ctr-123456");
    }
}
