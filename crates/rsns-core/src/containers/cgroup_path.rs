//! Which container a process belongs to, from its cgroup path: the names
//! podman, docker, containerd (Kubernetes' CRI and `ctr`) and CRI-O give the
//! groups they make, with systemd's cgroup manager and with cgroupfs.

use super::Engine;

/// `(engine, container ID)` of the innermost group on `path` that names a
/// container, or None (the host's, or a conmon or shim beside it).
pub fn container_of(path: &str) -> Option<(Engine, String)> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    // Innermost first: a container that makes groups of its own (or
    // podman's `libpod-ID.scope/container`) is still that container.
    for (i, part) in parts.iter().enumerate().rev() {
        let part = part.strip_suffix(".scope").unwrap_or(part);
        for (prefix, engine) in [
            ("libpod-", Engine::Podman),
            ("docker-", Engine::Docker),
            ("cri-containerd-", Engine::Containerd),
            ("crio-", Engine::CriO),
        ] {
            if let Some(id) = part.strip_prefix(prefix)
                && is_id(id)
            {
                return Some((engine, id.to_string()));
            }
        }
        // cgroupfs: /docker/ID, /kubepods/[QOS/]podUID/ID (containerd's).
        let parent = i.checked_sub(1).map(|p| parts[p]);
        if is_id(part) {
            match parent {
                Some("docker") => return Some((Engine::Docker, part.to_string())),
                Some(p) if p.starts_with("pod") && parts.contains(&"kubepods") => {
                    return Some((Engine::Containerd, part.to_string()));
                }
                _ => {}
            }
        }
    }
    None
}

/// A container ID: 64 lowercase hex digits, as every one of these engines
/// makes them.
fn is_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The group path a process is in, from /proc/PID/cgroup: cgroup v2's
/// line, else (a hybrid or v1 host) the named systemd hierarchy's, else
/// the first.
pub fn path_of(proc_cgroup: &str) -> Option<&str> {
    let lines: Vec<(&str, &str)> = proc_cgroup
        .lines()
        .filter_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, controllers, path) = (f.next()?, f.next()?, f.next()?);
            Some((controllers, path))
        })
        .collect();
    let find = |want: &dyn Fn(&str) -> bool| lines.iter().find(|(c, _)| want(c)).map(|(_, p)| *p);
    // On a hybrid host the v2 line can be "/" while v1 holds the container.
    let v2 = find(&|c| c.is_empty()).filter(|p| *p != "/");
    v2.or_else(|| find(&|c| c == "name=systemd"))
        .or_else(|| lines.first().map(|(_, p)| *p))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "ef50ce6b95009d888e1432df6f0d738127838a9e9304aa432d70f7e591b8390e";

    #[test]
    fn every_engine_and_manager() {
        let cases = [
            (format!("/libpod_parent/libpod-{ID}"), Engine::Podman),
            (
                format!("/machine.slice/libpod-{ID}.scope/container"),
                Engine::Podman,
            ),
            (
                format!(
                    "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope"
                ),
                Engine::Podman,
            ),
            (format!("/system.slice/docker-{ID}.scope"), Engine::Docker),
            (format!("/docker/{ID}"), Engine::Docker),
            (
                format!(
                    "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-{ID}.scope"
                ),
                Engine::Containerd,
            ),
            (
                format!("/kubepods/besteffort/pod0a1b/{ID}"),
                Engine::Containerd,
            ),
            (
                format!("/kubepods.slice/kubepods-pod2.slice/crio-{ID}.scope"),
                Engine::CriO,
            ),
            (
                format!("/libpod_parent/libpod-{ID}/inner/group"),
                Engine::Podman,
            ),
        ];
        for (path, engine) in cases {
            assert_eq!(
                container_of(&path),
                Some((engine, ID.to_string())),
                "{path}"
            );
        }
    }

    #[test]
    fn the_host_and_the_engines_helpers_are_no_container() {
        for path in [
            "/".to_string(),
            "/user.slice/user-1000.slice/session-2.scope".into(),
            format!("/machine.slice/libpod-conmon-{ID}.scope"),
            format!("/system.slice/crio-conmon-{ID}.scope"),
            "/libpod_parent/conmon".into(),
            format!("/libpod_parent/libpod-{}", &ID[..12]),
            format!("/docker/{}", ID.to_uppercase()),
            format!("/other/{ID}"),
        ] {
            assert_eq!(container_of(&path), None, "{path}");
        }
    }

    #[test]
    fn the_path_from_proc_cgroup() {
        let hybrid = format!("9:name=systemd:/libpod_parent/libpod-{ID}\n8:pids:/x\n0::/\n");
        assert_eq!(
            path_of(&hybrid),
            Some(format!("/libpod_parent/libpod-{ID}").as_str())
        );
        assert_eq!(path_of("0::/a/b\n"), Some("/a/b"));
        assert_eq!(path_of("3:cpu:/c\n"), Some("/c"));
        assert_eq!(path_of(""), None);
    }
}
