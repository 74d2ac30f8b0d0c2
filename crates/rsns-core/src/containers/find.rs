//! Finding containers: each process's cgroup says which container (if any)
//! it is in; a REF names one by ID, unique ID prefix, or name.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use super::names::{Places, containerd_tasks, names_of};
use super::{Container, Engine, cgroup_path};

/// What [`Finder::of_pid`] needs, read once: containerd's `ctr` tasks.
#[derive(Debug)]
pub struct Finder {
    places: Places,
    /// `/NAMESPACE/ID` cgroups of containers `ctr` runs.
    ctr_groups: HashMap<String, String>,
    /// The caller's runtime directories (rootless runc's and crun's state).
    run_dirs: Vec<PathBuf>,
}

impl Default for Finder {
    fn default() -> Self {
        let mut run_dirs: Vec<PathBuf> = std::env::var_os("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .into_iter()
            .collect();
        let mine = PathBuf::from(format!("/run/user/{}", nix::unistd::getuid()));
        if !run_dirs.contains(&mine) {
            run_dirs.push(mine);
        }
        let mut finder = Finder::new(Places {
            root: PathBuf::from("/"),
            homes: std::env::var_os("HOME")
                .map(PathBuf::from)
                .into_iter()
                .collect(),
        });
        finder.run_dirs = run_dirs;
        finder
    }
}

impl Finder {
    pub fn new(places: Places) -> Finder {
        let ctr_groups = containerd_tasks(&places)
            .into_iter()
            .map(|(ns, id)| (format!("/{ns}/{id}"), id))
            .collect();
        Finder {
            places,
            ctr_groups,
            run_dirs: Vec::new(),
        }
    }

    /// `ENGINE:NAME` of the container process `pid` is in (by its cgroup,
    /// or as the first process a runtime recorded), among `all`.
    pub fn label_of(&self, pid: i32, all: &[Container]) -> Option<String> {
        match self.of_pid(pid) {
            Some((engine, id)) => Some(
                all.iter()
                    .find(|c| c.engine == engine && c.id == id)
                    .map_or_else(
                        || format!("{engine}:{}", &id[..id.len().min(12)]),
                        Container::label,
                    ),
            ),
            None => all.iter().find(|c| c.pid == pid).map(Container::label),
        }
    }

    /// The container process `pid` is in, from /proc/PID/cgroup.
    pub fn of_pid(&self, pid: i32) -> Option<(Engine, String)> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
        self.of_cgroup_file(&text)
    }

    /// The same, from the text of a /proc/PID/cgroup.
    pub fn of_cgroup_file(&self, text: &str) -> Option<(Engine, String)> {
        let path = cgroup_path::path_of(text)?;
        cgroup_path::container_of(path).or_else(|| {
            self.ctr_groups
                .get(path)
                .map(|id| (Engine::Containerd, id.clone()))
        })
    }

    /// Every running container, by engine and ID.
    pub fn all(&self) -> Vec<Container> {
        // pid -> (container, ppid)
        let mut members: BTreeMap<(Engine, String), Vec<(i32, i32)>> = BTreeMap::new();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        for entry in dir.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<i32>().ok())
            else {
                continue;
            };
            let Some(key) = self.of_pid(pid) else {
                continue;
            };
            let Some(ppid) = ppid_of(pid) else {
                continue;
            };
            members.entry(key).or_default().push((pid, ppid));
        }
        let mut homes = self.places.homes.clone();
        let mut out: Vec<Container> = members
            .into_iter()
            .filter_map(|((engine, id), procs)| {
                let inside: Vec<i32> = procs.iter().map(|(p, _)| *p).collect();
                let pid = procs
                    .iter()
                    .filter(|(_, ppid)| !inside.contains(ppid))
                    .map(|(p, _)| *p)
                    .min()?;
                // A rootless podman container's root is its user: that
                // user's storage holds its name.
                if engine == Engine::Podman
                    && let Some(home) = owner_home(pid)
                    && !homes.contains(&home)
                {
                    homes.push(home);
                }
                Some(Container {
                    engine,
                    id,
                    names: Vec::new(),
                    pid,
                    start: None,
                })
            })
            .collect();
        // Those without cgroups of their own, from their runtime's state.
        for r in super::state::running(&self.places, &self.run_dirs) {
            if !out.iter().any(|c| c.id == r.id) {
                out.push(Container {
                    engine: r.engine,
                    id: r.id,
                    names: Vec::new(),
                    pid: r.pid,
                    start: None,
                });
            }
        }
        let places = Places {
            root: self.places.root.clone(),
            homes,
        };
        for c in &mut out {
            c.names = names_of(&places, c.engine, &c.id);
            c.start = std::fs::read_to_string(format!("/proc/{}/stat", c.pid))
                .ok()
                .and_then(|s| super::state::start_time(&s));
        }
        out
    }
}

/// The parent PID, from /proc/PID/stat (after the command's closing paren).
fn ppid_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// The home directory of the user a process runs as on the host.
fn owner_home(pid: i32) -> Option<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata(format!("/proc/{pid}")).ok()?.uid();
    (uid != 0)
        .then(|| crate::ids::passwd_by_uid(uid))
        .flatten()
        .map(|e| PathBuf::from(e.home))
}

/// The container REF names: its full ID, a prefix of its ID no other
/// container shares, or one of its names. The error is one line: what
/// matched (or what runs), for the user to pick from.
pub fn resolve(finder: &Finder, reference: &str) -> Result<Container, String> {
    if reference.is_empty() {
        return Err("--container: give a container's name or ID".into());
    }
    pick(&finder.all(), reference)
}

/// [`resolve`] among `all`: an exact ID or name first, else a prefix.
fn pick(all: &[Container], reference: &str) -> Result<Container, String> {
    let by = |pred: &dyn Fn(&Container) -> bool| -> Vec<&Container> {
        all.iter().filter(|c| pred(c)).collect()
    };
    let mut found = by(&|c| c.id == reference || c.names.iter().any(|n| n == reference));
    if found.is_empty() {
        found = by(&|c| c.id.starts_with(reference));
    }
    let list = |cs: &[&Container]| {
        cs.iter()
            .map(|c| format!("{} ({})", c.label(), c.short_id()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] if all.is_empty() => Err(format!(
            "no container matches '{reference}': none is running here (podman, docker, containerd, CRI-O)"
        )),
        [] => Err(format!(
            "no container matches '{reference}'; running: {}",
            list(&all.iter().collect::<Vec<_>>())
        )),
        many => Err(format!(
            "'{reference}' matches {} containers: {}; give more of the ID",
            many.len(),
            list(many)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(engine: Engine, id: &str, name: &str) -> Container {
        Container {
            engine,
            id: id.repeat(64 / id.len()),
            names: (!name.is_empty())
                .then(|| name.to_string())
                .into_iter()
                .collect(),
            pid: 10,
            start: None,
        }
    }

    #[test]
    fn a_ref_is_a_name_an_id_or_a_unique_prefix() {
        let all = [
            c(Engine::Podman, "ab", "web"),
            c(Engine::Docker, "ac", "db"),
            c(Engine::Containerd, "f0", "pod/app"),
        ];
        assert_eq!(pick(&all, "web").unwrap().engine, Engine::Podman);
        assert_eq!(pick(&all, "pod/app").unwrap().engine, Engine::Containerd);
        assert_eq!(pick(&all, "acac").unwrap().engine, Engine::Docker);
        assert_eq!(
            pick(&all, &"f0".repeat(32)).unwrap().engine,
            Engine::Containerd
        );
        assert_eq!(
            pick(&all, "a").unwrap_err(),
            "'a' matches 2 containers: podman:web (ababababab), docker:db (acacacacacac); give more of the ID"
                .replace("(ababababab)", "(abababababab)")
        );
        assert_eq!(
            pick(&all, "zz").unwrap_err(),
            "no container matches 'zz'; running: podman:web (abababababab), docker:db (acacacacacac), \
             containerd:pod/app (f0f0f0f0f0f0)"
        );
        assert!(
            pick(&[], "web")
                .unwrap_err()
                .contains("none is running here")
        );
        // A name that is also another's ID prefix: the name wins.
        let all = [c(Engine::Podman, "ab", "ac"), c(Engine::Docker, "ac", "")];
        assert_eq!(pick(&all, "ac").unwrap().engine, Engine::Podman);
        assert_eq!(pick(&all, "aca").unwrap().label(), "docker:acacacacacac");
    }
}
