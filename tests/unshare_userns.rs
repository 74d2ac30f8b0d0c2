//! User namespaces: the maps the kernel shows, setgroups, --owner, -S/-G and
//! --keep-caps, for root and for an unprivileged user, in both modes.

mod common;

use common::*;

/// The lines of a map file as numbers, whitespace ignored.
fn map_lines(text: &str) -> Vec<Vec<u64>> {
    text.lines()
        .map(|l| l.split_whitespace().map(|n| n.parse().unwrap()).collect())
        .collect()
}

fn status_field(status: &str, field: &str) -> String {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[test]
fn map_root_user_unprivileged_is_one_line_each_and_denies_setgroups() {
    require!(can_run_unprivileged(), "needs the unprivileged test user");
    let (uid, gid) = test_user().unwrap();
    for fork in [&[][..], &["-f"][..]] {
        let mut args = vec!["-r"];
        args.extend_from_slice(fork);
        args.extend([
            "sh",
            "-c",
            "cat /proc/self/uid_map; cat /proc/self/gid_map; cat /proc/self/setgroups; id -u",
        ]);
        let out = unshare_as_user(&args).ok();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(map_lines(lines[0]), [[0, uid as u64, 1]], "{fork:?}");
        assert_eq!(map_lines(lines[1]), [[0, gid as u64, 1]], "{fork:?}");
        assert_eq!(&lines[2..], ["deny", "0"], "{fork:?}");
    }
}

#[test]
fn map_current_user_keeps_the_ids() {
    require!(can_run_unprivileged(), "needs the unprivileged test user");
    let (uid, gid) = test_user().unwrap();
    let out = unshare_as_user(&["-c", "sh", "-c", "id -u; id -g; cat /proc/self/uid_map"]).ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], uid.to_string());
    assert_eq!(lines[1], gid.to_string());
    assert_eq!(map_lines(lines[2]), [[uid as u64, uid as u64, 1]]);
}

#[test]
fn map_user_and_group_take_names_and_numbers() {
    require!(is_root(), "needs root");
    let out = unshare(&[
        "--map-user=nobody",
        "--map-group=5",
        "sh",
        "-c",
        "id -u; id -g; cat /proc/self/gid_map",
    ])
    .ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(&lines[..2], ["65534", "5"]);
    assert_eq!(map_lines(lines[2]), [[5, 0, 1]]);
}

#[test]
fn ranges_as_root_are_written_directly_and_files_belong_to_the_outer_ids() {
    require!(is_root(), "needs root");
    let dir = Scratch::new("ranges");
    let file = dir.join("made-inside");
    let script = format!(
        "cat /proc/self/uid_map; id -u; id -g; touch {}",
        file.display()
    );
    for fork in [&[][..], &["-f"][..]] {
        let _ = std::fs::remove_file(&file);
        let mut args = vec![
            "--map-users=0:100000:65536",
            "--map-groups=100000,0,65536",
            "-S",
            "1000",
            "-G",
            "1000",
        ];
        args.extend_from_slice(fork);
        args.extend(["sh", "-c", &script]);
        let out = unshare(&args).ok();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(map_lines(lines[0]), [[0, 100000, 65536]]);
        assert_eq!(&lines[1..3], ["1000", "1000"]);
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(&file).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (101000, 101000), "{fork:?}");
    }
}

#[test]
fn map_auto_goes_through_newuidmap_for_an_unprivileged_user() {
    require!(
        can_map_subids(),
        "needs the test user with /etc/subuid ranges and newuidmap"
    );
    let (uid, gid) = test_user().unwrap();
    for fork in [&[][..], &["-f"][..]] {
        let mut args = vec!["--map-auto", "-r"];
        args.extend_from_slice(fork);
        args.extend([
            "sh",
            "-c",
            "cat /proc/self/uid_map; echo; cat /proc/self/gid_map; echo; cat /proc/self/setgroups",
        ]);
        let out = unshare_as_user(&args).ok();
        let parts: Vec<&str> = out.split("\n\n").collect();
        // Root is our own id; the subordinate range loses its top id to the hole.
        assert_eq!(
            map_lines(parts[0]),
            [[0, uid as u64, 1], [1, 200000, 65535]],
            "{fork:?}"
        );
        assert_eq!(
            map_lines(parts[1]),
            [[0, gid as u64, 1], [1, 200000, 65535]],
            "{fork:?}"
        );
        assert_eq!(parts[2].trim(), "allow", "ranges leave setgroups allowed");
    }
}

#[test]
fn map_subids_maps_the_range_onto_itself() {
    require!(
        can_map_subids(),
        "needs the test user with /etc/subuid ranges and newuidmap"
    );
    let (uid, _) = test_user().unwrap();
    let out = unshare_as_user(&["--map-subids", "-c", "cat", "/proc/self/uid_map"]).ok();
    assert_eq!(
        map_lines(&out),
        [[uid as u64, uid as u64, 1], [200000, 200000, 65536]]
    );
}

#[test]
fn map_users_all_passes_every_id_through() {
    require!(is_root(), "needs root");
    let out = unshare(&[
        "--map-users=all",
        "--map-groups=all",
        "cat",
        "/proc/self/uid_map",
    ])
    .ok();
    assert_eq!(map_lines(&out), [[0, 0, 4294967295]]);
}

#[test]
fn setgroups_is_what_was_asked() {
    require!(is_root(), "needs root");
    assert_eq!(
        unshare(&["-U", "--setgroups=deny", "cat", "/proc/self/setgroups"]).ok(),
        "deny\n"
    );
    assert_eq!(
        unshare(&["-U", "--setgroups=allow", "cat", "/proc/self/setgroups"]).ok(),
        "allow\n"
    );
    // Root may keep setgroups allowed with a single group mapping.
    let out = unshare(&[
        "-r",
        "--setgroups=allow",
        "sh",
        "-c",
        "cat /proc/self/setgroups /proc/self/gid_map",
    ])
    .ok();
    assert!(out.starts_with("allow\n"), "{out}");
    assert_eq!(map_lines(out.lines().nth(1).unwrap()), [[0, 0, 1]]);
}

#[test]
fn owner_gives_the_namespace_to_another_user_in_both_modes() {
    require!(
        can_run_unprivileged(),
        "needs root and the unprivileged test user"
    );
    let (uid, gid) = test_user().unwrap();
    let owner = format!("--owner={uid}:{gid}");
    let dir = Scratch::new("owner");
    for fork in [false, true] {
        let pid_file = dir.join(&format!("owner-{fork}.pid"));
        let pid_arg = format!("--pid-file={}", pid_file.display());
        let mut args = vec![owner.as_str(), "-r", pid_arg.as_str()];
        if fork {
            args.push("-f");
        }
        let mut child = std::process::Command::new(UNSHARE)
            .args(&args)
            .args(["sh", "-c", "id -u; cat /proc/self/uid_map; exec sleep 5"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + patience(10);
        while !pid_file.exists() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("rs-unshare {args:?} ended early: {status:?}");
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no pid file from {args:?}"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let pid = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .to_string();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        // Seen from here, every uid and gid of the program is the owner's, and
        // it carries none of root's supplementary groups.
        let want_uid = format!("{uid}\t{uid}\t{uid}\t{uid}");
        let want_gid = format!("{gid}\t{gid}\t{gid}\t{gid}");
        assert_eq!(status_field(&status, "Uid:"), want_uid, "fork={fork}");
        assert_eq!(status_field(&status, "Gid:"), want_gid, "fork={fork}");
        assert_eq!(status_field(&status, "Groups:"), "", "fork={fork}");
        // The owner may enter the namespace: it holds CAP_SYS_ADMIN there.
        let entered = run(as_user(
            uid,
            gid,
            "nsenter",
            &["-t", &pid, "-U", "--preserve-credentials", "true"],
        ));
        assert!(entered.output.status.success(), "{}", entered.stderr());
        let _ = nix_kill(&pid);
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "0", "root inside, fork={fork}");
        assert_eq!(map_lines(lines[1]), [[0, uid as u64, 1]], "fork={fork}");
    }
}

fn nix_kill(pid: &str) -> bool {
    kill_pid(
        pid.parse::<u32>().unwrap(),
        nix::sys::signal::Signal::SIGTERM,
    )
}

#[test]
fn keep_caps_gives_a_non_root_program_ambient_capabilities() {
    require!(can_run_unprivileged(), "needs the unprivileged test user");
    let amb = |args: &[&str]| {
        let mut a = args.to_vec();
        a.extend(["grep", "CapAmb", "/proc/self/status"]);
        let out = unshare_as_user(&a).ok();
        u64::from_str_radix(out.split_whitespace().nth(1).unwrap(), 16).unwrap()
    };
    assert_eq!(amb(&["-c"]), 0);
    assert_ne!(amb(&["-c", "--keep-caps"]), 0);
    assert_ne!(amb(&["-c", "--keep-caps", "-f"]), 0);
}

#[test]
fn keep_caps_survives_setuid_inside() {
    require!(is_root(), "needs root");
    let out = unshare(&[
        "--map-users=0:100000:65536",
        "--map-groups=0:100000:65536",
        "-S",
        "1000",
        "-G",
        "1000",
        "--keep-caps",
        "sh",
        "-c",
        "id -u; grep CapAmb /proc/self/status",
    ])
    .ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1000");
    let amb = u64::from_str_radix(lines[1].split_whitespace().nth(1).unwrap(), 16).unwrap();
    assert_ne!(amb, 0, "{out}");
}

#[test]
fn setgid_drops_supplementary_groups() {
    require!(is_root() && has_command("setpriv"), "needs root");
    let with_groups = |extra: &[&str]| {
        let mut args = vec![
            "--groups=4,5",
            "--",
            UNSHARE,
            "--map-users=0:0:65536",
            "--map-groups=0:0:65536",
        ];
        args.extend_from_slice(extra);
        args.extend(["grep", "^Groups:", "/proc/self/status"]);
        cmd("setpriv", &args).ok()
    };
    assert_eq!(
        with_groups(&[]).split_whitespace().collect::<Vec<_>>(),
        ["Groups:", "4", "5"]
    );
    assert_eq!(with_groups(&["-G", "100"]).trim(), "Groups:");
}

#[test]
fn setgid_where_setgroups_is_denied_is_not_an_error() {
    require!(can_run_unprivileged(), "needs the unprivileged test user");
    assert_eq!(
        unshare_as_user(&["-r", "-G", "0", "-S", "0", "id", "-g"]).ok(),
        "0\n"
    );
}

#[test]
fn setgid_where_setgroups_is_denied_also_works_in_a_new_root() {
    // The new root has no /proc: the denial must be known without it.
    let rootfs = rootfs();
    require!(
        can_run_unprivileged() && rootfs.is_some(),
        "needs the unprivileged test user and busybox-static"
    );
    let root = format!("--root={}", rootfs.unwrap().display());
    for fork in [&[][..], &["-f"][..]] {
        let mut args = vec!["-r", "-G", "0", &root];
        args.extend_from_slice(fork);
        args.extend(["/usr/bin/id", "-g"]);
        assert_eq!(unshare_as_user(&args).ok(), "0\n", "{fork:?}");
    }
}

#[test]
fn a_nested_box_writes_its_maps_through_the_outer_proc() {
    require!(is_root(), "needs root");
    // The outer box has its own PID namespace but the host's /proc: the inner
    // child has one number here and another in /proc.
    let out = unshare(&[
        "-Urpf",
        "sh",
        "-c",
        &format!("{UNSHARE} -Urpf sh -c 'id -u; cat /proc/self/uid_map; echo $$'"),
    ])
    .ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "0", "{out}");
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["0", "0", "1"],
        "{out}"
    );
    assert_eq!(lines[2], "1", "{out}");
}
