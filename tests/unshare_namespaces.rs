//! rs-unshare creates the namespaces it is asked for: the kernel's view from
//! inside (/proc/self/ns, PID 1, hostname, mountinfo, ...) proves it.

mod common;

use common::*;

fn ours(kind: &str) -> String {
    ns_link("self", kind)
}

#[test]
fn each_kind_is_new_as_root_in_both_modes() {
    require!(is_root(), "needs root");
    for (flag, kind) in KINDS {
        for fork in [false, true] {
            // Without -f a PID namespace is for children only and appears with
            // the first one (see the test below).
            if kind == "pid" && !fork {
                continue;
            }
            let file = kind;
            let mut args = vec![flag];
            if fork {
                args.push("-f");
            }
            let link = format!("/proc/self/ns/{file}");
            args.extend(["readlink", &link]);
            let inside = unshare(&args).ok();
            let inside = inside.trim();
            assert!(
                inside.starts_with(&format!("{kind}:[")),
                "{args:?}: {inside}"
            );
            assert_ne!(inside, ours(kind), "{args:?} gave our own namespace");
        }
    }
}

#[test]
fn other_namespaces_stay_shared() {
    require!(is_root(), "needs root");
    let out = unshare(&[
        "-u",
        "readlink",
        "/proc/self/ns/mnt",
        "/proc/self/ns/net",
        "/proc/self/ns/ipc",
    ])
    .ok();
    let expected = format!("{}\n{}\n{}\n", ours("mnt"), ours("net"), ours("ipc"));
    assert_eq!(out, expected);
}

#[test]
fn each_kind_is_new_for_an_unprivileged_user() {
    require!(
        can_run_unprivileged(),
        "needs root to switch to the unprivileged test user"
    );
    for (flag, kind) in KINDS {
        let link = format!("/proc/self/ns/{kind}");
        let run = unshare_as_user(&["-r", "-f", flag, "readlink", &link]);
        let inside = run.ok();
        assert!(inside.starts_with(&format!("{kind}:[")), "{flag}: {inside}");
        assert_ne!(inside.trim(), ours(kind), "{flag} as an unprivileged user");
    }
}

#[test]
fn with_fork_the_program_is_pid_1_and_proc_shows_only_the_namespace() {
    require!(is_root(), "needs root");
    let out = unshare(&[
        "-pf",
        "--mount-proc",
        "sh",
        "-c",
        "echo $$; ls /proc | grep -c '^[0-9]'",
    ])
    .ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1");
    // sh, ls and grep at most: not the host's processes.
    let count: u32 = lines[1].parse().unwrap();
    assert!(count <= 3, "{count} processes visible");
}

#[test]
fn unprivileged_pid_1_with_its_own_proc() {
    require!(can_run_unprivileged(), "needs the unprivileged test user");
    let out = unshare_as_user(&[
        "-Urpfmu",
        "--mount-proc",
        "sh",
        "-c",
        "id -u; echo $$; cat /proc/1/comm",
    ])
    .ok();
    assert_eq!(out, "0\n1\nsh\n");
}

#[test]
fn without_fork_the_caller_stays_and_its_first_child_is_pid_1() {
    require!(is_root(), "needs root");
    let out = unshare(&["-p", "readlink", "/proc/self/ns/pid"]).ok();
    assert_eq!(out.trim(), ours("pid"), "the program itself stays");
    // The first child is PID 1 of the new namespace (and when it exits the
    // namespace is gone, so it is the only child this shell can make).
    let out = unshare(&[
        "-p",
        "sh",
        "-c",
        "sh -c 'echo $$; readlink /proc/self/ns/pid'",
    ])
    .ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1");
    assert_ne!(lines[1], ours("pid"));
}

#[test]
fn hostname_set_inside_is_not_seen_outside() {
    require!(is_root(), "needs root");
    let before = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let out = unshare(&["-u", "sh", "-c", "hostname rsns-inside; hostname"]).ok();
    assert_eq!(out, "rsns-inside\n");
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap(),
        before
    );
}

#[test]
fn mount_proc_is_nosuid_nodev_noexec_and_private() {
    require!(is_root(), "needs root");
    let host_mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let info = unshare(&["-pf", "--mount-proc", "cat", "/proc/self/mountinfo"]).ok();
    let proc_line = info
        .lines()
        .rfind(|l| l.split(' ').nth(4) == Some("/proc") && l.contains(" - proc "))
        .expect("a proc mount on /proc");
    let options = proc_line.split(' ').nth(5).unwrap();
    for flag in ["nosuid", "nodev", "noexec"] {
        assert!(
            options.split(',').any(|o| o == flag),
            "{flag} missing in {proc_line}"
        );
    }
    assert!(!proc_line.contains("shared:"), "{proc_line}");
    assert_eq!(
        std::fs::read_to_string("/proc/self/mountinfo").unwrap(),
        host_mounts
    );
}

#[test]
fn a_mount_made_inside_does_not_reach_the_host() {
    require!(is_root(), "needs root");
    let dir = Scratch::new("mountns");
    let path = dir.path.to_str().unwrap();
    let script =
        format!("mount -t tmpfs rsns-probe {path} && grep -c rsns-probe /proc/self/mountinfo");
    assert_eq!(unshare(&["-m", "sh", "-c", &script]).ok(), "1\n");
    assert!(dir.mounts().is_empty(), "leaked: {:?}", dir.mounts());
}

/// The optional fields of the root mount in a new mount namespace made with
/// `--propagation=MODE`, with / made shared first in a private scratch namespace.
fn root_propagation(mode: Option<&str>) -> String {
    let arg = mode
        .map(|m| format!("--propagation={m}"))
        .unwrap_or_default();
    let script = format!(
        "mount --make-rshared / && {UNSHARE} -m {arg} cat /proc/self/mountinfo | awk '$5 == \"/\"'"
    );
    let line = cmd("unshare", &["-m", "sh", "-c", &script]).ok();
    // Fields 7.. up to the "-" separator are the optional fields.
    line.split(' ')
        .skip(6)
        .take_while(|f| *f != "-")
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn propagation_modes_show_in_mountinfo() {
    require!(
        is_root() && has_command("unshare"),
        "needs root and util-linux unshare"
    );
    assert_eq!(root_propagation(None), "", "private by default");
    assert_eq!(root_propagation(Some("private")), "");
    assert!(root_propagation(Some("shared")).starts_with("shared:"));
    assert!(root_propagation(Some("slave")).starts_with("master:"));
    assert!(root_propagation(Some("unchanged")).starts_with("shared:"));
}

#[test]
fn cgroup_namespace_roots_every_hierarchy_at_the_current_cgroup() {
    require!(is_root(), "needs root");
    let out = unshare(&["-C", "cat", "/proc/self/cgroup"]).ok();
    assert!(!out.is_empty());
    for line in out.lines() {
        assert!(line.ends_with(":/"), "{line}");
    }
}

#[test]
fn time_offsets_are_what_the_kernel_shows() {
    require!(is_root(), "needs root");
    for fork in [&[][..], &["-f"][..]] {
        let mut args = vec!["-T", "--monotonic=86400", "--boottime=1000000"];
        args.extend_from_slice(fork);
        args.extend([
            "sh",
            "-c",
            "cat /proc/self/timens_offsets; cut -d' ' -f1 /proc/uptime",
        ]);
        let out = unshare(&args).ok();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0].split_whitespace().collect::<Vec<_>>(),
            ["monotonic", "86400", "0"]
        );
        assert_eq!(
            lines[1].split_whitespace().collect::<Vec<_>>(),
            ["boottime", "1000000", "0"]
        );
        let uptime: f64 = lines[2].parse().unwrap();
        assert!(uptime >= 1_000_000.0, "uptime {uptime} with {fork:?}");
    }
}

#[test]
fn unprivileged_time_namespace_with_negative_offset() {
    require!(can_run_unprivileged(), "needs the unprivileged test user");
    let out = unshare_as_user(&["-rT", "--monotonic=-1", "cat", "/proc/self/timens_offsets"]).ok();
    assert!(out.starts_with("monotonic") && out.contains("-1"), "{out}");
}

#[test]
fn ipc_objects_made_inside_stay_inside() {
    require!(is_root() && has_command("ipcmk"), "needs root and ipcmk");
    let out = unshare(&[
        "-i",
        "sh",
        "-c",
        "ipcmk -Q >/dev/null && ipcs -q | grep -c '^0x'",
    ])
    .ok();
    assert_eq!(out, "1\n");
}

#[test]
fn a_new_network_namespace_has_only_loopback() {
    require!(is_root() && has_command("ip"), "needs root and iproute2");
    let out = unshare(&["-n", "ip", "-o", "link"]).ok();
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains(": lo:"), "{out}");
}

#[test]
fn the_seed_one_liner_chroots_into_busybox_as_root_and_unprivileged() {
    let rootfs = rootfs();
    require!(
        rootfs.is_some(),
        "needs busybox-static for the root file system"
    );
    let rootfs = rootfs.unwrap();
    let rootfs = rootfs.to_str().unwrap();
    let script = "mount -t proc proc /proc && hostname box && hostname && id -u && echo $$ && ps -o pid | tail -n +2";
    let mut runs = Vec::new();
    if require(is_root(), "needs root") {
        runs.push(unshare(&[
            "-pfmur", "chroot", rootfs, "/bin/sh", "-c", script,
        ]));
    }
    if require(can_run_unprivileged(), "needs the unprivileged test user") {
        runs.push(unshare_as_user(&[
            "-pfmur", "chroot", rootfs, "/bin/sh", "-c", script,
        ]));
    }
    for run in runs {
        let out = run.ok();
        let lines: Vec<&str> = out.lines().map(str::trim).collect();
        assert_eq!(&lines[..3], ["box", "0", "1"], "{out}");
        assert_eq!(lines[3], "1", "ps lists PID 1 first: {out}");
        assert!(lines.len() <= 6, "only the box's processes: {out}");
    }
}

#[test]
fn root_option_mounts_proc_inside_the_new_root() {
    let rootfs = rootfs();
    require!(
        rootfs.is_some() && can_run_unprivileged(),
        "needs busybox-static and the test user"
    );
    let rootfs = rootfs.unwrap();
    let root_arg = format!("--root={}", rootfs.display());
    let out = unshare_as_user(&[
        "-Urpfmiu",
        "--mount-proc",
        &root_arg,
        "/bin/sh",
        "-c",
        "pwd; echo $$; cat /etc/hostname; ls /proc | grep -c '^[0-9]'",
    ])
    .ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(&lines[..3], ["/", "1", "box"], "{out}");
    assert!(lines[3].parse::<u32>().unwrap() <= 3, "{out}");
}
