//! rs-pivot doing its job, checked in the mount table the kernel shows
//! afterwards: as root and as an unprivileged user in a user namespace.

mod common;

use common::*;

fn inode(path: &str) -> String {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).unwrap().ino().to_string()
}

/// What mountinfo's root field shows for a bind of `path`: its path
/// inside its own file system (`path` itself on the root file system; in
/// the kernel matrix's VMs the image is in a tmpfs at /tmp).
fn path_in_its_fs(path: &str) -> String {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let (root, point) = text
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f[3].to_string(), f[4].to_string())
        })
        .filter(|(_, point)| std::path::Path::new(path).starts_with(point))
        .max_by_key(|(_, point)| point.len())
        .unwrap();
    let rest = std::path::Path::new(path).strip_prefix(&point).unwrap();
    std::path::Path::new(&root).join(rest).display().to_string()
}

#[test]
fn root_leaves_the_new_root_and_its_proc_and_nothing_of_the_host() {
    for as_user in [false, true] {
        if !can(as_user) {
            return;
        }
        let Some(r) = rootfs_or_skip() else { return };
        let flags = if as_user { "-Urpfm" } else { "-pfm" };
        let out = sh(
            as_user,
            &format!(
                "{UNSHARE} {flags} --mount-proc={r}/proc {PIVOT} --root {r} -- \
                 /bin/sh -c 'echo pid=$$; stat -c inode=%i /; cat /proc/self/mountinfo'"
            ),
        )
        .ok();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "pid=1", "{out}");
        assert_eq!(lines[1], format!("inode={}", inode(&r)), "{out}");
        let mounts: Vec<(&str, &str)> = lines[2..]
            .iter()
            .map(|l| {
                let f: Vec<&str> = l.split(' ').collect();
                (f[3], f[4])
            })
            .collect();
        // The old root is gone: only the bind of the new root and its proc.
        let root = path_in_its_fs(&r);
        assert_eq!(mounts, [(root.as_str(), "/"), ("/", "/proc")], "{out}");
        assert!(mounts_under(std::path::Path::new(&r)).is_empty());
    }
}

#[test]
fn keep_old_leaves_the_host_root_at_dir() {
    for as_user in [false, true] {
        if !can(as_user) {
            return;
        }
        let Some(r) = rootfs_or_skip() else { return };
        let dir = Scratch::new("keep-old");
        std::fs::write(dir.join("marker"), "from the host\n").unwrap();
        let marker = dir.join("marker").display().to_string();
        let flags = if as_user { "-Urm" } else { "-m" };
        let out = sh(
            as_user,
            &format!(
                "{UNSHARE} {flags} {PIVOT} --root {r} --keep-old=/tmp -- \
                 /bin/sh -c 'cat /tmp{marker}; test -e {marker} || echo not-at-its-old-path'"
            ),
        )
        .ok();
        assert_eq!(out, "from the host\nnot-at-its-old-path\n");
    }
}

#[test]
fn the_pivot_root_8_recipe_works() {
    for as_user in [false, true] {
        if !can(as_user) {
            return;
        }
        let Some(r) = rootfs_or_skip() else { return };
        let dir = Scratch::new("recipe");
        std::fs::write(dir.join("marker"), "old root\n").unwrap();
        let marker = dir.join("marker").display().to_string();
        let flags = if as_user { "-Urm" } else { "-m" };
        let script = format!(
            "mount --bind {r} {r} && cd {r} && {PIVOT} . tmp && \
             exec chroot . /bin/sh -c 'cat /tmp{marker}; stat -c %i /'"
        );
        let out = sh(as_user, &format!("{UNSHARE} {flags} sh -c \"{script}\"")).ok();
        assert_eq!(out, format!("old root\n{}\n", inode(&r)));
    }
}

#[test]
fn without_a_command_the_shell_is_looked_up_in_the_new_root() {
    if !can(false) {
        return;
    }
    let Some(r) = rootfs_or_skip() else { return };
    // No SHELL: root's login shell in the new root's /etc/passwd, /bin/sh.
    let out = cmd(
        "sh",
        &[
            "-c",
            &format!("echo 'echo shell=$0' | env -u SHELL {UNSHARE} -m {PIVOT} --root {r}"),
        ],
    )
    .ok();
    assert_eq!(out, "shell=-sh\n");
    let out = cmd(
        "sh",
        &[
            "-c",
            &format!("echo 'echo shell=$0' | SHELL=/bin/ash {UNSHARE} -m {PIVOT} --root {r}"),
        ],
    )
    .ok();
    assert_eq!(out, "shell=-ash\n");
}

#[test]
fn verbose_logs_the_steps_on_stderr_only() {
    if !can(false) {
        return;
    }
    let Some(r) = rootfs_or_skip() else { return };
    let loud = cmd(
        UNSHARE,
        &["-m", PIVOT, "-v", "--root", &r, "--", "/bin/echo", "hi"],
    );
    assert_eq!(loud.ok(), "hi\n");
    let stderr = loud.stderr();
    for event in [
        "initial mount namespace check",
        "bound onto itself",
        "root changed; exec",
    ] {
        assert!(stderr.contains(event), "no {event:?} in {stderr}");
    }
    // Without -v, nothing.
    let mut c = std::process::Command::new(UNSHARE);
    c.args(["-m", PIVOT, "--root", &r, "--", "/bin/echo", "hi"])
        .env_remove("RUST_LOG");
    let quiet = run(c);
    assert_eq!(quiet.stderr(), "");
}
